// The running average (3.6): C_t = (1 - 1/t) C_(t-1) + (1/t) X_t. With k_t = 1/t the first step
// weights C_0 by zero, so C_t is exactly the mean of X_1..X_t whatever C_0 was (METHODS.md 3).
import * as tf from '@tensorflow/tfjs';

/** In place: c <- (1 - 1/t) c + (1/t) x, for any shape (diagonal terms or a whole matrix). */
export function runningMean(c: tf.Variable, x: tf.Tensor, t: number): void {
  if (!(t >= 1)) throw new RangeError(`running mean step must be >= 1, got ${t}`);
  tf.tidy(() => c.assign(tf.add(tf.mul(c, 1 - 1 / t), tf.mul(x, 1 / t))));
}

/** In place: the essay's recursion with X_t = d d^T for a flat d [p]. */
export function updateOuter(c: tf.Variable, d: tf.Tensor1D, t: number): void {
  tf.tidy(() => {
    const col = tf.reshape(d, [-1, 1]);
    runningMean(c, tf.matMul(col, col, false, true), t);
  });
}

/** In place: X_t = R^T R / N - m m^T, the per-sample covariance from rows R [N, p] with mean m [p]. */
export function updateRowCovariance(c: tf.Variable, rows: tf.Tensor2D, mean: tf.Tensor1D, t: number): void {
  tf.tidy(() => {
    const m = tf.reshape(mean, [-1, 1]);
    const x = tf.sub(tf.div(tf.matMul(rows, rows, true, false), rows.shape[0]), tf.matMul(m, m, false, true));
    runningMean(c, x, t);
  });
}
