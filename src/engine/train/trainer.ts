// Minibatch Adam over a graph's parameters, with prune and freeze masks; other loops
// (distillation, freezing experiments) reuse it through gradients() + apply() or step(). Adam as
// tf.train.adam / Keras, L2 on kernels only, gradients from the one backward pass in train mode
// (BatchNormalization uses the batch's statistics); the update runs per layer tensor
// (docs/DESIGN.md, bench/NOTES.md).
import * as tf from '@tensorflow/tfjs';
import { LossKind, lossKindOf, sampleLosses, topDelta } from '../model/loss';
import type { Graph } from '../model/graph';
import { disposePass } from '../model/graph';
import { weightGradients } from '../model/gradients';
import { badInput } from '../errors';
import { checkMask, updatableTensors } from './masks';

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  /** Default 1e-7 (tf.train.adam / Keras). */
  epsilon?: number;
  /** lambda in + (lambda/2)||W||^2 over kernel weights (biases excluded). Default 0. */
  l2?: number;
  /** 1 = pruned: held at exactly 0, Adam moments held at 0. Flat order, one byte per parameter. */
  pruneMask?: Uint8Array;
  /** 1 = frozen: value kept bit for bit, Adam moments stop updating (alpha_j = 0). */
  freezeMask?: Uint8Array;
}

/**
 * Mean-loss gradients of one minibatch, one per trainable weight (graph.weights order). Dispose with
 * disposeGradients.
 */
export interface StepGradients {
  grads: tf.Tensor[];
  /** Mean data loss over the batch (without the L2 term), a backend scalar. */
  loss: tf.Scalar;
  batchSize: number;
}

export function disposeGradients(g: StepGradients): void {
  tf.dispose([...g.grads, g.loss]);
}

export class Trainer {
  readonly kind: LossKind;
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly l2: number;
  private t = 0;
  /** Parameters and moments in the flat order (graph.weights). */
  private readonly params: tf.Variable[];
  private m: tf.Tensor[];
  private v: tf.Tensor[];
  private updatable: (tf.Tensor | undefined)[];
  private prune?: Uint8Array;
  private freeze?: Uint8Array;
  private disposed = false;

  constructor(
    readonly net: Graph,
    opts: AdamOptions,
  ) {
    const range = (x: number, name: string, lo: number, hi: number) => {
      if (!(Number.isFinite(x) && x >= lo && x < hi))
        throw badInput(`${name} = ${x}`, { field: name, expected: `a number in [${lo}, ${hi})` });
    };
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-7;
    this.l2 = opts.l2 ?? 0;
    range(this.lr, 'lr', Number.MIN_VALUE, Infinity);
    range(this.beta1, 'beta1', 0, 1);
    range(this.beta2, 'beta2', 0, 1);
    range(this.epsilon, 'epsilon', Number.MIN_VALUE, Infinity);
    range(this.l2, 'l2', 0, Infinity);
    this.kind = lossKindOf(net);
    this.params = net.params;
    this.m = this.params.map((p) => tf.zerosLike(p));
    this.v = this.params.map((p) => tf.zerosLike(p));
    this.updatable = [];
    if (opts.pruneMask) this.setPruneMask(opts.pruneMask);
    if (opts.freezeMask) this.setFreezeMask(opts.freezeMask);
  }

  /** Number of Adam updates applied so far (t in the bias correction). */
  get steps(): number {
    return this.t;
  }

  get pruneMask(): Uint8Array | undefined {
    return this.prune;
  }

  get freezeMask(): Uint8Array | undefined {
    return this.freeze;
  }

  /**
   * Prune (1) or keep (0) each parameter from now on. Pruned parameters and their Adam moments are
   * set to exactly 0 here and stay 0. `undefined` un-prunes everything (values stay 0 until trained).
   */
  setPruneMask(mask: Uint8Array | undefined): void {
    this.live();
    if (mask) checkMask(mask, this.net.nParams, 'pruneMask');
    this.prune = mask ? mask.slice() : undefined;
    if (this.prune) {
      const keep = Float32Array.from(this.prune, (p) => (p ? 0 : 1));
      this.forEachPiece((i, offset, size) => {
        const k = keep.subarray(offset, offset + size);
        if (k.every((x) => x === 1)) return;
        tf.tidy(() => {
          // A select, not a multiply: 0 * negative would leave -0.
          const kt = tf.cast(tf.tensor(Int32Array.from(k), this.params[i].shape, 'int32'), 'bool');
          const z = tf.zerosLike(this.params[i]);
          this.params[i].assign(tf.where(kt, this.params[i], z));
          this.replace(i, tf.keep(tf.where(kt, this.m[i], z)), tf.keep(tf.where(kt, this.v[i], z)));
        });
      });
    }
    this.rebuildUpdatable();
  }

