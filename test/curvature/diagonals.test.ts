// Hessian, GGN and empirical-Fisher diagonals and gradient moments against float64 references:
// finite differences check the float64 recursion to 1e-6; the backend (float32) result is checked
// against float64 to 1e-3 relative (maxRelErr: scale = largest |reference| entry).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend, maxRelErr } from '../helpers';
import { HIDDEN_ACTIVATIONS, Activation } from '../../src/engine/model/activations';
import { curvatureDiagonal, gradientVariance, gradientMoments } from '../../src/engine/curvature';
import { fdHessianDiag, fdSampleGrads, explicitGgn, recursionDiag, meanLoss } from './reference64';
import { makeCase } from './fixtures';
import { flatten } from '../../src/engine/model/graph';

const ARCHS: { sizes: number[]; heads: Activation[] }[] = [
  { sizes: [3, 4, 3, 2], heads: ['softmax', 'linear', 'sigmoid'] },
  { sizes: [2, 3, 1], heads: ['linear', 'sigmoid'] },
];
const worst: Record<string, number> = {};
const note = (k: string, e: number) => {
  worst[k] = Math.max(worst[k] ?? 0, e);
};

for (const { sizes, heads } of ARCHS)
  for (const head of heads)
    for (const act of HIDDEN_ACTIVATIONS) {
      test(`${sizes.join('-')} ${act} hidden, ${head} head: hessian, ggn, fisher, variance`, async () => {
        await backend();
        const c = makeCase(sizes, act, head);
        const before = tf.memory().numTensors;
        try {
          // float64: the recursion against finite differences
          const hRef = recursionDiag(c.ref, c.w, c.X, c.Y, true);
          const hFd = fdHessianDiag(c.ref, c.w, c.X, c.Y);
          const e1 = maxRelErr(hRef, hFd);
          note('hessian64 vs fd', e1);
          assert.ok(e1 < 1e-6, `float64 hessian recursion vs FD: ${e1}`);
          const gRef = recursionDiag(c.ref, c.w, c.X, c.Y, false);
          const G = explicitGgn(c.ref, c.w, c.X);
          const e2 = maxRelErr(
            gRef,
            G.map((r, i) => r[i]),
          );
          note('ggn64 vs explicit JtHJ', e2);
          assert.ok(e2 < 1e-6, `float64 ggn recursion vs explicit J^T H J: ${e2}`);

          if (['tanh', 'sigmoid', 'softplus', 'softsign'].includes(act)) {
            assert.ok(
              maxRelErr(gRef, hRef) > 1e-2,
              "the f'' terms matter here, so this case discriminates hessian from ggn",
            );
          }
          // backend (float32) against float64
          const h = await curvatureDiagonal(c.net, c.x, c.y, 'hessian');
          const e3 = maxRelErr(h.values, hRef);
          note('hessian f32 vs f64', e3);
          assert.ok(e3 < 1e-3, `hessian: ${e3}`);
          assert.ok(Math.abs(h.loss - meanLoss(c.ref, c.w, c.X, c.Y)) < 1e-5 * Math.max(1, h.loss));
          const g = await curvatureDiagonal(c.net, c.x, c.y, 'ggn');
          const e4 = maxRelErr(g.values, gRef);
          note('ggn f32 vs f64', e4);
          assert.ok(e4 < 1e-3, `ggn: ${e4}`);
          if (act === 'relu' || act === 'linear') {
            if (head !== 'sigmoid')
              assert.ok(maxRelErr(h.values, g.values) < 1e-6, 'piecewise-linear net: hessian = ggn');
          }

          const grads = fdSampleGrads(c.ref, c.w, c.X, c.Y);
          const N = c.X.length;
          const mean = grads[0].map((_, j) => grads.reduce((s, gn) => s + gn[j], 0) / N);
          const fisherRef = mean.map((_, j) => grads.reduce((s, gn) => s + gn[j] ** 2, 0) / N);
          const varRef = mean.map((m, j) => grads.reduce((s, gn) => s + (gn[j] - m) ** 2, 0) / N);
          const f = await curvatureDiagonal(c.net, c.x, c.y, 'fisher');
          const e5 = maxRelErr(f.values, fisherRef);
          note('fisher f32 vs fd64', e5);
          assert.ok(e5 < 1e-3, `fisher: ${e5}`);
          const v = await gradientVariance(c.net, c.x, c.y);
          const e6 = maxRelErr(v.variance, varRef);
          note('variance f32 vs fd64', e6);
          const e7 = maxRelErr(v.mean, mean);
          note('mean f32 vs fd64', e7);
          assert.ok(e6 < 1e-3 && e7 < 1e-3, `variance ${e6}, mean ${e7}`);
          const m = gradientMoments(c.net, c.x, c.y);
          const mv = flatten(c.net, m.variance);
          tf.dispose([...m.mean, ...m.variance]);
          assert.ok(maxRelErr(mv, varRef) < 1e-3);
          assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
        } finally {
          c.dispose();
        }
      });
    }

test('deeper tanh chain (residual terms travel as signed factors) and chunking', async () => {
  await backend();
  for (const head of ['sigmoid', 'softmax'] as const) {
    const c = makeCase([2, 3, 4, 3, 2], 'tanh', head, 7);
    try {
      const hRef = recursionDiag(c.ref, c.w, c.X, c.Y, true);
      const e0 = maxRelErr(hRef, fdHessianDiag(c.ref, c.w, c.X, c.Y));
      assert.ok(e0 < 1e-6, `float64 recursion vs FD ${e0}`);
      const before = tf.memory().numTensors;
      for (const chunkSize of [undefined, 1, 3]) {
        const h = await curvatureDiagonal(c.net, c.x, c.y, 'hessian', { chunkSize });
        const e = maxRelErr(h.values, hRef);
        note('deep hessian f32 vs f64', e);
        assert.ok(e < 1e-3, `${head} chunk ${chunkSize}: ${e}`);
        const f = await curvatureDiagonal(c.net, c.x, c.y, 'fisher', { chunkSize });
        const v = await gradientVariance(c.net, c.x, c.y, { chunkSize });
        assert.ok(
          f.values.every((fv, j) => fv >= v.variance[j] - 1e-6),
          'E[g^2] >= Var[g]',
        );
      }
      assert.equal(tf.memory().numTensors, before);
      assert.ok(
        hRef.some((v) => v < 0),
        'the exact Hessian diagonal has negative entries here, and we keep them',
      );
    } finally {
      c.dispose();
    }
  }
});

test('worst relative errors (reported)', () => {
  console.log(JSON.stringify(worst));
  assert.ok(Object.keys(worst).length > 0);
});
