// Belsley's diagnostic from an eigen-system (METHODS.md 2.6 steps 3-6): condition indices, variance-
// decomposition proportions, xi, zeta and the fast ordering. Input is given as eigenvalues plus the
// SQUARED loadings u_ij^2, so the same code serves a dense decomposition, the SVD of a data matrix
// (lambda = sigma^2) and the low-rank model whose pooled complement has no individual eigenvectors.
import { transpose } from '../linalg/eigh';
import { throwIfCancelled } from '../errors';
import type { BelsleyOrdering } from '../options';

export type { BelsleyOrdering };

/** What each field of a Belsley result means; carried in every result so a plot can label itself. */
export const BELSLEY_DEFINITIONS = {
  conditionIndices: 'essay (4.2): eta_j = lambda_max / lambda_j, decreasing',
  conditionIndicesBKW:
    'Belsley, Kuh, Welsch 1980: sqrt(lambda_max / lambda_j) (= sigma_max / sigma_j for a data matrix)',
  eigenvalues:
    '|lambda_j| of the decomposed matrix (sigma_j^2 for a data matrix), floored at lambda_max * 2^-52, same column order',
  proportions:
    'q_ij = (u_ij^2 / lambda_j) / sum_k (u_ik^2 / lambda_k): row i = parameter/column i, column j = component j; rows sum to 1',
  xi: 'component column with the largest condition index (4.2)',
  zeta: 'parameter with the largest proportion on component xi (4.4); ties: lower index',
  order: 'least relevant first; exact = remove zeta and recompute; fast = one decomposition, see belsleyCore.fastOrder',
} as const;

export interface BelsleyResult {
  input: 'covariance' | 'correlation' | 'data' | 'low-rank';
  /** Whether the matrix was standardised to a correlation matrix (data: columns scaled to unit length). */
  standardized: boolean;
  /** Parameters (rows of `proportions`). */
  nParams: number;
  /** Components (columns of `proportions`). */
  nComponents: number;
  /** Essay's eta_j = lambda_max / lambda_j, decreasing. */
  conditionIndices: Float64Array;
  /** Belsley's sqrt(lambda_max / lambda_j), same order. */
  conditionIndicesBKW: Float64Array;
  /** |lambda_j| (floored), ascending, same column order. */
  eigenvalues: Float64Array;
  /** How many eigenvalues each column stands for (1, except the low-rank model's pooled complement). */
  multiplicity: Int32Array;
  /** Row-major nParams x nComponents, q_ij. */
  proportions: Float64Array;
  xi: number;
  zeta: number;
  ordering: BelsleyOrdering;
  /** Parameter indices, least relevant first. */
  order: Int32Array;
  definitions: typeof BELSLEY_DEFINITIONS;
}

export type BelsleyCore = Omit<BelsleyResult, 'input' | 'standardized' | 'ordering' | 'order' | 'definitions'> & {
  fastOrder: Int32Array;
};

/** Relative tolerance under which two proportions count as tied (then the lower index wins). */
export const TIE_TOL = 1e-12;
const FLOOR = 2 ** -52;

/**
 * lambda: c eigenvalues (any sign, any order); u2: row-major n x c squared loadings, u2[i*c+j] = u_ij^2.
 * multiplicity defaults to 1 per column.
 */
export function belsleyCore(
  lambda: ArrayLike<number>,
  u2: Float64Array,
  n: number,
  c: number,
  multiplicity?: Int32Array,
): BelsleyCore {
  let lmax = 0;
  for (let j = 0; j < c; j++) lmax = Math.max(lmax, Math.abs(lambda[j]));
  // |lambda| because the sign of a near-zero eigenvalue is rounding noise; the floor keeps indices
  // finite when an eigenvalue is exactly zero (such a component then takes the proportions, as it should).
  const lam = Float64Array.from({ length: c }, (_, j) => Math.max(Math.abs(lambda[j]), lmax * FLOOR, Number.MIN_VALUE));
  const cols = Array.from({ length: c }, (_, j) => j).sort((a, b) => lam[a] - lam[b] || a - b);
  const eigenvalues = Float64Array.from(cols, (j) => lam[j]);
  const top = eigenvalues[c - 1] ?? 0;
  const conditionIndices = Float64Array.from(eigenvalues, (l) => top / l);
  const conditionIndicesBKW = Float64Array.from(conditionIndices, Math.sqrt);
  const mult = Int32Array.from(cols, (j) => (multiplicity ? multiplicity[j] : 1));
  const q = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    const r = i * c;
    let sum = 0;
    for (let jj = 0; jj < c; jj++) {
      const t = u2[r + cols[jj]] / eigenvalues[jj];
      q[r + jj] = t;
      sum += t;
    }
    if (sum > 0) for (let jj = 0; jj < c; jj++) q[r + jj] /= sum;
  }
  const xi = 0; // columns are sorted by decreasing eta (ties keep the lower original column first)
  const zeta = argmaxColumn(q, n, c, xi, new Uint8Array(n));
  return {
    nParams: n,
    nComponents: c,
    conditionIndices,
    conditionIndicesBKW,
    eigenvalues,
    multiplicity: mult,
    proportions: q,
    xi,
    zeta,
    fastOrder: fastOrder(q, n, c),
  };
}

