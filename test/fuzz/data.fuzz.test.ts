// Fuzzes the data readers: mutated .npy files, .npz archives and PNG/JPEG/BMP images load
// (benign mutations) or are refused with a PruneScopeError naming the file, quickly and in
// bounded memory (cases built in dataCases.ts, run by the harness's worker thread).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budget, report, runSuite, type Suite } from './harness';

const SUITES: [Suite, number, number][] = [
  // suite, cases, distinct refusals the mutations must reach
  ['npy', 700, 15],
  ['npz', 700, 15],
  ['image', 700, 15],
];

for (const [suite, cases, distinct] of SUITES) {
  test(`fuzz: mutated ${suite} files load or are refused with a typed error`, { timeout: 180_000 }, async () => {
    const s = await runSuite(suite, budget(cases));
    console.log(report(s));
    assert.deepEqual(s.failures, [], report(s));
    assert.equal(s.cases, process.env.PRUNESCOPE_FUZZ_CASE ? 1 : budget(cases));
    if (!process.env.PRUNESCOPE_FUZZ_CASE) {
      assert.ok(s.distinct.size >= distinct, `only ${s.distinct.size} distinct errors`);
      assert.ok(s.loaded > 0, 'no case loaded: the benign mutations are broken');
    }
  });
}
