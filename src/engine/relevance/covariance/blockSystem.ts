// One diagonal block of a block-diagonal covariance, as Belsley's block-wise walk needs it
// (blockBelsley.ts): its parameters, its components (eigenvalues of the block's correlation matrix,
// with multiplicities), the variance-decomposition proportions q(row, component) and, per component,
// the not-yet-taken parameter with the largest proportion. Three kinds implement it:
// - dense: the m x m correlation block decomposed in full (this file);
// - kron: a Kronecker-factored block R_A (x) R_G, never formed (kronSystem.ts);
// - low-rank: (1 - rho) Z Z^T + rho I from K snapshots, never formed (lowRankSystem.ts).
import { badInput, PruneScopeError } from '../../errors';
import { eighRows } from '../../linalg/eigh';
import { TIE_TOL } from '../belsleyCore';

export type BlockKind = 'dense' | 'kron' | 'low-rank';

export interface BlockSystem {
  readonly name: string;
  readonly kind: BlockKind;
  /**
   * Flat parameter index of each local row; -1 for a row that takes no part (a pruned weight inside a Kronecker grid).
   */
  readonly params: Int32Array;
  /** Rows that take part (params[i] >= 0). */
  readonly nActive: number;
  /**
   * The largest eigenvalue |lambda| (before any floor): the global floor is relative to the largest over all blocks.
   */
  largestEigenvalue(): number;
  /** Component eigenvalues |lambda| after the floor, ascending (ties: lower local column first). */
  eigenvalues(): Float64Array;
  /** How many eigenvalues each component stands for (1 except a low-rank block's pooled complement). */
  multiplicity(col: number): number;
  /** Apply the eigenvalue floor (called once, before any proportion is read). */
  finish(floor: (l: number) => number): void;
  /** Variance-decomposition proportion of local row `row` on local component `col`. */
  q(row: number, col: number): number;
  /** The row not taken with the largest q on `col` (ties within TIE_TOL: lower flat index); -1 when none is left. */
  argmax(col: number, taken: Uint8Array): number;
  /** Up to k rows with the largest q on `col`, largest first (for the report). */
  top(col: number, k: number): number[];
}

/** Floor relative to the largest eigenvalue, as belsleyCore does: keeps indices finite for a singular block. */
export const EIGEN_FLOOR = 2 ** -52;
export const floorOf = (lmax: number) => (l: number) => Math.max(l, lmax * EIGEN_FLOOR, Number.MIN_VALUE);

/** Index i (of n, skipping taken) with the largest value v(i); ties within TIE_TOL go to the lower key(i). */
export function argmaxBy(n: number, v: (i: number) => number, key: (i: number) => number, taken?: Uint8Array): number {
  let best = -1;
  let bv = -Infinity;
  for (let i = 0; i < n; i++) {
    if (taken && taken[i]) continue;
    const x = v(i);
    const tol = TIE_TOL * Math.max(Math.abs(x), Math.abs(bv));
    if (best < 0 || x > bv + tol || (Math.abs(x - bv) <= tol && key(i) < key(best))) {
      best = i;
      bv = x;
    }
  }
  return best;
}

/** The k indices of [0, n) with the largest v, largest first. */
export function topK(n: number, k: number, v: (i: number) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = v(i);
    if (out.length === k && x <= v(out[k - 1])) continue;
    let p = out.length < k ? out.length : k - 1;
    out[p] = i;
    while (p > 0 && v(out[p - 1]) < x) {
      out[p] = out[p - 1];
      out[--p] = i;
    }
  }
  return out;
}

/** Standardise a symmetric covariance matrix to a correlation matrix (positive, finite diagonal required). */
export function standardize(s: Float64Array, m: number, name: string, label: (i: number) => string): Float64Array {
  if (s.length !== m * m)
    throw badInput(`block ${name} has ${s.length} entries`, { field: 'covariance block', expected: `${m} x ${m}` });
  const inv = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const d = s[i * m + i];
    if (!(d > 0) || !Number.isFinite(d))
      throw new PruneScopeError('numerical', `block ${name}: variance of ${label(i)} is ${d}`, {
        field: 'covariance',
        expected: 'a positive, finite variance',
      });
    inv[i] = 1 / Math.sqrt(d);
  }
  const r = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    r[i * m + i] = 1;
    for (let j = i + 1; j < m; j++) {
      const v = 0.5 * (s[i * m + j] + s[j * m + i]) * inv[i] * inv[j];
      if (!Number.isFinite(v))
        throw new PruneScopeError('numerical', `block ${name}: entry (${i}, ${j}) is ${v}`, {
          field: 'covariance',
          expected: 'finite numbers',
        });
      r[i * m + j] = v;
      r[j * m + i] = v;
    }
  }
  return r;
}

