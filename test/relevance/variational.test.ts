import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Matrix, inverse } from 'ml-matrix';
import { backend, maxRelErr } from '../helpers';
import { NetworkSpec, denseFromFlat, randomDense } from '../../src/engine/model/denseChain';
import { Rng } from '../../src/engine/util/random';
import { CancelledError } from '../../src/engine/errors';
import { posteriorMeanNetwork, variationalRelevance, variationalScores } from '../../src/engine/relevance/variational';
import { classificationSplit, linearData, regressionSplit } from './variationalHelpers';

const linearSpec = (d: number): NetworkSpec => ({
  inputSize: d,
  layers: [{ name: 'out', units: 1, activation: 'linear' }],
});

/** Design matrix with a trailing ones column: the flat order of a 1-unit Dense layer is [w..., b]. */
function design(x: Float64Array, rows: number, d: number): Matrix {
  const m = new Matrix(rows, d + 1);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < d; j++) m.set(i, j, x[i * d + j]);
    m.set(i, d, 1);
  }
  return m;
}

/** Exact Bayesian linear regression: posterior precision, mean, and the mean-field sigma^2 = 1/Lambda_jj. */
function blr(X: Matrix, y: Float64Array, s2: number, a2: number) {
  const p = X.columns;
  const lambda = X.transpose().mmul(X).div(s2).add(Matrix.eye(p).div(a2));
  const mean = inverse(lambda)
    .mmul(
      X.transpose()
        .mmul(Matrix.columnVector(Array.from(y)))
        .div(s2),
    )
    .getColumn(0);
  const mfVar = Array.from({ length: p }, (_, j) => 1 / lambda.get(j, j));
  return { mean, mfVar };
}

test('METHODS.md 6: mu = [0.5, -2, 0.1], sigma = [1, 1, 0.01] scores [0.5, 2, 10], parameter 1 first', () => {
  const { scores, order } = variationalScores([0.5, -2, 0.1], [1, 1, 0.01]);
  assert.ok(maxRelErr(scores, [0.5, 2, 10]) < 1e-12);
  assert.deepEqual(Array.from(order), [0, 1, 2]);
});

test('Bayesian linear regression: fitted mu and sigma equal the mean-field optimum in closed form', async () => {
  await backend();
  const rng = new Rng(21);
  const d = 3,
    N = 200,
    s2 = 0.25,
    a2 = 1;
  const { x, y } = linearData(rng, N, [1.5, -0.7, 0.3], 0.5, Math.sqrt(s2));
  const X = design(x, N, d);
  const ref = blr(X, y, s2, a2);
  // Start mu at ordinary least squares (the "trained network"), which is not the posterior mean.
  const ols = inverse(X.transpose().mmul(X))
    .mmul(X.transpose().mmul(Matrix.columnVector(Array.from(y))))
    .getColumn(0);
  const net = denseFromFlat(linearSpec(d), Float32Array.from(ols));
  const res = await variationalRelevance(net, regressionSplit(x, y, d), {
    epochs: 3000,
    batchSize: N,
    lr: 2e-3,
    rhoLr: 3e-3,
    seed: 3,
    priorVariance: a2,
    noiseVariance: s2,
  });
  // Tolerances: at the optimum the sampled gradient is pure noise and Adam keeps jittering, by
  // roughly the step size (3e-3 in log sigma, 2e-3 in mu); 5e-2 relative on sigma and 0.1
  // posterior sd on mu leave room for that but not for a wrong optimum (a missing (X^T X)_jj
  // term or a mis-scaled KL moves sigma by far more than 5%).
  const sd = ref.mfVar.map(Math.sqrt);
  // mu: error measured in units of each parameter's posterior std (the scale the ELBO resolves).
  const muErr = Math.max(...ref.mean.map((m, j) => Math.abs(res.mu[j] - m) / sd[j]));
  assert.ok(muErr < 0.1, `mu off by ${muErr} posterior sd; mu ${Array.from(res.mu)} vs ${ref.mean}`);
  const sigErr = Math.max(...sd.map((s, j) => Math.abs(res.sigma[j] - s) / s));
  assert.ok(sigErr < 5e-2, `sigma rel err ${sigErr}: ${Array.from(res.sigma)} vs ${sd}`);
  assert.deepEqual(res.priorVariances, [a2]);
  assert.equal(res.noiseVariance, s2);
  net.dispose();
});

