// The variational fit's Adam (rescaled moments, per-variable learning rates) against the update of
// Kingma & Ba written out in float64, in both its small (one concatenated vector) and
// large (per-variable) modes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend, maxRelErr } from '../helpers';
import { Adam } from '../../src/engine/relevance/variationalAdam';
import { Rng } from '../../src/engine/util/random';

for (const [mode, sizes] of [
  ['flat', [6, 3]],
  ['per-variable', [40000, 5]],
] as const) {
  test(`variational Adam (${mode}) equals Kingma & Ba's update in float64 over several steps`, async () => {
    await backend();
    const rng = new Rng(3);
    const lrs = [0.01, 0.2];
    const b1 = 0.9,
      b2 = 0.999,
      eps = 1e-8;
    const w = sizes.map((n) => Float64Array.from({ length: n }, () => Math.fround(rng.normal())));
    const w0 = w.map((x) => x.slice());
    const vars = w.map((x) => tf.variable(tf.tensor1d(Float32Array.from(x))));
    const m = sizes.map((n) => new Float64Array(n));
    const v = sizes.map((n) => new Float64Array(n));
    const before = tf.memory().numTensors;
    const adam = new Adam(vars, lrs, b1, b2, eps);
    for (let t = 1; t <= 5; t++) {
      // Gradients of very different scales per entry, some exactly 0 (v stays 0 there at t = 1).
      const g = sizes.map((n) =>
        Float64Array.from({ length: n }, (_, j) => (j % 4 === 0 && t === 1 ? 0 : rng.normal() * 10 ** ((j % 5) - 2))),
      );
      const gt = g.map((x) => tf.tensor1d(Float32Array.from(x)));
      adam.step(gt);
      tf.dispose(gt);
      w.forEach((x, i) => {
        for (let j = 0; j < x.length; j++) {
          const gj = Math.fround(g[i][j]);
          m[i][j] = b1 * m[i][j] + (1 - b1) * gj;
          v[i][j] = b2 * v[i][j] + (1 - b2) * gj * gj;
          // Kingma & Ba's efficient form (end of their section 2), which this Adam documents: the
          // bias corrections folded into the step size, eps added to sqrt(v) itself.
          x[j] -= (lrs[i] * (Math.sqrt(1 - b2 ** t) / (1 - b1 ** t)) * m[i][j]) / (Math.sqrt(v[i][j]) + eps);
        }
      });
    }
    // Compare the moves (w - w0), not w: the moves are ~lr, w itself ~1.
    vars.forEach((x, i) => {
      const got = Float64Array.from(x.dataSync(), (a, j) => a - w0[i][j]);
      const want = w[i].map((a, j) => a - w0[i][j]);
      const e = maxRelErr(got, want);
      assert.ok(e < 1e-4, `variable ${i}: rel err ${e} of the moves`);
    });
    adam.dispose();
    assert.equal(tf.memory().numTensors, before);
    for (const x of vars) x.dispose();
  });
}
