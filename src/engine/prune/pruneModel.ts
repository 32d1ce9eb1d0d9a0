// Prune a share of a model's active weights by a relevance method and describe the result in the
// metadata a pruned model file carries: the mask and how it was made. Already-pruned parameters
// (the model's own mask, or exact zeros) stay pruned and do not count as active.
import type { DataSplit } from '../data/dataset';
import type { Graph } from '../model/graph';
import { encodePruneMask, PruneScopeMetadata } from '../model/metadata';
import { computeRelevance, RelevanceRequest } from '../relevance/compute';
import type { RelevanceResult } from '../relevance/types';
import { applyMask, candidateMask, countOnes, zeroMask } from './mask';
import { pruningBase, VariationalWeights } from './variationalWeights';

export interface PruneRequest extends RelevanceRequest {
  fraction: number;
  includeBias?: boolean;
  /** A variational ranking prunes its posterior mean mu (default) or the network's weights. */
  variationalWeights?: VariationalWeights;
  /** A ranking of this network already computed for the request (a cache's): used as is. */
  ranking?: RelevanceResult;
}

export interface PruneOutcome {
  network: Graph;
  mask: Uint8Array;
  relevance: RelevanceResult;
  metadata: PruneScopeMetadata;
  prunedNow: number;
  prunedTotal: number;
  candidates: number;
}

/** Mask of `fraction` of the active candidates from the head of `order`, on top of `already`. */
export function extendMask(
  order: ArrayLike<number>,
  candidates: Uint8Array,
  fraction: number,
  already: Uint8Array,
): Uint8Array {
  const k = Math.round(fraction * countOnes(candidates));
  const mask = Uint8Array.from(already);
  let taken = 0;
  for (let r = 0; r < order.length && taken < k; r++) {
    const j = order[r];
    if (candidates[j] && !mask[j]) {
      mask[j] = 1;
      taken++;
    }
  }
  return mask;
}

export async function pruneNetwork(
  net: Graph,
  split: DataSplit,
  metadata: PruneScopeMetadata | undefined,
  req: PruneRequest,
): Promise<PruneOutcome> {
  const flat = net.toFlat();
  const already = zeroMask(flat);
  const candidates = candidateMask(net, { includeBias: req.includeBias, alreadyPruned: already });
  const relevance = req.ranking ?? (await computeRelevance(net, split, req));
  const mask = extendMask(relevance.order, candidates, req.fraction, already);
  const base = pruningBase(flat, relevance, req.variationalWeights);
  const pruned = net.clone();
  pruned.setFlat(applyMask(base.base, mask));
  const prunedTotal = countOnes(mask);
  const prunedNow = prunedTotal - countOnes(already);
  return {
    network: pruned,
    mask,
    relevance,
    prunedNow,
    prunedTotal,
    candidates: countOnes(candidates),
    metadata: {
      ...(metadata ?? {}),
      task: split.dataset.task,
      pruneMask: encodePruneMask(mask, {
        method: relevance.method + (relevance.variant ? `:${relevance.variant}` : ''),
        fraction: req.fraction,
        includeBiases: !!req.includeBias,
        provenance: {
          ...relevance.provenance,
          options: { ...relevance.provenance.options, prunedWeights: base.weights },
        },
      }),
    },
  };
}
