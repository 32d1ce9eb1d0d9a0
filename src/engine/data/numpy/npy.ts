// NumPy's .npy format (versions 1-3): the header (a Python dict literal giving dtype, order and
// shape), then the raw array. Only plain numeric dtypes are read; object arrays (pickled Python)
// are refused before anything past the header is touched. Rows (the first axis) are read one by
// one from a ByteStream, so a subset of a large file costs only its own bytes.
import { PruneScopeError, badInput } from '../../errors';
import type { ByteStream } from '../../util/byteStream';

export type NpyKind = 'f' | 'i' | 'u' | 'b';

export interface NpyDtype {
  /** As the header wrote it, e.g. '<f4'. */
  descr: string;
  kind: NpyKind;
  bytes: number;
  littleEndian: boolean;
}

export interface NpyHeader {
  dtype: NpyDtype;
  fortranOrder: boolean;
  shape: number[];
  /** Bytes from the start of the file to the array data. */
  dataOffset: number;
  /** Elements per row (product of shape[1:]; 1 for a 1-D array). */
  rowElements: number;
  rows: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** NumPy itself refuses headers over 10,000 bytes by default; a shape never needs more. */
export const MAX_NPY_HEADER = 65536;

/**
 * Reads and checks the header; leaves the stream at the first data byte. With `totalBytes` (the
 * file's or zip entry's size) the data must fill it exactly.
 */
export function readNpyHeader(s: ByteStream, totalBytes?: number): NpyHeader {
  const file = s.name;
  const pre = s.read(8, 'the .npy magic and version');
  if (!MAGIC.every((b, i) => pre[i] === b))
    throw badInput('not a NumPy .npy file (no \\x93NUMPY magic)', {
      file,
      expected: 'a file written by numpy.save',
    });
  const major = pre[6];
  if (major < 1 || major > 3)
    throw new PruneScopeError('unsupported', `.npy format version ${major}.${pre[7]}`, {
      file,
      expected: 'version 1.0, 2.0 or 3.0',
    });
  const lenBytes = s.read(major === 1 ? 2 : 4, 'the header length');
  const len =
    major === 1
      ? lenBytes[0] | (lenBytes[1] << 8)
      : new DataView(lenBytes.buffer, lenBytes.byteOffset, 4).getUint32(0, true);
  if (len > MAX_NPY_HEADER)
    throw badInput(`the header is ${len} bytes long`, {
      file,
      field: 'header',
      expected: `at most ${MAX_NPY_HEADER} bytes`,
    });
  const raw = s.read(len, 'the header');
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(raw);
  } catch {
    throw badInput('the header is not valid text', { file, field: 'header', expected: 'UTF-8 text' });
  }
  const dict = parseHeaderDict(text, file);
  const dtype = parseDescr(dict.descr, file);
  const shape = dict.shape;
  let rowElements = 1;
  for (const d of shape.slice(1)) rowElements *= d;
  const rows = shape.length === 0 ? 1 : shape[0];
  if (!Number.isSafeInteger(rows * rowElements * dtype.bytes))
    throw new PruneScopeError('too-large', `shape (${shape.join(', ')}) has more elements than can be addressed`, {
      file,
      field: 'shape',
      expected: 'an array of at most 2^53 bytes',
    });
  const dataBytes = rows * rowElements * dtype.bytes;
  if (totalBytes !== undefined && s.position + dataBytes !== totalBytes) {
    const have = totalBytes - s.position;
    throw badInput(
      have < dataBytes
        ? `the data is truncated: ${have} bytes after the header`
        : `${have - dataBytes} unexpected bytes after the array data`,
      {
        file,
        expected: `${dataBytes} bytes of data for shape (${shape.join(', ')}) of ${dtype.descr}`,
      },
    );
  }
  return { dtype, fortranOrder: dict.fortranOrder, shape, dataOffset: s.position, rowElements, rows };
}

