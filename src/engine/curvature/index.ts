// Public entry points of the curvature engine. Results are Float32Array in the flat parameter
// order of network.ts (layers in order; kernel [in, out] row-major, then bias), for the mean
// training loss (1/N) sum_n l_n.
import * as tf from '@tensorflow/tfjs';
import type { Network } from '../model/network';
import { badInput } from '../errors';
import {
  ChunkOptions,
  LayerSums,
  checkBatch,
  resolveChunk,
  forEachChunk,
  toFlat,
  toFlatTransposed,
  varianceFrom,
} from './batch';
import { diagonalChunk, factorFloatsPerSample, transposedKernels, disposeKernelsT } from './diagonal';
import { momentSums } from './moments';
import { checkFiniteFlat } from '../util/finite';
import { OBD_VARIANTS, type ObdVariant } from '../options';

/** Why a curvature quantity goes non-finite: the forward pass or its derivatives overflowed. */
export const CURVATURE_HINT = "the model's weights or inputs overflow";

export type DiagonalKind = ObdVariant;
export const DIAGONAL_KINDS: readonly DiagonalKind[] = OBD_VARIANTS;

export { gradientMoments, GradientMoments } from './moments';
export { ggnLayerBlock, GgnBlock } from './ggnBlock';
export type { ChunkOptions, LayerTensors } from './batch';

/**
 * Diagonal of a curvature matrix of the mean loss: 'hessian' (exact, includes the f'' terms; may
 * be negative), 'ggn' (generalised Gauss-Newton, >= 0), 'fisher' (empirical Fisher, mean of
 * squared per-sample gradients). `loss` is the mean loss on the batch.
 */
export async function curvatureDiagonal(
  net: Network,
  x: tf.Tensor2D,
  target: tf.Tensor2D,
  kind: DiagonalKind,
  opts: ChunkOptions = {},
): Promise<{ values: Float32Array; loss: number }> {
  if (!DIAGONAL_KINDS.includes(kind))
    throw badInput(`unknown curvature kind ${String(kind)}`, { field: 'kind', expected: DIAGONAL_KINDS.join(', ') });
  if (kind === 'fisher') {
    const m = await momentSums(net, x, target, false, opts);
    const values = toFlatTransposed(net, m.second);
    checkFiniteFlat(net.layout, values, 'fisher diagonal', CURVATURE_HINT, { field: 'curvature' });
    return { values, loss: m.loss };
  }
  const n = checkBatch(net, x, target);
  const exact = kind === 'hessian';
  const chunk = resolveChunk(n, opts, factorFloatsPerSample(net, exact));
  const sums = new LayerSums(net.layout.length);
  const kt = transposedKernels(net, exact);
  let loss = 0;
  try {
    await forEachChunk(x, target, chunk, opts.signal, (xc, tc) => {
      loss += diagonalChunk(net, xc, tc, exact, kt, sums);
    });
  } catch (e) {
    sums.dispose();
    throw e;
  } finally {
    disposeKernelsT(kt);
  }
  const values = toFlat(net, sums.mean(n));
  checkFiniteFlat(net.layout, values, `${kind} diagonal`, CURVATURE_HINT, { field: 'curvature' });
  return { values, loss: loss / n };
}

/**
 * Mean and population variance ((1/N) sum_n (g_n - mean)^2) of the per-sample gradients, flat.
 * For the gradient-variance ordering inside a training loop use gradientMoments (no download).
 */
export async function gradientVariance(
  net: Network,
  x: tf.Tensor2D,
  target: tf.Tensor2D,
  opts: ChunkOptions = {},
): Promise<{ mean: Float32Array; variance: Float32Array; loss: number }> {
  const m = await momentSums(net, x, target, true, opts);
  const first = m.first!;
  const variance = varianceFrom(first, m.second);
  const mean = toFlatTransposed(net, first);
  const varFlat = toFlatTransposed(net, variance);
  checkFiniteFlat(net.layout, mean, 'gradient mean', CURVATURE_HINT, { field: 'gradient' });
  checkFiniteFlat(net.layout, varFlat, 'gradient variance', CURVATURE_HINT, { field: 'gradient' });
  return { mean, variance: varFlat, loss: m.loss };
}