/** Index of the largest q[i][col] over i not taken; ties (within TIE_TOL) go to the lower index. */
export function argmaxColumn(q: Float64Array, n: number, c: number, col: number, taken: Uint8Array): number {
  let best = -1;
  let bv = -Infinity;
  for (let i = 0; i < n; i++) {
    if (taken[i]) continue;
    const v = q[i * c + col];
    if (best < 0 || v > bv + TIE_TOL * Math.max(Math.abs(v), Math.abs(bv))) {
      best = i;
      bv = v;
    }
  }
  return best;
}

/**
 * METHODS.md 2.6 step 6, exact: take zeta, remove it, re-decompose what remains, repeat. The loop is
 * shared by the dense matrix, the data matrix and the low-rank model; only the re-decomposition
 * differs: `nextZeta` gets the original indices still in play (at least two, in order) and returns
 * the position in that list of the next zeta.
 */
export function exactRemovalOrder(
  n: number,
  firstZeta: number,
  nextZeta: (remaining: readonly number[]) => number,
  signal?: AbortSignal,
  onProgress?: (done: number, total: number) => void,
): Int32Array {
  const remaining = Array.from({ length: n }, (_, i) => i);
  const order: number[] = [];
  let zeta = firstZeta;
  while (remaining.length > 1) {
    throwIfCancelled(signal, 'Belsley exact ordering');
    order.push(remaining[zeta]);
    remaining.splice(zeta, 1);
    onProgress?.(order.length, n);
    if (remaining.length === 1) break;
    zeta = nextZeta(remaining);
  }
  order.push(remaining[0]);
  return Int32Array.from(order);
}

/**
 * The fast ordering from one decomposition. Phase 1 (METHODS.md 2.6 step 6): walk the components by
 * decreasing eta and take, for each, the not-yet-taken parameter with the largest proportion on it.
 * Phase 2, when there are more parameters than components (the low-rank model): the rest follow by
 * decreasing proportion on the highest-eta component, ties broken by the next component, and so on,
 * then by lower index. (Phase 2 is this module's rule, not the essay's; it ranks first the parameters
 * most involved in the worst near-dependency, which is what phase 1 does one at a time.)
 */
export function fastOrder(q: Float64Array, n: number, c: number): Int32Array {
  const taken = new Uint8Array(n);
  const order: number[] = [];
  // Column scans on the transpose are contiguous (matters for n ~ 1e5 parameters x K components).
  const qt = transpose(q, n, c);
  for (let j = 0; j < c && order.length < n; j++) {
    const i = argmaxColumn(qt.subarray(j * n, j * n + n), n, 1, 0, taken);
    taken[i] = 1;
    order.push(i);
  }
  if (order.length < n) {
    const rest: number[] = [];
    for (let i = 0; i < n; i++) if (!taken[i]) rest.push(i);
    rest.sort((a, b) => {
      for (let j = 0; j < c; j++) {
        const x = q[a * c + j],
          y = q[b * c + j];
        if (Math.abs(x - y) > TIE_TOL * Math.max(Math.abs(x), Math.abs(y))) return y - x;
      }
      return a - b;
    });
    for (const i of rest) order.push(i);
  }
  return Int32Array.from(order);
}

/** Proportions as one array per parameter (for JSON and plots). */
export function proportionRows(r: Pick<BelsleyResult, 'proportions' | 'nParams' | 'nComponents'>): number[][] {
  const c = r.nComponents;
  return Array.from({ length: r.nParams }, (_, i) => Array.from(r.proportions.subarray(i * c, i * c + c)));
}
