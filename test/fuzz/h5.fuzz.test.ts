// Fuzzes the h5 reader through readModel: mutated files (bytes and structure) load (benign
// mutations) or are refused with a PruneScopeError naming the file, quickly and in bounded memory;
// HDF5 traps and hangs end only the HDF5 thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budget, report, runSuite } from './harness';

const CASES = 2000;

test('fuzz: mutated .h5 files load or are refused with a typed error', { timeout: 600_000 }, async () => {
  const s = await runSuite('h5', budget(CASES));
  console.log(report(s));
  assert.deepEqual(s.failures, [], report(s));
  assert.equal(s.cases, process.env.PRUNESCOPE_FUZZ_CASE ? 1 : budget(CASES));
  if (!process.env.PRUNESCOPE_FUZZ_CASE) assert.ok(s.distinct.size >= 15, `only ${s.distinct.size} distinct errors`);
  if (!process.env.PRUNESCOPE_FUZZ_CASE) assert.ok(s.loaded > 0, 'no case loaded: the benign mutations are broken');
});
