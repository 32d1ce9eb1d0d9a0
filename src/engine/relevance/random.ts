// Random relevance (METHODS.md 2.3): a seeded uniform score per parameter; the baseline every
// other method must beat.
import type { Graph } from '../model/graph';
import { makeProvenance, hashModel } from '../provenance';
import { Rng } from '../util/random';
import { orderByScore } from '../util/order';
import type { RelevanceResult } from './types';

export function randomRelevance(net: Graph, seed: number): RelevanceResult {
  const rng = new Rng(seed);
  const scores = new Float64Array(net.nParams);
  for (let i = 0; i < scores.length; i++) scores[i] = rng.next();
  return {
    method: 'random',
    scores,
    order: orderByScore(scores),
    provenance: makeProvenance({
      job: 'relevance',
      method: 'random',
      seed,
      modelHash: hashModel(net.structure(), net.toFlat()),
    }),
  };
}
