// Optimal Brain Damage (LeCun, Denker, Solla 1989; METHODS.md 2.4): saliency s_j = h_jj w_j^2 / 2
// with h_jj a curvature diagonal of the mean training loss. The variant is always named:
// 'hessian' (exact diagonal), 'ggn', or 'fisher' (never called "the Hessian"); the default is
// RELEVANCE_DEFAULTS.variant.
// The exact Hessian diagonal can be negative; such parameters are reported, not hidden.
import type { DataSplit } from '../data/dataset';
import { numClasses, xTensor, yTensor } from '../data/dataset';
import type { Graph } from '../model/graph';
import { curvatureDiagonal, DiagonalKind } from '../curvature';
import { RELEVANCE_DEFAULTS } from '../options';
import { makeProvenance, hashModel } from '../provenance';
import { orderByScore } from '../util/order';
import type { RelevanceResult } from './types';
import { splitRecord } from '../data/split';

export interface ObdOptions {
  variant?: DiagonalKind;
  signal?: AbortSignal;
}

/** Saliencies from a curvature diagonal and the weights (pure; the reference case of METHODS.md 6). */
export function obdSaliency(diag: ArrayLike<number>, w: ArrayLike<number>): Float64Array {
  const s = new Float64Array(w.length);
  for (let j = 0; j < w.length; j++) s[j] = (diag[j] * w[j] * w[j]) / 2;
  return s;
}

export async function obdRelevance(net: Graph, split: DataSplit, opts: ObdOptions = {}): Promise<RelevanceResult> {
  const variant = opts.variant ?? RELEVANCE_DEFAULTS.variant;
  const d = split.dataset;
  const x = xTensor(split.train, d.features);
  const y = yTensor(split.train, d.task, numClasses(d));
  try {
    const { values, loss } = await curvatureDiagonal(net, x, y, variant, { signal: opts.signal });
    const w = net.toFlat();
    const scores = obdSaliency(values, w);
    const negative: number[] = [];
    values.forEach((h, j) => {
      if (h < 0) negative.push(j);
    });
    return {
      method: 'obd',
      variant,
      scores,
      order: orderByScore(scores),
      extra: { curvature: Array.from(values), negativeCurvature: negative, loss },
      provenance: makeProvenance({
        job: 'relevance',
        method: 'obd',
        variant,
        modelHash: hashModel(net.structure(), w),
        data: splitRecord(split, 'train', split.train.rows),
      }),
    };
  } finally {
    x.dispose();
    y.dispose();
  }
}
