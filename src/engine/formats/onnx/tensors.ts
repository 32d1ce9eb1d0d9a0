// ONNX tensors (initializers, Constant values) to numbers, and numbers to tensors. Every declared
// size is checked against the data actually present (and against the byte budget) before any
// array is allocated; external data is read only from files inside the model's folder.
import * as fs from 'fs';
import { PruneScopeError } from '../../errors';
import { resolveShard } from '../../model/weightsManifest';
import { preview } from '../../util/jsonLimits';
import { DataType, Int64, TensorMsg } from './schema';

/** A constant tensor: float values (as float32) or integer values (exact, as JS numbers). */
export interface Const {
  dims: number[];
  kind: 'float' | 'int';
  values: Float32Array | number[];
}

/** An int64 from protobufjs (number or Long) as a number; refuses values past 2^53. */
export function num(v: Int64 | undefined, what: () => PruneScopeError): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  const n = typeof v.toNumber === 'function' ? v.toNumber() : v.high * 2 ** 32 + (v.low >>> 0);
  if (!Number.isSafeInteger(n)) throw what();
  return n;
}

const ELEM_BYTES: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.DOUBLE]: 8,
  [DataType.FLOAT16]: 2,
  [DataType.INT64]: 8,
  [DataType.INT32]: 4,
  [DataType.INT8]: 1,
  [DataType.UINT8]: 1,
  9: 1, // BOOL
};
const TYPE_NAMES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
};
export const typeName = (t: number | undefined): string => TYPE_NAMES[t ?? 0] ?? `data type ${t}`;

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

export interface TensorContext {
  /** The .onnx file (external data paths are relative to its folder). */
  file: string;
  /** Where the tensor sits, for messages: 'initializer conv1.weight'. */
  field: string;
  /** Bytes of tensor data still allowed. */
  budget: { left: number };
}

/** Decodes a TensorProto into numbers, checking sizes first. */
export function decodeTensor(t: TensorMsg, ctx: TensorContext): Const {
  const { file, field } = ctx;
  const bad = (msg: string, expected?: string) => new PruneScopeError('bad-input', msg, { file, field, expected });
  const dims = (t.dims ?? []).map((d) => num(d, () => bad(`has dimension ${preview(d)}`, 'dimensions below 2^53')));
  if (dims.some((d) => d < 0)) throw bad(`has dims ${preview(dims)}`, 'non-negative dimensions');
  const count = dims.includes(0) ? 0 : dims.reduce((a, b) => a * b, 1);
  const type = t.dataType ?? 0;
  const per = ELEM_BYTES[type];
  if (per === undefined)
    throw new PruneScopeError('unsupported', `has ${typeName(type)} values`, {
      file,
      field,
      expected: 'float32, float16, float64, int64, int32, int8, uint8 or bool tensors',
    });
  const bytes = count * per;
  if (!Number.isSafeInteger(bytes) || bytes > ctx.budget.left)
    throw new PruneScopeError('too-large', `declares ${dims.join(' x ')} ${typeName(type)} values (${bytes} bytes)`, {
      file,
      field,
      expected: `at most ${ctx.budget.left} bytes of tensor data left in the budget`,
    });
  ctx.budget.left -= bytes;
  const isFloat = type === DataType.FLOAT || type === DataType.DOUBLE || type === DataType.FLOAT16;
  let raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  if (t.dataLocation === 1) raw = externalData(t, bytes, ctx);
  const expectLen = (n: number, where: string) => {
    if (n !== count)
      throw bad(`holds ${n} values in ${where} for dims [${dims.join(', ')}] (${count})`, `${count} values`);
  };
  if (raw) {
    if (raw.length !== bytes)
      throw bad(`raw_data has ${raw.length} bytes for ${count} ${typeName(type)} values`, `${bytes} bytes`);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (isFloat) {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++)
        out[i] =
          type === DataType.FLOAT
            ? dv.getFloat32(4 * i, true)
            : type === DataType.DOUBLE
              ? dv.getFloat64(8 * i, true)
              : halfToFloat(dv.getUint16(2 * i, true));
      return { dims, kind: 'float', values: out };
    }
    const out: number[] = new Array(count);
    for (let i = 0; i < count; i++) {
      if (type === DataType.INT64) {
        const v = dv.getBigInt64(8 * i, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
          // ONNX writes "to the end" as INT64_MAX in Slice; clamp such sentinels instead of refusing.
          out[i] = v > 0n ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
        else out[i] = Number(v);
      } else if (type === DataType.INT32) out[i] = dv.getInt32(4 * i, true);
      else if (type === DataType.INT8) out[i] = dv.getInt8(i);
      else out[i] = dv.getUint8(i);
    }
    return { dims, kind: 'int', values: out };
  }
  if (type === DataType.FLOAT) {
    expectLen(t.floatData?.length ?? 0, 'float_data');
    return { dims, kind: 'float', values: Float32Array.from(t.floatData ?? []) };
  }
  if (type === DataType.DOUBLE) {
    expectLen(t.doubleData?.length ?? 0, 'double_data');
    return { dims, kind: 'float', values: Float32Array.from(t.doubleData ?? []) };
  }
  if (type === DataType.FLOAT16) {
    expectLen(t.int32Data?.length ?? 0, 'int32_data');
    return { dims, kind: 'float', values: Float32Array.from(t.int32Data ?? [], (h) => halfToFloat(h & 0xffff)) };
  }
  if (type === DataType.INT64) {
    expectLen(t.int64Data?.length ?? 0, 'int64_data');
    const clampSentinel = () => bad('has an int64 past 2^53');
    return {
      dims,
      kind: 'int',
      values: (t.int64Data ?? []).map((v) => {
        try {
          return num(v, clampSentinel);
        } catch {
          return typeof v === 'object' && v.high < 0 ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
        }
      }),
    };
  }
  expectLen(t.int32Data?.length ?? 0, 'int32_data');
  return { dims, kind: 'int', values: Array.from(t.int32Data ?? []) };
}

