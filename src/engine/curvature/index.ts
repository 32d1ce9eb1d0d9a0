// Public entry points of the curvature engine. Results are Float32Array in the flat parameter
// order (graph.weights: nodes in order, trainable weights in order, each row-major), for the mean
// training loss (1/N) sum_n l_n. Every quantity is a driver of the one backward pass.
import type * as tf from '@tensorflow/tfjs';
import type { Graph } from '../model/graph';
import { badInput } from '../errors';
import { Rng } from '../util/random';
import {
  ChunkOptions,
  WeightSums,
  checkBatch,
  floatsPerSample,
  forEachChunk,
  resolveChunk,
  toFlat,
  varianceFrom,
} from './batch';
import { diagonalChunk, diagonalFloatsPerSample, DiagonalMode } from './diagonal';
import { momentSums } from './moments';
import { checkFiniteFlat } from '../model/finiteParams';
import { OBD_VARIANTS, type ObdVariant } from '../options';

/** Why a curvature quantity goes non-finite: the forward pass or its derivatives overflowed. */
export const CURVATURE_HINT = "the model's weights or inputs overflow";

/**
 * 'hessian': exact (includes the f'' terms; may be negative); 'ggn': generalised Gauss-Newton (>= 0);
 * 'fisher': empirical Fisher (mean of squared per-sample gradients); 'mc-ggn': Monte-Carlo GGN (one
 * sampled label per example, unbiased; for many classes).
 */
export type DiagonalKind = ObdVariant;
export const DIAGONAL_KINDS: readonly DiagonalKind[] = OBD_VARIANTS;

export { gradientMoments, GradientMoments } from './moments';
export { ggnLayerBlock, GgnBlock } from './ggnBlock';
export type { ChunkOptions } from './batch';

export interface DiagonalOptions extends ChunkOptions {
  /** mc-ggn: seed of the sampled labels (default 0). */
  seed?: number;
  /** mc-ggn: average of this many independent samples per example (default 1). */
  samples?: number;
}

/** Diagonal of a curvature matrix of the mean loss; `loss` is the mean loss on the batch. */
export async function curvatureDiagonal(
  graph: Graph,
  x: tf.Tensor,
  target: tf.Tensor2D,
  kind: DiagonalKind,
  opts: DiagonalOptions = {},
): Promise<{ values: Float32Array; loss: number }> {
  if (!DIAGONAL_KINDS.includes(kind))
    throw badInput(`unknown curvature kind ${String(kind)}`, { field: 'kind', expected: DIAGONAL_KINDS.join(', ') });
  if (kind === 'fisher') {
    const m = await momentSums(graph, x, target, false, opts);
    const values = toFlat(graph, m.second);
    checkFiniteFlat(graph, values, 'fisher diagonal', CURVATURE_HINT, { field: 'curvature' });
    return { values, loss: m.loss };
  }
  const n = checkBatch(graph, x, target);
  const mode: DiagonalMode = kind;
  const samples = kind === 'mc-ggn' ? (opts.samples ?? 1) : 1;
  if (!(Number.isInteger(samples) && samples >= 1))
    throw badInput(`samples = ${samples}`, { field: 'samples', expected: 'a positive integer' });
  const chunk = resolveChunk(
    n,
    opts,
    diagonalFloatsPerSample(graph, mode, (c) => floatsPerSample(graph, c)),
  );
  const sums = new WeightSums(graph);
  const draw = new Rng(opts.seed ?? 0);
  let loss = 0;
  try {
    for (let s = 0; s < samples; s++)
      await forEachChunk(x, target, chunk, opts.signal, (xc, tc) => {
        const l = diagonalChunk(graph, xc, tc, sums, { mode, draw });
        if (s === 0) loss += l;
      });
  } catch (e) {
    sums.dispose();
    throw e;
  }
  const values = toFlat(graph, sums.mean(n * samples));
  checkFiniteFlat(graph, values, `${kind} diagonal`, CURVATURE_HINT, { field: 'curvature' });
  return { values, loss: loss / n };
}

/**
 * Mean and population variance ((1/N) sum_n (g_n - mean)^2) of the per-sample gradients, flat.
 * For the gradient-variance ordering inside a training loop use gradientMoments (no download).
 */
export async function gradientVariance(
  graph: Graph,
  x: tf.Tensor,
  target: tf.Tensor2D,
  opts: ChunkOptions = {},
): Promise<{ mean: Float32Array; variance: Float32Array; loss: number }> {
  const m = await momentSums(graph, x, target, true, opts);
  const first = m.first!;
  const variance = varianceFrom(first, m.second);
  const mean = toFlat(graph, first);
  const varFlat = toFlat(graph, variance);
  checkFiniteFlat(graph, mean, 'gradient mean', CURVATURE_HINT, { field: 'gradient' });
  checkFiniteFlat(graph, varFlat, 'gradient variance', CURVATURE_HINT, { field: 'gradient' });
  return { mean, variance: varFlat, loss: m.loss };
}

export { WeightSums };
