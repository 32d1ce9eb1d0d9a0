// Fuzzes the CLI argument parser and its typed accessors: random argv is parsed or refused with
// a PruneScopeError that names the command (parse) or the flag (value).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budget, report, runSuite } from './harness';

test('fuzz: random argv is parsed or refused with a typed error', { timeout: 60_000 }, async () => {
  const s = await runSuite('args', budget(4000));
  console.log(report(s));
  assert.deepEqual(s.failures, [], report(s));
  if (!process.env.PRUNESCOPE_FUZZ_CASE)
    assert.ok(s.loaded > 0 && s.refused > 0, `${s.loaded} parsed, ${s.refused} refused`);
});
