// Pruning masks over the flat parameter index. Pruning a share p masks the first round(p * n)
// of a relevance order restricted to the active candidates (weights only unless biases are
// included), so every method prunes exactly the same number of parameters at a given share.
import { badInput } from '../errors';
import type { Graph } from '../model/graph';

export interface PruneOptions {
  /** Also prune biases (the seed papers pruned weights only). */
  includeBias?: boolean;
  /** Parameters already pruned (1 = pruned); they stay pruned and do not count as active. */
  alreadyPruned?: Uint8Array;
}

/** 1 where a parameter may be pruned: active weights (and biases when asked). */
export function candidateMask(net: Graph, opts: PruneOptions = {}): Uint8Array {
  const m = opts.includeBias ? new Uint8Array(net.nParams).fill(1) : net.kernelMask();
  if (opts.alreadyPruned) for (let i = 0; i < m.length; i++) if (opts.alreadyPruned[i]) m[i] = 0;
  return m;
}

/** The candidates in the order given (least relevant first), skipping non-candidates. */
export function candidateOrder(order: ArrayLike<number>, candidates: Uint8Array): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < order.length; i++) if (candidates[order[i]]) out.push(order[i]);
  if (out.length !== countOnes(candidates)) {
    throw badInput(`the relevance order covers ${out.length} of ${countOnes(candidates)} prunable parameters`, {
      field: 'order',
      expected: 'an order over every parameter',
    });
  }
  return Int32Array.from(out);
}

/** Mask (1 = pruned) for share p of the candidates, taken from the head of `order`. */
export function pruneMaskAt(
  order: ArrayLike<number>,
  candidates: Uint8Array,
  share: number,
  alreadyPruned?: Uint8Array,
): Uint8Array {
  if (!(share >= 0 && share <= 1))
    throw badInput(`share ${share}`, { field: 'fraction', expected: 'a number in [0, 1]' });
  const ranked = candidateOrder(order, candidates);
  const k = Math.round(share * ranked.length);
  const mask = alreadyPruned ? Uint8Array.from(alreadyPruned) : new Uint8Array(candidates.length);
  for (let i = 0; i < k; i++) mask[ranked[i]] = 1;
  return mask;
}

/** Copy of `flat` with masked entries set to exactly zero. */
export function applyMask(flat: Float32Array, mask: Uint8Array): Float32Array {
  const out = Float32Array.from(flat);
  for (let i = 0; i < out.length; i++) if (mask[i]) out[i] = 0;
  return out;
}

export function countOnes(m: Uint8Array): number {
  let c = 0;
  for (let i = 0; i < m.length; i++) c += m[i] ? 1 : 0;
  return c;
}

/** Parameters that are exactly zero (inactive), as a mask. */
export function zeroMask(flat: Float32Array): Uint8Array {
  const m = new Uint8Array(flat.length);
  for (let i = 0; i < flat.length; i++) m[i] = flat[i] === 0 ? 1 : 0;
  return m;
}

/** Compact, JSON-friendly form of a mask: sorted flat indices of the pruned parameters. */
export function maskToIndices(mask: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i]) out.push(i);
  return out;
}

export function indicesToMask(indices: number[], n: number, where = 'mask'): Uint8Array {
  const m = new Uint8Array(n);
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= n)
      throw badInput(`index ${i}`, { field: where, expected: `integers in [0, ${n})` });
    m[i] = 1;
  }
  return m;
}
