// `order` as an engine job: train a copy of the model for T steps with the tracker running from
// step 1, then order the parameters by increasing C_jj (the essay's I at t0 = T).
import type { Graph } from '../model/graph';
import type { DataSplit } from '../data/dataset';
import { hashModel, makeProvenance } from '../provenance';
import { trainWithFreezing } from './freezeTrain';
import { GradientVarianceTracker } from './tracker';
import { ORDER_DEFAULTS, type CovarianceMode, type VarianceEstimator } from '../options';
import { OrderingResult } from './types';
import { splitRecord } from '../data/split';

export interface OrderOptions {
  estimator?: VarianceEstimator;
  mode?: CovarianceMode;
  steps?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  blockLimit?: number;
  /** A pruned model's mask (1 = pruned): those weights stay 0 while the estimator trains the copy. */
  pruneMask?: Uint8Array;
  signal?: AbortSignal;
  onProgress?(step: number, steps: number): void;
}

/** Leaves `net` untouched (trains a clone). */
export async function orderParameters(net: Graph, split: DataSplit, opts: OrderOptions = {}): Promise<OrderingResult> {
  const estimator = opts.estimator ?? ORDER_DEFAULTS.estimator;
  const mode = opts.mode ?? ORDER_DEFAULTS.mode;
  const steps = opts.steps ?? ORDER_DEFAULTS.steps;
  const batchSize = opts.batchSize ?? ORDER_DEFAULTS.batchSize;
  const lr = opts.lr ?? ORDER_DEFAULTS.lr;
  const seed = opts.seed ?? 0;
  const modelHash = hashModel(net.structure(), net.toFlat());
  // Refuse an impossible full mode before training anything.
  new GradientVarianceTracker(net, { estimator, mode, blockLimit: opts.blockLimit }).dispose();
  const copy = net.clone();
  try {
    let blocks: OrderingResult['blocks'];
    let diagonalLayers: string[] | undefined;
    const r = await trainWithFreezing(copy, split, {
      steps,
      batchSize,
      lr,
      seed,
      estimator,
      mode,
      blockLimit: opts.blockLimit,
      pruneMask: opts.pruneMask,
      timing: false,
      signal: opts.signal,
      onProgress: opts.onProgress,
      onTrackerDone: (t) => {
        if (mode !== 'diag') {
          blocks = t.blocks();
          diagonalLayers = t.diagonalLayers.slice();
        }
      },
    });
    const o = r.ordering!;
    return {
      estimator,
      mode,
      steps,
      variances: o.variances,
      order: o.order,
      ranks: o.ranks,
      ...(blocks ? { blocks } : {}),
      ...(diagonalLayers?.length ? { diagonalLayers } : {}),
      provenance: makeProvenance({
        job: 'ordering',
        method: 'gradient-variance',
        variant: `${estimator}/${mode}`,
        seed,
        modelHash,
        data: splitRecord(split, 'train', split.train.rows),
        options: { steps, batchSize, lr, optimiser: 'adam' },
      }),
    };
  } finally {
    copy.dispose();
  }
}
