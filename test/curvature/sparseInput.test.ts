// Sparse first-layer inputs (whole columns zero, as MNIST's border pixels): lossGradients and the
// per-sample gradient moments take the packed-column product (compactInput); checked against
// float64 finite-difference per-sample gradients, and against the dense path on the same data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend, maxRelErr } from '../helpers';
import { randomDense } from '../../src/engine/model/denseChain';
import { flatten } from '../../src/engine/model/graph';
import { compactInput } from '../../src/engine/layers/denseSparse';
import { lossGradients } from '../../src/engine/model/gradients';
import { gradientMoments, gradientVariance } from '../../src/engine/curvature';
import { Rng } from '../../src/engine/util/random';
import { Net64, fdSampleGrads } from './reference64';

test('sparse inputs: packed first-layer products give the mean and variance of per-sample gradients', async () => {
  await backend();
  const m = 256,
    n = 260,
    hidden = 3,
    K = 3;
  const rng = new Rng(17);
  // Columns < 128 are zero in every row; the others are non-zero in ~30 % of the rows.
  const X = Array.from({ length: n }, () =>
    Array.from({ length: m }, (_, j) => (j >= 128 && rng.next() < 0.3 ? Math.fround(rng.next() + 0.1) : 0)),
  );
  const Y = Array.from({ length: n }, () => {
    const y = new Array(K).fill(0);
    y[rng.int(K)] = 1;
    return y;
  });
  const net = randomDense(
    {
      inputSize: m,
      layers: [
        { name: 'h', units: hidden, activation: 'tanh' },
        { name: 'out', units: K, activation: 'softmax' },
      ],
    },
    3,
  );
  net.setFlat(Float32Array.from(net.toFlat(), (v, i) => v * 2 + 0.1 * Math.sin(i)));
  const w = Float64Array.from(net.toFlat());
  const ref: Net64 = { sizes: [m, hidden, K], acts: ['tanh', 'softmax'] };
  const grads = fdSampleGrads(ref, w, X, Y);
  const mean = w.map((_, j) => grads.reduce((s, g) => s + g[j], 0) / n);
  const variance = Array.from(mean, (mu, j) => grads.reduce((s, g) => s + (g[j] - mu) ** 2, 0) / n);
  const x = tf.tensor2d(X.flat(), [n, m]);
  const y = tf.tensor2d(Y.flat(), [n, K]);
  const before = tf.memory().numTensors;
  try {
    const c = compactInput(x);
    assert.ok(c, 'this batch takes the packed path');
    assert.equal(c.cols.length, Array.from({ length: m }, (_, j) => X.some((r) => r[j] !== 0)).filter(Boolean).length);
    c.xT.dispose();
    // The gradient pass.
    const g = lossGradients(net, x, y);
    const flat = flatten(net, g.grads);
    assert.ok(maxRelErr(flat, mean) < 1e-3, `gradient ${maxRelErr(flat, mean)}`);
    // The moments, packed (one chunk) and dense (chunks too small to pack).
    const v = await gradientVariance(net, x, y);
    assert.ok(maxRelErr(v.mean, mean) < 1e-3, `mean ${maxRelErr(v.mean, mean)}`);
    assert.ok(maxRelErr(v.variance, variance) < 1e-3, `variance ${maxRelErr(v.variance, variance)}`);
    const dense = await gradientVariance(net, x, y, { chunkSize: 100 });
    assert.ok(maxRelErr(v.variance, dense.variance) < 1e-4);
    const gm = gradientMoments(net, x, y);
    const gv = flatten(net, gm.variance);
    tf.dispose([...gm.mean, ...gm.variance]);
    assert.ok(maxRelErr(gv, variance) < 1e-3);
    // Unused columns: exactly zero mean and variance.
    for (let j = 0; j < 128 * hidden; j++) assert.ok(v.mean[j] === 0 && v.variance[j] === 0);
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
  } finally {
    tf.dispose([x, y]);
    net.dispose();
  }
});
