// Symmetric eigendecomposition A = U diag(values) U^T in float64: Householder tridiagonalisation
// (tridiagonal.ts), then implicit QL on T accumulating rotations into the reflectors' Q^T
// (tridiagonalQl.ts), so no separate back-transformation multiply is needed.
//
// Cost at n = 1,000: tridiagonalisation ~4/3 n^3 flops, forming Q^T ~4/3 n^3, and the QL rotations
// ~6 n^3 (about n^2 rotations of 2 rows of length n, measured); the last dominates. LAPACK's syevd
// (NumPy) replaces the QL phase by divide and conquer (~4/3 n^3, mostly matrix multiplies) and runs
// everything as BLAS-3 with SIMD. Closing the gap needs either divide and conquer plus a fast float64
// matmul, or the hot loops (applySweep, formQt, the fused pass) in WebAssembly SIMD; see bench/linalg.ts.
import { badInput, PruneScopeError } from '../errors';
import { formQt, tridiagonalize } from './tridiagonal';
import { tridiagonalQl } from './tridiagonalQl';

export interface EighOptions {
  /** Compute eigenvectors (default true). */
  vectors?: boolean;
}

export interface EighResult {
  /** Eigenvalues in ascending order. */
  values: Float64Array;
  /**
   * Eigenvectors, row-major n x n, COLUMN j is the unit eigenvector for values[j]:
   * U[i][j] = vectors[i * n + j]. Present when opts.vectors !== false.
   */
  vectors?: Float64Array;
}

/**
 * Eigenvalues (ascending) and optionally eigenvectors of the symmetric matrix `a` (row-major n x n).
 * Only the upper triangle is read; `a` is not modified.
 */
export function eigh(a: Float64Array, n: number, opts: EighOptions = {}): EighResult {
  const rows = eighRows(a, n, opts);
  if (!rows.rowVectors) return { values: rows.values };
  return { values: rows.values, vectors: transpose(rows.rowVectors, n, n) };
}

/**
 * As eigh, but with the eigenvectors as ROWS (row j = eigenvector j, vectors[j * n + i] = U[i][j]):
 * the natural output of the algorithm, cheaper when a caller reads whole eigenvectors.
 */
export function eighRows(a: Float64Array, n: number, opts: EighOptions = {}): { values: Float64Array; rowVectors?: Float64Array } {
  if (!Number.isInteger(n) || n < 0 || a.length !== n * n) {
    throw badInput(`matrix has ${a.length} entries`, { field: 'eigh', expected: `n * n = ${n * n} for n = ${n}` });
  }
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new PruneScopeError('numerical', `entry (${Math.floor(i / n)}, ${i % n}) is ${a[i]}`, { field: 'eigh', expected: 'finite numbers' });
  }
  const wantVectors = opts.vectors !== false;
  const t = tridiagonalize(a, n);
  const z = wantVectors ? formQt(t) : undefined;
  t.work = new Float64Array(0); // release the n x n workspace before the QL phase
  tridiagonalQl(t.d, t.e, n, z);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => t.d[x] - t.d[y] || x - y);
  const values = Float64Array.from(order, (i) => t.d[i]);
  if (!z) return { values };
  const sorted = new Float64Array(n * n);
  for (let j = 0; j < n; j++) sorted.set(z.subarray(order[j] * n, order[j] * n + n), j * n);
  return { values, rowVectors: sorted };
}

/** Out-of-place transpose of a row-major r x c matrix, in cache blocks. */
export function transpose(m: Float64Array, r: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  const B = 32;
  for (let i0 = 0; i0 < r; i0 += B) {
    const i1 = Math.min(r, i0 + B);
    for (let j0 = 0; j0 < c; j0 += B) {
      const j1 = Math.min(c, j0 + B);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * r + i] = m[i * c + j];
    }
  }
  return out;
}
