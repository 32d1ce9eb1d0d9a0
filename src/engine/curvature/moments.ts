// Per-sample gradient moments of dense layers without materialising per-sample gradients: for a
// kernel g_n = a_n (outer) delta_n, so sum_n g_n = A^T D and sum_n g_n^2 = (A^2)^T (D^2) — one
// matmul each. The empirical Fisher diagonal is the second moment; the variance is the
// population variance (1/N) sum_n (g_n - mean)^2 = E[g^2] - mean^2 (clamped at 0 against float32
// round-off), the quantity the gradient-variance ordering of METHODS.md section 3 uses.
import * as tf from '@tensorflow/tfjs';
import type { Network } from '../model/network';
import { backwardDeltas, forwardCache, disposeCache, compactInput, compactProducts } from '../model/backprop';
import { sampleLosses, lossKindOf } from '../model/loss';
import { LayerSums, LayerTensors, checkBatch, resolveChunk, forEachChunk, ChunkOptions, varianceFrom } from './batch';

/**
 * Adds the chunk's sums of g (optional) and g^2 per layer, kernels TRANSPOSED ([out, in]);
 * returns the chunk's summed loss when asked.
 */
export function momentsChunk(
  net: Network,
  x: tf.Tensor2D,
  target: tf.Tensor2D,
  first: LayerSums | undefined,
  second: LayerSums,
  withLoss: boolean,
): number {
  const cache = forwardCache(net, x);
  const deltas = backwardDeltas(net, cache, target);
  // Sparse inputs: both first-layer moments from one packed copy of the used columns (the same
  // compact product lossGradients uses for the gradient). Scaled by 1 here: LayerSums hold sums.
  const compact = compactInput(x);
  try {
    deltas.forEach((d, l) => {
      if (l === 0 && compact) {
        if (first) {
          const p = compactProducts(compact, d, 1, true, 1);
          first.add(0, p.kernel, p.bias);
        }
        const q = compactProducts(compact, d, 2, true, 1);
        second.add(0, q.kernel, q.bias);
        return;
      }
      // Products in the transposed layout [out, in] = D^T A: the explicit transpose is then of the
      // deltas [n, out], not of the (wider) input [n, in], and it serves both moments.
      const a = cache.inputs[l];
      const dT = tf.transpose(d) as tf.Tensor2D;
      try {
        if (first) {
          const [k, b] = tf.tidy(() => [tf.matMul(dT, a) as tf.Tensor2D, tf.sum(d, 0) as tf.Tensor1D] as const);
          first.add(l, k, b);
        }
        const [k2, b2] = tf.tidy(
          () =>
            [tf.matMul(tf.square(dT), tf.square(a)) as tf.Tensor2D, tf.sum(tf.square(d), 0) as tf.Tensor1D] as const,
        );
        second.add(l, k2, b2);
      } finally {
        dT.dispose();
      }
    });
    return withLoss ? tf.tidy(() => tf.sum(sampleLosses(lossKindOf(net), cache.output, target)).dataSync()[0]) : 0;
  } finally {
    compact?.xT.dispose();
    tf.dispose(deltas);
    disposeCache(cache);
  }
}

export interface GradientMoments {
  /** Mean over the batch of per-sample gradients = the gradient of the mean loss. */
  mean: LayerTensors;
  /** Population variance over the batch of per-sample gradients, (1/N) sum (g_n - mean)^2. */
  variance: LayerTensors;
  n: number;
}

/**
 * Mean and variance of per-sample gradients, per layer, left on the backend (nothing is
 * downloaded except, for sparse first-layer inputs, the input and two compact products, which on
 * the wasm/cpu/node backends are memory copies: cheap enough to call inside a training loop). Synchronous; one chunk
 * by default.
 * The caller owns (disposes) the returned tensors.
 */
export function gradientMoments(
  net: Network,
  x: tf.Tensor2D,
  target: tf.Tensor2D,
  opts: { chunkSize?: number } = {},
): GradientMoments {
  const n = checkBatch(net, x, target, 'gradientMoments');
  const chunk = opts.chunkSize === undefined ? n : resolveChunk(n, opts, 0);
  const L = net.layout.length;
  const s1 = new LayerSums(L);
  const s2 = new LayerSums(L);
  try {
    for (let start = 0; start < n; start += chunk) {
      const size = Math.min(chunk, n - start);
      if (size === n) momentsChunk(net, x, target, s1, s2, false);
      else {
        const xc = x.slice([start, 0], [size, x.shape[1]]);
        const tc = target.slice([start, 0], [size, target.shape[1]]);
        try {
          momentsChunk(net, xc, tc, s1, s2, false);
        } finally {
          tf.dispose([xc, tc]);
        }
      }
    }
  } catch (e) {
    s1.dispose();
    s2.dispose();
    throw e;
  }
  const meanT = s1.mean(n);
  const varianceT = varianceFrom(meanT, s2.mean(n));
  return { mean: untranspose(meanT), variance: untranspose(varianceT), n };
}

/** Kernels [out, in] -> [in, out] (disposes the input kernels; biases pass through). */
function untranspose(t: LayerTensors): LayerTensors {
  const kernels = t.kernels.map((k) => tf.transpose(k) as tf.Tensor2D);
  tf.dispose(t.kernels);
  return { kernels, biases: t.biases };
}

/** Async, chunked, cancellable form: mean moments with kernels TRANSPOSED ([out, in]), and the loss. */
export async function momentSums(
  net: Network,
  x: tf.Tensor2D,
  target: tf.Tensor2D,
  withMean: boolean,
  opts: ChunkOptions = {},
): Promise<{ first?: LayerTensors; second: LayerTensors; loss: number; n: number }> {
  const n = checkBatch(net, x, target);
  const widest = Math.max(...net.layout.map((l) => 3 * (l.inSize + l.outSize)));
  const chunk = resolveChunk(n, opts, widest);
  const L = net.layout.length;
  const s1 = withMean ? new LayerSums(L) : undefined;
  const s2 = new LayerSums(L);
  let loss = 0;
  try {
    await forEachChunk(x, target, chunk, opts.signal, (xc, tc) => {
      loss += momentsChunk(net, xc, tc, s1, s2, true);
    });
  } catch (e) {
    s1?.dispose();
    s2.dispose();
    throw e;
  }
  return { first: s1?.mean(n), second: s2.mean(n), loss: loss / n, n };
}
