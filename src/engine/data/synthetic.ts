// Data sets generated at load time from a fixed seed (no file to ship, identical on every machine).
import type { Dataset } from './dataset';
import { Rng } from '../util/random';

export const PAPER1 = {
  seed: 2019,
  rows: 10_000,
  features: 100,
  /** Correlation between neighbouring features: corr(x_j, x_k) = rho^|j-k|. */
  rho: 0.5,
  /** 0-based indices of the informative features and their coefficients. */
  informative: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90],
  beta: [1, -0.9, 0.8, -0.7, 0.6, -0.5, 0.4, -0.3, 0.2, -0.1],
  noise: 0.5,
} as const;

/**
 * METHODS.md section 5's synthetic regression set (10,000 x 100). Row by row, draw e_1..e_100
 * ~ N(0,1) then eps ~ N(0,1) from Rng(2019); x_1 = e_1, x_j = rho x_{j-1} + sqrt(1-rho^2) e_j
 * (each feature N(0,1), an AR(1) correlation along the feature index, so neighbours of an
 * informative feature look relevant too); y = sum_k beta_k x_{informative_k} + noise * eps.
 * 90 features carry no signal: a relevance method should rank them below the 10 informative ones.
 */
export function paper1Synthetic(provenance: string): Dataset {
  const { seed, rows, features, rho, informative, beta, noise } = PAPER1;
  const rng = new Rng(seed);
  const x = new Float32Array(rows * features);
  const y = new Float32Array(rows);
  const s = Math.sqrt(1 - rho * rho);
  const row = new Float64Array(features);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < features; j++) {
      const e = rng.normal();
      row[j] = j === 0 ? e : rho * row[j - 1] + s * e;
      x[i * features + j] = row[j];
    }
    let t = noise * rng.normal();
    for (let k = 0; k < informative.length; k++) t += beta[k] * row[informative[k]];
    y[i] = t;
  }
  const featureNames = Array.from({ length: features }, (_, j) => `x${j + 1}`);
  return {
    name: 'paper1-synthetic',
    task: 'regression',
    featureNames,
    targetName: 'y',
    x,
    y,
    rows,
    features,
    provenance,
  };
}

export const SINCOS = {
  /** x = 0, 0.02, ..., 20.0 as in the essay: 1001 points, x_k = k / 50. */
  points: 1001,
  step: 50,
  featureNames: ['sin(x)', 'cos(x)', '2+cos(x)', '2+sin(x)', 'cos(x)+sin(x)', 'x'],
} as const;

/**
 * The essay's Belsley illustration (section 2): the features sin x, cos x, 2 + cos x, 2 + sin x,
 * cos x + sin x, x. Exactly collinear in real numbers (col5 = col1 + col2, col4 - col1 = col3 -
 * col2 = 2), so two singular values vanish; stored as float32, the rounding leaves them at about
 * 1e-7 of the largest instead of 0. The target y = 3 sin x - 2 cos x + 0.1 x is noise-free and
 * has many exact linear representations, which is the point: the coefficients are not identifiable.
 */
export function sincos(provenance: string): Dataset {
  const { points, step, featureNames } = SINCOS;
  const features = featureNames.length;
  const x = new Float32Array(points * features);
  const y = new Float32Array(points);
  for (let k = 0; k < points; k++) {
    const t = k / step;
    const s = Math.sin(t);
    const c = Math.cos(t);
    x.set([s, c, 2 + c, 2 + s, c + s, t], k * features);
    y[k] = 3 * s - 2 * c + 0.1 * t;
  }
  return {
    name: 'sincos',
    task: 'regression',
    featureNames: [...featureNames],
    targetName: 'y',
    x,
    y,
    rows: points,
    features,
    provenance,
  };
}
