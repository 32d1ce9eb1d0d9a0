// Householder reduction of a symmetric matrix to tridiagonal form, Q^T A Q = T, in float64.
//
// Why this shape: JavaScript has no BLAS, so the cost is memory traffic and loop overhead, not
// flops. We therefore (1) keep only the upper triangle (half the bytes), always walked along rows
// (contiguous), and (2) fuse the symmetric rank-2 update of step k with the symmetric matrix-vector
// product of step k+1 into ONE pass over the trailing matrix: after updating row k+1 first, the
// next Householder vector is known, so every later row is updated and immediately dotted with it
// while it is still in L1. The upper-triangular matvec needs both y_i += a_ij v_j and y_j += a_ij v_i
// for j > i, and both run along row i.

import { wasmKernels } from './wasmKernels';

export interface Tridiagonal {
  /** Diagonal of T, length n. */
  d: Float64Array;
  /** Off-diagonal of T: e[i] = T[i][i+1], length n (e[n-1] = 0). */
  e: Float64Array;
  /**
   * The reflectors, stored for formQt: row k (columns k+1..n-1) of `work` holds v_k, and beta[k] is
   * its scale (H_k = I - beta_k v_k v_k^T acts on indices k+1..n-1; beta_k = 0 means H_k = I).
   */
  work: Float64Array;
  beta: Float64Array;
  n: number;
}

/**
 * Reduce symmetric `a` (row-major n x n; only the upper triangle is read; not modified). Runs the same
 * algorithm in WebAssembly SIMD (wasm/tridiag_f64.c) when available, else tridiagonalizeTs.
 */
export function tridiagonalize(a: Float64Array, n: number): Tridiagonal {
  return (n >= WASM_MIN_N && tridiagonalizeWasm(a, n)) || tridiagonalizeTs(a, n);
}

const WASM_MIN_N = 16;

function tridiagonalizeWasm(a: Float64Array, n: number): Tridiagonal | undefined {
  const k = wasmKernels();
  if (!k) return undefined;
  // Layout in linear memory: w (n x n), d, e, beta, p, wv (n each).
  const pw = k.heap,
    pd = pw + 8 * n * n,
    pe = pd + 8 * n,
    pbeta = pe + 8 * n,
    pp = pbeta + 8 * n,
    pwv = pp + 8 * n;
  try {
    k.ensure(8 * (n * n + 5 * n));
  } catch {
    return undefined;
  }
  let f = k.f64();
  const w0 = pw / 8;
  f.set(a, w0); // the whole matrix: one memcpy; the lower triangle is never read
  f.fill(0, pd / 8, pwv / 8 + n);
  k.ex.tridiag(pw, n, pd, pe, pbeta, pp, pwv);
  f = k.f64();
  return {
    d: f.slice(pd / 8, pd / 8 + n),
    e: f.slice(pe / 8, pe / 8 + n),
    beta: f.slice(pbeta / 8, pbeta / 8 + n),
    work: f.slice(w0, w0 + n * n),
    n,
  };
}

/** The TypeScript reduction (reference and fallback). */
export function tridiagonalizeTs(a: Float64Array, n: number): Tridiagonal {
  const w = new Float64Array(n * n);
  // Copy the upper triangle only: the lower one is never read.
  for (let i = 0; i < n; i++) w.set(a.subarray(i * n + i, i * n + n), i * n + i);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const beta = new Float64Array(n);
  if (n === 0) return { d, e, work: w, beta, n };
  const p = new Float64Array(n); // A22 v for the current step
  const wv = new Float64Array(n); // the rank-2 update vector w

  // Step 0's reflector and matvec are computed in a plain pass; later ones are fused.
  beta[0] = makeReflector(w, 0, n, e);
  if (beta[0] !== 0) symv(w, n, 1, 0, p);

  for (let k = 0; k < n - 1; k++) {
    d[k] = w[k * n + k];
    const b = beta[k];
    const rk = k * n;
    const s = k + 1; // first index of the trailing block
    if (b === 0) {
      // Identity reflector: nothing to update; the next step still needs its reflector and matvec.
      if (k + 1 < n - 1) {
        beta[k + 1] = makeReflector(w, k + 1, n, e);
        if (beta[k + 1] !== 0) symv(w, n, k + 2, (k + 1) * n, p);
      }
      continue;
    }
    // p <- beta A22 v; w <- p - (beta/2)(p.v) v
    let pv = 0;
    for (let j = s; j < n; j++) {
      p[j] *= b;
      pv += p[j] * w[rk + j];
    }
    const half = 0.5 * b * pv;
    for (let j = s; j < n; j++) wv[j] = p[j] - half * w[rk + j];

    // Update row s (= k+1) first: its tail becomes the next step's Householder vector.
    {
      const rs = s * n;
      const vs = w[rk + s];
      const ws = wv[s];
      for (let j = s; j < n; j++) w[rs + j] -= vs * wv[j] + ws * w[rk + j];
    }
    const nextHas = s < n - 1;
    const bn = nextHas ? makeReflector(w, s, n, e) : 0;
    if (nextHas) beta[s] = bn;
    const rs = s * n;
    const fuse = nextHas && bn !== 0;
    if (fuse) p.fill(0, s + 1, n);
    // One pass over rows i >= k+2: rank-2 update, fused with the next matvec p' = A22' v'.
    for (let i = s + 1; i < n; i++) {
      const ri = i * n;
      const vi = w[rk + i];
      const wi = wv[i];
      if (fuse) {
        const vni = w[rs + i];
        const aii = w[ri + i] - 2 * vi * wi;
        w[ri + i] = aii;
        let acc = aii * vni;
        for (let j = i + 1; j < n; j++) {
          const u = w[ri + j] - vi * wv[j] - wi * w[rk + j];
          w[ri + j] = u;
          acc += u * w[rs + j];
          p[j] += u * vni;
        }
        p[i] += acc;
      } else {
        for (let j = i; j < n; j++) w[ri + j] -= vi * wv[j] + wi * w[rk + j];
      }
    }
    if (nextHas && !fuse) {
      // Next reflector is the identity; nothing else to prepare.
    }
  }
  d[n - 1] = w[(n - 1) * n + n - 1];
  e[n - 1] = 0;
  return { d, e, work: w, beta, n };
}

