// Seeded train/test split and z-score standardisation fitted on the training part only, so no
// statistic of the test rows leaks into training.
import { PruneScopeError, badInput } from '../errors';
import { Rng } from '../util/random';
import type { DataSplit, Dataset, SplitPart, Standardization } from './dataset';
import type { DataSource } from '../provenance';

export interface SplitOptions {
  /** Default 0. */
  seed?: number;
  /** Share of rows in the test part, in (0, 1); default 0.2 (the papers' 80/20). */
  testFraction?: number;
  /** z-score the features with training statistics; default true. */
  standardize?: boolean;
}

export function splitDataset(ds: Dataset, opts: SplitOptions = {}): DataSplit {
  const seed = opts.seed ?? 0;
  const testFraction = opts.testFraction ?? 0.2;
  if (!Number.isInteger(seed)) throw badInput(`seed ${seed}`, { file: ds.name, field: 'seed', expected: 'an integer' });
  if (!(testFraction > 0 && testFraction < 1)) {
    throw badInput(`test fraction ${testFraction}`, {
      file: ds.name,
      field: 'testFraction',
      expected: 'a number strictly between 0 and 1',
    });
  }
  if (ds.rows < 2)
    throw badInput(`${ds.rows} rows`, { file: ds.name, field: 'rows', expected: 'at least 2 rows to split' });
  if (ds.x.length !== ds.rows * ds.features || ds.y.length !== ds.rows) {
    throw new PruneScopeError(
      'internal',
      `x has ${ds.x.length} values and y ${ds.y.length} for ${ds.rows} x ${ds.features}`,
      { file: ds.name },
    );
  }
  // Both parts keep at least one row, whatever the fraction.
  const nTest = Math.min(ds.rows - 1, Math.max(1, Math.round(ds.rows * testFraction)));
  const perm = new Rng(seed).permutation(ds.rows);
  let test = take(ds, perm.subarray(0, nTest));
  let train = take(ds, perm.subarray(nTest));
  let standardization: Standardization | undefined;
  if (opts.standardize ?? true) {
    standardization = fitStandardization(train.x, ds.features);
    train = { ...train, x: applyStandardization(train.x, ds.features, standardization) };
    test = { ...test, x: applyStandardization(test.x, ds.features, standardization) };
  }
  return { dataset: ds, train, test, seed, testFraction, standardization };
}

function take(ds: Dataset, rows: Int32Array): SplitPart {
  const f = ds.features;
  const x = new Float32Array(rows.length * f);
  const y = new Float32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    x.set(ds.x.subarray(rows[i] * f, (rows[i] + 1) * f), i * f);
    y[i] = ds.y[rows[i]];
  }
  return { x, y, rows: rows.length, indices: Int32Array.from(rows) };
}

/** Per-column mean and population standard deviation (divide by n, as scikit-learn's StandardScaler). */
export function fitStandardization(x: Float32Array, features: number): Standardization {
  const n = checkShape(x, features);
  const mean = new Array<number>(features).fill(0);
  const std = new Array<number>(features).fill(0);
  for (let j = 0; j < features; j++) {
    let s = 0,
      lo = Infinity,
      hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = x[i * features + j];
      s += v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo === hi) {
      // A constant training column carries no information; std 1 maps it to exactly 0 instead of
      // dividing by zero, which would turn any different test value into Infinity or NaN.
      mean[j] = lo;
      std[j] = 1;
      continue;
    }
    const m = s / n;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const d = x[i * features + j] - m;
      ss += d * d;
    }
    mean[j] = m;
    std[j] = Math.sqrt(ss / n);
  }
  return { mean, std };
}

/** (x - mean) / std per column, into a new array. */
export function applyStandardization(x: Float32Array, features: number, s: Standardization): Float32Array {
  if (s.mean.length !== features || s.std.length !== features) {
    throw badInput(`standardisation has ${s.mean.length} means and ${s.std.length} deviations`, {
      field: 'standardization',
      expected: `${features} of each`,
    });
  }
  const n = checkShape(x, features);
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < features; j++) out[i * features + j] = (x[i * features + j] - s.mean[j]) / s.std[j];
  }
  return out;
}

function checkShape(x: Float32Array, features: number): number {
  if (!(Number.isInteger(features) && features > 0) || x.length % features !== 0 || x.length === 0) {
    throw badInput(`${x.length} values for ${features} features`, {
      field: 'x',
      expected: 'a non-empty row-major [rows, features] array',
    });
  }
  return x.length / features;
}

/** A result's record of the data it was computed on (Provenance.data): which part, how many rows. */
export function splitRecord(
  split: DataSplit,
  part: string,
  rows: number,
): {
  name: string;
  split: string;
  rows: number;
  splitSeed: number;
  testFraction: number;
  standardized: boolean;
  source?: DataSource;
} {
  const d = split.dataset;
  return {
    name: d.name,
    split: part,
    rows,
    splitSeed: split.seed,
    testFraction: split.testFraction,
    standardized: !!split.standardization,
    ...(d.source ? { source: d.source } : {}),
  };
}
