// The calculus of a 2-D convolution (Keras Conv2D without its activation) on NHWC tensors with a
// kernel [kh, kw, in, out]: forward, the VJPs to the input and to the weights, the per-row products
// curvature needs, and the Kronecker factors of KFC (Grosse & Martens 2016). The forward is tfjs's
// conv2d (XNNPACK on wasm, as fast as anything here). On the wasm backend everything else runs in
// PruneScope's kernels (wasm/conv_f32.c: im2col + a packed SIMD GEMM on blocks of output positions;
// tfjs-wasm has no filter gradient and a scalar input gradient); elsewhere in tfjs ops.
import * as tf from '@tensorflow/tfjs';
import type { Pair, Padding } from '../../graphSpec';
import { windowGeometry, WindowGeometry } from './geometry';
import { convWasm, ConvWasm, float32 } from './wasmKernels';
import { patches } from './patches';
import { KernelBias, RowStats, RowStatsRequest, rowsPerSample, tidyObject } from './rowStats';

/** Window, strides and TF padding of a convolution or pooling layer (dilation 1). */
export interface WindowSpec {
  kernelSize: Pair;
  strides: Pair;
  padding: Padding;
}

/** Geometry of a Conv2D on x [n, h, w, c] with `filters` output channels. */
export function convGeometry(xShape: number[], filters: number, spec: WindowSpec): WindowGeometry {
  return windowGeometry(xShape[0], xShape.slice(1), spec.kernelSize, spec.strides, spec.padding, filters);
}

/** y = conv(x, kernel) + bias: [n, oh, ow, filters]. */
export function conv2dForward(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  bias: tf.Tensor1D | undefined,
  spec: WindowSpec,
): tf.Tensor4D {
  return tf.tidy(() => tf.fused.conv2d({ x, filter: kernel, strides: spec.strides, pad: spec.padding, bias }));
}

/** The VJP to the input: g [R, oh, ow, filters] -> [R, h, w, in] (R rows of any block). */
export function conv2dInputGrad(g: tf.Tensor4D, kernel: tf.Tensor4D, inShape: number[], spec: WindowSpec): tf.Tensor4D {
  const R = g.shape[0];
  const geo = convGeometry([R, ...inShape], kernel.shape[3], spec);
  const k = convWasm();
  if (k) return inputGradWasm(k, geo, g, kernel, false);
  return tf.conv2dTranspose(g, kernel, [R, geo.h, geo.w, geo.c], spec.strides, spec.padding);
}

/** The weight gradient summed over the batch: x [n, ...], g [n, oh, ow, filters] (one row per sample). */
export function conv2dKernelGrad(x: tf.Tensor4D, g: tf.Tensor4D, spec: WindowSpec, useBias: boolean): KernelBias {
  const geo = convGeometry(x.shape, g.shape[3], spec);
  const k = convWasm();
  if (k) return kernelGradWasm(k, geo, x, g, useBias, false);
  return tf.tidy(() => {
    const kernel = tf.getKernel('Conv2DBackpropFilter', tf.getBackend())
      ? tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: g }, {
          strides: spec.strides,
          pad: spec.padding,
          dataFormat: 'NHWC',
          filterShape: [geo.kh, geo.kw, geo.c, geo.co],
        } as never)
      : tf
          .matMul(patches(x, geo, spec).reshape([-1, geo.kh * geo.kw * geo.c]), g.reshape([-1, geo.co]), true, false)
          .reshape([geo.kh, geo.kw, geo.c, geo.co]);
    return useBias
      ? { kernel: kernel as tf.Tensor, bias: tf.sum(g, [0, 1, 2]) as tf.Tensor1D }
      : { kernel: kernel as tf.Tensor };
  });
}

/**
 * Per-row products of a block g [n * c, oh, ow, filters] against x [n, h, w, in] (see rowStats.ts).
 * Row r's kernel gradient is unfold(x_n)^T g_r, summed over output positions, n = floor(r / c).
 */
export function conv2dRowStats(
  x: tf.Tensor4D,
  g: tf.Tensor4D,
  spec: WindowSpec,
  useBias: boolean,
  want: RowStatsRequest,
): RowStats {
  const n = x.shape[0];
  const c = rowsPerSample(g.shape[0], n, 'conv2dRowStats');
  const geo = convGeometry(x.shape, g.shape[3], spec);
  const k = convWasm();
  if (k) return tidyObject(() => rowStatsWasm(k, geo, float32(x), g, c, useBias, want, false));
  return tidyObject(() => rowStatsOps(patches(x, geo, spec), geo, g, c, useBias, want));
}

