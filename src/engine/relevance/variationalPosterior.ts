// Mean-field Gaussian posterior q(w) = N(mu, diag sigma^2), sigma = softplus(rho), over a dense
// chain, with one minibatch step of the negative ELBO per sample written out by hand (local
// reparameterisation trick): tf.variableGrads through the sampled forward costs far more than
// these few matrix products, and the explicit form is what keeps an epoch within 3x of training.
import * as tf from '@tensorflow/tfjs';
import { apply, derivative, HiddenActivation } from '../model/activations';
import type { LayerLayout, Network } from '../model/network';
import type { Rng } from '../util/random';
import { sigmaOf, softplusParts } from './variationalSoftplus';

export interface LayerPosterior {
  muW: tf.Variable<tf.Rank.R2>;
  muB: tf.Variable<tf.Rank.R1>;
  rhoW: tf.Variable<tf.Rank.R2>;
  rhoB: tf.Variable<tf.Rank.R1>;
}

/** softplus^{-1}(s) = log(exp(s) - 1), written to stay finite for small s. */
export function inverseSoftplus(s: number): number {
  return s > 20 ? s : Math.log(Math.expm1(s));
}

/** mu from the network's weights; sigma = sigmaInit (one absolute value, or one per layer). */
export function initPosterior(net: Network, sigmaInit: number | number[]): LayerPosterior[] {
  const rho0 = net.layout.map((_, i) => inverseSoftplus(typeof sigmaInit === 'number' ? sigmaInit : sigmaInit[i]));
  return tf.tidy(() =>
    net.layout.map((l, i) => ({
      muW: tf.variable(net.kernels[i].clone(), true),
      muB: tf.variable(net.biases[i].clone(), true),
      rhoW: tf.variable(tf.fill([l.inSize, l.outSize], rho0[i]), true) as tf.Variable<tf.Rank.R2>,
      rhoB: tf.variable(tf.fill([l.outSize], rho0[i]), true) as tf.Variable<tf.Rank.R1>,
    })),
  );
}

export function disposePosterior(q: LayerPosterior[]): void {
  for (const p of q) for (const v of [p.muW, p.muB, p.rhoW, p.rhoB]) v.dispose();
}

/**
 * Per layer, in one download: the sum over kernel and bias of (mu^2 + sigma^2) (for the closed-form
 * prior variance) and KL(q || p) in nats for p = N(0, alpha_l^2) (kernel and bias share alpha_l):
 * sum 0.5 (sigma^2/alpha^2 + mu^2/alpha^2 - 1 - log(sigma^2/alpha^2)).
 */
export function layerStatistics(
  q: LayerPosterior[],
  priorVariances: number[],
): { secondMoment: number[]; kl: number[] } {
  const out = tf.tidy(() =>
    tf
      .stack(
        q.flatMap((p, l) => {
          const a2 = priorVariances[l];
          const mu2 = tf.concat([tf.reshape(tf.square(p.muW), [-1]), tf.square(p.muB)]);
          const s2 = tf.square(tf.concat([tf.reshape(sigmaOf(p.rhoW), [-1]), sigmaOf(p.rhoB)]));
          const m2 = tf.add(mu2, s2);
          const kl = tf.mul(tf.sum(tf.sub(tf.sub(tf.div(m2, a2), tf.log(tf.div(s2, a2))), 1)), 0.5);
          return [tf.sum(m2), kl];
        }),
      )
      .dataSync(),
  );
  return { secondMoment: q.map((_, l) => out[2 * l]), kl: q.map((_, l) => out[2 * l + 1]) };
}

