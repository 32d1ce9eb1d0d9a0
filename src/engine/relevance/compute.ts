// One entry point for every relevance method, so the CLI, the worker and the experiments ask for
// "method + options" and get the same RelevanceResult with its provenance.
import type { DataSplit } from '../data/dataset';
import { badInput } from '../errors';
import type { Network } from '../model/network';
import type { DiagonalKind } from '../curvature';
import { randomRelevance } from './random';
import { obdRelevance } from './obd';
import { variationalRelevance } from './variational';
import { belsleyRelevance, BelsleyCovariance, LaplaceStructure } from './belsleyNetwork';
import { RELEVANCE_METHODS, RelevanceMethod, RelevanceResult } from './types';

export interface RelevanceRequest {
  method: RelevanceMethod;
  /** obd: hessian (default) | ggn | fisher. */
  variant?: DiagonalKind;
  /** belsley: where the covariance comes from: laplace (default) | trajectory | gradient | variational-full (refused). */
  covariance?: string;
  /** belsley: exact | fast (default by size). */
  ordering?: 'exact' | 'fast';
  /** belsley: largest layer block kept as a full covariance (default 2,048; Kronecker factors above it). */
  blockLimit?: number;
  /** belsley laplace: auto (default) | block | kron | diag (diag carries no Belsley information). */
  laplaceStructure?: LaplaceStructure;
  seed?: number;
  /** variational: run exactly this many epochs; default: its step budget with a convergence rule. */
  epochs?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, what: string) => void;
}

export async function computeRelevance(
  net: Network,
  split: DataSplit,
  req: RelevanceRequest,
): Promise<RelevanceResult> {
  switch (req.method) {
    case 'random':
      return randomRelevance(net, req.seed ?? 0);
    case 'obd':
      return obdRelevance(net, split, { variant: req.variant, signal: req.signal });
    case 'variational':
      return variationalRelevance(net, split, {
        seed: req.seed ?? 0,
        epochs: req.epochs,
        signal: req.signal,
        onEpoch: req.onProgress ? (e) => req.onProgress!(e.epoch, e.maxEpochs, 'variational') : undefined,
      });
    case 'belsley':
      return belsleyRelevance(net, split, {
        covariance: req.covariance as BelsleyCovariance | undefined, // validated there (PruneScopeError naming 'covariance')
        ordering: req.ordering,
        blockLimit: req.blockLimit,
        laplaceStructure: req.laplaceStructure,
        seed: req.seed,
        signal: req.signal,
        onProgress: req.onProgress,
      });
    default:
      throw badInput(`unknown method ${String(req.method)}`, {
        field: 'method',
        expected: RELEVANCE_METHODS.join(', '),
      });
  }
}