/** The input VJP of a block of rows in the wasm kernels, for Conv2D and DepthwiseConv2D. */
export function inputGradWasm(
  k: ConvWasm,
  geo: WindowGeometry,
  g: tf.Tensor,
  kernel: tf.Tensor,
  depthwise: boolean,
): tf.Tensor4D {
  return tf.tidy(() => {
    const dx = k.output([geo.n, geo.h, geo.w, geo.c]) as tf.Tensor4D;
    const vjp = depthwise ? k.ex.dw_input_grad : k.ex.conv_input_grad;
    k.run(
      geo,
      (gp) => (depthwise ? k.ex.dw_scratch(gp) : k.ex.conv_scratch(gp)),
      (gp, sp) => vjp(gp, k.ptr(g), k.ptr(kernel), k.ptr(dx), sp),
    );
    return dx;
  });
}

/** The kernel's shape: [kh, kw, in, out], or [kh, kw, in, multiplier] for a depthwise kernel. */
function kernelShapeOf(geo: WindowGeometry, depthwise: boolean): number[] {
  return [geo.kh, geo.kw, geo.c, depthwise ? geo.co / geo.c : geo.co];
}

/** The kernel gradient summed over the batch in the wasm kernels, for Conv2D and DepthwiseConv2D. */
export function kernelGradWasm(
  k: ConvWasm,
  geo: WindowGeometry,
  x: tf.Tensor,
  g: tf.Tensor,
  useBias: boolean,
  depthwise: boolean,
): KernelBias {
  return tidyObject(() => {
    const xs = float32(x);
    const kernel = k.output(kernelShapeOf(geo, depthwise));
    const bias = useBias ? (k.output([geo.co]) as tf.Tensor1D) : undefined;
    const grad = depthwise ? k.ex.dw_filter_grad : k.ex.conv_filter_grad;
    k.run(
      geo,
      (gp) => (depthwise ? k.ex.dw_scratch(gp) : k.ex.conv_scratch(gp)),
      (gp, sp) => grad(gp, k.ptr(xs), k.ptr(g), k.ptr(kernel), bias ? k.ptr(bias) : 0, sp),
    );
    return { kernel, bias };
  });
}

/** As conv2dRowStats, shared with DepthwiseConv2D's wasm path (same output layout). */
export function rowStatsWasm(
  k: ConvWasm,
  geo: WindowGeometry,
  x: tf.Tensor,
  g: tf.Tensor,
  c: number,
  useBias: boolean,
  want: RowStatsRequest,
  depthwise: boolean,
): RowStats {
  const kernelShape = kernelShapeOf(geo, depthwise);
  const kLen = kernelShape.reduce((a, b) => a * b, 1);
  const pair = (on: boolean | undefined): KernelBias | undefined =>
    on ? { kernel: k.output(kernelShape), bias: useBias ? (k.output([geo.co]) as tf.Tensor1D) : undefined } : undefined;
  const sum = pair(want.sum);
  const squares = pair(want.squares);
  const rows = want.rows ? (k.output([g.shape[0], kLen + (useBias ? geo.co : 0)]) as tf.Tensor2D) : undefined;
  const signs = want.signs ? float32(want.signs) : undefined;
  const p = (t: tf.Tensor | undefined) => (t ? k.ptr(t) : 0);
  // Bias statistics need scratch when only the kernel's are wanted: the kernels write them if asked.
  const args = (gp: number, sp: number) =>
    [
      gp,
      k.ptr(x),
      k.ptr(g),
      c,
      p(signs),
      p(sum?.kernel),
      p(squares?.kernel),
      p(sum?.bias),
      p(squares?.bias),
      p(rows),
      useBias ? 1 : 0,
      sp,
    ] as const;
  if (depthwise)
    k.run(
      geo,
      (gp) => k.ex.dw_scratch(gp),
      (gp, sp) => k.ex.dw_row_stats(...args(gp, sp)),
    );
  else
    k.run(
      geo,
      (gp) => k.ex.conv_rows_scratch(gp, c),
      (gp, sp) => k.ex.conv_row_stats(...args(gp, sp)),
    );
  return { sum, squares, rows };
}

