// Activations with their first and second derivatives as backend ops. The second derivative is
// what makes the exact Hessian diagonal differ from the GGN (tanh, sigmoid, elu, ...).
import * as tf from '@tensorflow/tfjs';

export const HIDDEN_ACTIVATIONS = ['linear', 'tanh', 'relu', 'sigmoid', 'elu', 'selu', 'softplus', 'softsign'] as const;
export type HiddenActivation = (typeof HIDDEN_ACTIVATIONS)[number];
/** softmax is allowed only on the last layer (the classification head). */
export type Activation = HiddenActivation | 'softmax';
export const ACTIVATIONS: readonly Activation[] = [...HIDDEN_ACTIVATIONS, 'softmax'];

export function isActivation(s: unknown): s is Activation {
  return typeof s === 'string' && (ACTIVATIONS as readonly string[]).includes(s);
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** a = f(z). For 'softmax' this is the row-wise softmax. */
export function apply<T extends tf.Tensor>(act: Activation, z: T): T {
  switch (act) {
    case 'linear':
      return z.clone();
    case 'tanh':
      return tf.tanh(z);
    case 'relu':
      return tf.relu(z);
    case 'sigmoid':
      return tf.sigmoid(z);
    case 'elu':
      return tf.elu(z);
    case 'selu':
      return tf.selu(z);
    case 'softplus':
      return tf.softplus(z);
    case 'softsign':
      return tf.tidy(() => tf.div(z, tf.add(1, tf.abs(z))) as T);
    case 'softmax':
      return tf.softmax(z);
  }
}

/** f'(z) elementwise (not defined for softmax, whose Jacobian is not diagonal). */
export function derivative<T extends tf.Tensor>(act: HiddenActivation, z: T, a: T): T {
  return tf.tidy((): tf.Tensor => {
    switch (act) {
      case 'linear':
        return tf.onesLike(z);
      case 'tanh':
        return tf.sub(1, tf.square(a));
      case 'relu':
        return tf.cast(tf.greater(z, 0), 'float32');
      case 'sigmoid':
        return tf.mul(a, tf.sub(1, a));
      case 'elu':
        return tf.where(tf.greater(z, 0), tf.onesLike(z), tf.add(a, 1));
      case 'selu':
        return tf.where(tf.greater(z, 0), tf.fill(z.shape, SELU_SCALE), tf.add(a, SELU_SCALE * SELU_ALPHA));
      case 'softplus':
        return tf.sigmoid(z);
      case 'softsign':
        return tf.div(1, tf.square(tf.add(1, tf.abs(z))));
    }
  }) as T;
}

/** f''(z) elementwise. relu's is 0 almost everywhere, which is why Hessian = GGN for ReLU nets. */
export function secondDerivative<T extends tf.Tensor>(act: HiddenActivation, z: T, a: T): T {
  return tf.tidy((): tf.Tensor => {
    switch (act) {
      case 'linear':
      case 'relu':
        return tf.zerosLike(z);
      case 'tanh':
        return tf.mul(-2, tf.mul(a, tf.sub(1, tf.square(a))));
      case 'sigmoid':
        return tf.mul(tf.mul(a, tf.sub(1, a)), tf.sub(1, tf.mul(2, a)));
      case 'elu':
        return tf.where(tf.greater(z, 0), tf.zerosLike(z), tf.add(a, 1));
      case 'selu':
        return tf.where(tf.greater(z, 0), tf.zerosLike(z), tf.add(a, SELU_SCALE * SELU_ALPHA));
      case 'softplus': {
        const s = tf.sigmoid(z);
        return tf.mul(s, tf.sub(1, s));
      }
      case 'softsign': {
        const d = tf.add(1, tf.abs(z));
        return tf.div(tf.mul(-2, tf.sign(z)), tf.mul(d, tf.square(d)));
      }
    }
  }) as T;
}