test('fitted prior variance reaches the empirical-Bayes fixed point alpha^2 = mean(mu^2 + sigma^2)', async () => {
  await backend();
  const rng = new Rng(4);
  const d = 3,
    N = 30,
    s2 = 0.5;
  const { x, y } = linearData(rng, N, [1, -0.5, 0.3], 0.2, Math.sqrt(s2));
  const X = design(x, N, d);
  // Reference: iterate the closed-form mean-field optimum and the prior update to their fixed point.
  let a2 = 1;
  for (let it = 0; it < 2000; it++) {
    const { mean, mfVar } = blr(X, y, s2, a2);
    a2 = mean.reduce((s, m, j) => s + m * m + mfVar[j], 0) / (d + 1);
  }
  assert.ok(a2 > 0.05, `reference fixed point ${a2} should not be the collapsed one`);
  // Start far away: mu = 3 everywhere gives an initial alpha^2 of about 9.
  const net = denseFromFlat(linearSpec(d), Float32Array.from([3, -3, 3, 3]));
  const res = await variationalRelevance(net, regressionSplit(x, y, d), {
    epochs: 3000,
    batchSize: N,
    lr: 1e-2,
    rhoLr: 3e-3,
    seed: 9,
    noiseVariance: s2,
  });
  const fitted = res.priorVariances[0];
  assert.ok(Math.abs(fitted - a2) / a2 < 5e-2, `alpha^2 ${fitted} vs empirical-Bayes fixed point ${a2}`);
  // And it is consistent with the returned q: alpha^2 = mean(mu^2 + sigma^2).
  const own = Array.from(res.mu).reduce((s, m, j) => s + m * m + res.sigma[j] ** 2, 0) / (d + 1);
  assert.ok(Math.abs(fitted - own) / own < 1e-3, `alpha^2 ${fitted} vs mean(mu^2+sigma^2) ${own}`);
  net.dispose();
});

test('half the inputs pure noise: their weights score lower; fitted noise variance = E_q residual^2 / N', async () => {
  await backend();
  const rng = new Rng(12);
  const d = 6,
    N = 120;
  const { x, y } = linearData(rng, N, [1, -0.8, 0.6, 0, 0, 0], 0.3, 0.4);
  const net = randomDense(linearSpec(d), 2);
  const res = await variationalRelevance(net, regressionSplit(x, y, d), {
    epochs: 600,
    batchSize: 30,
    lr: 1e-2,
    rhoLr: 1e-2,
    seed: 1,
  });
  const informative = [0, 1, 2].map((j) => res.scores[j]);
  const noise = [3, 4, 5].map((j) => res.scores[j]);
  assert.ok(Math.min(...informative) > Math.max(...noise), `informative ${informative} vs noise ${noise}`);
  // The three noise-input weights are the first kernel entries in the order (the bias is informative).
  assert.deepEqual(Array.from(res.order.slice(0, 3)).sort(), [3, 4, 5]);
  // Closed form of the noise update for the returned q: (||y - X mu||^2 + sum_j sigma_j^2 (X^T X)_jj) / N.
  const X = design(x, N, d);
  let sse = 0;
  for (let i = 0; i < N; i++) {
    let f = 0;
    for (let j = 0; j <= d; j++) f += X.get(i, j) * res.mu[j];
    sse += (y[i] - f) ** 2;
    for (let j = 0; j <= d; j++) sse += X.get(i, j) ** 2 * res.sigma[j] ** 2;
  }
  const s2 = sse / N;
  assert.ok(Math.abs(res.noiseVariance! - s2) / s2 < 0.1, `noise variance ${res.noiseVariance} vs ${s2}`);
  net.dispose();
});

test('same seed, same result; no tensor leak; cancellable; mu is a usable network', async () => {
  await backend();
  const split = classificationSplit(new Rng(3), 60, 4, 3);
  const net = randomDense(
    {
      inputSize: 4,
      layers: [
        { name: 'h', units: 5, activation: 'tanh' },
        { name: 'out', units: 3, activation: 'softmax' },
      ],
    },
    8,
  );
  const before = tf.memory().numTensors;
  const elbos: number[] = [];
  const a = await variationalRelevance(net, split, {
    epochs: 40,
    batchSize: 16,
    lr: 1e-2,
    seed: 5,
    onEpoch: (e) => elbos.push(e.elbo),
  });
  const b = await variationalRelevance(net, split, { epochs: 40, batchSize: 16, lr: 1e-2, seed: 5 });
  const c = await variationalRelevance(net, split, { epochs: 40, batchSize: 16, lr: 1e-2, seed: 6 });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(Array.from(a.mu), Array.from(b.mu));
  assert.deepEqual(Array.from(a.sigma), Array.from(b.sigma));
  assert.deepEqual(a.priorVariances, b.priorVariances);
  assert.notDeepEqual(Array.from(a.mu), Array.from(c.mu));
  assert.equal(a.method, 'variational');
  assert.equal(a.provenance.seed, 5);
  assert.equal(a.provenance.options?.epochs, 40);
  // The fit improves the ELBO from where the trained (untrained here) weights started.
  assert.ok(elbos[elbos.length - 1] > elbos[0], `ELBO ${elbos[0]} -> ${elbos[elbos.length - 1]}`);
  const meanNet = posteriorMeanNetwork(net, a);
  assert.deepEqual(Array.from(meanNet.toFlat()), Array.from(a.mu));
  meanNet.dispose();

  const ctl = new AbortController();
  let seen = 0;
  await assert.rejects(
    variationalRelevance(net, split, {
      epochs: 1000,
      seed: 1,
      signal: ctl.signal,
      onEpoch: () => {
        if (++seen === 2) ctl.abort();
      },
    }),
    CancelledError,
  );
  assert.equal(seen, 2);
  assert.equal(tf.memory().numTensors, before);
  net.dispose();
});
