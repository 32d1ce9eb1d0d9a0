// Nonzero eigenpairs of Y Y^T for a tall n x K matrix Y (n parameters, K snapshots, K << n) from the
// K x K Gram matrix G = Y^T Y: if G v = s v with s > 0, then u = Y v / sqrt(s) is a unit
// eigenvector of Y Y^T with the same eigenvalue, and every other eigenvalue of Y Y^T is zero.
// Cost O(n K^2) and O(n K) memory; the n x n matrix is never formed.
//
// Layout: snapshots as ROWS, `snaps` is row-major K x n (snapshot a is snaps[a*n .. a*n+n)), which is
// how a trajectory is recorded. Both products below then walk long contiguous rows.
import { badInput } from '../errors';
import { eigh } from './eigh';
import { gemmWasm, view } from './gemm';

export interface GramEigResult {
  /** Nonzero eigenvalues of Y Y^T kept (relative to the largest, above `relTol`), descending. */
  values: Float64Array;
  /** Row-major r x n: row j is the unit eigenvector u_j of Y Y^T for values[j] (r = values.length). */
  vectorsT: Float64Array;
  /** Rank kept. */
  r: number;
  n: number;
}

/**
 * Eigenpairs of Y Y^T, Y = snaps^T (n x K). Eigenvalues with s <= relTol * s_max are treated as zero
 * (their u = Y v / sqrt(s) would be rounding noise) and dropped.
 */
export function gramEig(snaps: Float64Array, k: number, n: number, relTol = 1e-12): GramEigResult {
  if (snaps.length !== k * n)
    throw badInput(`snapshot buffer has ${snaps.length} entries`, { field: 'snapshots', expected: `K * n = ${k * n}` });
  const g = gramRows(snaps, k, n);
  const { values, vectors } = eigh(g, k);
  const smax = k > 0 ? Math.max(0, values[k - 1]) : 0;
  const keep: number[] = [];
  for (let j = k - 1; j >= 0; j--) if (values[j] > relTol * smax && values[j] > 0) keep.push(j);
  const r = keep.length;
  // Coefficients C (r x K): u_j = sum_a C[j][a] snaps[a], C[j][a] = v_a,j / sqrt(s_j).
  const coef = new Float64Array(r * k);
  keep.forEach((j, row) => {
    const inv = 1 / Math.sqrt(values[j]);
    for (let a = 0; a < k; a++) coef[row * k + a] = vectors![a * k + j] * inv;
  });
  return { values: Float64Array.from(keep, (j) => values[j]), vectorsT: combineRows(coef, r, snaps, k, n), r, n };
}

/** G = S S^T for row-major K x n S: symmetric, computed on column chunks so the K rows stay in cache. */
export function gramRows(s: Float64Array, k: number, n: number): Float64Array {
  const g = new Float64Array(k * k);
  // WebAssembly SIMD GEMM (S S^T in full: twice the flops of the triangle, still faster than the
  // TypeScript loop below, bench/NOTES.md); the mirrored copy keeps G exactly symmetric.
  if (k > 0 && n > 0 && gemmWasm(false, true, k, k, n, 1, view(s, n), view(s, n), 0, view(g, k))) {
    for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) g[b * k + a] = g[a * k + b];
    return g;
  }
  const CH = 1024;
  for (let c0 = 0; c0 < n; c0 += CH) {
    const c1 = Math.min(n, c0 + CH);
    let a = 0;
    // 2 x 2 register blocks on the upper triangle.
    for (; a + 1 < k; a += 2) {
      const ra = a * n,
        rb = ra + n;
      for (let b = a; b < k; b += 2) {
        const rc = b * n;
        if (b + 1 < k) {
          const rd = rc + n;
          let s00 = 0,
            s01 = 0,
            s10 = 0,
            s11 = 0;
          for (let i = c0; i < c1; i++) {
            const x0 = s[ra + i],
              x1 = s[rb + i],
              y0 = s[rc + i],
              y1 = s[rd + i];
            s00 += x0 * y0;
            s01 += x0 * y1;
            s10 += x1 * y0;
            s11 += x1 * y1;
          }
          g[a * k + b] += s00;
          g[a * k + b + 1] += s01;
          g[(a + 1) * k + b] += s10;
          g[(a + 1) * k + b + 1] += s11;
        } else {
          let s00 = 0,
            s10 = 0;
          for (let i = c0; i < c1; i++) {
            const y0 = s[rc + i];
            s00 += s[ra + i] * y0;
            s10 += s[rb + i] * y0;
          }
          g[a * k + b] += s00;
          g[(a + 1) * k + b] += s10;
        }
      }
    }
    if (a < k) {
      const ra = a * n;
      let s00 = 0;
      for (let i = c0; i < c1; i++) s00 += s[ra + i] * s[ra + i];
      g[a * k + a] += s00;
    }
  }
  // The 2x2 blocks wrote g[a+1][a] (below the diagonal) once per diagonal block; mirror from upper.
  for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) g[b * k + a] = g[a * k + b];
  return g;
}

