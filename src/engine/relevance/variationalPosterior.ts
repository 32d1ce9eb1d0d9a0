// Mean-field Gaussian posterior q(w) = N(mu, diag sigma^2), sigma = softplus(rho), over any graph's
// trainable weights, with one minibatch step of the negative ELBO per sample: each layer with
// weights runs its variational forward (layers/lrt.ts: the local reparameterisation trick) and its
// variational backward inside the one backward pass (model/backward.ts); parameterless layers run
// as usual. tf.variableGrads through the sampled forward would cost far more than these products.
import * as tf from '@tensorflow/tfjs';
import type { Graph, Pass } from '../model/graph';
import { propagate } from '../model/backward';
import type { Saved } from '../layers/layer';
import { PruneScopeError } from '../errors';
import type { Rng } from '../util/random';
import { sigmaOf, softplusParts } from './variationalSoftplus';

/** One mean and one rho per trainable weight, in graph.weights order. */
export interface Posterior {
  mu: tf.Variable[];
  rho: tf.Variable[];
}

/** softplus^{-1}(s) = log(exp(s) - 1), written to stay finite for small s. */
export function inverseSoftplus(s: number): number {
  return s > 20 ? s : Math.log(Math.expm1(s));
}

/** Refuses a graph with a weighted layer that has no variational forward. */
export function checkVariational(graph: Graph): void {
  const op = graph.ops.find((o) => o.paramCount > 0 && !o.layer.variational);
  if (op)
    throw new PruneScopeError(
      'unsupported',
      `layer ${op.node.name} (${op.node.className}) has no variational forward`,
      {
        field: 'method',
        expected: 'layers with a variational forward (Dense, Conv2D, ...) or another relevance method',
      },
    );
}

/** mu from the graph's weights; sigma = sigmaInit per param layer (graph.layers() order). */
export function initPosterior(graph: Graph, sigmaInit: number[]): Posterior {
  const layers = graph.layers();
  const rho0 = new Array<number>(graph.weights.length);
  layers.forEach((l, i) => l.weights.forEach((k) => (rho0[k] = inverseSoftplus(sigmaInit[i]))));
  return tf.tidy(() => ({
    mu: graph.params.map((p) => tf.variable(p.clone(), true)),
    rho: graph.weights.map((w, k) => tf.variable(tf.fill(w.shape, rho0[k]), true)),
  }));
}

export function disposePosterior(q: Posterior): void {
  for (const v of [...q.mu, ...q.rho]) v.dispose();
}

export function posteriorVariables(q: Posterior): tf.Variable[] {
  return [...q.mu, ...q.rho];
}

/**
 * Per param layer, in one download: the sum over its weights of (mu^2 + sigma^2) (for the closed-form
 * prior variance) and KL(q || p) in nats for p = N(0, alpha_l^2) (the layer's weights share alpha_l):
 * sum 0.5 (sigma^2/alpha^2 + mu^2/alpha^2 - 1 - log(sigma^2/alpha^2)).
 */
export function layerStatistics(
  graph: Graph,
  q: Posterior,
  priorVariances: number[],
): { secondMoment: number[]; kl: number[] } {
  const layers = graph.layers();
  const out = tf.tidy(() =>
    tf
      .stack(
        layers.flatMap((l, li) => {
          const a2 = priorVariances[li];
          const mu2 = tf.concat(l.weights.map((k) => tf.reshape(tf.square(q.mu[k]), [-1])));
          const s2 = tf.square(tf.concat(l.weights.map((k) => tf.reshape(sigmaOf(q.rho[k]), [-1]))));
          const m2 = tf.add(mu2, s2);
          const kl = tf.mul(tf.sum(tf.sub(tf.sub(tf.div(m2, a2), tf.log(tf.div(s2, a2))), 1)), 0.5);
          return [tf.sum(m2), kl];
        }),
      )
      .dataSync(),
  );
  return { secondMoment: layers.map((_, l) => out[2 * l]), kl: layers.map((_, l) => out[2 * l + 1]) };
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
  /** Gradients of the per-sample objective nll_batch / B + KL / N, aligned with posteriorVariables(q). */
  grads: tf.Tensor[];
  /**
   * Scalar: sum over the batch of -log p(y|w) (categorical) or of squared residuals (gaussian),
   * for one draw of w ~ q per sample.
   */
  batchSum: tf.Scalar;
}

/**
 * One sampled forward (each weighted layer's variational forward with its noise eps[i], i over
 * graph.layers()) and the backward of nll_batch / B + KL / N in mu and rho. Call inside tf.tidy.
 * With g_v = d/d sigma^2 from the layers: d/d rho = sigmoid(rho) (sigma (2 g_v + 1/(alpha^2 N)) - 1/(N sigma)).
 */
