// Symmetric eigendecomposition A = U diag(values) U^T in float64: Householder tridiagonalisation,
// divide and conquer on T, then the blocked back-transformation U = Q V; QL with vectors stays the
// fallback and the path for small n. docs/DESIGN.md; costs against NumPy: bench/linalg.ts.
import { badInput, PruneScopeError } from '../errors';
import { applyQ } from './backTransform';
import type { Tridiagonal } from './tridiagonal';
import { formQt, tridiagonalize } from './tridiagonal';
import { tridiagonalDc } from './tridiagonalDc';
import { tridiagonalQl } from './tridiagonalQl';

/** Below this size the default is QL (LAPACK's dstedc likewise hands small problems to dsteqr). */
const DC_MIN = 32;

export interface EighOptions {
  /** Compute eigenvectors (default true). */
  vectors?: boolean;
  /**
   * Tridiagonal eigensolver: 'dc' divide and conquer (default; falls back to 'ql' if it refuses),
   * 'ql' implicit QL (the previous path). Values only always use QL without vectors (O(n^2)).
   */
  method?: 'dc' | 'ql';
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
  checkInput(a, n);
  const t = tridiagonalize(a, n);
  if (opts.vectors === false) {
    tridiagonalQl(t.d, t.e, n);
    return { values: Float64Array.from(t.d).sort() };
  }
  // Small matrices: QL is as fast, and callers comparing results of different sizes (Belsley's block
  // vs dense tests, with exactly repeated eigenvalues) see the same rounding as before.
  const method = opts.method ?? (n < DC_MIN ? 'ql' : 'dc');
  if (method === 'dc') {
    try {
      return eighDc(t);
    } catch (err) {
      // Divide and conquer refuses (throws) rather than return doubtful vectors; QL is the safety net.
      if (!(err instanceof PruneScopeError) || opts.method === 'dc') throw err;
    }
  }
  const rows = eighQl(t);
  return { values: rows.values, vectors: transpose(rows.rowVectors, n, n) };
}

/**
 * As eigh, but with the eigenvectors as ROWS (row j = eigenvector j, vectors[j * n + i] = U[i][j]),
 * the layout for callers that read whole eigenvectors.
 */
export function eighRows(
  a: Float64Array,
  n: number,
  opts: EighOptions = {},
): { values: Float64Array; rowVectors?: Float64Array } {
  const r = eigh(a, n, opts);
  if (!r.vectors) return { values: r.values };
  return { values: r.values, rowVectors: transpose(r.vectors, n, n) };
}

function checkInput(a: Float64Array, n: number): void {
  if (!Number.isInteger(n) || n < 0 || a.length !== n * n) {
    throw badInput(`matrix has ${a.length} entries`, { field: 'eigh', expected: `n * n = ${n * n} for n = ${n}` });
  }
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]))
      throw new PruneScopeError('numerical', `entry (${Math.floor(i / n)}, ${i % n}) is ${a[i]}`, {
        field: 'eigh',
        expected: 'finite numbers',
      });
  }
}

/** Divide and conquer on T, then U = Q V by blocked reflectors; columns sorted by eigenvalue. */
function eighDc(t: Tridiagonal): EighResult {
  const n = t.n;
  const d = Float64Array.from(t.d);
  const v = tridiagonalDc(d, t.e, n);
  applyQ(t, v, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[x] - d[y] || x - y);
  const values = Float64Array.from(order, (i) => d[i]);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const r = i * n;
    for (let j = 0; j < n; j++) u[r + j] = v[r + order[j]];
  }
  return { values, vectors: u };
}

/** The previous path (implicit QL rotating the rows of Q^T), kept as the fallback. */
function eighQl(t: Tridiagonal): { values: Float64Array; rowVectors: Float64Array } {
  const n = t.n;
  const z = formQt(t);
  t.work = new Float64Array(0); // release the n x n workspace before the QL phase
  tridiagonalQl(t.d, t.e, n, z);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => t.d[x] - t.d[y] || x - y);
  const values = Float64Array.from(order, (i) => t.d[i]);
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
