// The `weightsManifest` of a LayersModel: groups of weights, each group stored as the
// concatenation of its shard files, weights laid out back to back in manifest order.
// Everything that can be checked without reading a shard (structure, dtypes, total size, shard
// paths) is checked first, so a hostile or oversized model is refused before any large read.
import * as fs from 'fs';
import * as path from 'path';
import { PruneScopeError } from '../errors';
import { clip, preview } from '../util/jsonLimits';

export interface Quantization {
  dtype: 'uint8' | 'uint16' | 'float16';
  scale?: number;
  min?: number;
}

export interface ManifestWeight {
  name: string;
  shape: number[];
  /** dtype of the values the weight represents. */
  dtype: string;
  quantization?: Quantization;
  group: number;
  /** Byte range inside the group's concatenated shards. */
  byteOffset: number;
  byteLength: number;
}

export interface ManifestGroup {
  paths: string[];
  /** Shard files after the path checks (realpaths inside the model folder). */
  files: string[];
  byteLength: number;
}

export interface Manifest {
  groups: ManifestGroup[];
  weights: ManifestWeight[];
  totalBytes: number;
}

/** Keras names are short scoped identifiers; a longer one only serves to bloat messages and lookups. */
export const MAX_WEIGHT_NAME = 512;
/** More shard files than this is not a TF.js export (it writes 4 MB shards), and each costs an open file. */
export const MAX_SHARDS = 10_000;

