// The calculus of a depthwise convolution (Keras DepthwiseConv2D without its activation) on NHWC
// tensors, kernel [kh, kw, in, multiplier], output channel ci * multiplier + j. Each input channel
// is its own small convolution, so the kernels (wasm/depthwise_f32.c) are direct loops vectorised
// over channels; tfjs-wasm 4.22 has neither backward of DepthwiseConv2dNative. Elsewhere tfjs ops.
import * as tf from '@tensorflow/tfjs';
import { windowGeometry, WindowGeometry } from './geometry';
import { convWasm, float32 } from './wasmKernels';
import type { WindowSpec } from './conv2d';
import { inputGradWasm, kernelGradWasm, rowStatsWasm } from './conv2d';
import { patches } from './patches';
import { KernelBias, RowStats, RowStatsRequest, rowsPerSample, tidyObject } from './rowStats';

/** Geometry of a DepthwiseConv2D on x [n, h, w, c]: co = c * multiplier. */
export function depthwiseGeometry(xShape: number[], multiplier: number, spec: WindowSpec): WindowGeometry {
  return windowGeometry(
    xShape[0],
    xShape.slice(1),
    spec.kernelSize,
    spec.strides,
    spec.padding,
    xShape[3] * multiplier,
  );
}

/** y = depthwise(x, kernel) + bias: [n, oh, ow, c * multiplier]. */
export function depthwiseForward(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  bias: tf.Tensor1D | undefined,
  spec: WindowSpec,
): tf.Tensor4D {
  return tf.tidy(() => tf.fused.depthwiseConv2d({ x, filter: kernel, strides: spec.strides, pad: spec.padding, bias }));
}

/** The VJP to the input: g [R, oh, ow, c * m] -> [R, h, w, c]. */
export function depthwiseInputGrad(
  g: tf.Tensor4D,
  kernel: tf.Tensor4D,
  inShape: number[],
  spec: WindowSpec,
): tf.Tensor4D {
  const R = g.shape[0];
  const geo = depthwiseGeometry([R, ...inShape], kernel.shape[3], spec);
  const k = convWasm();
  if (k) return inputGradWasm(k, geo, g, kernel, true);
  return tf.tidy(() => {
    if (tf.getKernel('DepthwiseConv2dNativeBackpropInput', tf.getBackend()))
      return tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: g, filter: kernel }, {
        strides: spec.strides,
        pad: spec.padding,
        dilations: [1, 1],
        inputShape: [R, geo.h, geo.w, geo.c],
      } as never) as tf.Tensor4D;
    // As a full convolution with a block-diagonal kernel [kh, kw, c, c * m].
    const m = kernel.shape[3];
    const mask = tf.eye(geo.c).reshape([1, 1, geo.c, geo.c, 1]);
    const full = tf.mul(mask, kernel.reshape([geo.kh, geo.kw, 1, geo.c, m])).reshape([geo.kh, geo.kw, geo.c, geo.co]);
    return tf.conv2dTranspose(g, full as tf.Tensor4D, [R, geo.h, geo.w, geo.c], spec.strides, spec.padding);
  });
}

/** The weight gradient summed over the batch (one row per sample). */
export function depthwiseKernelGrad(x: tf.Tensor4D, g: tf.Tensor4D, spec: WindowSpec, useBias: boolean): KernelBias {
  const m = g.shape[3] / x.shape[3];
  const geo = depthwiseGeometry(x.shape, m, spec);
  const k = convWasm();
  if (k) return kernelGradWasm(k, geo, x, g, useBias, true);
  return depthwiseRowStats(x, g, spec, useBias, { sum: true }).sum!;
}

/** Per-row products of a block g [n * c, oh, ow, c_in * m] against x [n, h, w, c_in] (see rowStats.ts). */
export function depthwiseRowStats(
  x: tf.Tensor4D,
  g: tf.Tensor4D,
  spec: WindowSpec,
  useBias: boolean,
  want: RowStatsRequest,
): RowStats {
  const n = x.shape[0];
  const c = rowsPerSample(g.shape[0], n, 'depthwiseRowStats');
  const m = g.shape[3] / x.shape[3];
  const geo = depthwiseGeometry(x.shape, m, spec);
  const k = convWasm();
  if (k) return tidyObject(() => rowStatsWasm(k, geo, float32(x), g, c, useBias, want, true));
  return tidyObject(() => rowStatsOps(x, geo, g, c, m, spec, useBias, want));
}

