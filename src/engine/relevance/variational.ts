// Variational relevance (Graves 2011; METHODS.md 2.5): fit q(w) = N(mu, diag sigma^2) by
// maximising the ELBO E_q[log p(D|w)] - KL(q || p), p = N(0, alpha_l^2) per layer, and score each
// parameter by |mu / sigma| (the log prior-density ratio at 0 and at mu, 3.3.3).
//
// Choices (all stated in the provenance options):
// - Prior: one variance per layer, shared by its kernel and bias. Fitted in closed form between
//   epochs, alpha_l^2 = mean over the layer of (mu^2 + sigma^2): the exact maximiser of the ELBO in
//   alpha for the current q (only the KL depends on it), so no extra learning rate, and it is
//   the empirical-Bayes (type-II ML) fixed point at convergence. Initialised the same way.
// - Likelihood: categorical for a softmax head (-N * mean cross-entropy); otherwise Gaussian on
//   every output with a noise variance fitted in closed form between epochs from the epoch's
//   sampled squared residuals, s^2 = E_q[sum (y - f)^2] / (N K); initialised from the network's
//   own residuals. Both can be fixed by options.
// - sigma = softplus(rho), initialised to sigmaInit (absolute, default 1e-2); mu from the network.
// - Minibatch Adam on (mu, rho) of nll_batch / B + KL / N (= -ELBO / N, the KL scaled by B/N
//   relative to the batch likelihood); rho gets its own, larger learning rate.
// - Noise from the seeded Rng (backend-independent): same seed, same result.
import * as tf from '@tensorflow/tfjs';
import { Network } from '../model/network';
import { DataSplit, numClasses, xTensor, yTensor } from '../data/dataset';
import { badInput, PruneScopeError, throwIfCancelled } from '../errors';
import { hashModel, makeProvenance } from '../provenance';
import { Rng } from '../util/random';
import { orderByScore, RelevanceResult } from './types';
import { Adam } from './variationalAdam';
import {
  disposePosterior, elboStep, fillNormal, initPosterior, layerStatistics, Likelihood, posteriorToFlat,
  posteriorVariables,
} from './variationalPosterior';

export interface VariationalEpoch {
  epoch: number;
  /** Monte-Carlo estimate of the ELBO over the training set (nats): -(nll + kl). */
  elbo: number;
  /** E_q[-log p(D|w)] estimated from the epoch's sampled minibatches. */
  nll: number;
  kl: number;
}

export interface VariationalOptions {
  epochs?: number;
  batchSize?: number;
  /** Adam learning rate for mu (default 1e-3). */
  lr?: number;
  /** Adam learning rate for rho = softplus^{-1}(sigma) (default 10 * lr). */
  rhoLr?: number;
  /** Initial sigma of every parameter, absolute (default 1e-2). */
  sigmaInit?: number;
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
  /** Regression: the Gaussian noise variance at the end; undefined for classification. */
  noiseVariance?: number;
};

/** Relevance |mu / sigma| and the order it induces (least relevant first). */
export function variationalScores(mu: ArrayLike<number>, sigma: ArrayLike<number>): { scores: Float64Array; order: Int32Array } {
  if (mu.length !== sigma.length) throw badInput(`mu has ${mu.length} entries, sigma ${sigma.length}`, { field: 'sigma', expected: 'one sigma per mu' });
  const scores = Float64Array.from({ length: mu.length }, (_, j) => Math.abs(mu[j] / sigma[j]));
  return { scores, order: orderByScore(scores) };
}

/** The posterior-mean network: the trained mu is a usable model (evaluate pruned models with w = mu). */
export function posteriorMeanNetwork(net: Network, result: { mu: Float32Array }): Network {
  return Network.fromFlat(structuredClone(net.spec), result.mu);
}

function checkData(net: Network, split: DataSplit): void {
  const d = split.dataset;
  if (d.features !== net.spec.inputSize) {
    throw badInput(`data has ${d.features} features, the network takes ${net.spec.inputSize}`, { file: d.name, field: 'features', expected: `${net.spec.inputSize} columns` });
  }
  if (net.task !== d.task) throw badInput(`the network is for ${net.task}, the data for ${d.task}`, { file: d.name, field: 'task', expected: net.task });
  if (d.task === 'classification' && numClasses(d) !== net.outputSize) {
    throw badInput(`data has ${numClasses(d)} classes, the network ${net.outputSize} outputs`, { file: d.name, field: 'labels', expected: `${net.outputSize} classes` });
  }
  if (d.task === 'regression' && net.outputSize !== 1) {
    throw badInput(`regression data has one target, the network ${net.outputSize} outputs`, { file: d.name, field: 'target', expected: '1 output' });
  }
  if (split.train.rows === 0) throw badInput('the training part is empty', { file: d.name, field: 'train', expected: 'at least one row' });
}

function positive(x: number | undefined, name: string, def: number): number {
  const v = x ?? def;
  if (!(v > 0) || !Number.isFinite(v)) throw badInput(`${name} = ${x}`, { field: name, expected: 'a positive number' });
  return v;
}

