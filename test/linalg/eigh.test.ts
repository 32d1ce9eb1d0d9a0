// eigh: reconstruction and orthogonality on random symmetric matrices, and the known spectrum of
// ill-conditioned Q diag(logspace(0, -14)) Q^T.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eigh, eighRows } from '../../src/engine/linalg/eigh';
import { PruneScopeError } from '../../src/engine/errors';
import { logspace, maxAbs, randomOrthogonal, randomSymmetric, residuals, withSpectrum } from './reference';

const EPS = 2 ** -52;

for (const n of [1, 2, 5, 50, 300]) {
  test(`eigh reconstructs a random symmetric ${n} x ${n} matrix with orthonormal vectors`, () => {
    const a = randomSymmetric(n, 100 + n);
    const { values, vectors } = eigh(a, n);
    assert.ok(vectors);
    for (let j = 1; j < n; j++) assert.ok(values[j] >= values[j - 1], 'ascending');
    const { rec, orth } = residuals(a, values, vectors, n);
    const tol = 20 * Math.max(n, 4) * EPS;
    assert.ok(rec / maxAbs(a) < tol, `||A - U L U^T|| / ||A|| = ${rec / maxAbs(a)}`);
    assert.ok(orth < tol, `||U^T U - I|| = ${orth}`);
    // Trace is the sum of eigenvalues (independent of the vectors).
    let tr = 0,
      sum = 0;
    for (let i = 0; i < n; i++) {
      tr += a[i * n + i];
      sum += values[i];
    }
    assert.ok(Math.abs(tr - sum) < tol * n * maxAbs(a));
  });
}

for (const n of [5, 50, 300]) {
  test(`eigh recovers the spectrum logspace(0, -14) of an ill-conditioned ${n} x ${n} matrix`, () => {
    const lambda = logspace(0, -14, n);
    const a = withSpectrum(randomOrthogonal(n, 7 + n), lambda, n);
    const { values, vectors } = eigh(a, n);
    const want = [...lambda].sort((x, y) => x - y);
    let err = 0;
    for (let j = 0; j < n; j++) err = Math.max(err, Math.abs(values[j] - want[j]));
    // Backward stability: errors relative to the largest eigenvalue (= 1), not to each one.
    assert.ok(err < 20 * n * EPS, `max eigenvalue error ${err}`);
    const { orth } = residuals(a, values, vectors!, n);
    assert.ok(orth < 20 * n * EPS, `orthogonality ${orth}`);
  });
}

test('eigh of a diagonal matrix and of a matrix with repeated eigenvalues', () => {
  const d = new Float64Array([3, 0, 0, 0, -1, 0, 0, 0, 2]);
  assert.deepEqual(Array.from(eigh(d, 3, { vectors: false }).values), [-1, 2, 3]);
  // I + 1 1^T in 4-D: eigenvalues 1 (x3) and 5.
  const n = 4;
  const a = new Float64Array(n * n).map((_, i) => (i % (n + 1) === 0 ? 2 : 1));
  const { values, vectors } = eigh(a, n);
  [1, 1, 1, 5].forEach((w, j) => assert.ok(Math.abs(values[j] - w) < 1e-14));
  assert.ok(residuals(a, values, vectors!, n).orth < 1e-14);
});

test('eighRows gives the transpose of eigh vectors (row j = eigenvector j)', () => {
  const n = 6;
  const a = randomSymmetric(n, 3);
  const cols = eigh(a, n).vectors!;
  const rows = eighRows(a, n).rowVectors!;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) assert.equal(rows[j * n + i], cols[i * n + j]);
});

test('eigh rejects a wrong size and non-finite entries', () => {
  assert.throws(
    () => eigh(new Float64Array(5), 2),
    (e: unknown) => e instanceof PruneScopeError && /n \* n = 4/.test(e.message),
  );
  assert.throws(
    () => eigh(new Float64Array([1, NaN, NaN, 1]), 2),
    (e: unknown) => e instanceof PruneScopeError && e.code === 'numerical',
  );
});
