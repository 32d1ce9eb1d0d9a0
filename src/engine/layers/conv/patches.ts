// im2col in tfjs ops, for the backends PruneScope's wasm kernels do not run on (and as their
// reference): the unfolded input and its adjoint, each one convolution with the identity kernel,
// so exact on every backend and free of the backends' own (partly missing or inconsistent)
// pooling and filter gradients.
import * as tf from '@tensorflow/tfjs';
import type { WindowGeometry } from './geometry';
import type { WindowSpec } from './conv2d';

function identityKernel(geo: WindowGeometry): tf.Tensor4D {
  const K = geo.kh * geo.kw * geo.c;
  return tf.eye(K).reshape([geo.kh, geo.kw, geo.c, K]);
}

/**
 * The unfolded input: [n, oh, ow, kh * kw * c], entry (ky * kw + kx) * c + ci of position (oy, ox)
 * is x[oy * sh + ky - pt, ox * sw + kx - pl, ci] (0 in the padding).
 */
export function patches(x: tf.Tensor4D, geo: WindowGeometry, spec: WindowSpec): tf.Tensor4D {
  return tf.tidy(() => tf.conv2d(x, identityKernel(geo), spec.strides, spec.padding));
}

/** The adjoint of patches: u [R, oh, ow, kh * kw * c] summed back onto [R, h, w, c] (padding dropped). */
export function unpatches(u: tf.Tensor4D, geo: WindowGeometry, spec: WindowSpec): tf.Tensor4D {
  return tf.tidy(() =>
    tf.conv2dTranspose(u, identityKernel(geo), [u.shape[0], geo.h, geo.w, geo.c], spec.strides, spec.padding),
  );
}

/** Per output position, how many window entries lie inside the input: [oh, ow]. */
export function validCounts(geo: WindowGeometry): Float32Array {
  const out = new Float32Array(geo.oh * geo.ow);
  const span = (o: number, s: number, pad: number, k: number, size: number) => {
    const start = o * s - pad;
    return Math.max(0, Math.min(size, start + k) - Math.max(0, start));
  };
  for (let oy = 0; oy < geo.oh; oy++)
    for (let ox = 0; ox < geo.ow; ox++)
      out[oy * geo.ow + ox] = span(oy, geo.sh, geo.pt, geo.kh, geo.h) * span(ox, geo.sw, geo.pl, geo.kw, geo.w);
  return out;
}
