// Fuzz cases for the data readers (see harness.ts): mutated .npy files, .npz archives and
// PNG/JPEG/BMP images. Header fields are rewritten with hostile values (and, for PNG, the chunk
// CRC recomputed so the mutation reaches the decoder, not just the checksum), bytes are flipped,
// files cut short. Each must load (benign mutations) or be refused with a PruneScopeError naming
// the file, quickly and in bounded memory.
import * as fs from 'fs';
import * as path from 'path';
import { zipSync } from 'fflate';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { Rng } from '../../src/engine/util/random';
import { loadArrays } from '../../src/engine/data/numpy/arrays';
import { decodeImage } from '../../src/engine/data/image/decode';
import { loadImageFolder } from '../../src/engine/data/image/folder';
import { DEFAULT_PIXEL_SCALE } from '../../src/engine/data/targetsForModel';
import { pick, truncateBytes } from './mutators';

export interface DataCase {
  mutation: string;
  mustLoad: boolean;
  run: () => Promise<unknown>;
  names: string[];
  cleanup?: () => void;
}

type Mut = { benign?: boolean; apply: (rng: Rng, b: Buffer) => { b: Buffer; d: string } };

function flipBytes(rng: Rng, b: Buffer, from = 0, to = b.length): { b: Buffer; d: string } {
  const out = Buffer.from(b);
  const at: number[] = [];
  for (let n = 1 + rng.int(8); n > 0 && to > from; n--) {
    const i = from + rng.int(to - from);
    out[i] = rng.int(256);
    at.push(i);
  }
  return { b: out, d: `bytes set at ${at.join(',')}` };
}

/** Writes an unsigned field of 1, 2 or 4 bytes. */
function setField(out: Buffer, at: number, size: 1 | 2 | 4, v: number, bigEndian = false): void {
  if (size === 1) out[at] = v & 0xff;
  else if (size === 2) (bigEndian ? out.writeUInt16BE : out.writeUInt16LE).call(out, v & 0xffff, at);
  else (bigEndian ? out.writeUInt32BE : out.writeUInt32LE).call(out, v >>> 0, at);
}

const HOSTILE_U32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 65535, 65536, 1 << 24, 3];
const hostile = (rng: Rng) => (rng.next() < 0.6 ? pick(rng, HOSTILE_U32) : rng.int(2 ** 32));

// ---------- .npy ----------

const DTYPES = ['<f4', '>f4', '<f8', '|u1', '|i1', '<i2', '>u2', '<i4', '<i8', '>i8', '|b1', '<f2'];

