// splitDataset: a seeded partition, z-scores fitted on the training part only (statistics
// recomputed here in float64), constant columns, and applyStandardization.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { applyStandardization, loadDataset, splitDataset } from '../../src/engine/data';
import type { Dataset } from '../../src/engine/data';
import { PruneScopeError } from '../../src/engine/errors';

const wine = loadDataset('wine');

function columnStats(x: Float32Array, rows: number, features: number, j: number): { mean: number; sd: number } {
  let s = 0;
  for (let i = 0; i < rows; i++) s += x[i * features + j];
  const mean = s / rows;
  let ss = 0;
  for (let i = 0; i < rows; i++) ss += (x[i * features + j] - mean) ** 2;
  return { mean, sd: Math.sqrt(ss / rows) };
}

test('default split is 80/20, a partition of all rows, rows carried with their targets', () => {
  const s = splitDataset(wine, { standardize: false });
  assert.equal(s.seed, 0);
  assert.equal(s.testFraction, 0.2);
  assert.equal(s.test.rows, Math.round(178 * 0.2));
  assert.equal(s.train.rows + s.test.rows, 178);
  const all = [...s.train.indices!, ...s.test.indices!].sort((a, b) => a - b);
  assert.deepEqual(
    all,
    Array.from({ length: 178 }, (_, i) => i),
    'disjoint and covering',
  );
  for (const part of [s.train, s.test]) {
    part.indices!.forEach((r, i) => {
      assert.deepEqual(part.x.subarray(i * 13, i * 13 + 13), wine.x.subarray(r * 13, r * 13 + 13));
      assert.equal(part.y[i], wine.y[r]);
    });
  }
  // A shuffle, not the file order (the file is sorted by class).
  assert.notDeepEqual([...s.train.indices!.subarray(0, 10)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('deterministic per seed, different across seeds', () => {
  const a = splitDataset(wine, { seed: 7 });
  const b = splitDataset(wine, { seed: 7 });
  const c = splitDataset(wine, { seed: 8 });
  assert.deepEqual(a.test.indices, b.test.indices);
  assert.deepEqual(a.train.x, b.train.x);
  assert.notDeepEqual([...a.test.indices!].sort(), [...c.test.indices!].sort());
});

test('standardisation: training part has mean 0 and sd 1; the test part uses training statistics', () => {
  const raw = splitDataset(wine, { seed: 3, standardize: false });
  const s = splitDataset(wine, { seed: 3 });
  assert.deepEqual(s.test.indices, raw.test.indices);
  for (let j = 0; j < 13; j++) {
    const z = columnStats(s.train.x, s.train.rows, 13, j);
    assert.ok(Math.abs(z.mean) < 1e-5, `train mean ${j}: ${z.mean}`);
    assert.ok(Math.abs(z.sd - 1) < 1e-5, `train sd ${j}: ${z.sd}`);
    const ref = columnStats(raw.train.x, raw.train.rows, 13, j);
    assert.ok(Math.abs(s.standardization!.mean[j] - ref.mean) <= 1e-9 * Math.abs(ref.mean) + 1e-12);
    assert.ok(Math.abs(s.standardization!.std[j] - ref.sd) <= 1e-9 * ref.sd);
    for (let i = 0; i < s.test.rows; i++) {
      const want = (raw.test.x[i * 13 + j] - ref.mean) / ref.sd;
      assert.ok(Math.abs(s.test.x[i * 13 + j] - want) < 1e-5 * Math.max(1, Math.abs(want)), `test [${i}, ${j}]`);
    }
  }
  // Test statistics were not used: the test part is not exactly centred.
  const t = columnStats(s.test.x, s.test.rows, 13, 12);
  assert.ok(Math.abs(t.mean) > 1e-3, `test mean of proline ${t.mean}`);
  // The data set itself is untouched.
  assert.equal(wine.x[12], 1065);
});

test('a constant training column gets std 1 and maps to 0, a different test value stays finite', () => {
  const rows = 10;
  const x = new Float32Array(rows * 2);
  for (let i = 0; i < rows; i++) {
    x[i * 2] = i;
    x[i * 2 + 1] = 0.1;
  }
  const y = Float32Array.from({ length: rows }, (_, i) => i);
  const ds: Dataset = {
    name: 'const',
    task: 'regression',
    featureNames: ['i', 'c'],
    targetName: 'y',
    x,
    y,
    rows,
    features: 2,
  };
  const s = splitDataset(ds, { seed: 1, testFraction: 0.3 });
  assert.equal(s.standardization!.std[1], 1);
  for (let i = 0; i < s.train.rows; i++) assert.equal(s.train.x[i * 2 + 1], 0);
  const out = applyStandardization(Float32Array.from([4.5, 5]), 2, s.standardization!);
  assert.ok(Math.abs(out[1] - (5 - Math.fround(0.1))) < 1e-6);
  const m = s.standardization!;
  assert.ok(Math.abs(out[0] - (4.5 - m.mean[0]) / m.std[0]) < 1e-6);
});

test('applyStandardization computes (x - mean) / std per column', () => {
  const out = applyStandardization(Float32Array.from([1, 10, 3, 30]), 2, { mean: [2, 20], std: [2, 5] });
  assert.deepEqual([...out], [-0.5, -2, 0.5, 2]);
  assert.throws(
    () => applyStandardization(Float32Array.from([1, 2, 3]), 2, { mean: [0, 0], std: [1, 1] }),
    PruneScopeError,
  );
  assert.throws(() => applyStandardization(Float32Array.from([1, 2]), 2, { mean: [0], std: [1] }), PruneScopeError);
});

test('fractions and tiny data sets: both parts keep a row; bad fractions are refused', () => {
  const two: Dataset = {
    name: 'two',
    task: 'regression',
    featureNames: ['a'],
    targetName: 'y',
    x: Float32Array.from([1, 2]),
    y: Float32Array.from([1, 2]),
    rows: 2,
    features: 1,
  };
  const s = splitDataset(two, { testFraction: 0.01 });
  assert.deepEqual([s.train.rows, s.test.rows], [1, 1]);
  assert.equal(splitDataset(wine, { testFraction: 0.5 }).test.rows, 89);
  for (const f of [0, 1, -0.1, 1.5, NaN]) {
    assert.throws(
      () => splitDataset(wine, { testFraction: f }),
      (e: unknown) => e instanceof PruneScopeError && /testFraction/.test(e.message),
    );
  }
  assert.throws(
    () => splitDataset(wine, { seed: 1.5 }),
    (e: unknown) => e instanceof PruneScopeError && /seed/.test(e.message),
  );
});