export async function variationalRelevance(net: Network, split: DataSplit, opts: VariationalOptions = {}): Promise<VariationalResult> {
  checkData(net, split);
  const epochs = Math.floor(positive(opts.epochs, 'epochs', 50));
  const lr = positive(opts.lr, 'lr', 1e-3);
  const rhoLr = positive(opts.rhoLr, 'rhoLr', 10 * lr);
  const sigmaInit = positive(opts.sigmaInit, 'sigmaInit', 1e-2);
  const seed = opts.seed ?? 0;
  const N = split.train.rows;
  const B = Math.min(N, Math.floor(positive(opts.batchSize, 'batchSize', 32)));
  const L = net.layout.length;
  const K = net.outputSize;
  const fixedPrior = opts.priorVariance === undefined ? undefined
    : typeof opts.priorVariance === 'number' ? new Array<number>(L).fill(opts.priorVariance) : opts.priorVariance.slice();
  if (fixedPrior && (fixedPrior.length !== L || fixedPrior.some((a) => !(a > 0)))) {
    throw badInput(`priorVariance ${JSON.stringify(opts.priorVariance)}`, { field: 'priorVariance', expected: `a positive number or ${L} positive numbers` });
  }
  const regression = net.task === 'regression';
  if (opts.noiseVariance !== undefined) positive(opts.noiseVariance, 'noiseVariance', 1);

  const rng = new Rng(seed);
  const x = xTensor(split.train, split.dataset.features);
  const y = yTensor(split.train, split.dataset.task, K);
  const q = initPosterior(net, sigmaInit);
  const vars = posteriorVariables(q);
  const adam = new Adam(vars, vars.map((_, i) => (i % 4 < 2 ? lr : rhoLr)));
  const layerSizes = net.layout.map((l) => l.kernelSize + l.biasSize);
  const fitPrior = (secondMoment: number[]): number[] => secondMoment.map((s, l) => s / layerSizes[l]);
  let priorVariances = fixedPrior ?? fitPrior(layerStatistics(q, new Array<number>(L).fill(1)).secondMoment);
  let noiseVariance = regression
    ? opts.noiseVariance ?? tf.tidy(() => tf.mean(tf.square(tf.sub(net.predict(x), y))).dataSync()[0])
    : undefined;
  if (noiseVariance !== undefined && !(noiseVariance > 0)) noiseVariance = 1e-6; // a perfect fit: keep the likelihood finite

  try {
    const eps = net.layout.map((l) => new Float32Array(B * l.outSize));
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const lik: Likelihood = regression ? { kind: 'gaussian', noiseVariance: noiseVariance! } : { kind: 'categorical' };
      const perm = rng.permutation(N);
      const sums: tf.Scalar[] = [];
      for (let start = 0; start < N; start += B) {
        throwIfCancelled(opts.signal, 'variational relevance');
        const idx = perm.subarray(start, Math.min(N, start + B));
        const b = idx.length;
        const noise = net.layout.map((l, i) => tf.tensor2d(fillNormal(rng, eps[i]).subarray(0, b * l.outSize), [b, l.outSize]));
        tf.tidy(() => {
          const it = tf.tensor1d(idx, 'int32');
          const xb = tf.gather(x, it) as tf.Tensor2D;
          const yb = tf.gather(y, it) as tf.Tensor2D;
          const { grads, batchSum } = elboStep(net.layout, q, xb, yb, noise, lik, priorVariances, N);
          adam.step(grads);
          sums.push(tf.keep(batchSum));
        });
        for (const t of noise) t.dispose();
      }
      const batchTotal = tf.tidy(() => tf.addN(sums).dataSync()[0]);
      for (const s of sums) s.dispose();
      let nll = batchTotal;
      if (lik.kind === 'gaussian') {
        // batchTotal is the sampled sum of squared residuals over the epoch.
        nll = batchTotal / (2 * lik.noiseVariance) + 0.5 * N * K * Math.log(2 * Math.PI * lik.noiseVariance);
        if (opts.noiseVariance === undefined) noiseVariance = Math.max(batchTotal / (N * K), 1e-12);
      }
      const stats = layerStatistics(q, priorVariances);
      const kl = stats.kl.reduce((a, b) => a + b, 0);
      if (!Number.isFinite(nll) || !Number.isFinite(kl)) {
        throw new PruneScopeError('numerical', `variational fit diverged at epoch ${epoch} (nll ${nll}, kl ${kl}); lower lr`);
      }
      opts.onEpoch?.({ epoch, elbo: -(nll + kl), nll, kl });
      if (!fixedPrior) priorVariances = fitPrior(stats.secondMoment);
      // Yield so a cancel from the UI or a timer can land between epochs.
      await new Promise((r) => setImmediate(r));
    }
    const { mu, sigma } = posteriorToFlat(net.layout, q, net.nParams);
    const { scores, order } = variationalScores(mu, sigma);
    const provenance = makeProvenance({
      job: 'relevance', method: 'variational', seed,
      data: {
        name: split.dataset.name, split: 'train', rows: N, splitSeed: split.seed,
        testFraction: split.testFraction, standardized: split.standardization !== undefined,
      },
      modelHash: hashModel(net.spec, net.toFlat()),
      options: {
        epochs, batchSize: B, lr, rhoLr, sigmaInit, sigma: 'softplus(rho)', reparameterisation: 'local',
        prior: fixedPrior ? { fixed: fixedPrior } : 'per-layer (kernel+bias shared), closed-form mean(mu^2+sigma^2) between epochs',
        likelihood: regression
          ? (opts.noiseVariance !== undefined ? { gaussian: 'fixed', noiseVariance: opts.noiseVariance } : { gaussian: 'closed-form E_q[residual^2] between epochs' })
          : 'categorical',
      },
    });
    return {
      method: 'variational', scores, order, provenance, mu, sigma, priorVariances, noiseVariance,
      extra: { mu, sigma, priorVariances, noiseVariance },
    };
  } finally {
    adam.dispose();
    disposePosterior(q);
    x.dispose();
    y.dispose();
  }
}
