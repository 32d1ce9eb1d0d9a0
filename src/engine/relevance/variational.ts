// Variational relevance (Graves 2011; METHODS.md 2.5): fit a mean-field Gaussian posterior
// q(w) = N(mu, diag sigma^2) under a per-layer Gaussian prior by minibatch Adam on the ELBO, and
// score each parameter by |mu / sigma|. The fit's choices (empirical-Bayes prior, likelihood,
// sigma's initial scale and learning rate, the step budget) are explained in docs/DESIGN.md and
// recorded in every result's provenance; same seed, same result.
import * as tf from '@tensorflow/tfjs';
import { Graph } from '../model/graph';
import { checkFeatures } from '../data/forModel';
import { DataSplit, numClasses, xTensor, yTensor } from '../data/dataset';
import { batchTensors } from '../train/batches';
import { badInput, PruneScopeError, throwIfCancelled } from '../errors';
import { hashModel, makeProvenance } from '../provenance';
import { Rng } from '../util/random';
import type { RelevanceResult } from './types';
import { orderByScore } from '../util/order';
import { evaluate, Metrics } from '../train/metrics';
import { closedFormNoiseVariance } from './variationalNoise';
import { sigmaOf } from './variationalSoftplus';
import { Adam } from './variationalAdam';
import { ElboTracker } from './variationalConvergence';
import {
  checkVariational,
  disposePosterior,
  elboStep,
  fillNormal,
  initPosterior,
  layerStatistics,
  Likelihood,
  PosteriorAverage,
  posteriorVariables,
} from './variationalPosterior';
import { splitRecord } from '../data/split';

/**
 * Monte-Carlo passes over the training set for the noise update (hidden layers sampled; a linear output integrated
 * exactly).
 */
const NOISE_SAMPLES_PER_EPOCH = 4;
const NOISE_SAMPLES_FINAL = 32;

export interface VariationalEpoch {
  epoch: number;
  /** Optimiser steps so far. */
  steps: number;
  /** Upper bound on epochs (fixed budget: the epochs asked for; otherwise from maxSteps), for progress bars. */
  maxEpochs: number;
  /** Monte-Carlo estimate of the ELBO over the training set (nats): -(nll + kl). */
  elbo: number;
  /** E_q[-log p(D|w)] estimated from the epoch's sampled minibatches. */
  nll: number;
  kl: number;
}

export interface VariationalOptions {
  /** Run exactly this many epochs (no convergence rule). Default: the step budget below. */
  epochs?: number;
  /** Never stop before this many steps (default 2000). */
  minSteps?: number;
  /** Always stop after this many steps (default 10000). */
  maxSteps?: number;
  /** Steps per window of the convergence rule (default 200). */
  windowSteps?: number;
  /** Relative change of the windowed mean ELBO counted as converged (default 1e-3; the window noise also counts). */
  tolerance?: number;
  batchSize?: number;
  /** Adam learning rate for mu (default 3e-3). */
  lr?: number;
  /** Adam learning rate for rho = softplus^{-1}(sigma) (default 0.03). */
  rhoLr?: number;
  /** Initial sigma of every parameter, absolute (default: sigmaInitRelative times the layer's prior sd). */
  sigmaInit?: number;
  /** Initial sigma relative to the layer's initial prior sd sqrt(mean mu^2) (default 0.1). */
  sigmaInitRelative?: number;
  seed?: number;
  /** Fix the prior variance (one number for every layer, or one per layer) instead of fitting it. */
  priorVariance?: number | number[];
  /** Regression only: fix the Gaussian noise variance instead of fitting it. */
  noiseVariance?: number;
  signal?: AbortSignal;
  onEpoch?: (e: VariationalEpoch) => void;
}

export type VariationalResult = RelevanceResult & {
  mu: Float32Array;
  sigma: Float32Array;
  /** One prior variance alpha_l^2 per layer (kernel and bias share it), as fitted at the end. */
  priorVariances: number[];
  /**
   * Regression: the Gaussian noise variance, the closed-form update at the returned q; undefined for classification.
   */
  noiseVariance?: number;
  /** The posterior mean mu as a model beside the teacher: train and test metrics of each. */
  fit: VariationalFitCheck;
  /** Optimiser steps taken, epochs run, and whether the convergence rule (not the maximum) stopped the fit. */
  steps: number;
  epochs: number;
  converged: boolean;
};

