// Belsley relevance on a dense covariance (or correlation) matrix S (METHODS.md 2.6): standardise to
// R = D^-1/2 S D^-1/2, decompose, and rank parameters by their share in the worst near-dependency.
// The covariance *source* (Laplace, trajectory, gradient...) is chosen by the caller.
import { badInput, PruneScopeError } from '../errors';
import { eighRows } from '../linalg/eigh';
import { RELEVANCE_DEFAULTS } from '../options';
import {
  argmaxColumn,
  BELSLEY_DEFINITIONS,
  belsleyCore,
  BelsleyOrdering,
  BelsleyResult,
  exactRemovalOrder,
} from './belsleyCore';

export { BELSLEY_DEFINITIONS, proportionRows } from './belsleyCore';
export type { BelsleyOrdering, BelsleyResult } from './belsleyCore';

export interface BelsleyOptions {
  /** Standardise S to a correlation matrix first (default true; false = the unstandardised reference case). */
  standardize?: boolean;
  /** 'covariance' (default) or 'correlation' (then the diagonal must be 1). */
  input?: 'covariance' | 'correlation';
  /** Default: 'exact' up to exactLimit parameters, 'fast' beyond. */
  ordering?: BelsleyOrdering;
  /** Largest n for the O(n^4) exact ordering (default 200). */
  exactLimit?: number;
  /** Named in error messages (e.g. the file the matrix came from). */
  source?: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Belsley diagnostic and ordering of the n parameters of the symmetric n x n matrix `s` (row-major). */
export function belsley(s: Float64Array, n: number, opts: BelsleyOptions = {}): BelsleyResult {
  const file = opts.source;
  const input = opts.input ?? 'covariance';
  const standardize = opts.standardize ?? true;
  const limit = opts.exactLimit ?? RELEVANCE_DEFAULTS.exactOrderingLimit;
  const ordering = opts.ordering ?? (n <= limit ? 'exact' : 'fast');
  if (!Number.isInteger(n) || n < 1 || s.length !== n * n)
    throw badInput(`matrix has ${s.length} entries`, {
      file,
      field: 'matrix',
      expected: `a square n x n matrix with n >= 1 (n = ${n})`,
    });
  if (ordering === 'exact' && n > limit) {
    throw new PruneScopeError(
      'too-large',
      `exact Belsley ordering recomputes the decomposition n times (O(n^4)); n = ${n} is above the limit ${limit}`,
      { file, field: 'ordering', expected: `--ordering fast, or at most ${limit} parameters` },
    );
  }
  const r = prepare(s, n, input, standardize, file);
  const core = decompose(r, n);
  const order = ordering === 'fast' ? core.fastOrder : exactOrder(r, n, core.zeta, opts);
  const { fastOrder: _unused, ...rest } = core;
  return { input, standardized: standardize, ...rest, ordering, order, definitions: BELSLEY_DEFINITIONS };
}

/** Check symmetry and the diagonal, then standardise (or copy). Returns a fresh symmetric matrix. */
function prepare(
  s: Float64Array,
  n: number,
  input: 'covariance' | 'correlation',
  standardize: boolean,
  file?: string,
): Float64Array {
  let scale = 0;
  for (let i = 0; i < n * n; i++) {
    const v = s[i];
    if (!Number.isFinite(v))
      throw badInput(`entry (row ${Math.floor(i / n)}, column ${i % n}) is ${v}`, {
        file,
        field: 'matrix',
        expected: 'finite numbers',
      });
    scale = Math.max(scale, Math.abs(v));
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (Math.abs(s[i * n + j] - s[j * n + i]) > 1e-10 * scale) {
        throw badInput(`not symmetric at (row ${i}, column ${j}): ${s[i * n + j]} vs ${s[j * n + i]}`, {
          file,
          field: 'matrix',
          expected: 'a symmetric covariance or correlation matrix',
        });
      }
    }
    const dii = s[i * n + i];
    if (standardize && !(dii > 0))
      throw badInput(`diagonal entry (row ${i}, column ${i}) is ${dii}`, {
        file,
        field: 'matrix',
        expected: 'a positive variance on the diagonal',
      });
    if (input === 'correlation' && Math.abs(dii - 1) > 1e-8)
      throw badInput(`diagonal entry (row ${i}, column ${i}) is ${dii}`, {
        file,
        field: 'matrix',
        expected: '1 on the diagonal of a correlation matrix',
      });
  }
  const r = new Float64Array(n * n);
  const inv = Float64Array.from({ length: n }, (_, i) => (standardize ? 1 / Math.sqrt(s[i * n + i]) : 1));
  for (let i = 0; i < n; i++) {
    r[i * n + i] = standardize ? 1 : s[i * n + i];
    for (let j = i + 1; j < n; j++) {
      const v = 0.5 * (s[i * n + j] + s[j * n + i]) * inv[i] * inv[j];
      r[i * n + j] = v;
      r[j * n + i] = v;
    }
  }
  return r;
}

/** Eigen-decompose R and hand lambda and u_ij^2 to the core. */
function decompose(r: Float64Array, n: number) {
  const { values, rowVectors } = eighRows(r, n);
  const u2 = new Float64Array(n * n);
  // rowVectors[j*n + i] = u_ij; the core wants u2[i*n + j].
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) u2[i * n + j] = rowVectors![j * n + i] ** 2;
  return belsleyCore(values, u2, n, n);
}

/** METHODS.md 2.6 step 6, exact: remove zeta, re-decompose the remaining submatrix, repeat. */
function exactOrder(r: Float64Array, n: number, firstZeta: number, opts: BelsleyOptions): Int32Array {
  return exactRemovalOrder(
    n,
    firstZeta,
    (remaining) => {
      const m = remaining.length;
      const sub = new Float64Array(m * m);
      for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) sub[a * m + b] = r[remaining[a] * n + remaining[b]];
      const core = decompose(sub, m);
      return argmaxColumn(core.proportions, m, m, core.xi, new Uint8Array(m));
    },
    opts.signal,
    opts.onProgress,
  );
}
