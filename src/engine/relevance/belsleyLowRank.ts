// Belsley on a "low-rank plus isotropic diagonal" correlation model R = (1 - rho) Z Z^T + rho I,
// for up to ~1e5 parameters described by K snapshots (the `trajectory` source), without forming R:
// K components from the K x K Gram route plus one pooled complement. O(n K^2); docs/DESIGN.md.
import { badInput, PruneScopeError } from '../errors';
import { gramEig } from '../linalg/gram';
import {
  BELSLEY_DEFINITIONS,
  BelsleyCore,
  belsleyCore,
  BelsleyOrdering,
  BelsleyResult,
  exactRemovalOrder,
} from './belsleyCore';

export interface BelsleyLowRankOptions {
  /** Subtract each parameter's mean over the snapshots first (default true). */
  center?: boolean;
  /** 'fast' (default) or 'exact' (one Gram route per removed parameter, O(n^2 K^2)). */
  ordering?: BelsleyOrdering;
  /** Largest n for 'exact' (default 5000). */
  exactLimit?: number;
  signal?: AbortSignal;
  source?: string;
}

/**
 * snaps: row-major K x n (snapshot a = snaps[a*n .. a*n+n)); rho in (0, 1]: weight of the isotropic part.
 * Result columns: the r low-rank components and (when n > r) the pooled complement, sorted by
 * decreasing condition index; the complement's `multiplicity` is n - r.
 */
export function belsleyLowRank(
  snaps: Float64Array,
  k: number,
  n: number,
  rho: number,
  opts: BelsleyLowRankOptions = {},
): BelsleyResult {
  const file = opts.source;
  if (snaps.length !== k * n || k < 1 || n < 1)
    throw badInput(`snapshot buffer has ${snaps.length} entries`, {
      file,
      field: 'snapshots',
      expected: `K x n = ${k} x ${n}`,
    });
  if (!(rho > 0 && rho <= 1))
    throw badInput(`rho is ${rho}`, {
      file,
      field: 'rho',
      expected: 'a number in (0, 1] (rho = 0 makes R singular when n > K)',
    });
  const z = Float64Array.from(snaps);
  const norm2 = new Float64Array(n);
  const center = opts.center ?? true;
  if (center) {
    const mean = new Float64Array(n);
    for (let a = 0; a < k; a++) for (let i = 0; i < n; i++) mean[i] += z[a * n + i];
    for (let i = 0; i < n; i++) mean[i] /= k;
    for (let a = 0; a < k; a++) for (let i = 0; i < n; i++) z[a * n + i] -= mean[i];
  }
  for (let a = 0; a < k; a++) for (let i = 0; i < n; i++) norm2[i] += z[a * n + i] ** 2;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(norm2[i]))
      throw badInput(`parameter ${i} has a non-finite snapshot value`, {
        file,
        field: `snapshots[*][${i}]`,
        expected: 'finite numbers',
      });
    if (!(norm2[i] > 0))
      throw badInput(`parameter ${i} does not vary across the ${k} snapshots`, {
        file,
        field: `snapshots[*][${i}]`,
        expected: 'a nonzero variance (a constant parameter has no correlation to standardise)',
      });
  }
  const inv = Float64Array.from(norm2, (v) => 1 / Math.sqrt(v));
  for (let a = 0; a < k; a++) for (let i = 0; i < n; i++) z[a * n + i] *= inv[i];

  const ordering = opts.ordering ?? 'fast';
  const limit = opts.exactLimit ?? 5000;
  if (ordering === 'exact' && n > limit)
    throw new PruneScopeError(
      'too-large',
      `exact ordering re-runs the Gram route once per parameter; n = ${n} is above the limit ${limit}`,
      { file, field: 'ordering', expected: `ordering 'fast', or at most ${limit} parameters` },
    );
  const core = lowRankCore(z, k, n, rho);
  const { fastOrder, ...rest } = core;
  const order = ordering === 'fast' ? fastOrder : exactLowRankOrder(z, k, n, rho, core.zeta, opts.signal);
  return { input: 'low-rank', standardized: true, ...rest, ordering, order, definitions: BELSLEY_DEFINITIONS };
}

/** Eigen-system of the model for standardised rows z (K x n), handed to the core. */
function lowRankCore(z: Float64Array, k: number, n: number, rho: number): BelsleyCore {
  const { values, vectorsT, r } = gramEig(z, k, n);
  const c = r < n ? r + 1 : r;
  const lambda = new Float64Array(c);
  for (let j = 0; j < r; j++) lambda[j] = (1 - rho) * values[j] + rho;
  const multiplicity = new Int32Array(c).fill(1);
  if (c > r) {
    lambda[r] = rho;
    multiplicity[r] = n - r;
  }
  const u2 = new Float64Array(n * c);
  for (let j = 0; j < r; j++) {
    const o = j * n;
    for (let i = 0; i < n; i++) u2[i * c + j] = vectorsT[o + i] ** 2;
  }
  if (c > r) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < r; j++) s += u2[i * c + j];
      u2[i * c + r] = Math.max(0, 1 - s); // clamp rounding below zero
    }
  }
  return belsleyCore(lambda, u2, n, c, multiplicity);
}

/**
 * Exact ordering for the model: removing parameter zeta leaves the same model on the remaining rows
 * of Z (rows keep unit length), so each step re-runs the Gram route on a column subset of z. The
 * pooled complement keeps this well defined; a dense eigh of R would instead pick an arbitrary basis
 * of the degenerate rho-eigenspace, and the per-vector proportions would depend on that choice.
 */
function exactLowRankOrder(
  z: Float64Array,
  k: number,
  n: number,
  rho: number,
  firstZeta: number,
  signal?: AbortSignal,
): Int32Array {
  return exactRemovalOrder(
    n,
    firstZeta,
    (remaining) => {
      const m = remaining.length;
      const sub = new Float64Array(k * m);
      for (let a = 0; a < k; a++) for (let t = 0; t < m; t++) sub[a * m + t] = z[a * n + remaining[t]];
      return lowRankCore(sub, k, m, rho).zeta;
    },
    signal,
  );
}

/** The model R densely (for tests and the small exact case): (1 - rho) Z Z^T + rho I. */
export function denseModel(z: Float64Array, k: number, n: number, rho: number): Float64Array {
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let a = 0; a < k; a++) s += z[a * n + i] * z[a * n + j];
      const v = (1 - rho) * s + (i === j ? rho : 0);
      r[i * n + j] = v;
      r[j * n + i] = v;
    }
  }
  return r;
}