export interface VariationalFitCheck {
  metric: 'accuracy' | 'mse';
  teacher: { train: Metrics; test?: Metrics };
  posteriorMean: { train: Metrics; test?: Metrics };
  /** posteriorMean / teacher of the metric on test (train when there is no test part). */
  ratio: number;
  /** Set when the ratio is above 2 or below 1/2. */
  warning?: string;
}

/** The factor between mu's and the teacher's metric above which a variational result warns. */
export const FIT_WARNING_FACTOR = 2;

/** mu's metric beside the teacher's, and a warning when they differ by more than FIT_WARNING_FACTOR. */
export function checkFit(teacher: Graph, mu: Graph, split: DataSplit): VariationalFitCheck {
  const d = split.dataset;
  const k = numClasses(d);
  const both = (n: Graph) => ({
    train: evaluate(n, split.train, d.task, k),
    ...(split.test.rows > 0 ? { test: evaluate(n, split.test, d.task, k) } : {}),
  });
  const t = both(teacher);
  const p = both(mu);
  const metric = d.task === 'classification' ? 'accuracy' : 'mse';
  const on = t.test ? 'test' : 'train';
  const pick = (m: { train: Metrics; test?: Metrics }) => (metric === 'accuracy' ? m[on]!.accuracy! : m[on]!.mse!);
  const ratio = pick(p) / pick(t);
  const f = FIT_WARNING_FACTOR;
  const warning =
    ratio > f || ratio < 1 / f
      ? `the variational posterior mean is a different model from the teacher: ${on} ${metric} ${pick(p).toPrecision(4)} vs the teacher's ${pick(t).toPrecision(4)} (${ratio.toPrecision(3)}x); |mu/sigma| ranks the parameters of that model`
      : undefined;
  return { metric, teacher: t, posteriorMean: p, ratio, ...(warning ? { warning } : {}) };
}

/** Relevance |mu / sigma| and the order it induces (least relevant first). */
export function variationalScores(
  mu: ArrayLike<number>,
  sigma: ArrayLike<number>,
): { scores: Float64Array; order: Int32Array } {
  if (mu.length !== sigma.length)
    throw badInput(`mu has ${mu.length} entries, sigma ${sigma.length}`, {
      field: 'sigma',
      expected: 'one sigma per mu',
    });
  const scores = Float64Array.from({ length: mu.length }, (_, j) => Math.abs(mu[j] / sigma[j]));
  return { scores, order: orderByScore(scores) };
}

/** The posterior-mean network: the trained mu is a usable model (evaluate pruned models with w = mu). */
export function posteriorMeanNetwork(net: Graph, result: { mu: Float32Array }): Graph {
  const g = Graph.fromSpec(net.toSpec());
  g.setFlat(result.mu);
  return g;
}

function checkData(net: Graph, split: DataSplit): void {
  const d = split.dataset;
  checkFeatures(net, d.features, { file: d.name, field: 'features' });
  if (net.task !== d.task)
    throw badInput(`the network is for ${net.task}, the data for ${d.task}`, {
      file: d.name,
      field: 'task',
      expected: net.task,
    });
  if (d.task === 'classification' && numClasses(d) !== net.outputSize) {
    throw badInput(`data has ${numClasses(d)} classes, the network ${net.outputSize} outputs`, {
      file: d.name,
      field: 'labels',
      expected: `${net.outputSize} classes`,
    });
  }
  if (d.task === 'regression' && net.outputSize !== 1) {
    throw badInput(`regression data has one target, the network ${net.outputSize} outputs`, {
      file: d.name,
      field: 'target',
      expected: '1 output',
    });
  }
  if (split.train.rows === 0)
    throw badInput('the training part is empty', { file: d.name, field: 'train', expected: 'at least one row' });
}

function positive(x: number | undefined, name: string, def: number): number {
  const v = x ?? def;
  if (!(v > 0) || !Number.isFinite(v)) throw badInput(`${name} = ${x}`, { field: name, expected: 'a positive number' });
  return v;
}

