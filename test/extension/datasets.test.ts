// The extension's copy of the built-in data set list must match the engine's own list.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { BUILTIN_DATASETS, rankBuiltins } from '../../src/extension/datasets';
import { listBuiltinDatasets } from '../../src/engine/data/builtins';

test('every engine built-in is offered with the same shape, and nothing else', () => {
  const engine = listBuiltinDatasets()
    .map((d) => [d.name, d.rows, d.features, d.classes])
    .sort();
  const ours = BUILTIN_DATASETS.map((d) => [d.name, d.rows, d.features, d.classes]).sort();
  assert.deepEqual(ours, engine);
});

test('data sets that fit the model shape come first', () => {
  assert.deepEqual(
    rankBuiltins(4, 3).fits.map((d) => d.name),
    ['iris'],
  );
  assert.deepEqual(
    rankBuiltins(13, 3).fits.map((d) => d.name),
    ['wine'],
  );
  assert.deepEqual(
    rankBuiltins(13, 1).fits.map((d) => d.name),
    ['boston'],
  );
  assert.deepEqual(
    rankBuiltins(30, 1).fits.map((d) => d.name),
    ['breast-cancer'],
    'binary with one sigmoid output',
  );
  assert.deepEqual(rankBuiltins(7, 2).fits, []);
  assert.equal(rankBuiltins(undefined, undefined).others.length, BUILTIN_DATASETS.length);
});
