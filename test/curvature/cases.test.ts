// METHODS.md section 6 OBD reference case, the full GGN layer block, cancellation and leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend, maxRelErr } from '../helpers';
import { denseFromFlat } from '../../src/engine/model/denseChain';
import { curvatureDiagonal, ggnLayerBlock, gradientMoments } from '../../src/engine/curvature';
import { CancelledError, PruneScopeError } from '../../src/engine/errors';
import { explicitGgn, offsets } from './reference64';
import { makeCase } from './fixtures';

test('OBD least squares (METHODS.md 6): diag H = [35, 56], saliency [17.5, 7.0]', async () => {
  await backend();
  // Our loss is the mean MSE (1/N) sum_n (y_n - x_n w - b)^2 = (2/N) * (1/2)||y - Xw||^2 at b = 0,
  // so the essay's diagonal is ours times N/2 (N = 3). The bias entry is ours alone (ignored here).
  const net = denseFromFlat(
    { inputSize: 2, layers: [{ name: 'lin', units: 1, activation: 'linear' }] },
    Float32Array.from([1, -0.5, 0]),
  );
  const x = tf.tensor2d([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  const y = tf.tensor2d([[1], [0], [2]]);
  try {
    for (const kind of ['hessian', 'ggn'] as const) {
      const { values } = await curvatureDiagonal(net, x, y, kind);
      const h = [values[0] * 1.5, values[1] * 1.5];
      assert.ok(maxRelErr(h, [35, 56]) < 1e-6, `${kind}: ${h}`);
      const w = [1, -0.5];
      const sal = h.map((hj, j) => (hj * w[j] ** 2) / 2);
      assert.ok(maxRelErr(sal, [17.5, 7.0]) < 1e-6);
      assert.ok(sal[1] < sal[0], 'parameter 2 goes first');
      assert.ok(Math.abs(values[2] - 2) < 1e-6, 'bias: d^2/db^2 of the mean squared error is 2');
    }
  } finally {
    tf.dispose([x, y]);
    net.dispose();
  }
});

for (const [head, layer] of [
  ['softmax', 0],
  ['softmax', 1],
  ['sigmoid', 2],
] as const) {
  test(`GGN block of layer ${layer} (${head} head) equals explicit float64 J^T H J`, async () => {
    await backend();
    const c = makeCase([3, 4, 3, 2], 'tanh', head, 6);
    try {
      const before = tf.memory().numTensors;
      const block = await ggnLayerBlock(c.net, c.x, c.y, layer, { chunkSize: 4 });
      assert.equal(tf.memory().numTensors, before);
      const G = explicitGgn(c.ref, c.w, c.X);
      const o = offsets(c.ref)[layer];
      const P = block.size;
      assert.equal(P, c.ref.sizes[layer] * c.ref.sizes[layer + 1] + c.ref.sizes[layer + 1]);
      assert.equal(block.offset, o.k);
      const ref: number[] = [];
      for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) ref.push(G[o.k + i][o.k + j]);
      const e = maxRelErr(block.values, ref);
      assert.ok(e < 1e-3, `block rel err ${e}`);
      const diag = (await curvatureDiagonal(c.net, c.x, c.y, 'ggn')).values;
      const bd = Array.from({ length: P }, (_, i) => block.values[i * P + i]);
      assert.ok(maxRelErr(bd, diag.subarray(o.k, o.k + P)) < 1e-4, 'block diagonal = ggn diagonal');
    } finally {
      c.dispose();
    }
  });
}

test('ggnLayerBlock refuses blocks over the size limit', async () => {
  await backend();
  const c = makeCase([3, 4, 3, 2], 'tanh', 'softmax');
  try {
    await assert.rejects(
      ggnLayerBlock(c.net, c.x, c.y, 0, { maxParams: 10 }),
      (e: unknown) => e instanceof PruneScopeError && e.code === 'too-large',
    );
  } finally {
    c.dispose();
  }
});

test('cancellation between chunks, bad shapes, and no leaks', async () => {
  await backend();
  const c = makeCase([3, 4, 3, 2], 'tanh', 'softmax', 8);
  try {
    const before = tf.memory().numTensors;
    const ac = new AbortController();
    const p = curvatureDiagonal(c.net, c.x, c.y, 'hessian', { chunkSize: 2, signal: ac.signal });
    ac.abort();
    await assert.rejects(p, (e: unknown) => e instanceof CancelledError);
    assert.equal(tf.memory().numTensors, before);
    const bad = tf.zeros([8, 5]) as tf.Tensor2D;
    await assert.rejects(curvatureDiagonal(c.net, bad, c.y, 'ggn'), /x has shape \[8,5\].*expected \[N, 3\]/);
    bad.dispose();
    // a training loop calling gradientMoments repeatedly must not grow the tensor count
    for (let i = 0; i < 5; i++) {
      const m = gradientMoments(c.net, c.x, c.y, { chunkSize: 3 });
      tf.dispose([...m.mean, ...m.variance]);
    }
    assert.equal(tf.memory().numTensors, before);
  } finally {
    c.dispose();
  }
});