interface HeaderDict {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

/** A strict parser for the one dict literal numpy writes: {'descr': ..., 'fortran_order': ..., 'shape': (...)}. */
function parseHeaderDict(text: string, file: string): HeaderDict {
  let i = 0;
  const bad = (what: string) =>
    badInput(`malformed header at character ${i}: ${what}`, {
      file,
      field: 'header',
      expected: "a dict like {'descr': '<f4', 'fortran_order': False, 'shape': (10, 28, 28), }",
    });
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const expect = (c: string) => {
    ws();
    if (text[i] !== c) throw bad(`expected "${c}"`);
    i++;
  };
  const str = (): string => {
    ws();
    const q = text[i];
    if (q !== "'" && q !== '"') throw bad('expected a quoted string');
    const end = text.indexOf(q, i + 1);
    if (end < 0) throw bad('unterminated string');
    const s = text.slice(i + 1, end);
    if (s.includes('\\')) throw bad('escapes are not expected in the header');
    i = end + 1;
    return s;
  };
  const out: Partial<HeaderDict> = {};
  const seen = new Set<string>();
  expect('{');
  for (;;) {
    ws();
    if (text[i] === '}') break;
    const key = str();
    if (seen.has(key)) throw bad(`key '${key}' appears twice`);
    seen.add(key);
    expect(':');
    ws();
    if (key === 'descr') {
      if (text[i] === '[' || text[i] === '{')
        throw new PruneScopeError('unsupported', 'a structured dtype (record array)', {
          file,
          field: 'descr',
          expected: 'a plain numeric array (save each field as its own array)',
        });
      out.descr = str();
    } else if (key === 'fortran_order') {
      if (text.startsWith('True', i)) out.fortranOrder = true;
      else if (text.startsWith('False', i)) out.fortranOrder = false;
      else throw bad('fortran_order is not True or False');
      i += out.fortranOrder ? 4 : 5;
    } else if (key === 'shape') {
      expect('(');
      const dims: number[] = [];
      for (;;) {
        ws();
        if (text[i] === ')') break;
        const m = /^(\d{1,16})L?/.exec(text.slice(i, i + 18));
        if (!m) throw bad('a dimension is not a non-negative integer');
        dims.push(Number(m[1]));
        i += m[0].length;
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== ')') throw bad('expected "," or ")" in the shape');
        if (dims.length > 32) throw bad('more than 32 dimensions');
      }
      i++;
      out.shape = dims;
    } else {
      throw bad(`unexpected key '${key.slice(0, 40)}'`);
    }
    ws();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw bad('expected "," or "}"');
  }
  i++;
  if (text.slice(i).trim() !== '') throw bad('text after the dict');
  if (out.descr === undefined || out.fortranOrder === undefined || out.shape === undefined)
    throw bad(
      `missing key '${out.descr === undefined ? 'descr' : out.fortranOrder === undefined ? 'fortran_order' : 'shape'}'`,
    );
  return out as HeaderDict;
}

const SIZES: Record<NpyKind, number[]> = { f: [2, 4, 8], i: [1, 2, 4, 8], u: [1, 2, 4, 8], b: [1] };

function parseDescr(descr: string, file: string): NpyDtype {
  const m = /^([<>|=])([a-zA-Z])(\d+)$/.exec(descr);
  const code = m?.[2];
  if (/^[<>|=]?O\d*$/.test(descr))
    throw new PruneScopeError('unsupported', 'an object array (dtype |O): pickled Python objects are never loaded', {
      file,
      field: 'descr',
      expected: 'a numeric array, e.g. np.save(f, np.asarray(x, dtype=np.float32))',
    });
  const kind = code as NpyKind;
  const bytes = Number(m?.[3]);
  if (!m || !SIZES[kind]?.includes(bytes)) {
    const what = descr.length > 40 ? `${descr.slice(0, 40)}...` : descr;
    throw new PruneScopeError('unsupported', `dtype '${what}'`, {
      file,
      field: 'descr',
      expected: 'float16/32/64, int8/16/32/64, uint8/16/32/64 or bool',
    });
  }
  // '=' is the writer's native order; numpy.save always resolves it, and every host here is little-endian.
  return { descr, kind, bytes, littleEndian: m[1] !== '>' };
}

