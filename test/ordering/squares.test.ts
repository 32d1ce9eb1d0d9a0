import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend, maxRelErr } from '../helpers';
import { accumulateSquares } from '../../src/engine/layers/denseSquares';
import { GradientVarianceTracker } from '../../src/engine/ordering/tracker';
import { Rng } from '../../src/engine/util/random';
import { perSampleAutodiff, smallNet } from './util';

/**
 * A batch [n, f] mostly at per-column backgrounds: column 0 all 0, column 1 constant -0.7 (a
 * standardised 0 pixel), column 2 dense, the rest 0 or a column-specific background with ~20 %
 * other values (a few negative ones below the background in the last columns, so the column
 * minimum is not always the background).
 */
function sparseBatch(rng: Rng, n: number, f: number): Float32Array {
  const x = new Float32Array(n * f);
  for (let j = 0; j < f; j++) {
    const bg = j === 1 ? -0.7 : j % 3 === 0 ? 0 : -0.1 * j;
    for (let i = 0; i < n; i++) {
      let v = bg;
      if (j === 2 || (j > 2 && rng.uniform(0, 1) < 0.2)) v = j > f - 3 ? rng.normal() : bg + Math.abs(rng.normal());
      x[i * f + j] = v;
    }
  }
  return x;
}

test('fused per-sample squares: sparse and dense routes equal a float64 loop over samples', async (t) => {
  const info = await backend();
  if (info.name !== 'wasm') {
    t.skip('wasm backend only');
    return;
  }
  const rng = new Rng(31);
  // o = 45 covers the 32-wide blocks, the 4-wide blocks and single outputs; f odd.
  for (const [n, f, o] of [
    [24, 11, 45],
    [128, 37, 300],
    [5, 3, 1],
  ]) {
    const xs = sparseBatch(rng, n, f);
    const rand = (len: number) => Float32Array.from({ length: len }, () => rng.normal());
    const ds = rand(n * o),
      gk = rand(f * o),
      gb = rand(o),
      sk = rand(f * o),
      sb = rand(o);
    // reference: sumK + (1/n) sum_n x^2 d^2 - g^2, same for the bias with x = 1.
    const refK = new Float64Array(f * o),
      refB = new Float64Array(o);
    for (let j = 0; j < f; j++)
      for (let k = 0; k < o; k++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += xs[i * f + j] ** 2 * ds[i * o + k] ** 2;
        refK[j * o + k] = sk[j * o + k] + s / n - gk[j * o + k] ** 2;
      }
    for (let k = 0; k < o; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += ds[i * o + k] ** 2;
      refB[k] = sb[k] + s / n - gb[k] ** 2;
    }
    const a = tf.tensor2d(xs, [n, f]),
      d = tf.tensor2d(ds, [n, o]),
      gK = tf.tensor2d(gk, [f, o]),
      gB = tf.tensor1d(gb);
    const ids = tf.engine().backend.numDataIds();
    for (const maxDensity of [1, 0]) {
      // 1: always the sparse route, 0: always the dense route
      const [sumK, sumB] = tf.tidy(() => [tf.variable(tf.tensor2d(sk, [f, o])), tf.variable(tf.tensor1d(sb))]);
      assert.equal(accumulateSquares(sumK, sumB, a, d, gK, gB, maxDensity), true);
      const errK = maxRelErr(sumK.dataSync(), refK, 1e-3),
        errB = maxRelErr(sumB.dataSync(), refB, 1e-3);
      assert.ok(
        errK < 2e-6 && errB < 2e-6,
        `${n}x${f}x${o} maxDensity ${maxDensity}: kernel rel err ${errK}, bias ${errB}`,
      );
      tf.dispose([sumK, sumB]);
    }
    assert.equal(tf.engine().backend.numDataIds(), ids, 'the kernel leaks backend buffers');
    tf.dispose([a, d, gK, gB]);
  }
});

test('fused per-sample squares: a NaN input reaches its row of the result on the sparse route', async (t) => {
  const info = await backend();
  if (info.name !== 'wasm') {
    t.skip('wasm backend only');
    return;
  }
  const xs = new Float32Array(8 * 4);
  xs[3 * 4 + 2] = NaN;
  xs[5 * 4 + 1] = 2;
  const a = tf.tensor2d(xs, [8, 4]),
    d = tf.ones([8, 3]) as tf.Tensor2D,
    gK = tf.zeros([4, 3]) as tf.Tensor2D,
    gB = tf.zeros([3]) as tf.Tensor1D;
  const sumK = tf.variable(tf.zeros([4, 3])),
    sumB = tf.variable(tf.zeros([3]));
  accumulateSquares(sumK, sumB, a, d, gK, gB, 1);
  const k = sumK.dataSync();
  for (let c = 0; c < 3; c++) {
    assert.ok(Number.isNaN(k[2 * 3 + c]), 'row of the NaN column');
    assert.equal(k[1 * 3 + c], 4 / 8); // 2^2 * 1 / 8
    assert.equal(k[0 * 3 + c], 0);
  }
  tf.dispose([a, d, gK, gB, sumK, sumB]);
});

test('per-sample diag tracker on sparse inputs (sparse route) equals the autodiff per-sample variances', async () => {
  await backend();
  const net = smallNet(13);
  const rng = new Rng(5);
  const p = net.nParams;
  const ref = new Float64Array(p);
  const tr = new GradientVarianceTracker(net, { estimator: 'per-sample', mode: 'diag' });
  const steps = 3;
  for (let s = 0; s < steps; s++) {
    // 16 x 4 inputs, ~15 % of entries off their column's background (0, or -0.5 in column 1).
    const xs = Float32Array.from({ length: 16 * 4 }, (_, i) =>
      rng.uniform(0, 1) < 0.15 ? rng.normal() : i % 4 === 1 ? -0.5 : 0,
    );
    const ys = new Float32Array(16 * 3);
    for (let i = 0; i < 16; i++) ys[i * 3 + rng.int(3)] = 1;
    const x = tf.tensor2d(xs, [16, 4]),
      y = tf.tensor2d(ys, [16, 3]);
    const rows = perSampleAutodiff(net, x, y);
    for (let j = 0; j < p; j++) {
      let m = 0,
        q = 0;
      for (const r of rows) {
        m += r[j] / rows.length;
        q += (r[j] * r[j]) / rows.length;
      }
      ref[j] += (q - m * m) / steps;
    }
    tr.observeBatch(x, y);
    tf.dispose([x, y]);
  }
  const v = tr.variances();
  assert.ok(maxRelErr(v, ref) < 1e-4, `rel err ${maxRelErr(v, ref)}`);
  tr.dispose();
  net.dispose();
});
