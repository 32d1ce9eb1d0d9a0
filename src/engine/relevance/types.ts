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
