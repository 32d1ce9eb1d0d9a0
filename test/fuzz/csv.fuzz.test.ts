// Fuzzes readCsv / loadDataset: mutated CSV files parse (benign mutations) or are refused with
// a PruneScopeError naming the file, quickly and in bounded memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budget, report, runSuite } from './harness';

test('fuzz: mutated CSV files parse or are refused with a typed error', { timeout: 120_000 }, async () => {
  const s = await runSuite('csv', budget(600));
  console.log(report(s));
  assert.deepEqual(s.failures, [], report(s));
  assert.equal(s.cases, process.env.PRUNESCOPE_FUZZ_CASE ? 1 : budget(600));
  if (!process.env.PRUNESCOPE_FUZZ_CASE) assert.ok(s.distinct.size >= 10, `only ${s.distinct.size} distinct errors`);
  if (!process.env.PRUNESCOPE_FUZZ_CASE) assert.ok(s.loaded > 0, 'no case loaded: the benign mutations are broken');
});
