// Small synthetic splits and float64 references shared by the training tests.
import type { DataSplit, Dataset, SplitPart } from '../../src/engine/data/dataset';
import { Rng } from '../../src/engine/util/random';

export function splitOf(ds: Dataset, train: SplitPart, test: SplitPart): DataSplit {
  return { dataset: ds, train, test, seed: 0, testFraction: test.rows / (train.rows + test.rows) };
}

/** y = X beta + c + noise, X standard normal [n, m]. Returns train = all rows, test = first 20. */
export function linearRegression(
  n: number,
  m: number,
  seed: number,
  noise = 0.3,
): { split: DataSplit; beta: number[]; c: number } {
  const rng = new Rng(seed);
  const beta = Array.from({ length: m }, () => rng.uniform(-2, 2));
  const c = 0.7;
  const x = new Float32Array(n * m);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = c;
    for (let j = 0; j < m; j++) {
      const v = rng.normal();
      x[i * m + j] = v;
      s += beta[j] * v;
    }
    y[i] = s + noise * rng.normal();
  }
  const ds: Dataset = {
    name: 'linreg',
    task: 'regression',
    featureNames: beta.map((_, j) => `x${j}`),
    targetName: 'y',
    x,
    y,
    rows: n,
    features: m,
  };
  return {
    split: splitOf(ds, { x, y, rows: n }, { x: x.subarray(0, 20 * m), y: y.subarray(0, 20), rows: 20 }),
    beta,
    c,
  };
}

/** K Gaussian blobs in m dimensions, well separated: a linear classifier can reach ~100%. */
export function blobs(n: number, m: number, k: number, seed: number, testRows = 60): DataSplit {
  const rng = new Rng(seed);
  const centres = Array.from({ length: k }, () => Array.from({ length: m }, () => rng.uniform(-3, 3)));
  const make = (rows: number): SplitPart => {
    const x = new Float32Array(rows * m);
    const y = new Float32Array(rows);
    for (let i = 0; i < rows; i++) {
      const c = rng.int(k);
      y[i] = c;
      for (let j = 0; j < m; j++) x[i * m + j] = centres[c][j] + 0.5 * rng.normal();
    }
    return { x, y, rows };
  };
  const train = make(n);
  const test = make(testRows);
  const ds: Dataset = {
    name: 'blobs',
    task: 'classification',
    featureNames: centres[0].map((_, j) => `f${j}`),
    targetName: 'c',
    labelNames: centres.map((_, c) => `c${c}`),
    x: train.x,
    y: train.y,
    rows: n,
    features: m,
  };
  return splitOf(ds, train, test);
}

/** Solves A z = b in float64 (Gaussian elimination with partial pivoting). */
export function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  return M.map((row, i) => row[n] / M[i][i]);
}

/**
 * Minimiser of (1/N) sum (x_n w + b - y_n)^2 + (lambda/2) ||w||^2 (bias not penalised), from the
 * normal equations in float64: [ (2/N) X'X + lambda I, (2/N) X'1 ; (2/N) 1'X, 2 ] [w; b] = (2/N) [X'y; 1'y].
 */
export function ridge(
  x: Float32Array,
  y: Float32Array,
  n: number,
  m: number,
  lambda: number,
): { w: number[]; b: number } {
  const A = Array.from({ length: m + 1 }, () => new Array<number>(m + 1).fill(0));
  const rhs = new Array<number>(m + 1).fill(0);
  for (let i = 0; i < n; i++) {
    const row = [...Array.from(x.subarray(i * m, (i + 1) * m)), 1];
    for (let a = 0; a <= m; a++) {
      rhs[a] += (2 / n) * row[a] * y[i];
      for (let c = 0; c <= m; c++) A[a][c] += (2 / n) * row[a] * row[c];
    }
  }
  for (let a = 0; a < m; a++) A[a][a] += lambda;
  const z = solve(A, rhs);
  return { w: z.slice(0, m), b: z[m] };
}

/** Flat parameters as raw bits, for bit-for-bit comparisons (distinguishes -0 from +0, NaNs). */
export function bits(f: Float32Array): Uint32Array {
  return new Uint32Array(f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength));
}
