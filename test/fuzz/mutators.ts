// Seeded mutations of model folders (model.json + shards), CSV text and argv. Each returns a
// short description so a failing case can be read and replayed from its seed.
import { Rng } from '../../src/engine/util/random';
import type { JsonDoc as Doc } from '../helpers';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];

/** Placeholders swapped into the serialised text for values JSON.stringify cannot produce. */
export const RAW = (s: string): string => `\u0000RAW${s}\u0000`;
export function serialise(json: Json, pretty = false): string {
  return JSON.stringify(json, null, pretty ? 2 : undefined).replace(/"\\u0000RAW(.*?)\\u0000"/g, (_, s: string) => s);
}

/** Every path to a node, breadth-first, capped so enormous mutated trees stay cheap. */
export function paths(json: Json, cap = 5000): (string | number)[][] {
  const out: (string | number)[][] = [];
  const queue: { node: Json; p: (string | number)[] }[] = [{ node: json, p: [] }];
  while (queue.length && out.length < cap) {
    const { node, p } = queue.shift()!;
    out.push(p);
    if (Array.isArray(node)) node.forEach((c, i) => queue.push({ node: c, p: [...p, i] }));
    else if (node && typeof node === 'object')
      for (const k of Object.keys(node)) queue.push({ node: node[k], p: [...p, k] });
  }
  return out;
}

export function getAt(json: Json, p: (string | number)[]): Json {
  let n: Doc = json;
  for (const k of p) n = n?.[k];
  return n as Json;
}

export function setAt(json: Json, p: (string | number)[], v: Json | undefined): void {
  if (p.length === 0) return;
  const parent: Doc = getAt(json, p.slice(0, -1));
  if (!parent || typeof parent !== 'object') return;
  const k = p[p.length - 1];
  if (v === undefined) {
    if (Array.isArray(parent)) parent.splice(k as number, 1);
    else delete parent[k];
  } else parent[k] = v;
}

/** Values of the wrong type or range, including ones only expressible as raw text. */
export function oddValue(rng: Rng): { v: Json; d: string } {
  const k = rng.int(22);
  switch (k) {
    case 0:
      return { v: null, d: 'null' };
    case 1:
      return { v: true, d: 'true' };
    case 2:
      return { v: 0, d: '0' };
    case 3:
      return { v: -1, d: '-1' };
    case 4:
      return { v: 1.5, d: '1.5' };
    case 5:
      return { v: 1e308, d: '1e308' };
    case 6:
      return { v: RAW('1e999'), d: '1e999 (Infinity)' };
    case 7:
      return { v: RAW('-1e999'), d: '-1e999' };
    case 8:
      return { v: RAW('NaN'), d: 'NaN (invalid JSON)' };
    case 9:
      return { v: '', d: '""' };
    case 10:
      return { v: 'x', d: '"x"' };
    case 11:
      return { v: [], d: '[]' };
    case 12:
      return { v: {}, d: '{}' };
    case 13:
      return { v: [null], d: '[null]' };
    case 14:
      return { v: [[1, 2], [3]], d: '[[1,2],[3]]' };
    case 15:
      return { v: '__proto__', d: '"__proto__"' };
    case 16:
      return { v: { __proto__: 1, constructor: 'x' } as unknown as Json, d: '{constructor}' };
    case 17:
      return { v: 'x'.repeat(2_000_000), d: '2 MB string' };
    case 18:
      return { v: new Array(300_000).fill(7), d: 'array of 300k numbers' };
    case 19:
      return { v: 2 ** 53 + 2, d: '2^53+2' };
    case 20:
      return { v: -0, d: '-0' };
    default:
      return { v: RAW(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), d: 'nested 100k deep' };
  }
}

export function truncateBytes(rng: Rng, b: Buffer): { b: Buffer; d: string } {
  const at = rng.int(b.length + 1);
  return { b: b.subarray(0, at), d: `truncated to ${at}/${b.length} bytes` };
}

/** Overwrites a few bytes with ones that are not valid UTF-8 (lone continuation, overlong, 0xFF). */
export function invalidUtf8(rng: Rng, b: Buffer): { b: Buffer; d: string } {
  const out = Buffer.from(b);
  const seqs = [[0x80], [0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]];
  const at: number[] = [];
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const s = pick(rng, seqs);
    const i = rng.int(Math.max(1, out.length - s.length));
    s.forEach((x, j) => {
      if (i + j < out.length) out[i + j] = x;
    });
    at.push(i);
  }
  return { b: out, d: `invalid UTF-8 at bytes ${at.join(',')}` };
}

/** Random argv built from real flags, near-misses and junk. */
export function randomArgv(rng: Rng, flags: string[]): { argv: string[]; d: string } {
  const argv: string[] = [];
  const junk = [
    '--',
    '-',
    '---x',
    '--=',
    '--=v',
    '-h',
    '',
    ' ',
    '--\u0000',
    '--__proto__',
    '--constructor',
    '--toString',
    'é',
    '\uD800',
    'NaN',
    '1e999',
    '-1',
    '0x10',
    '1,2,,3',
    'a,b',
  ];
  for (let n = rng.int(7); n > 0; n--) {
    const k = rng.int(6);
    const f = pick(rng, flags);
    if (k === 0) argv.push(`--${f}`);
    else if (k === 1) argv.push(`--${f}=${pick(rng, junk)}`);
    else if (k === 2) argv.push(`--${f}`, pick(rng, junk));
    else if (k === 3) argv.push(`--${f.toUpperCase()}`);
    else if (k === 4) argv.push(pick(rng, junk));
    else argv.push(String(rng.uniform(-1e3, 1e3)));
  }
  return { argv, d: JSON.stringify(argv) };
}