const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, float16: 2, uint8: 1, uint16: 2 };
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses the manifest and resolves shard paths; throws before reading shards when over maxBytes. */
export function parseManifest(raw: unknown, modelJson: string, maxBytes: number): Manifest {
  const bad = (field: string, msg: string, expected?: string) =>
    new PruneScopeError('bad-input', msg, { file: modelJson, field, expected });
  // NaN would compare false against every size and silently switch the budget off.
  if (!(maxBytes >= 0))
    throw new PruneScopeError('bad-input', `the byte budget maxBytes is ${maxBytes}`, {
      file: modelJson,
      field: 'maxBytes',
      expected: 'a non-negative number of bytes',
    });
  if (!Array.isArray(raw))
    throw bad('weightsManifest', 'is missing or not a list', 'a list of {paths, weights} groups');
  const weights: ManifestWeight[] = [];
  const names = new Set<string>();
  const groups: ManifestGroup[] = [];
  let totalBytes = 0;
  let shardCount = 0;
  raw.forEach((g, gi) => {
    const gf = `weightsManifest[${gi}]`;
    if (!isObj(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights))
      throw bad(gf, 'is not a weight group', '{paths: string[], weights: [...]}');
    let offset = 0;
    g.weights.forEach((w, wi) => {
      const wf = `${gf}.weights[${wi}]`;
      if (!isObj(w) || typeof w.name !== 'string' || !Array.isArray(w.shape) || typeof w.dtype !== 'string')
        throw bad(wf, 'is not a weight entry', '{name, shape, dtype}');
      if (w.name.length > MAX_WEIGHT_NAME)
        throw bad(
          `${wf}.name`,
          `is ${w.name.length} characters long: ${clip(w.name)}`,
          `a name of at most ${MAX_WEIGHT_NAME} characters`,
        );
      const field = `${wf} (${w.name})`;
      if (!w.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
        throw bad(`${field}.shape`, `is ${preview(w.shape)}`, 'non-negative integers');
      const q = w.quantization;
      if (q !== undefined && (!isObj(q) || !['uint8', 'uint16', 'float16'].includes(q.dtype as string))) {
        throw new PruneScopeError('unsupported', `quantization ${preview(q)} is not supported`, {
          file: modelJson,
          field: `${field}.quantization`,
          expected: 'dtype uint8, uint16 (with scale and min) or float16',
        });
      }
      if (q && q.dtype !== 'float16' && !(Number.isFinite(q.scale) && Number.isFinite(q.min)))
        throw bad(`${field}.quantization`, 'lacks a finite scale or min', 'numbers scale and min');
      const storedDtype = q ? (q.dtype as string) : w.dtype;
      const per = STORED_BYTES[storedDtype];
      if (per === undefined || (!q && !['float32', 'float16', 'int32'].includes(w.dtype))) {
        throw new PruneScopeError('unsupported', `dtype ${preview(w.dtype)} is not supported`, {
          file: modelJson,
          field: `${field}.dtype`,
          expected: 'float32 (float16 and int32 are converted)',
        });
      }
      if (names.has(w.name)) throw bad(`${field}.name`, `weight name ${w.name} appears twice`, 'unique weight names');
      names.add(w.name);
      // Huge dimensions multiply past 2^53 (inexact) or to Infinity, and Infinity * 0 is NaN,
      // which compares false against any budget; so any zero dimension makes the weight empty.
      const dims = w.shape as number[];
      const count = dims.includes(0) ? 0 : dims.reduce((a, b) => a * b, 1);
      const byteLength = count * per;
      if (!Number.isSafeInteger(byteLength)) {
        throw new PruneScopeError('too-large', `shape ${preview(dims)} needs ${byteLength} bytes`, {
          file: modelJson,
          field: `${field}.shape`,
          expected: `at most ${maxBytes} bytes in all`,
        });
      }
      weights.push({
        name: w.name,
        shape: w.shape as number[],
        dtype: w.dtype,
        quantization: q as Quantization | undefined,
        group: gi,
        byteOffset: offset,
        byteLength,
      });
      offset += byteLength;
    });
    if (g.paths.length === 0 && offset > 0)
      throw bad(
        `${gf}.paths`,
        `is empty but the group's weights need ${offset} bytes`,
        'the shard files holding the weights',
      );
    shardCount += g.paths.length;
    if (shardCount > MAX_SHARDS)
      throw new PruneScopeError('too-large', `lists more than ${MAX_SHARDS} shard files`, {
        file: modelJson,
        field: `${gf}.paths`,
        expected: `at most ${MAX_SHARDS} shards`,
      });
    groups.push({ paths: g.paths as string[], files: [], byteLength: offset });
    totalBytes += offset;
  });
  if (totalBytes > maxBytes) {
    throw new PruneScopeError(
      'too-large',
      `declares ${totalBytes} bytes of weights, over the limit of ${maxBytes} bytes`,
      { file: modelJson, field: 'weightsManifest', expected: `at most ${maxBytes} bytes (raise maxBytes to load it)` },
    );
  }
  groups.forEach((g, gi) => {
    g.files = g.paths.map((p, pi) => resolveShard(p, modelJson, `weightsManifest[${gi}].paths[${pi}]`));
  });
  return { groups, weights, totalBytes };
}

/**
 * The real path of a file a model refers to (a TF.js shard, an ONNX external-data file),
 * refusing anything that leaves the model's folder (.., absolute, URL, symlink). `what` names the
 * file in messages.
 */
export function resolveShard(p: unknown, modelJson: string, field: string, what = 'shard'): string {
  const refuse = (msg: string) =>
    new PruneScopeError('bad-input', msg, {
      file: modelJson,
      field,
      expected: 'a relative path to a file inside the model folder',
    });
  if (typeof p !== 'string' || p === '') throw refuse(`is ${preview(p)}`);
  if (p.length > 4096) throw refuse(`${what} path is ${p.length} characters long: ${preview(p)}`);
  if (p.includes('\0')) throw refuse(`${what} path ${preview(p)} contains a NUL character`);
  if (path.isAbsolute(p) || path.win32.isAbsolute(p) || /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(p))
    throw refuse(`${what} path ${preview(p, 200)} is absolute or a URL`);
  const dir = fs.realpathSync(path.dirname(path.resolve(modelJson)));
  const inside = (f: string) => f.startsWith(dir + path.sep);
  const target = path.resolve(dir, p);
  if (!inside(target)) throw refuse(`${what} path ${preview(p, 200)} leaves the model folder`);
  let real: string;
  try {
    real = fs.realpathSync(target);
  } catch {
    throw new PruneScopeError('not-found', `${what} ${preview(p, 200)} does not exist (looked for ${target})`, {
      file: modelJson,
      field,
      expected: `the ${what} file next to the model`,
    });
  }
  if (!inside(real)) throw refuse(`${what} path ${preview(p, 200)} is a link to ${real}, outside the model folder`);
  if (!fs.statSync(real).isFile()) throw refuse(`${what} ${preview(p, 200)} is not a regular file`);
  return real;
}

/** Checks each group's shard sizes against the manifest; names the shard that is off. */
export function checkShardSizes(m: Manifest, modelJson: string): void {
  m.groups.forEach((g, gi) => {
    const sizes = g.files.map((f) => fs.statSync(f).size);
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total === g.byteLength) return;
    // TF.js writes equal shards except the last; find the one that breaks the pattern.
    const n = sizes.length;
    let k = n - 1;
    let expected = g.byteLength - sizes.slice(0, n - 1).reduce((a, b) => a + b, 0);
    if (n > 1) {
      const full = Math.max(...sizes.slice(0, n - 1));
      const odd = sizes.findIndex((s, i) => i < n - 1 && s !== full);
      if (odd >= 0) {
        k = odd;
        expected = full;
      }
    }
    throw new PruneScopeError(
      'bad-input',
      `shard ${g.paths[k]} has ${sizes[k]} bytes but ${Math.max(expected, 0)} were expected (group ${gi} needs ${g.byteLength} bytes over ${n} shard(s), found ${total})`,
      { file: modelJson, field: `weightsManifest[${gi}].paths[${k}]`, expected: `${g.byteLength} bytes in total` },
    );
  });
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Reads the shards and decodes the weights to float32 (little-endian, as TF.js writes them).
 * Quantized weights are dequantized (value = q * scale + min, as TF.js does) rather than refused:
 * the network then computes with the values the file represents; a warning says so.
 */
export async function readWeights(
  m: Manifest,
  modelJson: string,
  warnings: string[],
): Promise<Map<string, ManifestWeight & { values: Float32Array }>> {
  checkShardSizes(m, modelJson);
  const out = new Map<string, ManifestWeight & { values: Float32Array }>();
  for (const [gi, g] of m.groups.entries()) {
    // One shard at a time: many concurrent reads can exhaust file handles (EMFILE), and any read
    // failure (permissions, a file replaced since the size check) must still name the shard.
    const parts: Buffer[] = [];
    for (const [k, f] of g.files.entries()) {
      try {
        parts.push(await fs.promises.readFile(f));
      } catch (e) {
        throw new PruneScopeError(
          'not-found',
          `cannot read shard ${preview(g.paths[k], 200)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
          { file: modelJson, field: `weightsManifest[${gi}].paths[${k}]`, expected: 'a readable shard file' },
        );
      }
    }
    const buf = Buffer.concat(parts);
    if (buf.length !== g.byteLength) {
      throw new PruneScopeError(
        'bad-input',
        `shards of group ${gi} changed size while being read (${buf.length} bytes, expected ${g.byteLength})`,
        { file: modelJson, field: `weightsManifest[${gi}].paths`, expected: `${g.byteLength} bytes` },
      );
    }
    for (const w of m.weights.filter((x) => x.group === gi)) {
      const bytes = buf.subarray(w.byteOffset, w.byteOffset + w.byteLength);
      // Copy to an aligned buffer: a typed-array view needs its offset aligned to the element size.
      const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      let values: Float32Array;
      const q = w.quantization;
      if (q?.dtype === 'uint8' || q?.dtype === 'uint16') {
        const src = q.dtype === 'uint8' ? new Uint8Array(ab) : new Uint16Array(ab);
        values = Float32Array.from(src, (v) => v * (q.scale as number) + (q.min as number));
        warnings.push(`${w.name}: ${q.dtype}-quantized weights were dequantized to float32`);
      } else if (q?.dtype === 'float16' || w.dtype === 'float16') {
        values = Float32Array.from(new Uint16Array(ab), halfToFloat);
        warnings.push(`${w.name}: float16 weights were converted to float32`);
      } else if (w.dtype === 'int32') {
        values = Float32Array.from(new Int32Array(ab));
        warnings.push(`${w.name}: int32 weights were converted to float32`);
      } else {
        values = new Float32Array(ab);
      }
      let bad = -1;
      for (let i = 0; i < values.length; i++)
        if (!Number.isFinite(values[i])) {
          bad = i;
          break;
        }
      if (bad >= 0) {
        throw new PruneScopeError(
          'numerical',
          `weight ${w.name} has a non-finite value (${values[bad]}) at entry ${bad}`,
          { file: modelJson, field: `weightsManifest[${gi}] weight ${w.name}`, expected: 'finite numbers' },
        );
      }
      out.set(w.name, { ...w, values });
    }
  }
  return out;
}
