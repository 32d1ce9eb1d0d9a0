// Householder tridiagonalisation, WebAssembly (two-row fused loops) and TypeScript paths: each must give
// Q T Q^T = A with Q orthogonal (Q formed by formQt, T from d, e), and the two paths' T must have the same
// eigenvalues (computed here by an independent bisection on Sturm counts) to ~1e-13 relative. Odd and
// even n exercise the two-row loop's leftover row; zero columns force identity reflectors (beta = 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tridiagonal } from '../../src/engine/linalg/tridiagonal';
import { formQt, tridiagonalize, tridiagonalizeTs } from '../../src/engine/linalg/tridiagonal';
import { withWasmLinalg } from '../../src/engine/linalg/wasmKernels';
import { maxAbs, randomSymmetric } from './reference';

const EPS = 2 ** -52;

/** max |Q T Q^T - A| and max |Q^T Q - I|, Q^T given row-major (row j = column j of Q). */
function reconstruction(a: Float64Array, t: Tridiagonal): { rec: number; orth: number } {
  const n = t.n;
  const z = formQt(t);
  const q = (i: number, k: number) => z[k * n + i];
  const m = new Float64Array(n * n); // Q T
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      let s = t.d[k] * q(i, k);
      if (k > 0) s += t.e[k - 1] * q(i, k - 1);
      if (k < n - 1) s += t.e[k] * q(i, k + 1);
      m[i * n + k] = s;
    }
  let rec = 0,
    orth = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0,
        o = 0;
      for (let k = 0; k < n; k++) {
        s += m[i * n + k] * q(j, k);
        o += z[i * n + k] * z[j * n + k];
      }
      rec = Math.max(rec, Math.abs(s - a[i * n + j]));
      orth = Math.max(orth, Math.abs(o - (i === j ? 1 : 0)));
    }
  return { rec, orth };
}

/** Eigenvalues of the tridiagonal (d, e) by bisection on the Sturm sequence count (ascending). */
function sturmEigenvalues(d: Float64Array, e: Float64Array, n: number): number[] {
  let r = 0;
  for (let i = 0; i < n; i++)
    r = Math.max(r, Math.abs(d[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0) + (i < n - 1 ? Math.abs(e[i]) : 0));
  const below = (x: number) => {
    let c = 0,
      q = 1;
    for (let i = 0; i < n; i++) {
      q = d[i] - x - (i > 0 ? (e[i - 1] * e[i - 1]) / q : 0);
      if (q === 0) q = EPS * r;
      if (q < 0) c++;
    }
    return c;
  };
  return Array.from({ length: n }, (_, j) => {
    let lo = -r - 1,
      hi = r + 1;
    for (let it = 0; it < 200 && hi - lo > 2 * EPS * r; it++) {
      const mid = (lo + hi) / 2;
      if (below(mid) > j) hi = mid;
      else lo = mid;
    }
    return (lo + hi) / 2;
  });
}

function withZeroColumns(n: number, seed: number, zero: number[]): Float64Array {
  const a = randomSymmetric(n, seed);
  for (const c of zero) for (let i = 0; i < n; i++) if (i !== c) a[i * n + c] = a[c * n + i] = 0;
  return a;
}

const cases: [string, number, Float64Array][] = [
  ['random 40', 40, randomSymmetric(40, 11)],
  ['random 41', 41, randomSymmetric(41, 12)],
  ['random 130', 130, randomSymmetric(130, 13)],
  ['random 131 with zero columns (identity reflectors)', 131, withZeroColumns(131, 14, [0, 5, 6, 60, 129])],
];

for (const [name, n, a] of cases) {
  test(`tridiagonalisation ${name}: wasm and TS give Q T Q^T = A, orthogonal Q, the same spectrum`, () => {
    const tol = 20 * n * EPS;
    const wasm = tridiagonalize(a, n);
    const ts = withWasmLinalg(false, () => tridiagonalize(a, n));
    const ref = tridiagonalizeTs(a, n);
    for (const t of [wasm, ts]) {
      const { rec, orth } = reconstruction(a, t);
      assert.ok(rec / maxAbs(a) < tol, `||Q T Q^T - A|| / ||A|| = ${rec / maxAbs(a)}`);
      assert.ok(orth < tol, `||Q^T Q - I|| = ${orth}`);
    }
    const lw = sturmEigenvalues(wasm.d, wasm.e, n),
      lt = sturmEigenvalues(ref.d, ref.e, n);
    const scale = Math.max(...lt.map(Math.abs));
    for (let j = 0; j < n; j++)
      assert.ok(Math.abs(lw[j] - lt[j]) < 1e-13 * scale, `eigenvalue ${j}: ${lw[j]} vs ${lt[j]}`);
  });
}