/** Standard normal noise from the seeded Rng (Box-Muller, both outputs used). */
export function fillNormal(rng: Rng, out: Float32Array): Float32Array {
  for (let i = 0; i < out.length; i += 2) {
    let u = rng.next();
    while (u === 0) u = rng.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const t = 2 * Math.PI * rng.next();
    out[i] = r * Math.cos(t);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

export type Likelihood =
  | { kind: 'categorical' }
  /** Gaussian on every output with variance noiseVariance. */
  | { kind: 'gaussian'; noiseVariance: number };

export interface StepGradients {
  /** Gradients of the per-sample objective nll_batch / B + KL / N, per layer: muW, muB, rhoW, rhoB. */
  grads: tf.Tensor[];
  /**
   * Scalar: sum over the batch of -log p(y|w) (categorical) or of squared residuals (gaussian),
   * for one draw of w ~ q per sample.
   */
  batchSum: tf.Scalar;
}

/**
 * One sampled forward and the explicit backward of the local-reparameterisation dense chain:
 * z = m + sqrt(v) eps with m = a mu_W + mu_b and v = a^2 s_W^2 + s_b^2. With dz = dL/dz:
 * dL/dmu_W = a^T dz, g_v = dz eps / (2 sqrt v), dL/ds_W^2 = (a^2)^T g_v,
 * dL/da = dz mu_W^T + 2 a (g_v (s_W^2)^T). Call inside tf.tidy.
 */
export function elboStep(
  layout: LayerLayout[],
  q: LayerPosterior[],
  x: tf.Tensor2D,
  target: tf.Tensor2D,
  eps: tf.Tensor2D[],
  lik: Likelihood,
  priorVariances: number[],
  nTrain: number,
): StepGradients {
  const L = layout.length;
  const B = x.shape[0];
  const inputs: tf.Tensor2D[] = [];
  const inputsSq: tf.Tensor2D[] = [];
  const pre: tf.Tensor2D[] = [];
  const sd: tf.Tensor2D[] = [];
  const sigW: tf.Tensor2D[] = [];
  const sigB: tf.Tensor1D[] = [];
  const slopeW: tf.Tensor2D[] = [];
  const slopeB: tf.Tensor1D[] = [];
  const s2W: tf.Tensor2D[] = [];
  let a = x;
  let out: tf.Tensor2D = x;
  for (let l = 0; l < L; l++) {
    const p = q[l];
    // sigma and dsigma/drho = sigmoid(rho) once per step, shared by forward and backward.
    ({ sigma: sigW[l], slope: slopeW[l] } = softplusParts(p.rhoW));
    ({ sigma: sigB[l], slope: slopeB[l] } = softplusParts(p.rhoB));
    s2W[l] = tf.square(sigW[l]);
    const a2 = tf.square(a);
    const m = tf.add(tf.matMul(a, p.muW), p.muB) as tf.Tensor2D;
    const v = tf.add(tf.matMul(a2, s2W[l]), tf.square(sigB[l])) as tf.Tensor2D;
    sd[l] = tf.sqrt(v);
    const z = tf.add(m, tf.mul(sd[l], eps[l])) as tf.Tensor2D;
    inputs.push(a);
    inputsSq.push(a2);
    pre.push(z);
    a = apply(layout[l].activation, z);
    out = a;
  }

  // Output delta of the summed negative log-likelihood, then / B for the per-sample objective.
  const last = layout[L - 1];
  let delta: tf.Tensor2D;
  let batchSum: tf.Scalar;
  if (lik.kind === 'categorical') {
    batchSum = tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(pre[L - 1])))) as tf.Scalar;
    delta = tf.div(tf.sub(out, target), B) as tf.Tensor2D;
  } else {
    const r = tf.sub(out, target) as tf.Tensor2D;
    batchSum = tf.sum(tf.square(r)) as tf.Scalar;
    delta = tf.mul(r, 1 / (lik.noiseVariance * B)) as tf.Tensor2D;
    if (last.activation !== 'linear') {
      delta = tf.mul(delta, derivative(last.activation as HiddenActivation, pre[L - 1], out)) as tf.Tensor2D;
    }
  }

  // First layer: both backward products need x^T; transpose x once and square the transpose
  // instead of letting each transposed product materialise its own copy (wasmMatMul.ts).
  const xT = tf.transpose(x) as tf.Tensor2D;
  const grads: tf.Tensor[] = new Array(4 * L);
  for (let l = L - 1; l >= 0; l--) {
    const p = q[l];
    const klScale = 1 / (priorVariances[l] * nTrain);
    // gv2 = 2 g_v = dz eps / sqrt(v): the factor 2 of ds^2/drho and of dv/da is carried here.
    const gv2 = tf.div(tf.mul(delta, eps[l]), sd[l]) as tf.Tensor2D;
    const gMuW = tf.add(
      l === 0 ? tf.matMul(xT, delta) : tf.matMul(inputs[l], delta, true, false),
      tf.mul(p.muW, klScale),
    );
    const gMuB = tf.add(tf.sum(delta, 0), tf.mul(p.muB, klScale));
    // d/ds^2 of KL/N is 0.5 (1/alpha^2 - 1/s^2)/N; chain rule ds^2/drho = 2 s sigmoid(rho), so
    // dL/drho = sigmoid(rho) (s (2 P + klScale) - 1 / (N s)) with P = (a^2)^T g_v: six
    // elementwise kernels on the kernel-sized tensors instead of eight.
    const p2W = l === 0 ? tf.matMul(tf.square(xT), gv2) : tf.matMul(inputsSq[l], gv2, true, false);
    const gRhoW = tf.mul(tf.sub(tf.mul(tf.add(p2W, klScale), sigW[l]), tf.div(1 / nTrain, sigW[l])), slopeW[l]);
    const gRhoB = tf.mul(
      tf.sub(tf.mul(tf.add(tf.sum(gv2, 0), klScale), sigB[l]), tf.div(1 / nTrain, sigB[l])),
      slopeB[l],
    );
    grads[4 * l] = gMuW;
    grads[4 * l + 1] = gMuB;
    grads[4 * l + 2] = gRhoW;
    grads[4 * l + 3] = gRhoB;
    if (l > 0) {
      const back = tf.add(
        tf.matMul(delta, p.muW, false, true),
        tf.mul(inputs[l], tf.matMul(gv2, s2W[l], false, true)),
      ) as tf.Tensor2D;
      const act = layout[l - 1].activation as HiddenActivation;
      delta = act === 'linear' ? back : (tf.mul(back, derivative(act, pre[l - 1], inputs[l])) as tf.Tensor2D);
    }
  }
  return { grads, batchSum };
}

