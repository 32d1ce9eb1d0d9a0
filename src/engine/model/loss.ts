// Losses: cross-entropy for a softmax head, mean squared error otherwise (per sample, the mean over
// output units, as Keras defines it). The training objective is the mean over samples.
import * as tf from '@tensorflow/tfjs';
import { derivative } from './activations';
import type { Network } from './network';

export type LossKind = 'crossentropy' | 'mse';

export function lossKindOf(net: Network): LossKind {
  return net.task === 'classification' ? 'crossentropy' : 'mse';
}

const EPS = 1e-7;

/** Per-sample losses l_n, shape [N], from the network output (probabilities or values). */
export function sampleLosses(kind: LossKind, output: tf.Tensor2D, target: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy((): tf.Tensor1D => {
    if (kind === 'crossentropy')
      return tf.neg(tf.sum(tf.mul(target, tf.log(tf.clipByValue(output, EPS, 1))), 1)) as tf.Tensor1D;
    return tf.mean(tf.square(tf.sub(output, target)), 1);
  });
}

export function meanLoss(kind: LossKind, output: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(sampleLosses(kind, output, target)));
}

/**
 * dl_n/dz_L for every sample n (rows), where z_L is the last layer's pre-activation. For softmax
 * with cross-entropy this is p - y; for MSE, (2/K)(a - y) f'(z).
 */
export function outputDelta(net: Network, zLast: tf.Tensor2D, aLast: tf.Tensor2D, target: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy((): tf.Tensor2D => {
    const last = net.layout[net.layout.length - 1];
    if (last.activation === 'softmax') return tf.sub(aLast, target);
    const dA = tf.mul(2 / last.outSize, tf.sub(aLast, target)) as tf.Tensor2D;
    return last.activation === 'linear' ? dA : (tf.mul(dA, derivative(last.activation, zLast, aLast)) as tf.Tensor2D);
  });
}
