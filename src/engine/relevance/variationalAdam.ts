// Adam (Kingma & Ba 2015) on backend variables with a learning rate per variable (the variational
// fit moves rho = softplus^{-1}(sigma), a log-scale quantity, faster than mu). Moments live on the
// backend; the bias correction is folded into the step size on the JS side.
import * as tf from '@tensorflow/tfjs';

export class Adam {
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private t = 0;

  constructor(
    private readonly params: tf.Variable[],
    private readonly lrs: number[],
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {
    if (lrs.length !== params.length) throw new Error('internal: Adam needs one learning rate per variable');
    this.m = tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p), false)));
    this.v = tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p), false)));
  }

  /** One update with the given gradients (same order as the variables); does not dispose them. */
  step(grads: tf.Tensor[]): void {
    this.t++;
    const c = Math.sqrt(1 - this.beta2 ** this.t) / (1 - this.beta1 ** this.t);
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = grads[i];
        const m = tf.add(tf.mul(this.m[i], this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.v[i], this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        p.assign(tf.sub(p, tf.mul(tf.div(m, tf.add(tf.sqrt(v), this.epsilon)), this.lrs[i] * c)));
      });
    });
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}