export function posteriorVariables(q: LayerPosterior[]): tf.Variable[] {
  return q.flatMap((p) => [p.muW, p.muB, p.rhoW, p.rhoB] as tf.Variable[]);
}

/**
 * Exponential moving average of (mu, sigma) taken between epochs. Adam never settles on a sampled
 * objective: at the optimum each rho keeps jittering by about rhoLr per step, which on Wine is as
 * large as the spread of the sigmas it is meant to resolve (two fits with different noise seeds
 * agreed on the sigma ranking with Spearman 0.71 at rhoLr 0.05 without averaging). Averaging the
 * iterates (Polyak-Ruppert) removes that jitter at the cost of one small update per epoch.
 */
export class PosteriorAverage {
  private avg: tf.Tensor[] | undefined;

  /** Move the average toward the current q with weight w in (0, 1] (1: restart at q). */
  update(q: LayerPosterior[], w: number): void {
    const next = tf.tidy(() =>
      q.flatMap((p, i) => {
        const cur = [p.muW, p.muB, sigmaOf(p.rhoW), sigmaOf(p.rhoB)];
        return cur.map((c, k) =>
          this.avg && w < 1 ? tf.add(this.avg[4 * i + k], tf.mul(tf.sub(c, this.avg[4 * i + k]), w)) : tf.clone(c),
        );
      }),
    );
    if (this.avg) tf.dispose(this.avg);
    this.avg = next;
  }

  /** Flat averaged mu and sigma in the network's flat order. */
  toFlat(layout: LayerLayout[], nParams: number): { mu: Float32Array; sigma: Float32Array } {
    if (!this.avg) throw new Error('internal: no average yet');
    const mu = new Float32Array(nParams);
    const sigma = new Float32Array(nParams);
    layout.forEach((l, i) => {
      mu.set(this.avg![4 * i].dataSync() as Float32Array, l.kernelOffset);
      mu.set(this.avg![4 * i + 1].dataSync() as Float32Array, l.biasOffset);
      sigma.set(this.avg![4 * i + 2].dataSync() as Float32Array, l.kernelOffset);
      sigma.set(this.avg![4 * i + 3].dataSync() as Float32Array, l.biasOffset);
    });
    return { mu, sigma };
  }

  /** The averaged (mu, sigma) per layer, as tensors owned by this average. */
  moments(): { muW: tf.Tensor2D; muB: tf.Tensor1D; sigW: tf.Tensor2D; sigB: tf.Tensor1D }[] {
    const a = this.avg;
    if (!a) throw new Error('internal: no average yet');
    return Array.from({ length: a.length / 4 }, (_, i) => ({
      muW: a[4 * i] as tf.Tensor2D,
      muB: a[4 * i + 1] as tf.Tensor1D,
      sigW: a[4 * i + 2] as tf.Tensor2D,
      sigB: a[4 * i + 3] as tf.Tensor1D,
    }));
  }

  dispose(): void {
    if (this.avg) tf.dispose(this.avg);
    this.avg = undefined;
  }
}
