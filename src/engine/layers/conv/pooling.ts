// The calculus of max and average pooling (Keras MaxPooling2D / AveragePooling2D, and their global
// forms) and of ZeroPadding2D on NHWC tensors. Backward maps take a block of rows g [n * c, ...]
// (c rows per sample, see layers/layer.ts); max pooling routes each row through its sample's maxima,
// which the forward records (wasm/pool_f32.c) so that the backward of any block is one scatter.
// Padding follows TF: padded positions are never a maximum and do not count in an average.
import * as tf from '@tensorflow/tfjs';
import { windowGeometry, WindowGeometry } from './geometry';
import { convWasm } from './wasmKernels';
import type { WindowSpec } from './conv2d';
import { patches, unpatches, validCounts } from './patches';

export function poolGeometry(xShape: number[], spec: WindowSpec): WindowGeometry {
  return windowGeometry(xShape[0], xShape.slice(1), spec.kernelSize, spec.strides, spec.padding, xShape[3]);
}

/** Repeats each sample c times: [n, ...] -> [n * c, ...] (sample-major). */
function repeatSamples(x: tf.Tensor, c: number): tf.Tensor {
  if (c === 1) return x;
  const [n, ...rest] = x.shape;
  return tf.tile(x.expandDims(1), [1, c, ...rest.map(() => 1)]).reshape([n * c, ...rest]);
}

export interface MaxPoolSaved {
  x: tf.Tensor4D;
  output: tf.Tensor4D;
  /** int32, the output's shape: offset (iy * w + ix) * c + ci of each maximum within its sample (wasm only). */
  argmax?: tf.Tensor4D;
}

/** Max pooling, keeping what the backward needs (the caller disposes output and argmax). */
export function maxPoolForward(x: tf.Tensor4D, spec: WindowSpec): { output: tf.Tensor4D; argmax?: tf.Tensor4D } {
  const geo = poolGeometry(x.shape, spec);
  const k = convWasm();
  if (k && x.dtype === 'float32') {
    const output = k.output([geo.n, geo.oh, geo.ow, geo.c]) as tf.Tensor4D;
    const argmax = k.output([geo.n, geo.oh, geo.ow, geo.c], 'int32') as tf.Tensor4D;
    k.run(
      geo,
      () => 0,
      (gp) => k.ex.maxpool_forward(gp, k.ptr(x), k.ptr(output), k.ptr(argmax)),
    );
    return { output, argmax };
  }
  return { output: tf.maxPool(x, spec.kernelSize, spec.strides, spec.padding) };
}

/** The VJP of max pooling for a block g [n * c, oh, ow, ch] -> [n * c, h, w, ch]. */
export function maxPoolBackward(g: tf.Tensor4D, saved: MaxPoolSaved, spec: WindowSpec): tf.Tensor4D {
  const n = saved.x.shape[0];
  const c = g.shape[0] / n;
  const geo = poolGeometry(saved.x.shape, spec);
  const k = convWasm();
  if (k && saved.argmax) {
    return tf.tidy(() => {
      const dx = k.output([g.shape[0], geo.h, geo.w, geo.c]) as tf.Tensor4D;
      k.run(
        geo,
        () => 0,
        (gp) => k.ex.maxpool_backward(gp, k.ptr(g), k.ptr(saved.argmax!), c, k.ptr(dx)),
      );
      return dx;
    });
  }
  // Every window's first maximum as a one-hot over the window, times g, summed back. Inputs are
  // shifted to be positive so that the zeros of the padding are never a maximum.
  return tf.tidy(() => {
    const KK = geo.kh * geo.kw;
    const pos = tf.add(tf.sub(saved.x, tf.min(saved.x)), 1) as tf.Tensor4D;
    const u = patches(pos, geo, spec).reshape([n, geo.oh, geo.ow, KK, geo.c]);
    const hot = tf.oneHot(tf.argMax(u, 3), KK).transpose([0, 1, 2, 4, 3]); // [n, oh, ow, KK, c] int32
    const rows = tf.mul(repeatSamples(tf.cast(hot, 'float32'), c), g.reshape([n * c, geo.oh, geo.ow, 1, geo.c]));
    return unpatches(rows.reshape([n * c, geo.oh, geo.ow, KK * geo.c]) as tf.Tensor4D, geo, spec);
  });
}

/** Average pooling over the valid part of each window (tfjs's, which agrees with TF on every backend). */
export function avgPoolForward(x: tf.Tensor4D, spec: WindowSpec): tf.Tensor4D {
  return tf.avgPool(x, spec.kernelSize, spec.strides, spec.padding);
}

/** The VJP of average pooling: g [R, oh, ow, ch] -> [R, h, w, ch] (linear: no per-sample state). */
export function avgPoolBackward(g: tf.Tensor4D, inShape: number[], spec: WindowSpec): tf.Tensor4D {
  const R = g.shape[0];
  const geo = poolGeometry([R, ...inShape], spec);
  const k = convWasm();
  if (k) {
    return tf.tidy(() => {
      const dx = k.output([R, geo.h, geo.w, geo.c]) as tf.Tensor4D;
      k.run(
        geo,
        () => 0,
        (gp) => k.ex.avgpool_backward(gp, k.ptr(g), k.ptr(dx)),
      );
      return dx;
    });
  }
  return tf.tidy(() => {
    const KK = geo.kh * geo.kw;
    const scaled = tf.div(g, tf.tensor(validCounts(geo), [1, geo.oh, geo.ow, 1]));
    const u = tf.tile(scaled.reshape([R, geo.oh, geo.ow, 1, geo.c]), [1, 1, 1, KK, 1]);
    return unpatches(u.reshape([R, geo.oh, geo.ow, KK * geo.c]) as tf.Tensor4D, geo, spec);
  });
}

/** Global pooling as one window over the whole image (valid padding): output [n, 1, 1, c]. */
export function globalSpec(inShape: number[]): WindowSpec {
  return { kernelSize: [inShape[0], inShape[1]], strides: [1, 1], padding: 'valid' };
}

/** The VJP of global average pooling: g [R, c] -> [R, h, w, c]. */
export function globalAvgPoolBackward(g: tf.Tensor2D, inShape: number[]): tf.Tensor4D {
  const [h, w, c] = inShape;
  return tf.tidy(() => tf.tile(tf.div(g, h * w).reshape([g.shape[0], 1, 1, c]), [1, h, w, 1]) as tf.Tensor4D);
}

/** The VJP of ZeroPadding2D ([[top, bottom], [left, right]]): the unpadded part of g. */
export function zeroPaddingBackward(g: tf.Tensor4D, padding: [[number, number], [number, number]]): tf.Tensor4D {
  const [, H, W, C] = g.shape;
  const [[t, b], [l, r]] = padding;
  return tf.slice(g, [0, t, l, 0], [g.shape[0], H - t - b, W - l - r, C]);
}
