// Per-step gradient statistics of one dense layer from the explicit backprop: no extra pass.
// With a = layer input [N, in] and delta = per-sample dl_n/dz [N, out] (backprop.ts), the gradient of
// sample n's loss on the kernel is the outer product a_n^T delta_n, and on the bias delta_n.
import * as tf from '@tensorflow/tfjs';

export interface LayerGrad {
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D;
}

/** Minibatch-mean gradient g_S of one layer: a^T delta / N and mean(delta). */
export function meanGrad(a: tf.Tensor2D, delta: tf.Tensor2D): LayerGrad {
  const n = a.shape[0];
  return {
    kernel: tf.tidy(() => tf.div(tf.matMul(a, delta, true, false), n) as tf.Tensor2D),
    bias: tf.tidy(() => tf.div(tf.sum(delta, 0), n) as tf.Tensor1D),
  };
}

/** Gradient g_1 of the first sample's loss alone: row 0 of a times row 0 of delta. */
export function firstSampleGrad(a: tf.Tensor2D, delta: tf.Tensor2D): LayerGrad {
  return tf.tidy(() => {
    const a0 = tf.slice(a, [0, 0], [1, a.shape[1]]);
    const d0 = tf.slice(delta, [0, 0], [1, delta.shape[1]]);
    return {
      kernel: tf.matMul(a0, d0, true, false) as tf.Tensor2D,
      bias: tf.reshape(d0, [delta.shape[1]]) as tf.Tensor1D,
    };
  });
}

/** The essay's d_t = g_1,t - g_S,t for one layer. */
export function essayDiff(a: tf.Tensor2D, delta: tf.Tensor2D, gS: LayerGrad): LayerGrad {
  return tf.tidy(() => {
    const g1 = firstSampleGrad(a, delta);
    return { kernel: tf.sub(g1.kernel, gS.kernel) as tf.Tensor2D, bias: tf.sub(g1.bias, gS.bias) as tf.Tensor1D };
  });
}

/**
 * Exact (population) minibatch variance of the per-sample gradients, elementwise:
 * (1/N) sum_n a_n^2 delta_n^2 - g_S^2 on the kernel (one extra matmul, of the squares), and the
 * same on the bias. Clamped at 0: the subtraction can go slightly negative in float32.
 */
export function perSampleVariance(a: tf.Tensor2D, delta: tf.Tensor2D, gS: LayerGrad): LayerGrad {
  const n = a.shape[0];
  return tf.tidy(() => {
    const d2 = tf.square(delta);
    const kernel = tf.relu(
      tf.sub(tf.div(tf.matMul(tf.square(a), d2, true, false), n), tf.square(gS.kernel)),
    ) as tf.Tensor2D;
    const bias = tf.relu(tf.sub(tf.mean(d2, 0), tf.square(gS.bias))) as tf.Tensor1D;
    return { kernel, bias };
  });
}

/** Per-sample gradients of one layer as rows [N, in*out + out] in the flat order (kernel row-major, bias). */
export function perSampleRows(a: tf.Tensor2D, delta: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, inSize] = a.shape;
    const out = delta.shape[1];
    // [N, in, 1] * [N, 1, out] -> [N, in, out]: sample n's outer product a_n^T delta_n.
    const k = tf.mul(tf.reshape(a, [n, inSize, 1]), tf.reshape(delta, [n, 1, out]));
    return tf.concat([tf.reshape(k, [n, inSize * out]), delta], 1) as tf.Tensor2D;
  });
}
