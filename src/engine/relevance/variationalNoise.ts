// The Gaussian noise variance of the variational regression fit, by its closed-form update: the
// ELBO's only term in s^2 is E_q[log N(y | f(w), s^2)], maximised at
//   s^2 = E_q[ sum_n sum_k (y_nk - f_k(w, x_n))^2 ] / (N K).
// The expectation is taken over the whole training set at a given q: hidden layers are sampled with
// the local reparameterisation (per row, as the fit does), and a linear output layer is integrated
// exactly, E[(y - z)^2] = (y - m)^2 + v for its pre-activation z ~ N(m, v). A single linear layer is
// therefore exact with one pass; deeper networks average `samples` passes.
import * as tf from '@tensorflow/tfjs';
import { apply } from '../model/activations';
import type { LayerLayout } from '../model/network';
import type { Rng } from '../util/random';
import { fillNormal } from './variationalPosterior';

/** Per layer: posterior means and standard deviations (kernel [in, out], bias [out]). */
export interface LayerMoments {
  muW: tf.Tensor2D;
  muB: tf.Tensor1D;
  sigW: tf.Tensor2D;
  sigB: tf.Tensor1D;
}

export function closedFormNoiseVariance(
  layout: LayerLayout[],
  q: LayerMoments[],
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  rng: Rng,
  samples = 8,
): number {
  const L = layout.length;
  const [N] = x.shape;
  const K = layout[L - 1].outSize;
  const exactLast = layout[L - 1].activation === 'linear';
  const passes = L === 1 && exactLast ? 1 : samples;
  let total = 0;
  for (let s = 0; s < passes; s++) {
    total += tf.tidy(() => {
      let a: tf.Tensor2D = x;
      for (let l = 0; l < L; l++) {
        const p = q[l];
        const m = tf.add(tf.matMul(a, p.muW), p.muB) as tf.Tensor2D;
        const v = tf.add(tf.matMul(tf.square(a), tf.square(p.sigW)), tf.square(p.sigB)) as tf.Tensor2D;
        if (l === L - 1 && exactLast) return tf.sum(tf.add(tf.square(tf.sub(y, m)), v)).dataSync()[0];
        const eps = tf.tensor2d(fillNormal(rng, new Float32Array(N * layout[l].outSize)), [N, layout[l].outSize]);
        a = apply(layout[l].activation, tf.add(m, tf.mul(tf.sqrt(v), eps)) as tf.Tensor2D);
      }
      return tf.sum(tf.square(tf.sub(y, a))).dataSync()[0];
    });
  }
  return total / (passes * N * K);
}
