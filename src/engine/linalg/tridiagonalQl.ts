// Implicit QL iteration with Wilkinson-type shifts on a symmetric tridiagonal matrix (the tql2
// algorithm of EISPACK / JAMA), accumulating the rotations into Z = Q^T.
//
// Why Z = Q^T: each rotation mixes two eigenvector *columns* of Q; in Q^T those are two *rows*,
// contiguous in memory. A QL sweep applies rotations i = m-1 .. l in sequence, each touching rows
// i and i+1, so we stream the sweep through a carry row and apply four rotations per pass over
// the row (5 loads + 5 stores per 4 rotations instead of 16 memory operations).
import { PruneScopeError } from '../errors';

const EPS = 2 ** -52;
const MAX_ITER = 60;

/**
 * Overwrites d with the eigenvalues (unsorted) and, when z is given (row-major n x n, row j is
 * vector j), rotates its rows so row j becomes the eigenvector for d[j]. e[i] = T[i][i+1] is destroyed.
 */
export function tridiagonalQl(d: Float64Array, e: Float64Array, n: number, z?: Float64Array): void {
  if (n <= 1) return;
  e[n - 1] = 0;
  const cs = new Float64Array(n);
  const sn = new Float64Array(n);
  const carry = z ? new Float64Array(n) : undefined;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > EPS * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > MAX_ITER)
          throw new PruneScopeError('numerical', `tridiagonal QL did not converge for eigenvalue ${l}`, {
            field: 'eigh',
          });
        // Shift from the leading 2x2 block (Wilkinson-style); the shift is folded into f.
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        // Implicit QL sweep from m-1 down to l.
        p = d[m];
        let c = 1,
          c2 = 1,
          c3 = 1,
          s = 0,
          s2 = 0;
        const el1 = e[l + 1];
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          cs[i] = c;
          sn[i] = s;
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
        if (z) applySweep(z, n, l, m, cs, sn, carry!);
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

/**
 * Apply rotations i = m-1 .. l (in that order) to rows of z: for each column k,
 *   (z[i+1][k], z[i][k]) <- (s z[i][k] + c z[i+1][k], c z[i][k] - s z[i+1][k]).
 * The evolving row i+1 lives in `carry`; finished rows are written straight back.
 */
function applySweep(
  z: Float64Array,
  n: number,
  l: number,
  m: number,
  cs: Float64Array,
  sn: Float64Array,
  carry: Float64Array,
): void {
  carry.set(z.subarray(m * n, m * n + n));
  let i = m - 1;
  for (; i - 3 >= l; i -= 4) {
    const c0 = cs[i],
      s0 = sn[i],
      c1 = cs[i - 1],
      s1 = sn[i - 1];
    const c2 = cs[i - 2],
      s2 = sn[i - 2],
      c3 = cs[i - 3],
      s3 = sn[i - 3];
    const r0 = i * n,
      r1 = r0 - n,
      r2 = r1 - n,
      r3 = r2 - n,
      out = r0 + n;
    for (let k = 0; k < n; k++) {
      let h = carry[k];
      const a0 = z[r0 + k];
      z[out + k] = s0 * a0 + c0 * h;
      h = c0 * a0 - s0 * h;
      const a1 = z[r1 + k];
      z[r0 + k] = s1 * a1 + c1 * h;
      h = c1 * a1 - s1 * h;
      const a2 = z[r2 + k];
      z[r1 + k] = s2 * a2 + c2 * h;
      h = c2 * a2 - s2 * h;
      const a3 = z[r3 + k];
      z[r2 + k] = s3 * a3 + c3 * h;
      carry[k] = c3 * a3 - s3 * h;
    }
  }
  for (; i >= l; i--) {
    const c = cs[i],
      s = sn[i];
    const r0 = i * n,
      out = r0 + n;
    for (let k = 0; k < n; k++) {
      const h = carry[k];
      const a = z[r0 + k];
      z[out + k] = s * a + c * h;
      carry[k] = c * a - s * h;
    }
  }
  z.set(carry, l * n);
}