/** Element values of one row as float64, in stored order. */
export function decodeElements(bytes: Uint8Array, dtype: NpyDtype, out: Float64Array | Float32Array, at = 0): void {
  const n = bytes.length / dtype.bytes;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = dtype.littleEndian;
  const b = dtype.bytes;
  switch (dtype.kind + b) {
    case 'f4':
      for (let k = 0; k < n; k++) out[at + k] = v.getFloat32(k * 4, le);
      return;
    case 'f8':
      for (let k = 0; k < n; k++) out[at + k] = v.getFloat64(k * 8, le);
      return;
    case 'f2':
      for (let k = 0; k < n; k++) out[at + k] = half(v.getUint16(k * 2, le));
      return;
    case 'u1':
    case 'b1':
      for (let k = 0; k < n; k++) out[at + k] = bytes[k];
      return;
    case 'i1':
      for (let k = 0; k < n; k++) out[at + k] = v.getInt8(k);
      return;
    case 'u2':
      for (let k = 0; k < n; k++) out[at + k] = v.getUint16(k * 2, le);
      return;
    case 'i2':
      for (let k = 0; k < n; k++) out[at + k] = v.getInt16(k * 2, le);
      return;
    case 'u4':
      for (let k = 0; k < n; k++) out[at + k] = v.getUint32(k * 4, le);
      return;
    case 'i4':
      for (let k = 0; k < n; k++) out[at + k] = v.getInt32(k * 4, le);
      return;
    case 'u8':
      for (let k = 0; k < n; k++) out[at + k] = Number(v.getBigUint64(k * 8, le));
      return;
    case 'i8':
      for (let k = 0; k < n; k++) out[at + k] = Number(v.getBigInt64(k * 8, le));
      return;
  }
  throw new PruneScopeError('internal', `no decoder for dtype ${dtype.descr}`);
}

/** IEEE 754 binary16 to a number. */
function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Calls `onRow(i, values)` for each row index in `rows` (ascending, unique), reading only those
 * rows' bytes; `values` is reused between calls. C order only (see readNpyFortran).
 */
export function forEachNpyRow(
  s: ByteStream,
  h: NpyHeader,
  rows: ArrayLike<number>,
  onRow: (i: number, values: Float64Array) => void,
): void {
  const rowBytes = h.rowElements * h.dtype.bytes;
  const values = new Float64Array(h.rowElements);
  let at = 0;
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    if (r < at || r >= h.rows) throw new PruneScopeError('internal', `row ${r} requested out of order or range`);
    if (r > at) s.skip((r - at) * rowBytes, `row ${r}`);
    decodeElements(s.read(rowBytes, `row ${r} of ${h.rows}`), h.dtype, values);
    at = r + 1;
    onRow(r, values);
  }
}

/**
 * A Fortran-order array read whole and served in C order: rows of a Fortran array are scattered
 * through the file, so it costs all its bytes (bounded by maxBytes).
 */
export function forEachFortranRow(
  s: ByteStream,
  h: NpyHeader,
  rows: ArrayLike<number>,
  maxBytes: number,
  onRow: (i: number, values: Float64Array) => void,
): void {
  const total = h.rows * h.rowElements * h.dtype.bytes;
  if (total > maxBytes)
    throw new PruneScopeError('too-large', `a Fortran-order array of ${total} bytes must be read whole`, {
      file: s.name,
      field: 'fortran_order',
      expected: `at most ${maxBytes} bytes, or C order: np.save(f, np.ascontiguousarray(x))`,
    });
  const all = new Float64Array(h.rows * h.rowElements);
  decodeElements(s.read(total, 'the array data'), h.dtype, all);
  const values = new Float64Array(h.rowElements);
  // Fortran order: element (r, j) (j the C-order index of the trailing axes, reversed) sits at
  // r + rows * (Fortran index of the trailing axes).
  const trailing = h.shape.slice(1);
  const fortranIndex = new Int32Array(h.rowElements);
  for (let j = 0; j < h.rowElements; j++) {
    let rem = j;
    let f = 0;
    let stride = 1;
    const digits: number[] = [];
    for (let d = trailing.length - 1; d >= 0; d--) {
      digits[d] = rem % trailing[d];
      rem = Math.floor(rem / trailing[d]);
    }
    for (let d = 0; d < trailing.length; d++) {
      f += digits[d] * stride;
      stride *= trailing[d];
    }
    fortranIndex[j] = f;
  }
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    for (let j = 0; j < h.rowElements; j++) values[j] = all[r + h.rows * fortranIndex[j]];
    onRow(r, values);
  }
}
