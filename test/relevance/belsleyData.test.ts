// The classic diagnostic on a data matrix: METHODS.md section 6, Hald cement (BKW's own example).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { belsleyData } from '../../src/engine/relevance/belsleyData';
import { PruneScopeError } from '../../src/engine/errors';

const X1 = [7, 1, 11, 11, 7, 11, 3, 1, 2, 21, 1, 11, 10];
const X2 = [26, 29, 56, 31, 52, 55, 71, 31, 54, 47, 40, 66, 68];
const X3 = [6, 15, 8, 8, 6, 9, 17, 22, 18, 4, 23, 9, 8];
const X4 = [60, 52, 20, 47, 33, 22, 6, 44, 22, 26, 34, 12, 12];
const hald = Float64Array.from({ length: 52 }, (_, k) => [X1, X2, X3, X4][k % 4][Math.floor(k / 4)]);

test('Hald cement with intercept: BKW indices and proportions on the last component (printed precision)', () => {
  const r = belsleyData(hald, 13, 4, { intercept: true });
  const want = [249.578252, 10.462074, 3.777529, 2.727214, 1]; // decreasing, as returned
  want.forEach((w, j) =>
    assert.ok(Math.abs(r.conditionIndicesBKW[j] - w) < 5e-7, `BKW[${j}] = ${r.conditionIndicesBKW[j]}`),
  );
  want.forEach((w, j) => assert.ok(Math.abs(r.conditionIndices[j] - w * w) < 5e-7 * 2 * w, `essay eta[${j}]`));
  const last = [0.99987, 0.93157, 0.99687, 0.94985, 0.9973]; // intercept, X1..X4 on eta = 249.58
  last.forEach((w, i) =>
    assert.ok(Math.abs(r.proportions[i * 5 + r.xi] - w) < 5e-6, `q[${i}] = ${r.proportions[i * 5]}`),
  );
  assert.equal(r.zeta, 0); // the intercept has the largest share
  assert.equal(r.order[0], 0);
  assert.equal(belsleyData(hald, 13, 4, { intercept: true, ordering: 'fast' }).order[0], 0);
});

test('column scaling makes the diagnostic invariant to column units', () => {
  const scaled = hald.map((v, k) => v * [1, 1000, 1e-3, 7][k % 4]);
  const a = belsleyData(hald, 13, 4, { intercept: true });
  const b = belsleyData(scaled, 13, 4, { intercept: true });
  a.conditionIndicesBKW.forEach((v, j) => assert.ok(Math.abs(v - b.conditionIndicesBKW[j]) < 1e-9 * v));
});

test('a zero column is refused naming the column', () => {
  const x = Float64Array.from([1, 0, 2, 0, 3, 0]);
  assert.throws(
    () => belsleyData(x, 3, 2, { source: 'X.csv' }),
    (e: unknown) => e instanceof PruneScopeError && /X\.csv: column 1/.test(e.message),
  );
});