/** Bytes of a tensor stored outside the .onnx file: only from a file inside the model's folder. */
function externalData(t: TensorMsg, bytes: number, ctx: TensorContext): Uint8Array {
  const { file, field } = ctx;
  const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = kv.get('location');
  const where = `${field}.external_data`;
  if (!location)
    throw new PruneScopeError('bad-input', 'has no location', { file, field: where, expected: 'a location key' });
  // The same confinement as TF.js shards: relative, inside the folder, no links out of it.
  const real = resolveShard(location, file, `${where} location`, 'external data');
  const offset = Number(kv.get('offset') ?? 0);
  const length = kv.has('length') ? Number(kv.get('length')) : bytes;
  const size = fs.statSync(real).size;
  if (
    !Number.isSafeInteger(offset) ||
    offset < 0 ||
    !Number.isSafeInteger(length) ||
    length !== bytes ||
    offset + length > size
  )
    throw new PruneScopeError(
      'bad-input',
      `asks for bytes [${kv.get('offset') ?? 0}, +${kv.get('length') ?? bytes}) of ${location} (${size} bytes)`,
      {
        file,
        field: where,
        expected: `${bytes} bytes inside the file`,
      },
    );
  const fd = fs.openSync(real, 'r');
  try {
    const out = new Uint8Array(length);
    const got = fs.readSync(fd, out, 0, length, offset);
    if (got !== length)
      throw new PruneScopeError('bad-input', `read ${got} of ${length} bytes`, { file, field: where });
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

/** A float32 initializer as ONNX stores it (raw little-endian data). */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorMsg {
  const data = Float32Array.from(values);
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(data.buffer) };
}

/** An int64 initializer (shapes, pads). */
export function int64Tensor(name: string, dims: number[], values: number[]): TensorMsg {
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  return { name, dims, dataType: DataType.INT64, rawData: new Uint8Array(data.buffer) };
}
