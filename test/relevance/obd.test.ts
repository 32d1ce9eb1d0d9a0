import { test } from 'node:test';
import assert from 'node:assert/strict';
import { obdSaliency } from '../../src/engine/relevance/obd';
import { orderByScore } from '../../src/engine/util/order';

test('OBD least-squares reference case (METHODS.md 6): diag H = [35, 56] -> saliency [17.5, 7], parameter 2 first', () => {
  // loss 1/2 ||y - Xw||^2 with X = [[1,2],[3,4],[5,6]]: H = X^T X, so diag H = column sums of squares.
  const X = [
    [1, 2],
    [3, 4],
    [5, 6],
  ];
  const diag = [0, 1].map((j) => X.reduce((s, r) => s + r[j] * r[j], 0));
  assert.deepEqual(diag, [35, 56]);
  const s = obdSaliency(diag, [1, -0.5]);
  assert.deepEqual([...s], [17.5, 7]);
  assert.deepEqual([...orderByScore(s)], [1, 0]);
});

import { backend } from '../helpers';
import { randomDense } from '../../src/engine/model/denseChain';
import { obdRelevance } from '../../src/engine/relevance/obd';
import type { DataSplit, Dataset } from '../../src/engine/data/dataset';
import { Rng } from '../../src/engine/util/random';

test('OBD on a linear regression network equals the closed form: mean-MSE Hessian diag = (2/N) sum x^2', async () => {
  await backend();
  const rng = new Rng(2);
  const N = 40,
    m = 3;
  const x = Float32Array.from({ length: N * m }, () => rng.normal());
  const y = Float32Array.from({ length: N }, () => rng.normal());
  const ds: Dataset = {
    name: 'synthetic',
    task: 'regression',
    featureNames: ['a', 'b', 'c'],
    targetName: 'y',
    x,
    y,
    rows: N,
    features: m,
  };
  const split: DataSplit = { dataset: ds, train: { x, y, rows: N }, test: { x, y, rows: N }, seed: 0, testFraction: 0 };
  const net = randomDense({ inputSize: m, layers: [{ name: 'o', units: 1, activation: 'linear' }] }, 4);
  const w = net.toFlat();
  const r = await obdRelevance(net, split, { variant: 'hessian' });
  for (let j = 0; j < m; j++) {
    let h = 0;
    for (let n = 0; n < N; n++) h += (2 / N) * x[n * m + j] ** 2;
    const ref = (h * w[j] * w[j]) / 2;
    assert.ok(Math.abs(r.scores[j] - ref) <= 1e-4 * Math.abs(ref) + 1e-7, `${j}: ${r.scores[j]} vs ${ref}`);
  }
  // bias: d^2/db^2 of the mean MSE is 2, saliency 2 b^2 / 2 = b^2 (b = 0 at init)
  assert.equal(r.scores[m], 0);
  assert.equal(r.variant, 'hessian');
  assert.deepEqual(r.extra!.negativeCurvature, []);
  net.dispose();
});