/**
 * Per-row products in tfjs ops from the unfolded input u [n, oh, ow, K]: one batched product per
 * sample, unfold(x_n)^T [g_{n,1} .. g_{n,c}].
 */
function rowStatsOps(
  u: tf.Tensor4D,
  geo: WindowGeometry,
  g: tf.Tensor4D,
  c: number,
  useBias: boolean,
  want: RowStatsRequest,
): RowStats {
  const { n, co } = geo;
  const P = geo.oh * geo.ow;
  const K = geo.kh * geo.kw * geo.c;
  const R = n * c;
  const kernelShape = [geo.kh, geo.kw, geo.c, co];
  const gt = g
    .reshape([n, c, P, co])
    .transpose([0, 2, 1, 3])
    .reshape([n, P, c * co]);
  const cn = tf.matMul(u.reshape([n, P, K]), gt as tf.Tensor3D, true, false).reshape([n, K, c, co]);
  const b = tf.sum(g.reshape([R, P, co]), 1) as tf.Tensor2D;
  const signs = want.signs ? tf.cast(want.signs, 'float32') : undefined;
  const out: RowStats = {};
  if (want.sum)
    out.sum = {
      kernel: tf.sum(cn, [0, 2]).reshape(kernelShape),
      bias: useBias ? (tf.sum(b, 0) as tf.Tensor1D) : undefined,
    };
  if (want.squares) {
    const sq = signs ? tf.mul(tf.square(cn), signs.reshape([n, 1, c, 1])) : tf.square(cn);
    const bsq = signs ? tf.mul(tf.square(b), signs.reshape([R, 1])) : tf.square(b);
    out.squares = {
      kernel: tf.sum(sq, [0, 2]).reshape(kernelShape),
      bias: useBias ? (tf.sum(bsq, 0) as tf.Tensor1D) : undefined,
    };
  }
  if (want.rows) {
    const kr = cn.transpose([0, 2, 1, 3]).reshape([R, K * co]);
    out.rows = (useBias ? tf.concat([kr, b], 1) : kr) as tf.Tensor2D;
  }
  return out;
}

/** KFC's Kronecker factors of a convolution's weights (kernel rows, with the bias folded in last). */
export interface ConvKroneckerFactors {
  /** sum over samples and output positions of [u; 1][u; 1]^T (u an unfolded patch): [K (+1)]^2. */
  A: tf.Tensor2D;
  /** sum over rows and output positions of g g^T: [filters]^2. */
  G: tf.Tensor2D;
  samples: number;
  /** Output positions per sample (|T| in Grosse & Martens): A / samples (x) G / (samples * positions) is KFC. */
  positions: number;
  biasFolded: boolean;
}

/** KFC factors from the inputs x [n, ...] and a block of output-gradient rows g [R, oh, ow, filters]. */
export function conv2dKroneckerFactors(
  x: tf.Tensor4D,
  g: tf.Tensor4D,
  spec: WindowSpec,
  useBias: boolean,
): ConvKroneckerFactors {
  const geo = convGeometry(x.shape, g.shape[3], spec);
  const K = geo.kh * geo.kw * geo.c;
  const D = K + (useBias ? 1 : 0);
  const positions = geo.oh * geo.ow;
  const k = convWasm();
  const [A, G] = tf.tidy(() => {
    const g2 = g.reshape([-1, geo.co]) as tf.Tensor2D;
    if (k) {
      const xs = float32(x);
      const a = k.output([D, D]) as tf.Tensor2D;
      const gg = k.output([geo.co, geo.co]) as tf.Tensor2D;
      k.run(
        geo,
        (gp) => k.ex.conv_scratch(gp),
        (gp, sp) => {
          k.ex.conv_kfc_input(gp, k.ptr(xs), k.ptr(a), useBias ? 1 : 0, sp);
          k.ex.gram(k.ptr(g2), g2.shape[0], geo.co, k.ptr(gg), sp);
        },
      );
      return [a, gg];
    }
    const u = patches(x, geo, spec).reshape([-1, K]) as tf.Tensor2D;
    const ua = useBias ? (tf.concat([u, tf.ones([u.shape[0], 1])], 1) as tf.Tensor2D) : u;
    return [tf.matMul(ua, ua, true, false) as tf.Tensor2D, tf.matMul(g2, g2, true, false) as tf.Tensor2D];
  });
  return { A, G, samples: geo.n, positions, biasFolded: useBias };
}
