// Inverse of a symmetric positive-definite matrix by its eigendecomposition (the Laplace
// covariances: a precision block, or a damped Kronecker factor, inverted).
import { eighRows } from './eigh';

/**
 * S = H^-1 = V diag(1 / lambda) V^T for symmetric positive-definite H (row-major m x m; eigenvalues
 * floored at 1e-15 of the largest). range = [largest, smallest] eigenvalue of H.
 */
export function inverseSpd(h: Float64Array, m: number): { s: Float64Array; range: [number, number] } {
  const { values, rowVectors } = eighRows(h, m);
  const v = rowVectors!;
  const top = values[m - 1];
  const inv = Float64Array.from(values, (l) => 1 / Math.max(l, top * 1e-15));
  const s = new Float64Array(m * m);
  for (let k = 0; k < m; k++) {
    const o = k * m,
      ik = inv[k];
    for (let a = 0; a < m; a++) {
      const va = v[o + a] * ik;
      if (va === 0) continue;
      const ra = a * m;
      for (let b = a; b < m; b++) s[ra + b] += va * v[o + b];
    }
  }
  for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) s[b * m + a] = s[a * m + b];
  return { s, range: [top, values[0]] };
}
