// PruneScope's own metadata, stored in a LayersModel's `userDefinedMetadata.prunescope` so that a
// saved model keeps what it was trained on (features, labels, standardization) and how it was
// pruned. Every field is optional; what is present is checked against the network on read.
import { PruneScopeError } from '../errors';
import { preview } from '../util/jsonLimits';
import type { Provenance } from '../provenance';

/**
 * Which flat parameters (network.ts order) are pruned, i.e. held at zero.
 * Stored as a base64 bitmask: bit j (byte j >> 3, bit j & 7, least significant first) set means
 * parameter j is pruned. A bitmask is n/8 bytes whatever the sparsity, and its length is checked
 * against `nParams`. `indices` (a list of pruned flat indices) is also accepted on read.
 */
export type PruneMaskEncoding =
  { encoding: 'bitmask-base64'; bits: string } | { encoding: 'indices'; pruned: number[] };

export type PruneMask = PruneMaskEncoding & {
  /** Number of flat parameters the mask covers; must equal the network's. */
  nParams: number;
  /** How many parameters are pruned (a check on the encoding). */
  prunedCount: number;
  /** How the mask was made: relevance method, fraction pruned, whether biases could be pruned. */
  method?: string;
  fraction?: number;
  includeBiases?: boolean;
  provenance?: Provenance;
};

export interface PruneScopeMetadata {
  task?: 'classification' | 'regression';
  /** One name per input column, in input order. */
  featureNames?: string[];
  targetName?: string;
  /** One name per output unit of a classifier, in output order. */
  labelNames?: string[];
  preprocessing?: {
    /** Inputs are fed as (x - mean) / std; one entry per input column. */
    standardization?: { mean: number[]; std: number[] };
    /** Image pixels were fed in [0, 1] (1) or as 0..255 (255) when the model was trained. */
    pixelScale?: 1 | 255;
  };
  provenance?: Provenance;
  pruneMask?: PruneMask;
  /** Anything else a job wants to keep with the model (kept verbatim). */
  [key: string]: unknown;
}

/** Encodes a 0/1 mask over the flat index (1 = pruned) as a base64 bitmask PruneMask. */
export function encodePruneMask(
  pruned: ArrayLike<number | boolean>,
  made: Omit<PruneMask, 'encoding' | 'bits' | 'pruned' | 'nParams' | 'prunedCount'> = {},
): PruneMask {
  const bytes = new Uint8Array(Math.ceil(pruned.length / 8));
  let count = 0;
  for (let j = 0; j < pruned.length; j++) {
    if (pruned[j]) {
      bytes[j >> 3] |= 1 << (j & 7);
      count++;
    }
  }
  return {
    ...made,
    encoding: 'bitmask-base64',
    bits: Buffer.from(bytes).toString('base64'),
    nParams: pruned.length,
    prunedCount: count,
  };
}

