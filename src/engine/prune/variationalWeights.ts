// Which weights a pruned model keeps when the ranking is variational (METHODS.md 2.5: "the trained mu
// is itself a usable model: evaluate pruned models with w = mu"). 'mu' (default): the posterior mean
// the ranking fitted; 'teacher': the network's own weights, as every other method. Parameters that are
// exactly zero in the network (already pruned) stay zero either way.
import type { RelevanceResult } from '../relevance/types';
import { RELEVANCE_DEFAULTS, VARIATIONAL_WEIGHTS, type VariationalWeights } from '../options';

export { VARIATIONAL_WEIGHTS };
export type { VariationalWeights };
export const DEFAULT_VARIATIONAL_WEIGHTS: VariationalWeights = RELEVANCE_DEFAULTS.variationalWeights;

/** The posterior mean of a variational ranking, or undefined for any other ranking. */
export function posteriorMean(r: RelevanceResult): Float32Array | undefined {
  const mu = (r as { mu?: unknown }).mu;
  return r.method === 'variational' && mu instanceof Float32Array ? mu : undefined;
}

/**
 * The flat weights pruning starts from: mu (with the network's zeros kept) for a variational ranking
 * under 'mu', otherwise `flat` itself. Also says which were used, for provenance.
 */
export function pruningBase(
  flat: Float32Array,
  ranking: RelevanceResult,
  weights: VariationalWeights = DEFAULT_VARIATIONAL_WEIGHTS,
): { base: Float32Array; weights: 'mu' | 'network' } {
  const mu = weights === 'mu' ? posteriorMean(ranking) : undefined;
  if (!mu || mu.length !== flat.length) return { base: flat, weights: 'network' };
  const base = Float32Array.from(mu);
  for (let j = 0; j < flat.length; j++) if (flat[j] === 0) base[j] = 0;
  return { base, weights: 'mu' };
}