export async function variationalRelevance(
  net: Graph,
  split: DataSplit,
  opts: VariationalOptions = {},
): Promise<VariationalResult> {
  checkData(net, split);
  checkVariational(net);
  const fixedEpochs = opts.epochs === undefined ? undefined : Math.floor(positive(opts.epochs, 'epochs', 1));
  const lr = positive(opts.lr, 'lr', 3e-3);
  const rhoLr = positive(opts.rhoLr, 'rhoLr', 0.03);
  if (opts.sigmaInit !== undefined) positive(opts.sigmaInit, 'sigmaInit', 1);
  const sigmaInitRelative = positive(opts.sigmaInitRelative, 'sigmaInitRelative', 0.1);
  const seed = opts.seed ?? 0;
  const N = split.train.rows;
  const B = Math.min(N, Math.floor(positive(opts.batchSize, 'batchSize', 32)));
  const stepsPerEpoch = Math.ceil(N / B);
  const maxSteps =
    fixedEpochs !== undefined ? fixedEpochs * stepsPerEpoch : Math.floor(positive(opts.maxSteps, 'maxSteps', 10000));
  const minSteps = Math.min(maxSteps, Math.floor(positive(opts.minSteps, 'minSteps', 2000)));
  const windowSteps = Math.floor(positive(opts.windowSteps, 'windowSteps', 200));
  const tolerance = positive(opts.tolerance, 'tolerance', 1e-3);
  const maxEpochs = fixedEpochs ?? Math.ceil(maxSteps / stepsPerEpoch);
  const paramLayers = net.layers();
  const L = paramLayers.length;
  const K = net.outputSize;
  const fixedPrior =
    opts.priorVariance === undefined
      ? undefined
      : typeof opts.priorVariance === 'number'
        ? new Array<number>(L).fill(opts.priorVariance)
        : opts.priorVariance.slice();
  if (fixedPrior && (fixedPrior.length !== L || fixedPrior.some((a) => !(a > 0)))) {
    throw badInput(`priorVariance ${JSON.stringify(opts.priorVariance)}`, {
      field: 'priorVariance',
      expected: `a positive number or ${L} positive numbers`,
    });
  }
  const regression = net.task === 'regression';
  if (opts.noiseVariance !== undefined) positive(opts.noiseVariance, 'noiseVariance', 1);

  const rng = new Rng(seed);
  const layerSizes = paramLayers.map((l) => l.size);
  // Initial sigma per layer: relative to the layer's weight scale (0.01 absolute for an all-zero layer).
  const sigmaInit: number[] =
    opts.sigmaInit !== undefined
      ? new Array<number>(L).fill(opts.sigmaInit)
      : tf.tidy(() =>
          paramLayers.map((l, li) => {
            const ms = tf.addN(l.weights.map((k) => tf.sum(tf.square(net.params[k])))).dataSync()[0] / layerSizes[li];
            return ms > 0 ? sigmaInitRelative * Math.sqrt(ms) : 1e-2;
          }),
        );
  const q = initPosterior(net, sigmaInit);
  const vars = posteriorVariables(q);
  const adam = new Adam(
    vars,
    vars.map((_, i) => (i < q.mu.length ? lr : rhoLr)),
  );
  const fitPrior = (secondMoment: number[]): number[] => secondMoment.map((s, l) => s / layerSizes[l]);
  let priorVariances = fixedPrior ?? fitPrior(layerStatistics(net, q, new Array<number>(L).fill(1)).secondMoment);
  // Regression: the whole training set stays on the backend for the closed-form noise update.
  const xTrain = regression ? xTensor(split.train, split.dataset.features) : undefined;
  const yTrain = regression ? yTensor(split.train, 'regression', K) : undefined;
  const noiseRng = new Rng(seed + 0x9e3779b1);
  // Initial value: the teacher's training residuals, s^2 = train MSE (the update's value at q = delta(teacher)).
  const teacherResidual = regression
    ? tf.tidy(() => tf.mean(tf.square(tf.sub(net.predict(xTrain!) as tf.Tensor2D, yTrain!))).dataSync()[0])
    : undefined;
  let noiseVariance = regression ? (opts.noiseVariance ?? teacherResidual) : undefined;
  // a perfect fit: keep the likelihood finite
  if (noiseVariance !== undefined && !(noiseVariance > 0)) noiseVariance = 1e-6;
  const floorNoise = (v: number) => Math.max(v, 1e-12);

  const tracker = new ElboTracker({ windowSteps, minSteps, maxSteps, tolerance });
  const average = new PosteriorAverage();
  let epochsRun = 0;
  let converged = false;
  try {
    const outSizes = paramLayers.map((l) => net.ops[l.op].layer.outputShape.reduce((a, b) => a * b, 1));
    const eps = outSizes.map((o) => new Float32Array(B * o));
    for (let epoch = 1; epoch <= maxEpochs; epoch++) {
      const lik: Likelihood = regression
        ? { kind: 'gaussian', noiseVariance: noiseVariance! }
        : { kind: 'categorical' };
      const perm = rng.permutation(N);
      const sums: tf.Scalar[] = [];
      const sizes: number[] = [];
      for (let start = 0; start < N && tracker.steps + sums.length < maxSteps; start += B) {
        throwIfCancelled(opts.signal, 'variational relevance');
        const b = Math.min(B, N - start);
        tf.tidy(() => {
          // Batches assembled in JS and uploaded, as train() does (a wasm Gather copies element by
          // element: bench/NOTES.md).
          const [xb, yb] = batchTensors(split.train, split.dataset.features, split.dataset.task, K, perm, start, b);
          const noise = paramLayers.map((l, i) =>
            tf.tensor(fillNormal(rng, eps[i]).subarray(0, b * outSizes[i]), [b, ...net.ops[l.op].layer.outputShape]),
          );
          const { grads, batchSum } = elboStep(net, q, xb, yb, noise, lik, priorVariances, N);
          adam.step(grads);
          sums.push(tf.keep(batchSum));
          sizes.push(b);
        });
      }
      // One download per epoch: every step's batch sum (the per-step ELBO series of the stopping rule).
      const perStep = tf.tidy(() => tf.stack(sums).dataSync()) as Float32Array;
      for (const s of sums) s.dispose();
      const rowsSeen = sizes.reduce((a, b) => a + b, 0);
      const batchTotal = perStep.reduce((a, b) => a + b, 0);
      // Negative log-likelihood of the whole training set from `rows` sampled rows with summed statistic t.
      const gaussNll = (t: number, rows: number, s2: number) =>
        (N / rows) * (t / (2 * s2) + 0.5 * rows * K * Math.log(2 * Math.PI * s2));
      const nllOf = (t: number, rows: number) =>
        lik.kind === 'gaussian' ? gaussNll(t, rows, lik.noiseVariance) : (N / rows) * t;
      const nll = nllOf(batchTotal, rowsSeen);
      if (lik.kind === 'gaussian' && opts.noiseVariance === undefined)
        noiseVariance = floorNoise(
          tf.tidy(() =>
            closedFormNoiseVariance(
              net,
              q.mu,
              q.rho.map((r) => tf.square(sigmaOf(r))),
              xTrain!,
              yTrain!,
              noiseRng,
              NOISE_SAMPLES_PER_EPOCH,
            ),
          ),
        );
      const stats = layerStatistics(net, q, priorVariances);
      const kl = stats.kl.reduce((a, b) => a + b, 0);
      if (!Number.isFinite(nll) || !Number.isFinite(kl)) {
        // Where: the first step whose batch term is non-finite, and the layers whose posterior (mu, rho) is.
        const badStep = perStep.findIndex((t) => !Number.isFinite(t));
        const at =
          badStep >= 0
            ? `step ${tracker.steps + badStep + 1}`
            : `the end of the epoch (step ${tracker.steps + perStep.length})`;
        const ok = tf.tidy(() => tf.stack(vars.map((v) => tf.all(tf.isFinite(v)))).dataSync());
        const W = q.mu.length;
        const layers = paramLayers
          .filter((l, li) => l.weights.some((k) => !ok[k] || !ok[W + k]) || !Number.isFinite(stats.kl[li]))
          .map((l) => l.name);
        const where = layers.length
          ? `non-finite posterior in layer ${layers.join(', ')}`
          : 'posterior finite in every layer (the likelihood overflows: check the inputs)';
        throw new PruneScopeError(
          'numerical',
          `variational fit diverged at epoch ${epoch}, ${at} (nll ${nll}, kl ${kl}); ${where}; lower lr`,
          { field: 'ELBO', expected: 'a finite value' },
        );
      }
      // The KL changes slowly; the epoch-end value stands in for each of the epoch's steps.
      perStep.forEach((t, i) => tracker.push(-(nllOf(t, sizes[i]) + kl)));
      epochsRun = epoch;
      opts.onEpoch?.({ epoch, steps: tracker.steps, maxEpochs, elbo: -(nll + kl), nll, kl });
      if (!fixedPrior) priorVariances = fitPrior(stats.secondMoment);
      // Average the iterates with a time constant of one window, but never more than a fifth of the
      // steps so far (short fixed-epoch runs must not be dragged back to their start).
      const tau = Math.min(windowSteps, 0.2 * tracker.steps);
      average.update(q, epoch === 1 ? 1 : 1 - Math.exp(-sizes.length / tau));
      if (fixedEpochs === undefined) {
        const c = tracker.check();
        if (c.stop) {
          converged = c.converged;
          break;
        }
      } else if (tracker.steps >= maxSteps) break;
      // Yield so a cancel from the UI or a timer can land between epochs.
      await new Promise((r) => setImmediate(r));
    }
    const { mu, sigma } = average.toFlat(net);
    // The noise variance that goes with the returned (averaged) q: the same closed-form update.
    if (regression && opts.noiseVariance === undefined) {
      const m = average.moments();
      noiseVariance = floorNoise(
        tf.tidy(() =>
          closedFormNoiseVariance(
            net,
            m.mean,
            m.sd.map((t) => tf.square(t)),
            xTrain!,
            yTrain!,
            noiseRng,
            NOISE_SAMPLES_FINAL,
          ),
        ),
      );
    }
    const muNet = posteriorMeanNetwork(net, { mu });
    const fit = checkFit(net, muNet, split);
    muNet.dispose();
    // The prior that goes with the returned (averaged) q: the same closed form as between epochs.
    if (!fixedPrior) {
      priorVariances = paramLayers.map((l, i) => {
        let s = 0;
        for (let j = l.offset; j < l.offset + l.size; j++) s += mu[j] * mu[j] + sigma[j] * sigma[j];
        return s / layerSizes[i];
      });
    }
    const { scores, order } = variationalScores(mu, sigma);
    const provenance = makeProvenance({
      job: 'relevance',
      method: 'variational',
      seed,
      data: splitRecord(split, 'train', N),
      modelHash: hashModel(net.structure(), net.toFlat()),
      options: {
        epochs: epochsRun,
        steps: tracker.steps,
        budget:
          fixedEpochs !== undefined
            ? { fixedEpochs }
            : {
                minSteps,
                maxSteps,
                windowSteps,
                tolerance,
                converged,
                rule: 'windowed mean ELBO improvement < max(tolerance |ELBO|, 2 standard errors)',
              },
        batchSize: B,
        lr,
        rhoLr,
        sigmaInit: opts.sigmaInit ?? { relative: sigmaInitRelative, perLayer: sigmaInit },
        sigma: 'softplus(rho)',
        reparameterisation: 'local',
        average: 'EMA of (mu, sigma) between epochs, time constant min(windowSteps, steps/5)',
        prior: fixedPrior
          ? { fixed: fixedPrior }
          : 'per-layer (kernel+bias shared), closed-form mean(mu^2+sigma^2) between epochs',
        likelihood: regression
          ? opts.noiseVariance !== undefined
            ? { gaussian: 'fixed', noiseVariance: opts.noiseVariance }
            : {
                gaussian:
                  'closed-form s^2 = E_q[sum (y - f)^2] / (N K) over the training set between epochs and at the returned q',
                initial: teacherResidual,
                initialFrom: "the teacher's training residuals (train MSE)",
                samples: { perEpoch: NOISE_SAMPLES_PER_EPOCH, final: NOISE_SAMPLES_FINAL },
              }
          : 'categorical',
        fitCheck: { metric: fit.metric, ratio: fit.ratio, warnAbove: FIT_WARNING_FACTOR },
      },
    });
    return {
      method: 'variational',
      scores,
      order,
      provenance,
      mu,
      sigma,
      priorVariances,
      noiseVariance,
      fit,
      steps: tracker.steps,
      epochs: epochsRun,
      converged,
      extra: {
        mu,
        sigma,
        priorVariances,
        noiseVariance,
        fit,
        ...(fit.warning ? { warning: fit.warning } : {}),
        steps: tracker.steps,
        epochs: epochsRun,
        converged,
      },
    };
  } finally {
    tf.dispose([xTrain, yTrain].filter((t): t is tf.Tensor2D => !!t));
    adam.dispose();
    average.dispose();
    disposePosterior(q);
  }
}