/** Eigen-system of a symmetric m x m matrix with |lambda| ascending and u2[i * m + j] = u_ij^2. */
export function squaredEigen(r: Float64Array, m: number): { lam: Float64Array; u2: Float64Array } {
  if (m === 1) return { lam: Float64Array.of(Math.abs(r[0])), u2: Float64Array.of(1) };
  const { values, rowVectors } = eighRows(r, m);
  const u2 = new Float64Array(m * m);
  for (let j = 0; j < m; j++) for (let i = 0; i < m; i++) u2[i * m + j] = rowVectors![j * m + i] ** 2;
  const lam = Float64Array.from(values, Math.abs);
  // |lambda| can reorder near-zero negative values; keep the columns ascending in |lambda|.
  const cols = Array.from({ length: m }, (_, j) => j).sort((a, b) => lam[a] - lam[b] || a - b);
  if (cols.every((c, j) => c === j)) return { lam, u2 };
  const u2s = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) u2s[i * m + j] = u2[i * m + cols[j]];
  return { lam: Float64Array.from(cols, (c) => lam[c]), u2: u2s };
}

/** Row-normalised proportions q_ij = (u_ij^2 / lambda_j) / sum_k (u_ik^2 / lambda_k) of an n x c system. */
export function proportionsOf(u2: Float64Array, lam: Float64Array, n: number, c: number): Float64Array {
  const q = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) {
      const t = u2[i * c + j] / lam[j];
      q[i * c + j] = t;
      s += t;
    }
    if (s > 0) for (let j = 0; j < c; j++) q[i * c + j] /= s;
  }
  return q;
}

/** A covariance block given in full: the parameters `indices` and their m x m covariance. */
export interface CovBlock {
  /** Shown in errors and in the result (e.g. the layer name). */
  name: string;
  /** Flat parameter index of each row/column. */
  indices: Int32Array;
  /** m x m symmetric, row-major; positive diagonal. */
  matrix: Float64Array;
}

/** The dense block: standardise, decompose in full, proportions from the m x m eigenvectors. */
export class DenseSystem implements BlockSystem {
  readonly kind = 'dense';
  readonly nActive: number;
  private qs: Float64Array = new Float64Array(0);
  private lamF: Float64Array = new Float64Array(0);

  constructor(
    readonly name: string,
    readonly params: Int32Array,
    /** |lambda| ascending (unfloored). */
    readonly lam: Float64Array,
    /** u2[i * m + j] = u_ij^2. */
    readonly u2: Float64Array,
  ) {
    this.nActive = params.length;
  }

  static fromCovariance(b: CovBlock): DenseSystem {
    const m = b.indices.length;
    const r = standardize(b.matrix, m, b.name, (i) => `parameter ${b.indices[i]}`);
    const { lam, u2 } = squaredEigen(r, m);
    return new DenseSystem(b.name, Int32Array.from(b.indices), lam, u2);
  }

  largestEigenvalue(): number {
    return this.lam.length ? this.lam[this.lam.length - 1] : 0;
  }
  eigenvalues(): Float64Array {
    return this.lamF;
  }
  multiplicity(): number {
    return 1;
  }
  finish(floor: (l: number) => number): void {
    const m = this.params.length;
    this.lamF = Float64Array.from(this.lam, floor);
    this.qs = proportionsOf(this.u2, this.lamF, m, m);
  }
  /** The m x m proportions (row = parameter, column = component ascending in lambda). */
  proportions(): Float64Array {
    return this.qs;
  }
  q(row: number, col: number): number {
    return this.qs[row * this.params.length + col];
  }
  argmax(col: number, taken: Uint8Array): number {
    const m = this.params.length;
    return argmaxBy(
      m,
      (i) => this.qs[i * m + col],
      (i) => this.params[i],
      taken,
    );
  }
  top(col: number, k: number): number[] {
    const m = this.params.length;
    return topK(m, k, (i) => this.qs[i * m + col]);
  }
}
