// holdOutValidation: a seeded part of the training rows, disjoint from what stays, the test part untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDataset, splitDataset } from '../../src/engine/data';
import { holdOutValidation } from '../../src/engine/data/validation';
import { PruneScopeError } from '../../src/engine/errors';

test('holdOutValidation: 20 % of the training rows, disjoint from the rest, reproducible; test untouched; bad fractions refused', () => {
  const split = splitDataset(loadDataset('wine'), { seed: 3 });
  const h = holdOutValidation(split, 0.2, 7);
  assert.equal(h.validation.rows, Math.round(0.2 * split.train.rows));
  assert.equal(h.validation.rows + h.split.train.rows, split.train.rows);
  const a = new Set(h.validation.indices);
  const b = new Set(h.split.train.indices);
  assert.equal([...a].filter((i) => b.has(i)).length, 0);
  assert.deepEqual(new Set([...a, ...b]), new Set(split.train.indices));
  assert.equal(h.split.test, split.test);
  // Rows carry their own features and labels: row i of the validation part is data set row indices[i].
  const f = split.dataset.features;
  const pos = new Map(Array.from(split.train.indices!, (d, r) => [d, r]));
  h.validation.indices!.forEach((d, i) => {
    const r = pos.get(d)!;
    assert.equal(h.validation.y[i], split.train.y[r]);
    assert.deepEqual(h.validation.x.subarray(i * f, (i + 1) * f), split.train.x.subarray(r * f, (r + 1) * f));
  });
  assert.deepEqual(holdOutValidation(split, 0.2, 7).validation.indices, h.validation.indices);
  assert.notDeepEqual(holdOutValidation(split, 0.2, 8).validation.indices, h.validation.indices);
  for (const bad of [0, 1, -0.1, NaN])
    assert.throws(
      () => holdOutValidation(split, bad, 0),
      (e: unknown) => e instanceof PruneScopeError && e.context.field === 'validationFraction',
    );
});