export function elboStep(
  graph: Graph,
  q: Posterior,
  x: tf.Tensor,
  target: tf.Tensor2D,
  eps: tf.Tensor[],
  lik: Likelihood,
  priorVariances: number[],
  nTrain: number,
): StepGradients {
  const B = x.shape[0];
  const layers = graph.layers();
  const layerOfOp = new Map(layers.map((l, i) => [l.op, i]));
  // sigma and dsigma/drho = sigmoid(rho) once per step, shared by forward and backward.
  const parts = q.rho.map((r) => softplusParts(r));
  const variance = parts.map((p) => tf.square(p.sigma));
  const stateOf = (i: number) => graph.ops[i].layer.weights.flatMap((d, k) => (d.trainable ? [] : [graph.vars[i][k]]));
  const weightsOf = (i: number, all: tf.Tensor[]) =>
    graph.ops[i].trainable.map((_, k) => all[graph.ops[i].weightIndex + k]);

  const tensors: tf.Tensor[] = [tf.reshape(x, [B, ...graph.inputShape])];
  const saved: Saved[] = graph.ops.map((op, i) => {
    const inputs = op.inputs.map((t) => tensors[t]);
    const li = layerOfOp.get(i);
    const r =
      li === undefined
        ? op.layer.forward(inputs, graph.vars[i], 'inference')
        : op.layer.variational!.forward(inputs, weightsOf(i, q.mu), weightsOf(i, variance), stateOf(i), eps[li]);
    tensors.push(r.output);
    return {
      inputs,
      output: r.output,
      cache: r.cache,
      mode: 'inference',
      isGraphInput: op.inputs.map((t) => t === 0),
      memo: new Map(),
    };
  });
  const top = tensors[graph.plan.top] as tf.Tensor2D;

  // Output delta of the summed negative log-likelihood, then / B for the per-sample objective.
  let delta: tf.Tensor2D;
  let batchSum: tf.Scalar;
  if (lik.kind === 'categorical') {
    batchSum = tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(top)))) as tf.Scalar;
    delta = tf.div(tf.sub(tf.softmax(top), target), B) as tf.Tensor2D;
  } else {
    const r = tf.sub(top, target) as tf.Tensor2D;
    batchSum = tf.sum(tf.square(r)) as tf.Scalar;
    delta = tf.mul(r, 1 / (lik.noiseVariance * B)) as tf.Tensor2D;
  }

  const dMean: tf.Tensor[] = new Array(graph.weights.length);
  const dVar: tf.Tensor[] = new Array(graph.weights.length);
  const pass: Pass = { n: B, mode: 'inference', tensors, saved, top, output: top };
  propagate(graph, pass, {
    start: graph.plan.top,
    block: delta,
    c: 1,
    wants: (op) => op.paramCount > 0,
    visit: () => undefined,
    inputGrads: (op, g, s, need) => {
      if (op.paramCount === 0) return undefined;
      const i = op.index;
      const b = op.layer.variational!.backward(
        g,
        s.inputs,
        weightsOf(i, q.mu),
        weightsOf(i, variance),
        stateOf(i),
        eps[layerOfOp.get(i)!],
        { output: s.output, cache: s.cache },
        need,
      );
      b.mean.forEach((t, k) => (dMean[op.weightIndex + k] = t));
      b.variance.forEach((t, k) => (dVar[op.weightIndex + k] = t));
      return b.inputs;
    },
  });

  // Tensors the layers memoised for this pass are kept (Saved.memo): release them here.
  for (const sv of saved) tf.dispose([...sv.memo.values()]);
  const klScaleOf = new Array<number>(graph.weights.length);
  layers.forEach((l, li) => l.weights.forEach((k) => (klScaleOf[k] = 1 / (priorVariances[li] * nTrain))));
  const gMu = q.mu.map((mu, k) => tf.add(dMean[k], tf.mul(mu, klScaleOf[k])));
  // d/d sigma^2 of KL/N is 0.5 (1/alpha^2 - 1/s^2)/N; with ds^2/drho = 2 s sigmoid(rho) the rho
  // gradient is sigmoid(rho) (s (2 g_v + klScale) - 1 / (N s)).
  const gRho = parts.map(({ sigma, slope }, k) =>
    tf.mul(tf.sub(tf.mul(tf.add(tf.mul(dVar[k], 2), klScaleOf[k]), sigma), tf.div(1 / nTrain, sigma)), slope),
  );
  return { grads: [...gMu, ...gRho], batchSum };
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
  update(q: Posterior, w: number): void {
    const next = tf.tidy(() => {
      const cur = [...q.mu, ...q.rho.map((r) => sigmaOf(r))];
      return cur.map((c, k) =>
        this.avg && w < 1 ? tf.add(this.avg[k], tf.mul(tf.sub(c, this.avg[k]), w)) : tf.clone(c),
      );
    });
    if (this.avg) tf.dispose(this.avg);
    this.avg = next;
  }

  /** The averaged mu and sigma per trainable weight (graph.weights order), as tensors owned by this average. */
  moments(): { mean: tf.Tensor[]; sd: tf.Tensor[] } {
    const a = this.avg;
    if (!a) throw new Error('internal: no average yet');
    return { mean: a.slice(0, a.length / 2), sd: a.slice(a.length / 2) };
  }

  /** Flat averaged mu and sigma in the graph's flat order. */
  toFlat(graph: Graph): { mu: Float32Array; sigma: Float32Array } {
    if (!this.avg) throw new Error('internal: no average yet');
    const mu = new Float32Array(graph.nParams);
    const sigma = new Float32Array(graph.nParams);
    const W = graph.weights.length;
    graph.weights.forEach((w, k) => {
      mu.set(this.avg![k].dataSync() as Float32Array, w.offset);
      sigma.set(this.avg![W + k].dataSync() as Float32Array, w.offset);
    });
    return { mu, sigma };
  }

  dispose(): void {
    if (this.avg) tf.dispose(this.avg);
    this.avg = undefined;
  }
}
