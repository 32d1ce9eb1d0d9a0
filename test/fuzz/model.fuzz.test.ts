// Fuzzes the LayersModel reader: every mutated model folder must load (benign mutations) or be
// refused with a PruneScopeError naming the file, quickly and in bounded memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budget, report, runSuite } from './harness';

test(
  'fuzz: mutated model.json and weight shards load or are refused with a typed error',
  { timeout: 120_000 },
  async () => {
    const s = await runSuite('model', budget(900));
    console.log(report(s));
    assert.deepEqual(s.failures, [], report(s));
    assert.equal(s.cases, process.env.PRUNESCOPE_FUZZ_CASE ? 1 : budget(900));
    // The mutations must reach the reader's checks, not stop at one early refusal.
    if (!process.env.PRUNESCOPE_FUZZ_CASE) assert.ok(s.distinct.size >= 25, `only ${s.distinct.size} distinct errors`);
    if (!process.env.PRUNESCOPE_FUZZ_CASE) assert.ok(s.loaded > 0, 'no case loaded: the benign mutations are broken');
  },
);