/**
 * Householder reflector for row k's tail x = w[k][k+1..n-1]: H x = alpha e_1 with alpha = -sign(x0)||x||
 * (the sign avoids cancellation in v0 = x0 - alpha). Writes e[k] = alpha, stores v over x, returns beta.
 */
function makeReflector(w: Float64Array, k: number, n: number, e: Float64Array): number {
  const r = k * n;
  const s = k + 1;
  if (s >= n) {
    e[k] = 0;
    return 0;
  }
  const x0 = w[r + s];
  let tail = 0;
  for (let j = s + 1; j < n; j++) tail += w[r + j] * w[r + j];
  if (tail === 0) {
    e[k] = x0;
    return 0;
  }
  const norm = Math.sqrt(x0 * x0 + tail);
  const alpha = x0 >= 0 ? -norm : norm;
  const v0 = x0 - alpha;
  w[r + s] = v0;
  e[k] = alpha;
  return 2 / (v0 * v0 + tail);
}

/** p[j] = sum_i A[j][i] v[i] over j, i >= s, A symmetric stored in the upper triangle of w. */
function symv(w: Float64Array, n: number, s: number, vOff: number, p: Float64Array): void {
  p.fill(0, s, n);
  for (let i = s; i < n; i++) {
    const ri = i * n;
    const vi = w[vOff + i];
    let acc = w[ri + i] * vi;
    for (let j = i + 1; j < n; j++) {
      const u = w[ri + j];
      acc += u * w[vOff + j];
      p[j] += u * vi;
    }
    p[i] += acc;
  }
}

/**
 * Form Z = Q^T (row-major n x n), so that row j of Z is column j of Q. Z = H_{n-2} ... H_0 is built by
 * right-multiplying I by H_k for k descending. Reflectors go in pairs: for each row z,
 *   z H_k H_{k-1} = z - a1 v_k - a2 v_{k-1},  a1 = b_k (z.v_k),  a2 = b_{k-1} (z.v_{k-1} - a1 v_k.v_{k-1}),
 * so one pass computes both dots and one pass applies both updates: half the row traffic.
 */
export function formQt(t: Tridiagonal): Float64Array {
  const { n, work: w, beta } = t;
  const z = new Float64Array(n * n);
  for (let i = 0; i < n; i++) z[i * n + i] = 1;
  let k = n - 2;
  for (; k >= 1; k -= 2) {
    const b1 = beta[k],
      b2 = beta[k - 1];
    if (b1 === 0 && b2 === 0) continue;
    const o1 = k * n,
      o2 = (k - 1) * n;
    let g = 0;
    if (b1 !== 0) for (let j = k + 1; j < n; j++) g += w[o1 + j] * w[o2 + j];
    const v2k = w[o2 + k];
    // Before this pair Z is the identity outside rows/columns >= k+2, so only rows k.. change.
    for (let r = k; r < n; r++) {
      const rr = r * n;
      let d1 = 0;
      let d2 = z[rr + k] * v2k;
      for (let j = k + 1; j < n; j++) {
        const zj = z[rr + j];
        d1 += zj * w[o1 + j];
        d2 += zj * w[o2 + j];
      }
      const a1 = b1 * d1;
      const a2 = b2 * (d2 - a1 * g);
      if (a1 === 0 && a2 === 0) continue;
      z[rr + k] -= a2 * v2k;
      if (b1 === 0) {
        for (let j = k + 1; j < n; j++) z[rr + j] -= a2 * w[o2 + j];
      } else {
        for (let j = k + 1; j < n; j++) z[rr + j] -= a1 * w[o1 + j] + a2 * w[o2 + j];
      }
    }
  }
  if (k === 0 && beta[0] !== 0) {
    const b = beta[0];
    for (let r = 1; r < n; r++) {
      const rr = r * n;
      let acc = 0;
      for (let j = 1; j < n; j++) acc += z[rr + j] * w[j];
      if (acc === 0) continue;
      acc *= b;
      for (let j = 1; j < n; j++) z[rr + j] -= acc * w[j];
    }
  }
  return z;
}
