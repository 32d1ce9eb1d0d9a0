// Shared types of gradient-variance ordering (METHODS.md section 3).
import type { CovarianceMode, VarianceEstimator } from '../options';
import type { Provenance } from '../provenance';

/** One covariance block: the rows/columns [offset, offset + size) of the flat order. */
export interface CovarianceBlock {
  layer: number;
  name: string;
  offset: number;
  size: number;
  /** size x size, row-major. */
  matrix: Float32Array;
}

export interface OrderingResult {
  estimator: VarianceEstimator;
  mode: CovarianceMode;
  /** Steps the estimate averages over. */
  steps: number;
  /** C_jj in the flat order. */
  variances: Float64Array;
  /** Flat indices, least variance first (ties by lower index). */
  order: Int32Array;
  /** The essay's I: 1-based rank of every parameter. */
  ranks: Int32Array;
  blocks?: CovarianceBlock[];
  /** Layers that block mode kept diagonal because they exceed the block size limit. */
  diagonalLayers?: string[];
  provenance: Provenance;
}
