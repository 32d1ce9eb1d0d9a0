// What every relevance method returns: a score per parameter (flat order) and the order it
// induces, least relevant first (ties by lower flat index, so results are deterministic).
import type { RelevanceMethod } from '../options';
import type { Provenance } from '../provenance';

export interface RelevanceResult {
  method: RelevanceMethod;
  /** obd: hessian|ggn|fisher; belsley: exact|fast ordering; otherwise undefined. */
  variant?: string;
  /** belsley only: laplace|trajectory|gradient|variational-full. */
  covariance?: string;
  /** One score per parameter in the flat order; higher = more relevant. */
  scores: Float64Array;
  /** Flat indices of the ranked parameters, least relevant first. */
  order: Int32Array;
  /** Method-specific extras (mu/sigma, condition indices, negative-curvature parameters...). */
  extra?: Record<string, unknown>;
  provenance: Provenance;
}

/**
 * Order the given candidate parameters by increasing score; ties by lower flat index.
 * `candidates` defaults to every parameter.
 */
export function orderByScore(scores: ArrayLike<number>, candidates?: ArrayLike<number>): Int32Array {
  const idx = candidates ? Int32Array.from(candidates) : Int32Array.from({ length: scores.length }, (_, i) => i);
  return idx.sort((a, b) => {
    const d = scores[a] - scores[b];
    return d !== 0 && !Number.isNaN(d) ? d : a - b;
  });
}
