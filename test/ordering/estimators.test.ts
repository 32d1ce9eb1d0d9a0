import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend, batch, maxRelErr } from '../helpers';
import { denseLayout, randomDense } from '../../src/engine/model/denseChain';
import { Graph, disposePass } from '../../src/engine/model/graph';
import { disposeSaved, propagate, sliceSaved } from '../../src/engine/model/backward';
import { lossKindOf, topDelta } from '../../src/engine/model/loss';
import { updateOuter } from '../../src/engine/ordering/covariance';
import { orderByVariance, ranksFromOrder } from '../../src/engine/ordering/rank';
import { GradientVarianceTracker } from '../../src/engine/ordering/tracker';
import { PruneScopeError } from '../../src/engine/errors';
import { autodiffGrad, perSampleAutodiff, smallNet } from './util';

test('METHODS reference: d = [1,0],[0,2],[1,1] gives C_3 = [[2/3,1/3],[1/3,5/3]] whatever C_0 is', async () => {
  await backend();
  for (const c0 of [
    [0, 0, 0, 0],
    [5, -1, 3, 0.25],
  ]) {
    const c = tf.variable(tf.tensor2d(c0, [2, 2]), false);
    [
      [1, 0],
      [0, 2],
      [1, 1],
    ].forEach((d, i) => {
      const dt = tf.tensor1d(d);
      updateOuter(c, dt, i + 1);
      dt.dispose();
    });
    const got = c.dataSync();
    assert.ok(maxRelErr(got, [2 / 3, 1 / 3, 1 / 3, 5 / 3]) < 1e-6, `C_3 = ${Array.from(got)}`);
    // parameter 1 (index 0) has the smaller variance: frozen first.
    assert.deepEqual(Array.from(orderByVariance([got[0], got[3]])), [0, 1]);
    c.dispose();
  }
});

test('essay example: C = diag(0.3, 0.2, 0.25) gives I = [3, 1, 2]', () => {
  const order = orderByVariance([0.3, 0.2, 0.25]);
  assert.deepEqual(Array.from(order), [1, 2, 0]);
  assert.deepEqual(Array.from(ranksFromOrder(order)), [3, 1, 2]);
  // ties: lower flat index first
  assert.deepEqual(Array.from(orderByVariance([0.5, 0.1, 0.5, 0.1])), [1, 3, 0, 2]);
});

for (const head of ['softmax', 'linear'] as const) {
  test(`essay g_1 and g_S from the one backward pass equal tf autodiff (${head} head)`, async () => {
    await backend();
    const net = smallNet(5, head);
    const { x, y } = batch(11, 8, 4, 3, head === 'softmax');
    // One backward pass: at each layer, g_S from the row sums and g_1 from sample 0's rows alone.
    const pass = net.forward(x);
    const delta = topDelta(lossKindOf(net), pass.output as tf.Tensor2D, y);
    const g1 = new Float64Array(net.nParams);
    const gS = new Float64Array(net.nParams);
    const n = x.shape[0];
    propagate(net, pass, {
      start: net.plan.top,
      block: delta,
      c: 1,
      wants: (op) => op.paramCount > 0,
      visit: (op, g, sv) => {
        const w = net.vars[op.index];
        const sums = op.layer.weightStats!(g, sv, w, 1, { sum: true }).sum!;
        const s1 = sliceSaved(sv, 0, 1);
        const g0 = tf.slice(g, 0, 1);
        const ones = op.layer.weightStats!(g0, s1, w, 1, { sum: true }).sum!;
        sums.forEach((t, k) => {
          const off = net.weights[op.weightIndex + k].offset;
          gS.set(
            Array.from(t.dataSync(), (v) => v / n),
            off,
          );
          g1.set(ones[k].dataSync(), off);
        });
        tf.dispose([...sums, ...ones, g0]);
        disposeSaved(s1);
      },
    });
    tf.dispose(delta);
    disposePass(pass);
    const flat = (g: Float64Array) => g;
    const ref1 = autodiffGrad(net, x, y, 0, 1);
    const refS = autodiffGrad(net, x, y);
    assert.ok(maxRelErr(flat(g1), ref1) < 1e-5, `g1 rel err ${maxRelErr(flat(g1), ref1)}`);
    assert.ok(maxRelErr(flat(gS), refS) < 1e-5, `gS rel err ${maxRelErr(flat(gS), refS)}`);
    tf.dispose([x, y]);
    net.dispose();
  });
}

/** Reference per-step statistics from autodiff in float64: essay d d^T and per-sample covariance. */
function reference(net: Graph, x: tf.Tensor2D, y: tf.Tensor2D) {
  const rows = perSampleAutodiff(net, x, y);
  const n = rows.length;
  const p = net.nParams;
  const mean = new Float64Array(p);
  for (const r of rows) for (let j = 0; j < p; j++) mean[j] += r[j] / n;
  const d = rows[0].map((v, j) => v - mean[j]);
  const essay = new Float64Array(p * p);
  const cov = new Float64Array(p * p);
  for (let i = 0; i < p; i++)
    for (let j = 0; j < p; j++) {
      essay[i * p + j] = d[i] * d[j];
      let s = 0;
      for (const r of rows) s += r[i] * r[j];
      cov[i * p + j] = s / n - mean[i] * mean[j];
    }
  return { essay, cov };
}

