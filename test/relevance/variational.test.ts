import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Matrix, inverse } from 'ml-matrix';
import { backend, maxRelErr } from '../helpers';
import { Network, NetworkSpec } from '../../src/engine/model/network';
import { Rng } from '../../src/engine/util/random';
import { CancelledError } from '../../src/engine/errors';
import { posteriorMeanNetwork, variationalRelevance, variationalScores } from '../../src/engine/relevance/variational';
import { classificationSplit, linearData, regressionSplit } from './variationalHelpers';

const linearSpec = (d: number): NetworkSpec => ({ inputSize: d, layers: [{ name: 'out', units: 1, activation: 'linear' }] });

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
  const mean = inverse(lambda).mmul(X.transpose().mmul(Matrix.columnVector(Array.from(y))).div(s2)).getColumn(0);
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
  const d = 3, N = 200, s2 = 0.25, a2 = 1;
  const { x, y } = linearData(rng, N, [1.5, -0.7, 0.3], 0.5, Math.sqrt(s2));
  const X = design(x, N, d);
  const ref = blr(X, y, s2, a2);
  // Start mu at ordinary least squares (the "trained network"), which is not the posterior mean.
  const ols = inverse(X.transpose().mmul(X)).mmul(X.transpose().mmul(Matrix.columnVector(Array.from(y)))).getColumn(0);
  const net = Network.fromFlat(linearSpec(d), Float32Array.from(ols));
  const res = await variationalRelevance(net, regressionSplit(x, y, d), {
    epochs: 1500, batchSize: N, lr: 2e-3, rhoLr: 1e-2, seed: 3, priorVariance: a2, noiseVariance: s2,
  });
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
