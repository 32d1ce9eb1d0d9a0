// One-sided Jacobi SVD and the K x K Gram route, against explicit references.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { svdJacobi } from '../../src/engine/linalg/svdJacobi';
import { gramEig } from '../../src/engine/linalg/gram';
import { Rng } from '../../src/engine/util/random';
import { jacobiEigen, logspace, randomOrthogonal } from './reference';

test('Jacobi SVD recovers singular values logspace(0, -12) of X = Q1[:, :p] diag(s) Q2^T', () => {
  const m = 20,
    p = 6;
  const q1 = randomOrthogonal(m, 1),
    q2 = randomOrthogonal(p, 2);
  const s = logspace(0, -12, p);
  const x = new Float64Array(m * p);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < p; j++) {
      let v = 0;
      for (let k = 0; k < p; k++) v += q1[i * m + k] * s[k] * q2[j * p + k];
      x[i * p + j] = v;
    }
  const { sigma, u, v } = svdJacobi(x, m, p);
  for (let k = 0; k < p; k++) assert.ok(Math.abs(sigma[k] - s[k]) < 1e-14, `sigma[${k}] = ${sigma[k]} vs ${s[k]}`);
  // Reconstruction U diag(sigma) V^T = X and V orthogonal.
  for (let i = 0; i < m; i++)
    for (let j = 0; j < p; j++) {
      let r = 0;
      for (let k = 0; k < p; k++) r += u[i * p + k] * sigma[k] * v[j * p + k];
      assert.ok(Math.abs(r - x[i * p + j]) < 1e-14);
    }
  for (let a = 0; a < p; a++)
    for (let b = 0; b < p; b++) {
      let d = 0;
      for (let k = 0; k < p; k++) d += v[k * p + a] * v[k * p + b];
      assert.ok(Math.abs(d - (a === b ? 1 : 0)) < 1e-14);
    }
});

test('Gram route gives the nonzero eigenpairs of the explicit Y Y^T', () => {
  const k = 6,
    n = 25;
  const rng = new Rng(5);
  const snaps = Float64Array.from({ length: k * n }, () => rng.normal());
  const yyt = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let a = 0; a < k; a++) s += snaps[a * n + i] * snaps[a * n + j];
      yyt[i * n + j] = s;
    }
  const ref = jacobiEigen(yyt, n);
  const idx = ref.values.map((_, i) => i).sort((a, b) => ref.values[b] - ref.values[a]);
  const g = gramEig(snaps, k, n);
  assert.equal(g.r, k);
  for (let j = 0; j < k; j++) {
    const want = ref.values[idx[j]];
    assert.ok(Math.abs(g.values[j] - want) < 1e-12 * ref.values[idx[0]], `value ${j}: ${g.values[j]} vs ${want}`);
    const u = g.vectorsT.subarray(j * n, j * n + n);
    const w = ref.vectors[idx[j]];
    const dot = u.reduce((s, x, i) => s + x * w[i], 0);
    assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-10, `vector ${j}: |u . u_ref| = ${Math.abs(dot)}`);
  }
  // The remaining n - K eigenvalues of Y Y^T are zero.
  for (let j = k; j < n; j++) assert.ok(Math.abs(ref.values[idx[j]]) < 1e-12 * ref.values[idx[0]]);
});

test('Gram route drops null directions of a rank-deficient Y', () => {
  const k = 5,
    n = 30;
  const rng = new Rng(9);
  const snaps = new Float64Array(k * n);
  for (let a = 0; a < 3; a++) for (let i = 0; i < n; i++) snaps[a * n + i] = rng.normal();
  // Snapshots 3 and 4 are combinations of 0..2: rank 3.
  for (let i = 0; i < n; i++) {
    snaps[3 * n + i] = snaps[i] - 2 * snaps[n + i];
    snaps[4 * n + i] = 0.5 * snaps[2 * n + i] + snaps[n + i];
  }
  assert.equal(gramEig(snaps, k, n).r, 3);
});
