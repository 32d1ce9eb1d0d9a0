// What the per-row products of a convolution-like layer return, shared by Conv2D and
// DepthwiseConv2D. A block of rows g [R, oh, ow, co] holds R = n * c output gradients, c consecutive
// rows per sample (sample-major, sharing that sample's input). Row r's weight gradient sums over
// output positions; the statistics below are sums over rows, squared AFTER the position sum.
import * as tf from '@tensorflow/tfjs';

export interface RowStatsRequest {
  /** sum_r grad_r: the gradient when the rows are per-sample deltas. */
  sum?: boolean;
  /** sum_r sign_r grad_r^2, elementwise. */
  squares?: boolean;
  /** [n, c] signs (+1 / -1) for `squares`; absent: all +1. */
  signs?: tf.Tensor2D;
  /** Every row's gradient materialised: [R, kernel size (+ co for the bias)], kernel row-major. */
  rows?: boolean;
}

/** A weight-shaped pair: the kernel in its own (Keras) shape, and the bias when the layer has one. */
export interface KernelBias {
  kernel: tf.Tensor;
  bias?: tf.Tensor1D;
}

export interface RowStats {
  sum?: KernelBias;
  squares?: KernelBias;
  rows?: tf.Tensor2D;
}

export function disposeRowStats(s: RowStats): void {
  for (const kb of [s.sum, s.squares]) if (kb) tf.dispose([kb.kernel, ...(kb.bias ? [kb.bias] : [])]);
  s.rows?.dispose();
}

/** Checks that a block of rows fits n samples: R = n * c. */
export function rowsPerSample(rows: number, n: number, where: string): number {
  if (n <= 0 || rows % n !== 0) throw new Error(`${where}: ${rows} rows for ${n} samples (expected a multiple)`);
  return rows / n;
}

/** tf.tidy for results that are plain objects of tensors (possibly with undefined fields). */
export function tidyObject<T>(fn: () => T): T {
  return tf.tidy(fn as () => tf.TensorContainer) as T;
}

/** [kernel, bias?] as the list of a layer's trainable weights. */
export function kernelBiasList(kb: KernelBias): tf.Tensor[] {
  return kb.bias ? [kb.kernel, kb.bias] : [kb.kernel];
}

/** Sum over each sample's c rows: [n * c, ...] -> [n, ...] (g itself when c = 1). */
export function sampleSum(g: tf.Tensor, c: number): tf.Tensor {
  if (c === 1) return g;
  const [r, ...rest] = g.shape;
  return tf.tidy(() => tf.sum(g.reshape([r / c, c, ...rest]), 1));
}
