// sigma = softplus(rho) and sigmoid(rho) from the variational fit's SIMD kernel (and whatever
// softplusParts picks on this backend) against float64 closed forms over the whole float32 range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { sigmaOf, softplusParts, withSoftplusSigmoid } from '../../src/engine/relevance/variationalSoftplus';

const softplus64 = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
const sigmoid64 = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** Max relative error where the reference is a normal float32 (below, float32 itself gives up). */
function relErr(got: ArrayLike<number>, x: ArrayLike<number>, ref: (x: number) => number): { err: number; at: number } {
  let err = 0,
    at = NaN;
  for (let i = 0; i < x.length; i++) {
    const r = ref(x[i]);
    if (!(r > 1.2e-38) || !Number.isFinite(r)) continue;
    const e = Math.abs(got[i] - r) / r;
    if (e > err) {
      err = e;
      at = x[i];
    }
  }
  return { err, at };
}

// A fine grid over [-110, 60], exact zeros, the underflow edge ln 2^-126 ~ -87.34, and huge values;
// an odd length exercises the kernel's padding to groups of four.
const grid = Float32Array.from([
  ...Array.from({ length: 170001 }, (_, i) => -110 + i * 0.001),
  0,
  -0,
  1e-30,
  -1e-30,
  -87.33,
  -87.34,
  -87.35,
  -103,
  1e30,
  -1e30,
]);

test('softplus/sigmoid kernel: relative error within a few float32 ulps of float64 for every rho', () => {
  const out = withSoftplusSigmoid(grid, (s, g) => ({ s: s.slice(), g: g.slice() }));
  if (!out) return; // no WebAssembly here: softplusParts falls back to tf.softplus (next test)
  const s = relErr(out.s, grid, softplus64);
  const g = relErr(out.g, grid, sigmoid64);
  assert.ok(s.err < 4e-7, `softplus rel err ${s.err} at rho = ${s.at}`);
  assert.ok(g.err < 4e-7, `sigmoid rel err ${g.err} at rho = ${g.at}`);
  // Past the float32 range of e^rho both are 0 (not denormal garbage, not NaN).
  const i = grid.indexOf(Math.fround(-103));
  assert.equal(out.s[i], 0);
  assert.equal(out.g[i], 0);
});

test('softplus/sigmoid kernel: NaN stays NaN, +Inf gives (Inf, 1), -Inf gives (0, 0)', () => {
  const out = withSoftplusSigmoid(Float32Array.from([NaN, Infinity, -Infinity]), (s, g) => ({
    s: Array.from(s),
    g: Array.from(g),
  }));
  if (!out) return;
  assert.ok(Number.isNaN(out.s[0]) && Number.isNaN(out.g[0]));
  assert.deepEqual([out.s[1], out.g[1], out.s[2], out.g[2]], [Infinity, 1, 0, 0]);
});

test('softplusParts on this backend: shapes kept, values match float64, sigmaOf the same sigma, no leak', async () => {
  await backend();
  const x = grid.subarray(80000, 80000 + 7 * 301); // rho in [-30, -27.9]: tiny sigmas
  const y = Float32Array.from({ length: 7 * 301 }, (_, i) => -12 + (14 * i) / (7 * 301));
  for (const values of [x, y]) {
    const rho = tf.tensor2d(values, [7, 301]);
    const before = tf.memory().numTensors;
    const { sigma, slope } = softplusParts(rho);
    assert.deepEqual(sigma.shape, [7, 301]);
    assert.deepEqual(slope.shape, [7, 301]);
    // tfjs's own softplus (the fallback) is accurate to ~5e-7 over this range.
    const s = relErr(sigma.dataSync(), values, softplus64);
    const g = relErr(slope.dataSync(), values, sigmoid64);
    assert.ok(s.err < 1e-6 && g.err < 1e-6, `rel err softplus ${s.err} at ${s.at}, sigmoid ${g.err} at ${g.at}`);
    const only = sigmaOf(rho);
    assert.deepEqual(Array.from(only.dataSync()), Array.from(sigma.dataSync()));
    tf.dispose([sigma, slope, only]);
    assert.equal(tf.memory().numTensors, before);
    rho.dispose();
  }
});
