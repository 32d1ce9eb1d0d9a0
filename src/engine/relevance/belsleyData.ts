// Belsley, Kuh & Welsch's classic collinearity diagnostic on a data matrix X (m rows x p columns):
// optional intercept column of ones (first), every column scaled to unit Euclidean length (not
// centred: BKW keep the intercept in the diagnostic), SVD X = U diag(mu) V^T by one-sided Jacobi
// (accurate small mu; eig(X^T X) would square the condition number). With lambda = mu^2 the
// proportions are phi_kj = (v_kj^2 / mu_j^2) / sum_l (v_kl^2 / mu_l^2) and BKW's index is
// mu_max / mu_j = sqrt(lambda_max / lambda_j); the essay's index is its square.
import { badInput, PruneScopeError } from '../errors';
import { svdJacobi } from '../linalg/svdJacobi';
import {
  argmaxColumn,
  BELSLEY_DEFINITIONS,
  belsleyCore,
  BelsleyOrdering,
  BelsleyResult,
  exactRemovalOrder,
} from './belsleyCore';

export interface BelsleyDataOptions {
  /** Prepend a column of ones (it becomes column 0 of the result). */
  intercept?: boolean;
  /** Default 'exact' (p is small for a data matrix). */
  ordering?: BelsleyOrdering;
  /** Largest p for the exact ordering (default 200). */
  exactLimit?: number;
  source?: string;
  signal?: AbortSignal;
}

/** Diagnostic for row-major m x p `x`. Columns of the result: [intercept,] x's columns in order. */
export function belsleyData(x: Float64Array, m: number, p: number, opts: BelsleyDataOptions = {}): BelsleyResult {
  const file = opts.source;
  if (x.length !== m * p || m < 1 || p < 1)
    throw badInput(`data matrix has ${x.length} entries`, {
      file,
      field: 'matrix',
      expected: `m x p with m, p >= 1 (m = ${m}, p = ${p})`,
    });
  const q = p + (opts.intercept ? 1 : 0);
  const ordering = opts.ordering ?? 'exact';
  const limit = opts.exactLimit ?? 200;
  if (ordering === 'exact' && q > limit)
    throw new PruneScopeError('too-large', `exact ordering with ${q} columns is above the limit ${limit}`, {
      file,
      field: 'ordering',
      expected: `--ordering fast, or at most ${limit} columns`,
    });
  // Scaled columns, column-major for the column-length pass; then back to row-major for the SVD.
  const xs = new Float64Array(m * q);
  for (let j = 0; j < q; j++) {
    const src = opts.intercept ? j - 1 : j;
    let ss = 0;
    for (let i = 0; i < m; i++) {
      const v = src < 0 ? 1 : x[i * p + src];
      if (!Number.isFinite(v))
        throw badInput(`entry (row ${i}, column ${src}) is ${v}`, {
          file,
          field: 'matrix',
          expected: 'finite numbers',
        });
      ss += v * v;
    }
    if (!(ss > 0))
      throw badInput(`column ${src} is all zeros`, {
        file,
        field: `column ${src}`,
        expected: 'a column with a nonzero entry (it cannot be scaled to unit length)',
      });
    const inv = 1 / Math.sqrt(ss);
    for (let i = 0; i < m; i++) xs[i * q + j] = (src < 0 ? 1 : x[i * p + src]) * inv;
  }
  const core = decomposeData(xs, m, q);
  const order = ordering === 'fast' ? core.fastOrder : exactDataOrder(xs, m, q, core.zeta, opts.signal);
  const { fastOrder: _unused, ...rest } = core;
  return { input: 'data', standardized: true, ...rest, ordering, order, definitions: BELSLEY_DEFINITIONS };
}

function decomposeData(xs: Float64Array, m: number, q: number) {
  const { sigma, v } = svdJacobi(xs, m, q);
  const lambda = Float64Array.from(sigma, (s) => s * s);
  const u2 = Float64Array.from(v, (t) => t * t); // v[i*q + j] = v_ij: already parameter-major
  return belsleyCore(lambda, u2, q, q);
}

/** Exact ordering on columns: drop zeta's column, redo the SVD on the rest, repeat. */
function exactDataOrder(xs: Float64Array, m: number, q: number, firstZeta: number, signal?: AbortSignal): Int32Array {
  return exactRemovalOrder(
    q,
    firstZeta,
    (remaining) => {
      const c = remaining.length;
      const sub = new Float64Array(m * c);
      for (let i = 0; i < m; i++) for (let a = 0; a < c; a++) sub[i * c + a] = xs[i * q + remaining[a]];
      const core = decomposeData(sub, m, c);
      return argmaxColumn(core.proportions, c, c, core.xi, new Uint8Array(c));
    },
    signal,
  );
}