/** Per channel, one batched product per sample: unfold(x_n[.., ci])^T [g_{n,1}[.., ci, :] ..]. */
function rowStatsOps(
  x: tf.Tensor4D,
  geo: WindowGeometry,
  g: tf.Tensor4D,
  c: number,
  m: number,
  spec: WindowSpec,
  useBias: boolean,
  want: RowStatsRequest,
): RowStats {
  const { n, c: C, co } = geo;
  const P = geo.oh * geo.ow;
  const KK = geo.kh * geo.kw;
  const R = n * c;
  const u = patches(x, geo, spec)
    .reshape([n, P, KK, C])
    .transpose([3, 0, 2, 1])
    .reshape([C * n, KK, P]);
  const gt = g
    .reshape([n, c, P, C, m])
    .transpose([3, 0, 2, 1, 4])
    .reshape([C * n, P, c * m]);
  const prod = tf.matMul(u as tf.Tensor3D, gt as tf.Tensor3D).reshape([C, n, KK, c, m]);
  const b = tf.sum(g.reshape([R, P, co]), 1) as tf.Tensor2D;
  const kernelShape = [geo.kh, geo.kw, C, m];
  // [C, KK, m] -> the kernel's [kh, kw, C, m]
  const asKernel = (t: tf.Tensor) => t.transpose([1, 0, 2]).reshape(kernelShape);
  const signs = want.signs ? tf.cast(want.signs, 'float32') : undefined;
  const out: RowStats = {};
  if (want.sum)
    out.sum = { kernel: asKernel(tf.sum(prod, [1, 3])), bias: useBias ? (tf.sum(b, 0) as tf.Tensor1D) : undefined };
  if (want.squares) {
    const sq = signs ? tf.mul(tf.square(prod), signs.reshape([1, n, 1, c, 1])) : tf.square(prod);
    const bsq = signs ? tf.mul(tf.square(b), signs.reshape([R, 1])) : tf.square(b);
    out.squares = { kernel: asKernel(tf.sum(sq, [1, 3])), bias: useBias ? (tf.sum(bsq, 0) as tf.Tensor1D) : undefined };
  }
  if (want.rows) {
    const kr = prod.transpose([1, 3, 2, 0, 4]).reshape([R, KK * C * m]);
    out.rows = (useBias ? tf.concat([kr, b], 1) : kr) as tf.Tensor2D;
  }
  return out;
}

/**
 * KFC factors of a depthwise convolution, one pair per input channel (its m outputs share that
 * channel's patches): A [c, KK (+1), KK (+1)] sums [u; 1][u; 1]^T over samples and positions, G
 * [c, m, m] sums g g^T over rows and positions.
 */
export function depthwiseKroneckerFactors(
  x: tf.Tensor4D,
  g: tf.Tensor4D,
  spec: WindowSpec,
  useBias: boolean,
): { A: tf.Tensor3D; G: tf.Tensor3D; samples: number; positions: number; biasFolded: boolean } {
  const m = g.shape[3] / x.shape[3];
  const geo = depthwiseGeometry(x.shape, m, spec);
  const { n, c: C } = geo;
  const P = geo.oh * geo.ow;
  const KK = geo.kh * geo.kw;
  const [A, G] = tf.tidy(() => {
    let u = patches(x, geo, spec)
      .reshape([n * P, KK, C])
      .transpose([2, 0, 1]) as tf.Tensor3D; // [C, nP, KK]
    if (useBias) u = tf.concat([u, tf.ones([C, n * P, 1])], 2);
    const gc = g.reshape([-1, C, m]).transpose([1, 0, 2]) as tf.Tensor3D; // [C, RP, m]
    return [tf.matMul(u, u, true, false), tf.matMul(gc, gc, true, false)] as [tf.Tensor3D, tf.Tensor3D];
  });
  return { A, G, samples: n, positions: P, biasFolded: useBias };
}