/** Out = C S for C (r x K) and S (K x n) row-major: each output row is a combination of S's rows. */
export function combineRows(c: Float64Array, r: number, s: Float64Array, k: number, n: number): Float64Array {
  const out = new Float64Array(r * n);
  if (r > 0 && k > 0 && n > 0 && gemmWasm(false, false, r, n, k, 1, view(c, k), view(s, n), 0, view(out, n)))
    return out;
  const CH = 2048;
  for (let c0_ = 0; c0_ < n; c0_ += CH) {
    const c1_ = Math.min(n, c0_ + CH);
    let j = 0;
    // 4 output rows x 4 input rows per pass: 16 multiply-adds per 4 loads + 4 load/stores.
    for (; j + 3 < r; j += 4) {
      const o0 = j * n,
        o1 = o0 + n,
        o2 = o1 + n,
        o3 = o2 + n;
      const c0 = j * k,
        c1 = c0 + k,
        c2 = c1 + k,
        c3 = c2 + k;
      let a = 0;
      for (; a + 3 < k; a += 4) {
        const p0 = c[c0 + a],
          p1 = c[c0 + a + 1],
          p2 = c[c0 + a + 2],
          p3 = c[c0 + a + 3];
        const q0 = c[c1 + a],
          q1 = c[c1 + a + 1],
          q2 = c[c1 + a + 2],
          q3 = c[c1 + a + 3];
        const u0 = c[c2 + a],
          u1 = c[c2 + a + 1],
          u2 = c[c2 + a + 2],
          u3 = c[c2 + a + 3];
        const w0 = c[c3 + a],
          w1 = c[c3 + a + 1],
          w2 = c[c3 + a + 2],
          w3 = c[c3 + a + 3];
        const r0 = a * n,
          r1 = r0 + n,
          r2 = r1 + n,
          r3 = r2 + n;
        for (let i = c0_; i < c1_; i++) {
          const x0 = s[r0 + i],
            x1 = s[r1 + i],
            x2 = s[r2 + i],
            x3 = s[r3 + i];
          out[o0 + i] += p0 * x0 + p1 * x1 + p2 * x2 + p3 * x3;
          out[o1 + i] += q0 * x0 + q1 * x1 + q2 * x2 + q3 * x3;
          out[o2 + i] += u0 * x0 + u1 * x1 + u2 * x2 + u3 * x3;
          out[o3 + i] += w0 * x0 + w1 * x1 + w2 * x2 + w3 * x3;
        }
      }
      for (; a < k; a++) {
        const p0 = c[c0 + a],
          q0 = c[c1 + a],
          u0 = c[c2 + a],
          w0 = c[c3 + a],
          r0 = a * n;
        for (let i = c0_; i < c1_; i++) {
          const x = s[r0 + i];
          out[o0 + i] += p0 * x;
          out[o1 + i] += q0 * x;
          out[o2 + i] += u0 * x;
          out[o3 + i] += w0 * x;
        }
      }
    }
    for (; j < r; j++) {
      const o0 = j * n;
      for (let a = 0; a < k; a++) {
        const p0 = c[j * k + a],
          r0 = a * n;
        for (let i = c0_; i < c1_; i++) out[o0 + i] += p0 * s[r0 + i];
      }
    }
  }
  return out;
}
