// The local reparameterisation trick (Kingma, Salimans, Welling 2015) for any layer that is affine in
// its weights: y = K(x; kernel) + bias with K bilinear. Under independent Gaussian weights the output
// is Gaussian with mean K(x; mu_k) + mu_b and variance K(x^2; sigma_k^2) + sigma_b^2 (per output
// element, exact for dense layers; for convolutions the marginals are exact and the correlation
// between positions is ignored, as is usual). The backward, with g = dObjective/dy and
// gv = g * eps / (2 sqrt(v)) = dObjective/dv:
//   d mu_k = K_w^T(x, g),  d sigma_k^2 = K_w^T(x^2, gv),  d mu_b = sum g,  d sigma_b^2 = sum gv,
//   dx = K_x^T(g; mu_k) + 2 x * K_x^T(gv; sigma_k^2).
import * as tf from '@tensorflow/tfjs';
import type { VariationalForward, VariationalGrads, VariationalOps } from './layer';

/** The bilinear map of an affine layer, without its bias. */
export interface BilinearMap {
  /** K(x; kernel): [n, ...in] -> [n, ...out]. */
  apply(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor;
  /** K_x^T(g; kernel): [n, ...out] -> [n, ...in]. */
  inputVJP(g: tf.Tensor, kernel: tf.Tensor): tf.Tensor;
  /** K_w^T(x, g): the kernel gradient summed over the batch, the kernel's shape. */
  kernelVJP(x: tf.Tensor, g: tf.Tensor): tf.Tensor;
}

/** Bias gradient of an NHWC (or [n, units]) output: the sum over every axis but the last. */
export function biasVJP(g: tf.Tensor): tf.Tensor {
  return tf.sum(g, [...Array(g.rank - 1).keys()]);
}

export function lrtOps(map: BilinearMap, hasBias: boolean): VariationalOps {
  return {
    kind: 'lrt',
    forward(inputs, mean, variance, _state, eps): VariationalForward {
      return tf.tidy(() => {
        const x = inputs[0];
        const x2 = tf.square(x);
        let m = map.apply(x, mean[0]);
        let v = map.apply(x2, variance[0]);
        if (hasBias) {
          m = tf.add(m, mean[1]);
          v = tf.add(v, variance[1]);
        }
        const sd = tf.sqrt(v);
        return { output: tf.add(m, tf.mul(sd, eps)), cache: { rows: { sd, x2 } } };
      });
    },
    backward(g, inputs, mean, variance, _state, eps, s, need): VariationalGrads {
      return tf.tidy(() => {
        const x = inputs[0];
        const { sd, x2 } = s.cache.rows!;
        const gv = tf.div(tf.mul(g, eps), tf.mul(sd, 2));
        const meanG = [map.kernelVJP(x, g)];
        const varG = [map.kernelVJP(x2, gv)];
        if (hasBias) {
          meanG.push(biasVJP(g));
          varG.push(biasVJP(gv));
        }
        const dx = need[0]
          ? tf.add(map.inputVJP(g, mean[0]), tf.mul(tf.mul(x, 2), map.inputVJP(gv, variance[0])))
          : undefined;
        return { inputs: [dx], mean: meanG, variance: varG };
      });
    },
  };
}
