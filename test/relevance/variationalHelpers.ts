// Synthetic data sets for the variational tests (not a test file itself).
import type { DataSplit } from '../../src/engine/data/dataset';
import { Rng } from '../../src/engine/util/random';

export function regressionSplit(
  x: Float64Array | number[],
  y: Float64Array | number[],
  features: number,
  name = 'synthetic',
): DataSplit {
  const rows = y.length;
  const part = { x: Float32Array.from(x), y: Float32Array.from(y), rows };
  return {
    dataset: {
      name,
      task: 'regression',
      featureNames: Array.from({ length: features }, (_, i) => `x${i}`),
      targetName: 'y',
      x: part.x,
      y: part.y,
      rows,
      features,
    },
    train: part,
    test: { x: new Float32Array(0), y: new Float32Array(0), rows: 0 },
    seed: 0,
    testFraction: 0,
  };
}

export function classificationSplit(rng: Rng, rows: number, features: number, classes: number): DataSplit {
  const x = Float32Array.from({ length: rows * features }, () => rng.normal());
  const y = Float32Array.from(
    { length: rows },
    (_, i) => (x[i * features] > 0 ? 1 : 0) + (classes > 2 && x[i * features + 1] > 0.5 ? 1 : 0),
  );
  const part = { x, y, rows };
  return {
    dataset: {
      name: 'synthetic-cls',
      task: 'classification',
      featureNames: Array.from({ length: features }, (_, i) => `x${i}`),
      targetName: 'c',
      labelNames: Array.from({ length: classes }, (_, i) => `c${i}`),
      x,
      y,
      rows,
      features,
    },
    train: part,
    test: { x: new Float32Array(0), y: new Float32Array(0), rows: 0 },
    seed: 0,
    testFraction: 0,
  };
}

/** y = X w_true + b + noise, X standard normal. */
export function linearData(rng: Rng, rows: number, wTrue: number[], bias: number, noiseSd: number) {
  const d = wTrue.length;
  const x = new Float64Array(rows * d);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = bias;
    for (let j = 0; j < d; j++) {
      const v = rng.normal();
      x[i * d + j] = v;
      s += v * wTrue[j];
    }
    y[i] = s + noiseSd * rng.normal();
  }
  return { x, y };
}
