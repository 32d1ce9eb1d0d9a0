// Thin SVD of a tall m x p matrix X = U diag(sigma) V^T by one-sided (Hestenes) Jacobi rotations.
//
// Why Jacobi and not eig(X^T X): forming X^T X squares the condition number, so singular values
// below sqrt(eps) * sigma_max are lost; Belsley's diagnostic exists precisely to measure such
// near-dependencies. One-sided Jacobi works on X itself and finds small singular values to high
// relative accuracy. It costs O(m p^2) per sweep, fine for the few columns of a data matrix.
import { badInput, PruneScopeError } from '../errors';

export interface SvdResult {
  /** Singular values, descending. */
  sigma: Float64Array;
  /** Right singular vectors, row-major p x p, column j belongs to sigma[j]. */
  v: Float64Array;
  /** Left singular vectors, row-major m x p, column j belongs to sigma[j] (zero column if sigma[j] = 0). */
  u: Float64Array;
}

const EPS = 2 ** -52;

/** SVD of row-major m x p `x` (m >= p recommended; any shape works but costs O(m p^2) per sweep). */
export function svdJacobi(x: Float64Array, m: number, p: number, maxSweeps = 60): SvdResult {
  if (x.length !== m * p)
    throw badInput(`matrix has ${x.length} entries`, { field: 'svd', expected: `m * p = ${m * p}` });
  // Work column-major: column j of X is cols[j*m .. j*m+m), so each rotation touches two contiguous runs.
  const cols = new Float64Array(m * p);
  for (let i = 0; i < m; i++) for (let j = 0; j < p; j++) cols[j * m + i] = x[i * p + j];
  const vt = new Float64Array(p * p); // row j of vt = column j of V
  for (let j = 0; j < p; j++) vt[j * p + j] = 1;
  let converged = false;
  for (let sweep = 0; sweep < maxSweeps && !converged; sweep++) {
    converged = true;
    for (let a = 0; a < p - 1; a++) {
      for (let b = a + 1; b < p; b++) {
        let alpha = 0,
          beta = 0,
          gamma = 0;
        const oa = a * m,
          ob = b * m;
        for (let i = 0; i < m; i++) {
          const xa = cols[oa + i],
            xb = cols[ob + i];
          alpha += xa * xa;
          beta += xb * xb;
          gamma += xa * xb;
        }
        if (gamma === 0 || Math.abs(gamma) <= EPS * Math.sqrt(alpha * beta)) continue;
        converged = false;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotate(cols, oa, ob, m, c, s);
        rotate(vt, a * p, b * p, p, c, s);
      }
    }
  }
  if (!converged)
    throw new PruneScopeError('numerical', `one-sided Jacobi SVD did not converge in ${maxSweeps} sweeps`, {
      field: 'svd',
    });
  const norms = Float64Array.from({ length: p }, (_, j) => {
    let s = 0;
    for (let i = 0; i < m; i++) s += cols[j * m + i] ** 2;
    return Math.sqrt(s);
  });
  const order = Array.from({ length: p }, (_, j) => j).sort((i, j) => norms[j] - norms[i] || i - j);
  const sigma = Float64Array.from(order, (j) => norms[j]);
  const v = new Float64Array(p * p);
  const u = new Float64Array(m * p);
  order.forEach((src, dst) => {
    for (let i = 0; i < p; i++) v[i * p + dst] = vt[src * p + i];
    const sg = norms[src];
    if (sg > 0) for (let i = 0; i < m; i++) u[i * p + dst] = cols[src * m + i] / sg;
  });
  return { sigma, v, u };
}

function rotate(buf: Float64Array, oa: number, ob: number, len: number, c: number, s: number): void {
  for (let i = 0; i < len; i++) {
    const xa = buf[oa + i],
      xb = buf[ob + i];
    buf[oa + i] = c * xa - s * xb;
    buf[ob + i] = s * xa + c * xb;
  }
}
