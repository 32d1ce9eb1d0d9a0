// Per-parameter masks in the shared flat order (model/graphPlan.ts), uploaded once to the backend
// as the boolean "this parameter may change" vector the Adam update selects with.
import * as tf from '@tensorflow/tfjs';
import { badInput } from '../errors';
import type { WeightInfo } from '../model/graphPlan';

/**
 * Validates a Uint8Array mask (1 = set, 0 = clear) against the network size. `what` names the mask
 * in the error, e.g. 'pruneMask'.
 */
export function checkMask(mask: Uint8Array, nParams: number, what: string): void {
  if (!(mask instanceof Uint8Array))
    throw badInput('mask must be a Uint8Array', { field: what, expected: 'one 0/1 byte per parameter' });
  if (mask.length !== nParams)
    throw badInput(`mask has ${mask.length} entries`, {
      field: what,
      expected: `${nParams} (one per parameter in the flat order)`,
    });
}

export function countSet(mask: Uint8Array | undefined): number {
  if (!mask) return 0;
  let c = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) c++;
  return c;
}

/**
 * Per parameter tensor (graph.weights: the flat order), a boolean tensor of that
 * tensor's shape, true where the parameter is neither pruned nor frozen (alpha_j = 1 in METHODS.md
 * section 3); undefined where every entry may change, so the update can skip the select.
 */
export function updatableTensors(
  prune: Uint8Array | undefined,
  freeze: Uint8Array | undefined,
  weights: readonly WeightInfo[],
): (tf.Tensor | undefined)[] {
  const out: (tf.Tensor | undefined)[] = [];
  const piece = (offset: number, size: number, shape: number[]) => {
    const u = new Int32Array(size);
    let blocked = 0;
    for (let i = 0; i < size; i++) {
      const j = offset + i;
      const stop = (prune !== undefined && prune[j] !== 0) || (freeze !== undefined && freeze[j] !== 0);
      u[i] = stop ? 0 : 1;
      if (stop) blocked++;
    }
    out.push(blocked === 0 ? undefined : tf.tidy(() => tf.cast(tf.tensor(u, shape, 'int32'), 'bool')));
  };
  for (const w of weights) piece(w.offset, w.size, w.shape);
  return out;
}
