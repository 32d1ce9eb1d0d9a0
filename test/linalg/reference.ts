// Independent references for the linear-algebra tests: written here, sharing no code with src/.
import { Rng } from '../../src/engine/util/random';

/** Eigenpairs of a small symmetric matrix by cyclic Jacobi rotations (slow, simple, accurate). */
export function jacobiEigen(a: ArrayLike<number>, n: number): { values: number[]; vectors: number[][] } {
  const m = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => a[i * n + j]));
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p][q] ** 2;
    if (off < 1e-300) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (m[p][q] === 0) continue;
        const theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k][p],
            mkq = m[k][q];
          m[k][p] = c * mkp - s * mkq;
          m[k][q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p][k],
            mqk = m[q][k];
          m[p][k] = c * mpk - s * mqk;
          m[q][k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p],
            vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  // vectors[j] = eigenvector j (column j of v)
  return { values: m.map((row, i) => row[i]), vectors: Array.from({ length: n }, (_, j) => v.map((row) => row[j])) };
}

export function randomSymmetric(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const x = rng.normal();
      a[i * n + j] = x;
      a[j * n + i] = x;
    }
  }
  return a;
}

/** A random orthogonal matrix (row-major) by modified Gram-Schmidt on Gaussian columns, twice. */
export function randomOrthogonal(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const cols = Array.from({ length: n }, () => Array.from({ length: n }, () => rng.normal()));
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < j; k++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += cols[j][i] * cols[k][i];
        for (let i = 0; i < n; i++) cols[j][i] -= d * cols[k][i];
      }
      const norm = Math.hypot(...cols[j]);
      for (let i = 0; i < n; i++) cols[j][i] /= norm;
    }
  }
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) q[i * n + j] = cols[j][i];
  return q;
}

/** Q diag(lambda) Q^T, row-major. */
export function withSpectrum(q: Float64Array, lambda: number[], n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k] * lambda[k] * q[j * n + k];
      a[i * n + j] = s;
      a[j * n + i] = s;
    }
  }
  return a;
}

export function logspace(from: number, to: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => 10 ** (from + ((to - from) * i) / Math.max(1, n - 1)));
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** max |A - U L U^T| and max |U^T U - I| for column-eigenvector layout. */
export function residuals(
  a: Float64Array,
  values: Float64Array,
  u: Float64Array,
  n: number,
): { rec: number; orth: number } {
  let rec = 0,
    orth = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0,
        o = 0;
      for (let k = 0; k < n; k++) {
        s += u[i * n + k] * values[k] * u[j * n + k];
        o += u[k * n + i] * u[k * n + j];
      }
      rec = Math.max(rec, Math.abs(s - a[i * n + j]));
      orth = Math.max(orth, Math.abs(o - (i === j ? 1 : 0)));
    }
  }
  return { rec, orth };
}