for (const estimator of ['essay', 'per-sample'] as const) {
  test(`${estimator}: diag, block and full over 3 steps equal the mean of the autodiff statistics`, async () => {
    await backend();
    const net = smallNet(7);
    const p = net.nParams;
    const steps = [1, 2, 3].map((s) => batch(100 + s, 6, 4, 3, true));
    const acc = new Float64Array(p * p);
    for (const { x, y } of steps) {
      const r = reference(net, x, y);
      const src = estimator === 'essay' ? r.essay : r.cov;
      for (let i = 0; i < acc.length; i++) acc[i] += src[i] / steps.length;
    }
    const refDiag = Float64Array.from({ length: p }, (_, j) => acc[j * p + j]);
    const before = tf.memory().numTensors;
    for (const mode of ['diag', 'block', 'full'] as const) {
      const tr = new GradientVarianceTracker(net, { estimator, mode });
      for (const { x, y } of steps) tr.observeBatch(x, y);
      assert.equal(tr.steps, 3);
      const v = tr.variances();
      assert.ok(maxRelErr(v, refDiag) < 1e-4, `${mode} diag rel err ${maxRelErr(v, refDiag)}`);
      if (mode === 'full') {
        const m = tr.blocks()[0].matrix;
        assert.ok(maxRelErr(m, acc) < 1e-4, `full rel err ${maxRelErr(m, acc)}`);
      }
      if (mode === 'block') {
        const blocks = tr.blocks();
        assert.equal(blocks.length, denseLayout(net)!.length);
        for (const b of blocks) {
          const sub = new Float64Array(b.size * b.size);
          for (let i = 0; i < b.size; i++)
            for (let j = 0; j < b.size; j++) sub[i * b.size + j] = acc[(b.offset + i) * p + b.offset + j];
          assert.ok(maxRelErr(b.matrix, sub) < 1e-4, `block ${b.name} rel err ${maxRelErr(b.matrix, sub)}`);
        }
      }
      tr.dispose();
    }
    assert.equal(tf.memory().numTensors, before, 'tracker leaks tensors');
    for (const { x, y } of steps) tf.dispose([x, y]);
    net.dispose();
  });
}

test('essay and per-sample estimates agree in expectation over many steps', async () => {
  // Both estimate Var(g_1); the per-sample one averages N samples per step instead of one, so over
  // many steps on a fixed network their means agree while its spread across runs is smaller.
  await backend();
  const net = smallNet(9);
  const a = new GradientVarianceTracker(net, { estimator: 'essay' });
  const b = new GradientVarianceTracker(net, { estimator: 'per-sample' });
  for (let s = 0; s < 200; s++) {
    const { x, y } = batch(1000 + s, 16, 4, 3, true);
    a.observeBatch(x, y);
    b.observeBatch(x, y);
    tf.dispose([x, y]);
  }
  const va = a.variances(),
    vb = b.variances();
  const sa = va.reduce((s, v) => s + v, 0),
    sb = vb.reduce((s, v) => s + v, 0);
  // E[(g_1 - g_S)^2] = Var * (1 - 1/N); the per-sample population variance has the same expectation.
  assert.ok(Math.abs(sa / sb - 1) < 0.2, `essay total ${sa} vs per-sample total ${sb}`);
  a.dispose();
  b.dispose();
  net.dispose();
});

test('full mode refuses a 784-300-100-10 MLP and names the memory it would need', async () => {
  await backend();
  const net = randomDense(
    {
      inputSize: 784,
      layers: [
        { name: 'h1', units: 300, activation: 'tanh' },
        { name: 'h2', units: 100, activation: 'tanh' },
        { name: 'out', units: 10, activation: 'softmax' },
      ],
    },
    1,
  );
  const n = 784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10;
  const gib = ((n * n * 4) / 1024 ** 3).toFixed(1);
  assert.throws(
    () => new GradientVarianceTracker(net, { mode: 'full' }),
    (e: unknown) =>
      e instanceof PruneScopeError &&
      e.code === 'too-large' &&
      e.message.includes(`${gib} GiB`) &&
      e.message.includes(String(n)),
  );
  net.dispose();
});

test('shared transpose: a^T delta and (a^2)^T (delta^2/N) from one materialised a^T are bit-identical to the transposed matmuls', async () => {
  await backend();
  // MNIST-sized first layer and a small one: a [N, in], delta [N, out].
  for (const [n, m, k, seed] of [
    [128, 784, 300, 3],
    [16, 5, 6, 4],
  ]) {
    const { x: a, y: d } = batch(seed, n, m, k, false);
    const [ref, got, refSq, gotSq] = tf.tidy(() => {
      const aT = tf.transpose(a);
      const d2 = tf.mul(tf.square(d), 1 / n);
      return [
        tf.matMul(a, d, true, false),
        tf.matMul(aT, d),
        tf.matMul(tf.square(a), d2, true, false),
        tf.matMul(tf.square(aT), d2),
      ];
    });
    assert.deepEqual(Array.from(got.dataSync()), Array.from(ref.dataSync()), `a^T delta, ${n}x${m}x${k}`);
    assert.deepEqual(Array.from(gotSq.dataSync()), Array.from(refSq.dataSync()), `(a^2)^T delta^2, ${n}x${m}x${k}`);
    tf.dispose([a, d, ref, got, refSq, gotSq]);
  }
});