function npy(descr: string, shape: number[], data: Buffer, fortran = false, version = 1): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${dims}), }`;
  const pre = version === 1 ? 10 : 12;
  header += ' '.repeat(63 - ((pre + header.length) % 64)) + '\n';
  const head = Buffer.alloc(pre);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(head);
  if (version === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), data]);
}

/** Finite values of `descr` (random small integers fit every dtype). */
function values(rng: Rng, descr: string, n: number): Buffer {
  const size = Number(descr.slice(2));
  const b = Buffer.alloc(n * size);
  const le = descr[0] !== '>';
  for (let i = 0; i < n; i++) {
    const v = rng.int(100);
    const kind = descr[1];
    if (kind === 'f' && size === 4) {
      if (le) b.writeFloatLE(v / 7, 4 * i);
      else b.writeFloatBE(v / 7, 4 * i);
    } else if (kind === 'f' && size === 8) {
      if (le) b.writeDoubleLE(v / 7, 8 * i);
      else b.writeDoubleBE(v / 7, 8 * i);
    } else if (kind === 'f') b.writeUInt16LE(0x3c00 + rng.int(512), 2 * i);
    else if (kind === 'b') b[i] = rng.int(2);
    else if (size === 8) {
      if (le) b.writeBigInt64LE(BigInt(v), 8 * i);
      else b.writeBigInt64BE(BigInt(v), 8 * i);
    } else b.writeUIntLE(v, size * i, size);
  }
  return b;
}

interface NpyBase {
  x: Buffer;
  y: Buffer;
  rows: number;
}

function baseNpy(rng: Rng): NpyBase {
  const rows = 2 + rng.int(20);
  const trailing = pick(rng, [[], [3], [4, 4], [4, 4, 1], [2, 3, 3], [5, 1]]);
  const descr = pick(rng, DTYPES);
  const n = rows * trailing.reduce((a, b) => a * b, 1);
  const x = npy(descr, [rows, ...trailing], values(rng, descr, n), false, rng.next() < 0.2 ? 2 : 1);
  const labels = Buffer.alloc(rows * 8);
  for (let i = 0; i < rows; i++) labels.writeBigInt64LE(BigInt(i % 3), 8 * i);
  return { x, y: npy('<i8', [rows], labels), rows };
}

/** The header text's span in a v1 .npy (v2/3 have a 4-byte length). */
function headerSpan(b: Buffer): [number, number] {
  const v2 = b[6] >= 2;
  const len = b.length >= 12 ? (v2 ? b.readUInt32LE(8) : b.readUInt16LE(8)) : 0;
  const start = v2 ? 12 : 10;
  return [start, Math.min(b.length, start + len)];
}

function rewriteHeader(b: Buffer, f: (h: string) => string): Buffer {
  if (b.length < 12) return b;
  const [s, e] = headerSpan(b);
  const text = f(b.toString('latin1', s, e));
  const head = Buffer.from(b.subarray(0, s));
  if (head[6] >= 2) head.writeUInt32LE(text.length, 8);
  else head.writeUInt16LE(Math.min(0xffff, text.length), 8);
  return Buffer.concat([head, Buffer.from(text, 'latin1'), b.subarray(e)]);
}

const NPY_MUTATIONS: Mut[] = [
  { benign: true, apply: (_, b) => ({ b, d: 'unchanged' }) },
  {
    benign: true,
    apply: (_, b) => ({
      b: rewriteHeader(b, (h) => h.replace(/ *\n$/, ' '.repeat(64) + '\n')),
      d: 'header padded 64 more',
    }),
  },
  { apply: (rng, b) => truncateBytes(rng, b) },
  { apply: (rng, b) => flipBytes(rng, b, 0, Math.min(b.length, 128)) },
  { apply: (rng, b) => flipBytes(rng, b) },
  {
    apply: (rng, b) => {
      const d = pick(rng, [
        '|O',
        '<O8',
        '<c8',
        '<U3',
        '|S4',
        '<f16',
        '|V8',
        '<M8[s]',
        '<i9',
        '',
        "'",
        '<f4 ',
        'f4',
        '=f4',
        '>f2',
        '<u8',
        'x'.repeat(5000),
      ]);
      return {
        b: rewriteHeader(b, (h) => h.replace(/'descr': '[^']*'/, `'descr': '${d}'`)),
        d: `descr ${d.slice(0, 40)}`,
      };
    },
  },
  {
    apply: (rng, b) => {
      const s = pick(rng, [
        '()',
        '(-1,)',
        '(99999999999999, 99999999)',
        '(4294967296, 4294967296)',
        `(1,${' 1,'.repeat(40)})`,
        '(0,)',
        '(0, 5)',
        '(3.5,)',
        '(3, 0)',
        '(2**8,)',
        '(1e3,)',
        '(',
        '(,)',
        '[3]',
        '(3L, 4L)',
        '(1, 2, 3, 4, 5)',
      ]);
      return {
        b: rewriteHeader(b, (h) => h.replace(/'shape': \([^)]*\)/, `'shape': ${s}`)),
        d: `shape ${s.slice(0, 40)}`,
      };
    },
  },
  {
    apply: (rng, b) => {
      const f = pick(rng, ['True', 'None', '0', 'true', "'False'", '']);
      return {
        b: rewriteHeader(b, (h) => h.replace(/'fortran_order': \w+/, `'fortran_order': ${f}`)),
        d: `fortran_order ${f}`,
      };
    },
  },
  {
    apply: (rng, b) => {
      const junk = pick(rng, [
        "'extra': 1, ",
        '{',
        '}',
        "'descr': '<f4', ",
        '\u0000',
        '\\',
        '"',
        ':',
        '((((',
        ' '.repeat(70000),
      ]);
      return {
        b: rewriteHeader(b, (h) => {
          const at = rng.int(h.length);
          return h.slice(0, at) + junk + h.slice(at);
        }),
        d: `header insert ${JSON.stringify(junk.slice(0, 20))}`,
      };
    },
  },
  {
    apply: (rng, b) => {
      const out = Buffer.from(b);
      const v = pick(rng, [0, 4, 255, 9]);
      out[6] = v;
      return { b: out, d: `version byte ${v}` };
    },
  },
  {
    apply: (rng, b) => {
      const out = Buffer.from(b);
      const v = rng.int(65536);
      out.writeUInt16LE(v, 8);
      return { b: out, d: `header length ${v}` };
    },
  },
  {
    apply: (rng, b) => {
      const extra = Buffer.alloc(1 + rng.int(100), 7);
      return { b: Buffer.concat([b, extra]), d: `${extra.length} bytes appended` };
    },
  },
];

function mutate(rng: Rng, b: Buffer, muts: Mut[]): { b: Buffer; d: string; benign: boolean } {
  let benign = true;
  const done: string[] = [];
  for (let n = 1 + (rng.next() < 0.3 ? rng.int(3) : 0); n > 0; n--) {
    const m = pick(rng, muts);
    benign &&= !!m.benign;
    const r = m.apply(rng, b);
    b = r.b;
    done.push(r.d);
  }
  return { b, d: done.join('; '), benign };
}

export function npyCase(rng: Rng, i: number, root: string): DataCase {
  const base = baseNpy(rng);
  const onLabels = rng.next() < 0.25;
  const m = mutate(rng, onLabels ? base.y : base.x, NPY_MUTATIONS);
  const xFile = path.join(root, `case-${i}-x.npy`);
  const yFile = path.join(root, `case-${i}-y.npy`);
  fs.writeFileSync(xFile, onLabels ? base.x : m.b);
  fs.writeFileSync(yFile, onLabels ? m.b : base.y);
  const maxRows = rng.next() < 0.5 ? 1 + rng.int(base.rows) : undefined;
  return {
    mutation: `${onLabels ? 'labels' : 'x'}: ${m.d}${maxRows ? ` (maxRows ${maxRows})` : ''}`,
    mustLoad: m.benign,
    names: [onLabels ? yFile : xFile],
    run: () => loadArrays(xFile, { pixelScale: DEFAULT_PIXEL_SCALE, labels: yFile, maxRows, seed: i }),
    cleanup: () => {
      fs.rmSync(xFile, { force: true });
      fs.rmSync(yFile, { force: true });
    },
  };
}

// ---------- .npz ----------

function findSig(b: Buffer, sig: number, from = 0): number[] {
  const at: number[] = [];
  for (let p = from; p + 4 <= b.length; p++) if (b.readUInt32LE(p) === sig) at.push(p);
  return at;
}

/** A field of a zip structure (central entry 0x02014b50, local header 0x04034b50, end record 0x06054b50). */
function patchField(rng: Rng, b: Buffer, sig: number, fields: [number, 2 | 4, string][]): { b: Buffer; d: string } {
  const at = findSig(b, sig);
  if (!at.length) return { b, d: 'no structure to patch' };
  const p = pick(rng, at);
  const [off, size, name] = pick(rng, fields);
  const out = Buffer.from(b);
  if (p + off + size > out.length) return { b, d: 'field past the end' };
  const v = size === 2 ? hostile(rng) & 0xffff : hostile(rng);
  setField(out, p + off, size, v);
  return { b: out, d: `${name} at ${p} = ${v}` };
}

const CEN_FIELDS: [number, 2 | 4, string][] = [
  [8, 2, 'central flags'],
  [10, 2, 'central method'],
  [20, 4, 'central compressed size'],
  [24, 4, 'central size'],
  [28, 2, 'central name length'],
  [30, 2, 'central extra length'],
  [32, 2, 'central comment length'],
  [42, 4, 'central local offset'],
];
const LOC_FIELDS: [number, 2 | 4, string][] = [
  [26, 2, 'local name length'],
  [28, 2, 'local extra length'],
  [18, 4, 'local compressed size'],
];
const EOCD_FIELDS: [number, 2 | 4, string][] = [
  [8, 2, 'entries on disk'],
  [10, 2, 'entries'],
  [12, 4, 'directory size'],
  [16, 4, 'directory offset'],
  [20, 2, 'comment length'],
];

const NPZ_MUTATIONS: Mut[] = [
  { benign: true, apply: (_, b) => ({ b, d: 'unchanged' }) },
  {
    benign: true,
    apply: (_, b) => {
      // A zip comment: the bytes after the end record, their count in its last field.
      const out = Buffer.concat([b, Buffer.from('a comment')]);
      const e = findSig(out, 0x06054b50).at(-1);
      if (e !== undefined) out.writeUInt16LE(out.length - e - 22, e + 20);
      return { b: out, d: 'zip comment' };
    },
  },
  { apply: (rng, b) => truncateBytes(rng, b) },
  { apply: (rng, b) => flipBytes(rng, b) },
  { apply: (rng, b) => flipBytes(rng, b, Math.max(0, b.length - 200)) },
  { apply: (rng, b) => patchField(rng, b, 0x02014b50, CEN_FIELDS) },
  { apply: (rng, b) => patchField(rng, b, 0x04034b50, LOC_FIELDS) },
  { apply: (rng, b) => patchField(rng, b, 0x06054b50, EOCD_FIELDS) },
  {
    apply: (_, b) => {
      const out = Buffer.from(b);
      const e = findSig(out, 0x06054b50).at(-1);
      if (e === undefined) return { b, d: 'no end record' };
      out.writeUInt32LE(0xffffffff, e + 16);
      return { b: out, d: 'zip64 offset without a locator' };
    },
  },
];

function baseNpz(
  rng: Rng,
  base: NpyBase,
  inner?: { which: 'x' | 'y'; b: Buffer },
): { zip: Buffer; d: string; clean: boolean } {
  const level = rng.next() < 0.5 ? 0 : 6;
  let clean = true;
  const name = (k: string) => {
    if (rng.next() >= 0.05) return `${k}.npy`;
    clean = false;
    return pick(rng, ['../x.npy', '/x.npy', 'C:\\x.npy', 'a/../../x.npy', `${k}.npy\u0000`]);
  };
  const files: Record<string, [Uint8Array, { level: 0 | 6 }]> = {};
  files[name('x')] = [inner?.which === 'x' ? inner.b : base.x, { level }];
  if (rng.next() < 0.95) files[name('y')] = [inner?.which === 'y' ? inner.b : base.y, { level }];
  else clean = false;
  return {
    zip: Buffer.from(zipSync(files)),
    d: `${level ? 'deflated' : 'stored'} ${Object.keys(files).join(', ')}`,
    clean,
  };
}

export function npzCase(rng: Rng, i: number, root: string): DataCase {
  let inner: { which: 'x' | 'y'; b: Buffer } | undefined;
  let innerD = '';
  let benign = true;
  const base = baseNpy(rng);
  if (rng.next() < 0.3) {
    const which = rng.next() < 0.7 ? 'x' : 'y';
    const m = mutate(rng, which === 'x' ? base.x : base.y, NPY_MUTATIONS);
    inner = { which, b: m.b };
    innerD = `; inner ${which}.npy: ${m.d}`;
    benign = m.benign;
  }
  const { zip, d, clean } = baseNpz(rng, base, inner);
  const m = mutate(rng, zip, NPZ_MUTATIONS);
  const file = path.join(root, `case-${i}.npz`);
  fs.writeFileSync(file, m.b);
  const maxRows = rng.next() < 0.5 ? 3 : undefined;
  return {
    mutation: `${d}: ${m.d}${innerD}`,
    // A benign case holds a clean x and y (a hostile name or a missing y is not benign).
    mustLoad: benign && m.benign && clean,
    names: [file],
    run: () => loadArrays(file, { pixelScale: DEFAULT_PIXEL_SCALE, maxRows }),
    cleanup: () => fs.rmSync(file, { force: true }),
  };
}

// ---------- images ----------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** PNG chunks as [offset of length field, length, type]. */
function pngChunks(b: Buffer): { at: number; len: number; type: string }[] {
  const out = [];
  for (let p = 8; p + 12 <= b.length;) {
    const len = b.readUInt32BE(p);
    out.push({ at: p, len, type: b.toString('latin1', p + 4, p + 8) });
    if (p + 12 + len > b.length) break;
    p += 12 + len;
  }
  return out;
}

/** Sets a field inside a PNG chunk and recomputes the chunk's CRC so the decoder sees the change. */
function pngField(rng: Rng, b: Buffer): { b: Buffer; d: string } {
  const chunks = pngChunks(b).filter((c) => c.at + 12 + c.len <= b.length && c.len > 0);
  if (!chunks.length) return { b, d: 'no chunk' };
  const c = rng.next() < 0.6 ? (chunks.find((x) => x.type === 'IHDR') ?? chunks[0]) : pick(rng, chunks);
  const out = Buffer.from(b);
  const off = c.at + 8 + rng.int(c.len);
  let d: string;
  if (c.type === 'IHDR' && rng.next() < 0.7) {
    const field = pick(rng, [
      [0, 4, 'width'],
      [4, 4, 'height'],
      [8, 1, 'bit depth'],
      [9, 1, 'colour type'],
      [10, 1, 'compression'],
      [11, 1, 'filter'],
      [12, 1, 'interlace'],
    ] as const);
    const v = field[1] === 4 ? hostile(rng) : pick(rng, [0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 255]);
    setField(out, c.at + 8 + field[0], field[1], v, true);
    d = `IHDR ${field[2]} = ${v}`;
  } else {
    out[off] = rng.int(256);
    d = `${c.type} byte ${off - c.at - 8} set`;
  }
  out.writeUInt32BE(crc32(out.subarray(c.at + 4, c.at + 8 + c.len)), c.at + 8 + c.len);
  return { b: out, d: `${d} (CRC fixed)` };
}

function jpegField(rng: Rng, b: Buffer): { b: Buffer; d: string } {
  const out = Buffer.from(b);
  // The frame header: height and width at +5 and +7 of an SOF marker; other markers' lengths.
  for (let p = 2; p + 9 < out.length; p++) {
    if (out[p] === 0xff && out[p + 1] >= 0xc0 && out[p + 1] <= 0xc2 && rng.next() < 0.8) {
      const f = pick(rng, [5, 7, 9, 2]);
      const v = f === 9 ? pick(rng, [0, 1, 2, 3, 4, 5, 255]) : pick(rng, [0, 1, 0xffff, 0x8000, rng.int(0x10000)]);
      setField(out, p + f, f === 9 ? 1 : 2, v, true);
      return { b: out, d: `SOF field +${f} = ${v}` };
    }
  }
  return flipBytes(rng, b, 0, Math.min(b.length, 700));
}

function bmpField(rng: Rng, b: Buffer): { b: Buffer; d: string } {
  const field = pick(rng, [
    [2, 4, 'file size'],
    [10, 4, 'pixel offset'],
    [14, 4, 'header size'],
    [18, 4, 'width'],
    [22, 4, 'height'],
    [26, 2, 'planes'],
    [28, 2, 'bits per pixel'],
    [30, 4, 'compression'],
    [46, 4, 'colours used'],
    [54, 4, 'red mask'],
  ] as const);
  if (field[0] + field[1] > b.length) return { b, d: 'header too short' };
  const out = Buffer.from(b);
  const v =
    field[2] === 'bits per pixel'
      ? pick(rng, [0, 1, 2, 4, 8, 16, 24, 32, 64])
      : field[2] === 'compression'
        ? pick(rng, [0, 1, 2, 3, 4, 5, 6, 99])
        : field[2] === 'header size'
          ? pick(rng, [12, 16, 40, 52, 56, 64, 108, 124, 0, 0xffffffff])
          : hostile(rng);
  setField(out, field[0], field[1], v);
  return { b: out, d: `${field[2]} = ${v}` };
}

const IMAGE_MUTATIONS: Mut[] = [
  { benign: true, apply: (_, b) => ({ b, d: 'unchanged' }) },
  { apply: (rng, b) => truncateBytes(rng, b) },
  { apply: (rng, b) => flipBytes(rng, b) },
  { apply: (rng, b) => flipBytes(rng, b, 0, Math.min(b.length, 64)) },
  {
    apply: (rng, b) =>
      b[0] === 0x89
        ? pngField(rng, b)
        : b[0] === 0xff
          ? jpegField(rng, b)
          : b[0] === 0x42
            ? bmpField(rng, b)
            : { b, d: 'no header' },
  },
  {
    apply: (rng, b) =>
      b[0] === 0x89
        ? pngField(rng, b)
        : b[0] === 0xff
          ? jpegField(rng, b)
          : b[0] === 0x42
            ? bmpField(rng, b)
            : { b, d: 'no header' },
  },
  {
    apply: (rng, b) => {
      const at = rng.int(b.length);
      const ins = Buffer.alloc(1 + rng.int(64), rng.int(256));
      return { b: Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]), d: `${ins.length} bytes inserted at ${at}` };
    },
  },
];

function baseImage(rng: Rng, fixtures: string[]): { b: Buffer; d: string } {
  const k = rng.int(4);
  if (k === 0 && fixtures.length) {
    const f = pick(rng, fixtures);
    return { b: fs.readFileSync(f), d: path.basename(f) };
  }
  const w = 1 + rng.int(24);
  const h = 1 + rng.int(24);
  const rgba = Buffer.alloc(w * h * 4);
  for (let i = 0; i < rgba.length; i++) rgba[i] = rng.int(256);
  if (k === 1) {
    const png = new PNG({ width: w, height: h });
    rgba.copy(png.data);
    return { b: PNG.sync.write(png, { colorType: pick(rng, [0, 2, 4, 6] as const) }), d: `pngjs ${w}x${h}` };
  }
  if (k === 2) return { b: jpeg.encode({ width: w, height: h, data: rgba }, 80).data, d: `jpeg-js ${w}x${h}` };
  // A 24-bit bottom-up bitmap.
  const stride = Math.floor((24 * w + 31) / 32) * 4;
  const b = Buffer.alloc(54 + stride * h);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  for (let y = 0; y < h; y++) for (let x = 0; x < 3 * w; x++) b[54 + y * stride + x] = rng.int(256);
  return { b, d: `bmp ${w}x${h}` };
}

export function imageCase(rng: Rng, i: number, root: string, fixtures: string[]): DataCase {
  const base = baseImage(rng, fixtures);
  const m = mutate(rng, base.b, IMAGE_MUTATIONS);
  const viaFolder = rng.next() < 0.2;
  const ext = base.b[0] === 0x89 ? '.png' : base.b[0] === 0xff ? '.jpg' : '.bmp';
  if (!viaFolder) {
    const file = path.join(root, `case-${i}${ext}`);
    return {
      mutation: `${base.d}: ${m.d}`,
      mustLoad: m.benign,
      names: [file],
      run: async () => decodeImage(m.b, file),
    };
  }
  const dir = path.join(root, `case-${i}`);
  fs.mkdirSync(path.join(dir, 'a'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'b'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'a', `ok${ext}`), base.b);
  const file = path.join(dir, 'b', `m${ext}`);
  fs.writeFileSync(file, m.b);
  return {
    mutation: `${base.d}: ${m.d} (in a class folder)`,
    mustLoad: m.benign,
    names: [dir],
    run: () => loadImageFolder(dir, { pixelScale: DEFAULT_PIXEL_SCALE, input: { shape: [8, 8, 3], layout: 'NHWC' } }),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
