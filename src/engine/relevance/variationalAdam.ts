// Adam (Kingma & Ba 2015) on backend variables with a learning rate per variable: the variational
// fit moves rho = softplus^{-1}(sigma), a log-scale quantity, faster than mu. Small models update
// one concatenated vector (launch-bound), large ones each variable (copy-bound); bench/NOTES.md.
import * as tf from '@tensorflow/tfjs';

/** Up to this many entries in total, update on one concatenated vector. */
const FLAT_LIMIT = 1 << 15;

export class Adam {
  /** Flat mode: one moment vector each; per-variable mode: one per variable. */
  private m: tf.Tensor[];
  private v: tf.Tensor[];
  /** Per-entry (flat) or per-variable learning-rate factors. */
  private readonly lrVec?: tf.Tensor1D;
  private readonly sizes: number[];
  private readonly flat: boolean;
  private t = 0;

  constructor(
    private readonly params: tf.Variable[],
    private readonly lrs: number[],
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {
    if (lrs.length !== params.length) throw new Error('internal: Adam needs one learning rate per variable');
    this.sizes = params.map((p) => p.size);
    const total = this.sizes.reduce((a, b) => a + b, 0);
    this.flat = total <= FLAT_LIMIT;
    if (this.flat) {
      const lr = new Float32Array(total);
      let off = 0;
      this.sizes.forEach((s, i) => {
        lr.fill(lrs[i], off, off + s);
        off += s;
      });
      this.lrVec = tf.tensor1d(lr);
      this.m = [tf.zeros([total])];
      this.v = [tf.zeros([total])];
    } else {
      this.m = params.map((p) => tf.zeros(p.shape));
      this.v = params.map((p) => tf.zeros(p.shape));
    }
  }

  /**
   * One update with the given gradients (same order as the variables); does not dispose them.
   * The moments are kept rescaled, M = m / (1 - b1) and V = v / (1 - b2), so M <- b1 M + g and
   * V <- b2 V + g^2, and the step lr c m / (sqrt(v) + eps) becomes
   * lr c (1 - b1) / sqrt(1 - b2) * M / (sqrt(V) + eps / sqrt(1 - b2)): the same update with two
   * fewer full-size multiplies per variable (bench/NOTES.md).
   */
  step(grads: tf.Tensor[]): void {
    this.t++;
    const { beta1: b1, beta2: b2 } = this;
    const s2 = Math.sqrt(1 - b2);
    const c = ((Math.sqrt(1 - b2 ** this.t) / (1 - b1 ** this.t)) * (1 - b1)) / s2;
    const epsilon = this.epsilon / s2;
    const moments = (m: tf.Tensor, v: tf.Tensor, g: tf.Tensor) => {
      const m2 = tf.add(tf.mul(m, b1), g);
      const v2 = tf.add(tf.mul(v, b2), tf.square(g));
      return { m2, v2, dir: tf.div(m2, tf.add(tf.sqrt(v2), epsilon)) };
    };
    const next = tf.tidy(() => {
      if (this.flat) {
        const g = tf.concat(grads.map((x) => tf.reshape(x, [-1])));
        const { m2, v2, dir } = moments(this.m[0], this.v[0], g);
        // A fresh tensor per variable (sub), never a view of the split: assign adopts its buffer.
        const parts = tf.split(tf.mul(dir, tf.mul(this.lrVec!, c)), this.sizes);
        this.params.forEach((p, i) => p.assign(tf.sub(p, tf.reshape(parts[i], p.shape))));
        return { m: [m2], v: [v2] };
      }
      const ms: tf.Tensor[] = [];
      const vs: tf.Tensor[] = [];
      this.params.forEach((p, i) => {
        const { m2, v2, dir } = moments(this.m[i], this.v[i], grads[i]);
        p.assign(tf.sub(p, tf.mul(dir, this.lrs[i] * c)));
        ms.push(m2);
        vs.push(v2);
      });
      return { m: ms, v: vs };
    });
    tf.dispose([...this.m, ...this.v]);
    // keep: step() may run inside a caller's tidy, which must not reclaim the moments.
    this.m = next.m.map((x) => tf.keep(x));
    this.v = next.v.map((x) => tf.keep(x));
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
    if (this.lrVec) this.lrVec.dispose();
  }
}