  /** Freeze (1) or release (0) each parameter from now on; frozen values and moments are left as they are. */
  setFreezeMask(mask: Uint8Array | undefined): void {
    this.live();
    if (mask) checkMask(mask, this.net.nParams, 'freezeMask');
    this.freeze = mask ? mask.slice() : undefined;
    this.rebuildUpdatable();
  }

  /** Adam's first and second moments in the flat order (downloads; for tests and diagnostics). */
  moments(): { m: Float32Array; v: Float32Array } {
    // Stored as m / (1 - b1) and v / (1 - b2) (see apply).
    const flat = (ts: tf.Tensor[], scale: number) => {
      const f = tf.tidy(() => tf.mul(tf.concat(ts.map((t) => tf.reshape(t, [-1]))), scale));
      const out = f.dataSync() as Float32Array;
      f.dispose();
      return out;
    };
    return { m: flat(this.m, 1 - this.beta1), v: flat(this.v, 1 - this.beta2) };
  }

  /** Gradients of the mean loss on (x, y): train-mode forward, the one backward pass (model/gradients.ts). */
  gradients(x: tf.Tensor, y: tf.Tensor2D): StepGradients {
    this.live();
    const pass = this.net.forward(x, 'train');
    try {
      const n = pass.n;
      const out = pass.output as tf.Tensor2D;
      const delta = topDelta(this.kind, out, y);
      const grads = weightGradients(this.net, pass, delta, { scale: 1 / n }) as tf.Tensor[];
      delta.dispose();
      const loss = tf.tidy(() => tf.mean(sampleLosses(this.kind, out, y))) as tf.Scalar;
      return { grads, loss, batchSize: n };
    } finally {
      disposePass(pass);
    }
  }

  /**
   * One Adam update from these gradients with the current masks. Does not dispose `g`.
   * The moments are stored rescaled, M = m / (1 - b1) and V = v / (1 - b2), so that
   *   M <- b1 M + g,  V <- b2 V + g^2,
   *   w <- w - lr_t (1 - b1) / sqrt(1 - b2) * M / (sqrt(V) + eps_t / sqrt(1 - b2)),
   * the same update with three fewer scalar multiplies per tensor (bench/NOTES.md). moments()
   * returns m and v.
   */
  apply(g: StepGradients): void {
    this.live();
    this.t += 1;
    const { beta1: b1, beta2: b2, l2 } = this;
    const c2 = Math.sqrt(1 - Math.pow(b2, this.t));
    const lrT = (this.lr * c2) / (1 - Math.pow(b1, this.t));
    const s2 = Math.sqrt(1 - b2);
    const stepScale = (lrT * (1 - b1)) / s2;
    const epsT = (this.epsilon * c2) / s2;
    const grads = g.grads;
    tf.tidy(() =>
      this.params.forEach((w, i) => {
        const isKernel = this.net.weights[i].isKernel;
        const grad = l2 > 0 && isKernel ? tf.add(grads[i], tf.mul(w, l2)) : grads[i];
        let m = tf.add(tf.mul(this.m[i], b1), grad);
        let v = tf.add(tf.mul(this.v[i], b2), tf.square(grad));
        let wNew = tf.sub(w, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsT)), stepScale));
        const u = this.updatable[i];
        if (u) {
          // A select, not a multiply by 0/1: frozen values stay bit-identical (signed zeros, NaN).
          m = tf.where(u, m, this.m[i]);
          v = tf.where(u, v, this.v[i]);
          wNew = tf.where(u, wNew, w);
        }
        this.replace(i, tf.keep(m), tf.keep(v));
        w.assign(wNew);
      }),
    );
  }

  /**
   * gradients + optional hook + apply. The hook runs after the gradients and before the update, so
   * masks it sets apply to this step's update. Returns the batch's mean loss (caller disposes).
   */
  step(x: tf.Tensor, y: tf.Tensor2D, hook?: (g: StepGradients) => void): tf.Scalar {
    const g = this.gradients(x, y);
    try {
      hook?.(g);
      this.apply(g);
    } catch (e) {
      disposeGradients(g);
      throw e;
    }
    tf.dispose(g.grads);
    return g.loss;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...this.m, ...this.v]);
    for (const u of this.updatable) u?.dispose();
  }

  /** (tensor index, flat offset, size) of each parameter tensor, in the flat order. */
  private forEachPiece(f: (i: number, offset: number, size: number) => void): void {
    this.net.weights.forEach((w, i) => f(i, w.offset, w.size));
  }

  private replace(i: number, m: tf.Tensor, v: tf.Tensor): void {
    tf.dispose([this.m[i], this.v[i]]);
    this.m[i] = m;
    this.v[i] = v;
  }

  private rebuildUpdatable(): void {
    for (const u of this.updatable) u?.dispose();
    this.updatable = updatableTensors(this.prune, this.freeze, this.net.weights);
  }

  private live(): void {
    if (this.disposed) throw new Error('internal: Trainer used after dispose()');
  }
}
