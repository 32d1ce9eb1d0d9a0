// Curvature on graphs (fan-out, a residual Add, a Concatenate, curved and piecewise-linear layers,
// softmax and sigmoid-regression heads): every diagonal against float64 references built from the
// GraphSpec forward and central finite differences alone (graph64.ts), the backend to 1e-3; the
// MC-GGN's mean over many sampled labels approaches the exact GGN (fixed seed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backend, maxRelErr } from '../helpers';
import { curvatureDiagonal } from '../../src/engine/curvature';
import { residualSpec } from '../model/graphFixtures';
import { ggnDiag64, hessianDiag64 } from './graph64';
import { checkAllDiagonals, graphCase } from './graphCases';

test('residual Add + Concatenate, tanh and relu, softmax head: hessian, ggn, fisher, variance', async () => {
  await backend();
  const c = graphCase(residualSpec(true), true, 5, 1);
  try {
    const e = await checkAllDiagonals(c, 'residual softmax');
    // The tanh layer's f'' terms matter here: the Hessian is not the GGN.
    assert.ok(maxRelErr(hessianDiag64(c.p), ggnDiag64(c.p)) > 1e-2, 'a case that separates hessian from ggn');
    console.log('residual softmax', JSON.stringify(e));
  } finally {
    c.dispose();
  }
});

test('residual Add + Concatenate, sigmoid regression head (a curved output layer)', async () => {
  await backend();
  const c = graphCase(residualSpec(false), false, 4, 2);
  try {
    console.log('residual sigmoid', JSON.stringify(await checkAllDiagonals(c, 'residual sigmoid')));
  } finally {
    c.dispose();
  }
});

test('MC-GGN: the mean over many sampled labels approaches the exact GGN (fixed seed)', async () => {
  await backend();
  for (const classification of [true, false]) {
    const c = graphCase(residualSpec(classification), classification, 6, 3);
    try {
      const exact = (await curvatureDiagonal(c.graph, c.x, c.y, 'ggn')).values;
      const one = (await curvatureDiagonal(c.graph, c.x, c.y, 'mc-ggn', { seed: 7 })).values;
      const many = (await curvatureDiagonal(c.graph, c.x, c.y, 'mc-ggn', { seed: 7, samples: 3000 })).values;
      const e1 = maxRelErr(one, exact);
      const eMany = maxRelErr(many, exact);
      // One sample per example is unbiased but noisy; 3000 shrink the error by ~sqrt(3000) ~ 55.
      assert.ok(e1 > 0.05, `one sample is a noisy estimate (${e1}), so the test discriminates`);
      assert.ok(eMany < 0.05, `${classification ? 'softmax' : 'mse'}: mean of 3000 samples within 5 %: ${eMany}`);
      assert.ok(eMany < e1 / 5, `error shrinks with samples: ${e1} -> ${eMany}`);
      // Same seed, same result.
      const again = (await curvatureDiagonal(c.graph, c.x, c.y, 'mc-ggn', { seed: 7 })).values;
      assert.deepEqual(again, one);
    } finally {
      c.dispose();
    }
  }
});
