// One entry point for every relevance method, so the CLI, the worker and the experiments ask for
// "method + options" and get the same RelevanceResult with its provenance. Options left out take
// their defaults from options.ts, here and nowhere else.
import type { DataSplit } from '../data/dataset';
import { badInput } from '../errors';
import type { Graph } from '../model/graph';
import {
  RELEVANCE_DEFAULTS,
  RELEVANCE_METHODS,
  type BelsleyCovariance,
  type BelsleyOrdering,
  type LaplaceStructure,
  type ObdVariant,
  type RelevanceMethod,
} from '../options';
import { randomRelevance } from './random';
import { obdRelevance } from './obd';
import { variationalRelevance } from './variational';
import { belsleyRelevance } from './belsleyNetwork';
import type { RelevanceResult } from './types';

export interface RelevanceRequest {
  method: RelevanceMethod;
  /** obd: hessian | ggn | fisher (default RELEVANCE_DEFAULTS.variant). */
  variant?: ObdVariant;
  /** belsley: where the covariance comes from (default laplace; variational-full is refused). */
  covariance?: BelsleyCovariance;
  /** belsley: exact | fast (default by size). */
  ordering?: BelsleyOrdering;
  /** belsley: largest layer block kept as a full covariance (Kronecker factors above it). */
  blockLimit?: number;
  /** belsley laplace: auto (default) | block | kron | diag (diag carries no Belsley information). */
  laplaceStructure?: LaplaceStructure;
  seed?: number;
  /** variational: run exactly this many epochs; default: its step budget with a convergence rule. */
  epochs?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, what: string) => void;
}

/** The options that decide a method's ranking, with defaults filled in: equal options, equal ranking. */
export type RankingOptions =
  | { method: 'random'; seed: number }
  | { method: 'obd'; variant: ObdVariant }
  | { method: 'variational'; seed: number; epochs?: number }
  | {
      method: 'belsley';
      covariance: BelsleyCovariance;
      ordering?: BelsleyOrdering;
      blockLimit: number;
      laplaceStructure: LaplaceStructure;
      seed: number;
    };

export function rankingOptions(req: RelevanceRequest): RankingOptions {
  const seed = req.seed ?? RELEVANCE_DEFAULTS.seed;
  switch (req.method) {
    case 'random':
      return { method: 'random', seed };
    case 'obd':
      return { method: 'obd', variant: req.variant ?? RELEVANCE_DEFAULTS.variant };
    case 'variational':
      return { method: 'variational', seed, ...(req.epochs !== undefined ? { epochs: req.epochs } : {}) };
    case 'belsley':
      return {
        method: 'belsley',
        covariance: req.covariance ?? RELEVANCE_DEFAULTS.covariance,
        ...(req.ordering !== undefined ? { ordering: req.ordering } : {}),
        blockLimit: req.blockLimit ?? RELEVANCE_DEFAULTS.blockLimit,
        laplaceStructure: req.laplaceStructure ?? RELEVANCE_DEFAULTS.laplaceStructure,
        seed,
      };
    default:
      throw badInput(`unknown method ${String(req.method)}`, {
        field: 'method',
        expected: RELEVANCE_METHODS.join(', '),
      });
  }
}

/** A stable text key of rankingOptions (for caches of rankings). */
export function rankingKey(req: RelevanceRequest): string {
  return JSON.stringify(rankingOptions(req));
}

export async function computeRelevance(net: Graph, split: DataSplit, req: RelevanceRequest): Promise<RelevanceResult> {
  const o = rankingOptions(req);
  switch (o.method) {
    case 'random':
      return randomRelevance(net, o.seed);
    case 'obd':
      return obdRelevance(net, split, { variant: o.variant, signal: req.signal });
    case 'variational':
      return variationalRelevance(net, split, {
        seed: o.seed,
        epochs: o.epochs,
        signal: req.signal,
        onEpoch: req.onProgress ? (e) => req.onProgress!(e.epoch, e.maxEpochs, 'variational') : undefined,
      });
    case 'belsley':
      return belsleyRelevance(net, split, {
        covariance: o.covariance, // validated there (PruneScopeError naming 'covariance')
        ordering: o.ordering,
        blockLimit: o.blockLimit,
        laplaceStructure: o.laplaceStructure,
        seed: o.seed,
        signal: req.signal,
        onProgress: req.onProgress,
      });
  }
}