/** Decodes a PruneMask to a Uint8Array over the flat index (1 = pruned), checking it against nParams. */
export function decodePruneMask(mask: PruneMask, nParams: number, file = 'model.json'): Uint8Array {
  const field = 'userDefinedMetadata.prunescope.pruneMask';
  const bad = (msg: string, expected: string) => new PruneScopeError('bad-input', msg, { file, field, expected });
  if (mask.nParams !== nParams)
    throw bad(`covers ${mask.nParams} parameters but the network has ${nParams}`, `nParams = ${nParams}`);
  const out = new Uint8Array(nParams);
  if (mask.encoding === 'bitmask-base64') {
    if (typeof mask.bits !== 'string') throw bad('bits is missing', 'a base64 string');
    const bytes = Buffer.from(mask.bits, 'base64');
    if (bytes.length !== Math.ceil(nParams / 8))
      throw bad(`bits decodes to ${bytes.length} bytes`, `${Math.ceil(nParams / 8)} bytes for ${nParams} parameters`);
    for (let j = 0; j < nParams; j++) out[j] = (bytes[j >> 3] >> (j & 7)) & 1;
    // Bits past nParams must be clear, or the mask was made for another network.
    for (let j = nParams; j < bytes.length * 8; j++)
      if ((bytes[j >> 3] >> (j & 7)) & 1) throw bad(`bit ${j} is set past the last parameter`, 'padding bits clear');
  } else if (mask.encoding === 'indices') {
    if (!Array.isArray(mask.pruned)) throw bad('pruned is missing', 'an array of flat indices');
    for (const j of mask.pruned) {
      if (!Number.isInteger(j) || j < 0 || j >= nParams)
        throw bad(`pruned index ${String(j)} is out of range`, `integers in [0, ${nParams})`);
      out[j] = 1;
    }
  } else {
    throw bad(
      `unknown encoding ${JSON.stringify((mask as { encoding?: unknown }).encoding)}`,
      '"bitmask-base64" or "indices"',
    );
  }
  let count = 0;
  for (let j = 0; j < nParams; j++) count += out[j];
  if (mask.prunedCount !== undefined && mask.prunedCount !== count)
    throw bad(`prunedCount is ${mask.prunedCount} but the mask has ${count} pruned entries`, String(count));
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrList = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isNumList = (v: unknown): v is number[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'number' && Number.isFinite(s));

/**
 * Checks metadata read from a file against the network's input and output sizes; throws a
 * PruneScopeError naming the field on any mismatch. Returns it typed.
 */
export function validateMetadata(
  raw: unknown,
  io: { inputSize: number; outputSize: number },
  file: string,
): PruneScopeMetadata {
  const base = 'userDefinedMetadata.prunescope';
  const bad = (field: string, msg: string, expected: string) =>
    new PruneScopeError('bad-input', msg, { file, field: `${base}.${field}`, expected });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new PruneScopeError('bad-input', 'is not an object', { file, field: base, expected: 'a JSON object' });
  const m = raw as PruneScopeMetadata;
  if (m.task !== undefined && m.task !== 'classification' && m.task !== 'regression')
    throw bad('task', `is ${preview(m.task)}`, '"classification" or "regression"');
  if (m.featureNames !== undefined) {
    if (!isStrList(m.featureNames)) throw bad('featureNames', 'is not a list of strings', 'a list of strings');
    if (m.featureNames.length !== io.inputSize)
      throw bad('featureNames', `has ${m.featureNames.length} names`, `${io.inputSize}, one per input`);
  }
  if (m.targetName !== undefined && typeof m.targetName !== 'string')
    throw bad('targetName', 'is not a string', 'a string');
  if (m.labelNames !== undefined) {
    if (!isStrList(m.labelNames)) throw bad('labelNames', 'is not a list of strings', 'a list of strings');
    if (m.labelNames.length !== io.outputSize)
      throw bad('labelNames', `has ${m.labelNames.length} names`, `${io.outputSize}, one per output unit`);
  }
  if (m.preprocessing !== undefined && !isObject(m.preprocessing))
    throw bad('preprocessing', `is ${preview(m.preprocessing)}`, 'an object');
  const ps = m.preprocessing?.pixelScale;
  if (ps !== undefined && ps !== 1 && ps !== 255)
    throw bad('preprocessing.pixelScale', `is ${preview(ps)}`, '1 (pixels in [0, 1]) or 255 (pixels 0..255)');
  const st = m.preprocessing?.standardization;
  if (st !== undefined) {
    // Without this, null or a number here made the lookups below throw a TypeError.
    if (!isObject(st)) throw bad('preprocessing.standardization', `is ${preview(st)}`, 'an object {mean, std}');
    for (const k of ['mean', 'std'] as const) {
      if (!isNumList(st[k]))
        throw bad(`preprocessing.standardization.${k}`, 'is not a list of finite numbers', 'a list of finite numbers');
      if (st[k].length !== io.inputSize)
        throw bad(
          `preprocessing.standardization.${k}`,
          `has ${st[k].length} entries`,
          `${io.inputSize}, one per input`,
        );
    }
    const i = st.std.findIndex((s) => !(s > 0));
    if (i >= 0) throw bad(`preprocessing.standardization.std[${i}]`, `is ${st.std[i]}`, 'a positive number');
  }
  return m;
}
