// Adam against a hand-written float64 Adam, and training to closed-form least-squares / ridge solutions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend, maxRelErr } from '../helpers';
import { randomDense } from '../../src/engine/model/denseChain';
import { Trainer } from '../../src/engine/train/trainer';
import { train } from '../../src/engine/train/train';
import { Rng } from '../../src/engine/util/random';
import { linearRegression, ridge } from './fixtures';

/** Float64 Adam (Kingma & Ba, eps outside the sqrt of the bias-corrected v) on a linear MSE model. */
function referenceAdam(X: number[][], Y: number[][], w0: number[], steps: number, lr: number, l2: number): number[] {
  const n = X.length,
    m = X[0].length,
    k = Y[0].length;
  const w = [...w0]; // flat: W [m, k] row-major, then b [k]
  const mo = new Array(w.length).fill(0),
    ve = new Array(w.length).fill(0);
  const b1 = 0.9,
    b2 = 0.999,
    eps = 1e-7;
  for (let t = 1; t <= steps; t++) {
    const g = new Array(w.length).fill(0);
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < k; o++) {
        let out = w[m * k + o];
        for (let j = 0; j < m; j++) out += X[i][j] * w[j * k + o];
        const r = (2 / (n * k)) * (out - Y[i][o]); // d/d out of (1/N) sum_n (1/K) sum_o (out - y)^2
        for (let j = 0; j < m; j++) g[j * k + o] += X[i][j] * r;
        g[m * k + o] += r;
      }
    }
    for (let p = 0; p < m * k; p++) g[p] += l2 * w[p]; // (l2/2)||W||^2, kernel only
    for (let p = 0; p < w.length; p++) {
      mo[p] = b1 * mo[p] + (1 - b1) * g[p];
      ve[p] = b2 * ve[p] + (1 - b2) * g[p] * g[p];
      const mh = mo[p] / (1 - b1 ** t),
        vh = ve[p] / (1 - b2 ** t);
      w[p] -= (lr * mh) / (Math.sqrt(vh) + eps);
    }
  }
  return w;
}

for (const l2 of [0, 0.3]) {
  test(`Adam steps match a float64 reference Adam (l2 = ${l2})`, async () => {
    await backend();
    const rng = new Rng(5);
    const n = 8,
      m = 3,
      k = 2;
    const X = Array.from({ length: n }, () => Array.from({ length: m }, () => rng.normal()));
    const Y = Array.from({ length: n }, () => Array.from({ length: k }, () => rng.normal()));
    const net = randomDense({ inputSize: m, layers: [{ name: 'out', units: k, activation: 'linear' }] }, 2);
    net.setFlat(Float32Array.from(net.toFlat(), (v, i) => v + 0.05 * i)); // non-zero biases
    const w0 = Array.from(net.toFlat());
    const trainer = new Trainer(net, { lr: 0.05, l2 });
    const x = tf.tensor2d(X),
      y = tf.tensor2d(Y);
    for (let s = 0; s < 6; s++) trainer.step(x, y).dispose();
    const ref = referenceAdam(X, Y, w0, 6, 0.05, l2);
    const err = maxRelErr(net.toFlat(), ref);
    assert.ok(err < 1e-5, `max rel err ${err}`);
    // The parameters really moved: about lr per step, so a mistaken update could not pass.
    assert.ok(maxRelErr(w0, ref) > 0.05);
    assert.equal(trainer.steps, 6);
    trainer.dispose();
    tf.dispose([x, y]);
    net.dispose();
  });
}

for (const lambda of [0, 0.5]) {
  test(`linear regression trains to the closed-form ${lambda ? 'ridge' : 'least-squares'} solution (lambda = ${lambda})`, async () => {
    await backend();
    const n = 200,
      m = 3;
    const { split } = linearRegression(n, m, 11);
    const net = randomDense({ inputSize: m, layers: [{ name: 'out', units: 1, activation: 'linear' }] }, 3);
    // Full batch: the objective is deterministic, so Adam settles at its minimiser.
    const r = await train(net, split, { epochs: 1500, batchSize: n, lr: 0.02, l2: lambda, seed: 1, evalEvery: 0 });
    const ref = ridge(split.train.x, split.train.y, n, m, lambda);
    const flat = net.toFlat();
    const err = maxRelErr(flat, [...ref.w, ref.b]);
    assert.ok(err < 2e-3, `rel err ${err}: got ${Array.from(flat)} expected ${[...ref.w, ref.b]}`);
    assert.equal(r.steps, 1500);
    net.dispose();
  });
}

test('lambda changes the solution: the ridge optimum is not the least-squares one', async () => {
  const { split } = linearRegression(200, 3, 11);
  const a = ridge(split.train.x, split.train.y, 200, 3, 0);
  const b = ridge(split.train.x, split.train.y, 200, 3, 0.5);
  assert.ok(maxRelErr(b.w, a.w) > 0.05);
});
