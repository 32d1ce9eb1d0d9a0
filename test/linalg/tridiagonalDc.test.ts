// Divide-and-conquer tridiagonal eigensolver against the QL solver and the independent Jacobi
// reference, on random tridiagonals, Wilkinson matrices (pairs of nearly equal eigenvalues), glued
// Wilkinson blocks and repeated spectra (deflation paths), and a graded spectrum logspace(0, -14).
// Also the whole eigh path (tridiagonalisation, D&C, blocked back-transformation) on the same kinds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tridiagonalDc } from '../../src/engine/linalg/tridiagonalDc';
import { tridiagonalQl } from '../../src/engine/linalg/tridiagonalQl';
import { tridiagonalize } from '../../src/engine/linalg/tridiagonal';
import { eigh } from '../../src/engine/linalg/eigh';
import { Rng } from '../../src/engine/util/random';
import { jacobiEigen, logspace, maxAbs, randomOrthogonal, withSpectrum } from './reference';

const EPS = 2 ** -52;

/** max |T - V L V^T| / max|T| and max |V^T V - I| for V with column j = eigenvector j. */
function tridiagResiduals(
  d: Float64Array,
  e: Float64Array,
  vals: Float64Array,
  v: Float64Array,
  n: number,
): { rec: number; orth: number } {
  let tmax = 0;
  for (let i = 0; i < n; i++) tmax = Math.max(tmax, Math.abs(d[i]), i < n - 1 ? Math.abs(e[i]) : 0);
  let rec = 0,
    orth = 0;
  // (T V)[i][j] - lambda_j V[i][j]: with ||V^T V - I|| small this bounds ||T - V L V^T||.
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let tv = d[i] * v[i * n + j];
      if (i > 0) tv += e[i - 1] * v[(i - 1) * n + j];
      if (i < n - 1) tv += e[i] * v[(i + 1) * n + j];
      rec = Math.max(rec, Math.abs(tv - vals[j] * v[i * n + j]));
    }
  const g = new Float64Array(n * n);
  for (let k = 0; k < n; k++)
    for (let i = 0; i < n; i++) {
      const x = v[k * n + i];
      if (x === 0) continue;
      for (let j = 0; j < n; j++) g[i * n + j] += x * v[k * n + j];
    }
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) orth = Math.max(orth, Math.abs(g[i * n + j] - (i === j ? 1 : 0)));
  return { rec: rec / (tmax || 1), orth };
}

function checkDc(name: string, d: Float64Array, e: Float64Array, n: number, jacobi: boolean): void {
  test(`D&C tridiagonal: ${name} (n = ${n})`, () => {
    const vals = Float64Array.from(d);
    const v = tridiagonalDc(vals, e, n);
    const { rec, orth } = tridiagResiduals(d, e, vals, v, n);
    const tol = 20 * n * EPS;
    assert.ok(rec < tol, `||T V - V L|| / ||T|| = ${rec}`);
    assert.ok(orth < tol, `||V^T V - I|| = ${orth}`);
    let tmax = 0;
    for (let i = 0; i < n; i++) tmax = Math.max(tmax, Math.abs(d[i]), Math.abs(e[i]));
    const mine = Array.from(vals).sort((x, y) => x - y);
    const dq = Float64Array.from(d),
      eq = Float64Array.from(e);
    tridiagonalQl(dq, eq, n);
    const ql = Array.from(dq).sort((x, y) => x - y);
    for (let j = 0; j < n; j++)
      assert.ok(Math.abs(mine[j] - ql[j]) <= tol * tmax, `value ${j}: ${mine[j]} vs QL ${ql[j]}`);
    if (jacobi) {
      const full = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        full[i * n + i] = d[i];
        if (i < n - 1) full[i * n + i + 1] = full[(i + 1) * n + i] = e[i];
      }
      const ref = jacobiEigen(full, n).values.sort((x, y) => x - y);
      for (let j = 0; j < n; j++)
        assert.ok(Math.abs(mine[j] - ref[j]) <= tol * tmax, `value ${j}: ${mine[j]} vs Jacobi ${ref[j]}`);
    }
  });
}

function randomTridiagonal(n: number, seed: number): [Float64Array, Float64Array] {
  const rng = new Rng(seed);
  const d = Float64Array.from({ length: n }, () => rng.normal());
  const e = Float64Array.from({ length: n }, (_, i) => (i < n - 1 ? rng.normal() : 0));
  return [d, e];
}

/** Wilkinson W+_n (n odd): d_i = |(n-1)/2 - i|, e = 1; its largest eigenvalues come in pairs within ~1e-14. */
function wilkinson(n: number): [Float64Array, Float64Array] {
  const m = (n - 1) / 2;
  return [
    Float64Array.from({ length: n }, (_, i) => Math.abs(m - i)),
    Float64Array.from({ length: n }, (_, i) => (i < n - 1 ? 1 : 0)),
  ];
}

/** The tridiagonal that tridiagonal.ts makes of Q diag(lambda) Q^T: a known spectrum. */
function tridiagonalWithSpectrum(lambda: number[], seed: number): [Float64Array, Float64Array] {
  const n = lambda.length;
  const t = tridiagonalize(withSpectrum(randomOrthogonal(n, seed), lambda, n), n);
  return [t.d, t.e];
}

checkDc('random', ...randomTridiagonal(90, 1), 90, true);
checkDc('random', ...randomTridiagonal(400, 2), 400, false);
checkDc('Wilkinson W+', ...wilkinson(101), 101, true);
checkDc('Wilkinson W+', ...wilkinson(301), 301, false);
{
  // Four W+_21 blocks glued by 1e-10: every eigenvalue is (nearly) four-fold.
  const [wd, we] = wilkinson(21);
  const n = 84;
  const d = new Float64Array(n),
    e = new Float64Array(n);
  for (let b = 0; b < 4; b++)
    for (let i = 0; i < 21; i++) {
      d[b * 21 + i] = wd[i];
      e[b * 21 + i] = i < 20 ? we[i] : b < 3 ? 1e-10 : 0;
    }
  checkDc('glued Wilkinson blocks (clusters of 4)', d, e, n, true);
}
checkDc(
  'constant diagonal, tiny couplings',
  Float64Array.from({ length: 120 }, () => 1),
  Float64Array.from({ length: 120 }, (_, i) => (i < 119 ? 1e-300 : 0)),
  120,
  true,
);
checkDc(
  'repeated eigenvalues {1 x 40, 2 x 40, 3 x 40}',
  ...tridiagonalWithSpectrum(
    Array.from({ length: 120 }, (_, i) => 1 + Math.floor(i / 40)),
    11,
  ),
  120,
  true,
);
checkDc('graded spectrum logspace(0, -14)', ...tridiagonalWithSpectrum(logspace(0, -14, 150), 12), 150, true);
checkDc('zero matrix', new Float64Array(30), new Float64Array(30), 30, true);

/** Full eigh (D&C path): reconstruction and orthogonality, and the same values as the QL path. */
function checkEigh(name: string, a: Float64Array, n: number): void {
  test(`eigh by divide and conquer: ${name} (n = ${n})`, () => {
    const { values, vectors: u } = eigh(a, n, { method: 'dc' });
    const ql = eigh(a, n, { method: 'ql' }).values;
    let rec = 0,
      orth = 0;
    for (let i = 0; i < n; i++)
      for (let j = i; j < n; j++) {
        let s = 0,
          o = 0;
        for (let k = 0; k < n; k++) {
          s += u![i * n + k] * values[k] * u![j * n + k];
          o += u![k * n + i] * u![k * n + j];
        }
        rec = Math.max(rec, Math.abs(s - a[i * n + j]));
        orth = Math.max(orth, Math.abs(o - (i === j ? 1 : 0)));
      }
    const tol = 20 * n * EPS;
    assert.ok(rec / maxAbs(a) < tol, `||A - U L U^T|| / ||A|| = ${rec / maxAbs(a)}`);
    assert.ok(orth < tol, `||U^T U - I|| = ${orth}`);
    for (let j = 0; j < n; j++) {
      if (j > 0) assert.ok(values[j] >= values[j - 1], 'ascending');
      assert.ok(Math.abs(values[j] - ql[j]) < tol * maxAbs(a) * n, `value ${j}: ${values[j]} vs QL ${ql[j]}`);
    }
  });
}

checkEigh(
  'repeated spectrum {0 x 70, 1 x 70, 5 x 60}',
  withSpectrum(
    randomOrthogonal(200, 21),
    Array.from({ length: 200 }, (_, i) => (i < 70 ? 0 : i < 140 ? 1 : 5)),
    200,
  ),
  200,
);
checkEigh('graded spectrum logspace(0, -14)', withSpectrum(randomOrthogonal(160, 22), logspace(0, -14, 160), 160), 160);
