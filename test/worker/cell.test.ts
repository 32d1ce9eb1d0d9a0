// Notebook kernel state in the worker: what one cell defines the next sees (per notebook), a
// reset forgets it, and an interrupt (the job's AbortSignal) ends a cell at once and stops its loop.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { PruneScopeError } from '../../src/engine/errors';
import { cellJob, cellResetJob } from '../../src/worker/jobs/cell';
import { rewriteTopLevel } from '../../src/worker/jobs/cellScope';
import type { JobContext } from '../../src/worker/jobTypes';
import type { CellOutput } from '../../src/protocol';

const cache = new Map<string, unknown>();
const ctx = (signal = new AbortController().signal): JobContext => ({
  signal,
  progress: () => undefined,
  log: () => undefined,
  cache,
});

async function cell(source: string, notebook = 'untitled:nb1', signal?: AbortSignal): Promise<CellOutput[]> {
  return (await cellJob.run(cellJob.parse({ source, notebook, cellIndex: 0 }), ctx(signal))).result.outputs;
}
const text = (outs: CellOutput[]) => outs.map((o) => String(o.data)).join('\n');

test('variables, functions and classes of one cell are visible in the next; other notebooks do not see them', async () => {
  await cell(`
    const a = 2
    let b = a * 3;
    var c = 'x';
    d = [a, b];
    const { e, f: [g] } = { e: 5, f: [7] };
    function h(n) { return n + a; }
    class K { twice(n) { return 2 * n; } }
    for (let i = 0; i < 3; i++) { const inner = i; }
    if (true) { let blockLocal = 1; }`);
  const out = await cell(
    `return JSON.stringify([a, b, c, d, e, g, h(10), new K().twice(4), typeof i, typeof inner, typeof blockLocal])`,
  );
  assert.deepEqual(JSON.parse(text(out)), [2, 6, 'x', [2, 6], 5, 7, 12, 8, 'undefined', 'undefined', 'undefined']);
  // A later cell updates what an earlier one defined, and may redeclare a const (re-running cells).
  await cell('b = b + 1; const a = 10;');
  assert.equal(text(await cell('return a + b')), '17');
  assert.equal(text(await cell('return typeof a', 'untitled:nb2')), 'undefined');
});

test("after cell-reset the notebook's variables are gone; the API and globals still work", async () => {
  await cell('const kept = 41; globalThis.viaGlobal = 1; global.viaGlobal2 = 2;', 'untitled:nb3');
  assert.equal(
    text(await cell('return kept + viaGlobal + globalThis.viaGlobal2 + globalThis.Math.max(0, 0)', 'untitled:nb3')),
    '44',
  );
  assert.equal(
    (globalThis as Record<string, unknown>).viaGlobal,
    undefined,
    'globalThis in a cell is the notebook scope, not the worker global',
  );
  const r = await cellResetJob.run(cellResetJob.parse({ notebook: 'untitled:nb3' }), ctx());
  assert.equal(r.result.cleared, true);
  assert.equal(
    text(await cell('return typeof kept + typeof globalThis.viaGlobal + typeof viaGlobal2', 'untitled:nb3')),
    'undefinedundefinedundefined',
  );
  assert.deepEqual(
    JSON.parse(
      text(
        await cell('return JSON.stringify([Math.max(1, 3), typeof prunescope.analysis, typeof plot])', 'untitled:nb3'),
      ),
    ),
    [3, 'function', 'function'],
  );
  assert.equal(
    (await cellResetJob.run(cellResetJob.parse({ notebook: 'untitled:never-ran' }), ctx())).result.cleared,
    false,
  );
});

test('an interrupted cell ends promptly as cancelled, its loop stops, and the next cell runs', async () => {
  const nb = 'untitled:nb4';
  await cell('var ticks = 0;', nb);
  const ac = new AbortController();
  const running = cell('while (true) { ticks++; await prunescope.sleep(2); }', nb, ac.signal);
  await new Promise((r) => setTimeout(r, 60));
  const t0 = Date.now();
  ac.abort();
  await assert.rejects(running, (e: unknown) => e instanceof PruneScopeError && e.code === 'cancelled');
  assert.ok(Date.now() - t0 < 500, `ended ${Date.now() - t0} ms after the interrupt`);
  const seen = Number(text(await cell('return ticks', nb)));
  assert.ok(seen > 0, 'the loop ran before the interrupt');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(Number(text(await cell('return ticks', nb))), seen, 'the loop kept running after the interrupt');

  // A cell awaiting something that never settles (ignoring the signal) still ends at once.
  const ac2 = new AbortController();
  const hung = cell('await new Promise(() => undefined);', nb, ac2.signal);
  setTimeout(() => ac2.abort(), 20);
  await assert.rejects(hung, (e: unknown) => e instanceof PruneScopeError && e.code === 'cancelled');
  // A loop that does not await checks prunescope.checkCancelled().
  const ac3 = new AbortController();
  ac3.abort();
  await assert.rejects(
    cell('for (;;) prunescope.checkCancelled();', nb, ac3.signal),
    (e: unknown) => e instanceof PruneScopeError && e.code === 'cancelled',
  );
  assert.equal(text(await cell('print("after"); return ticks === ' + seen, nb)), 'after\ntrue');
});

test('rewriteTopLevel touches only top-level declarations, never strings, templates, comments or regexes', () => {
  const src = [
    "const s = 'const q = 1'; // let c = 2",
    'let t = `x ${ { let y: 1 }.let } const z`',
    '/* const w */ let r = /const [a-z]}/g.test("let") ? 1 : 2',
    'function f() { const local = 1; return local }',
    'async function* g() {}',
    'class C extends Array { m() { let v = 1 } }',
    'x = a / b / c; const after = 1',
  ].join('\n');
  const t = rewriteTopLevel(src);
  assert.equal(
    t.source,
    [
      "var s = 'const q = 1'; // let c = 2",
      'var t = `x ${ { let y: 1 }.let } const z`',
      '/* const w */ var r = /const [a-z]}/g.test("let") ? 1 : 2',
      'function f() { const local = 1; return local }',
      'async function* g() {}',
      'var C = class C extends Array { m() { let v = 1 } };',
      'x = a / b / c; var after = 1',
    ].join('\n'),
  );
  assert.deepEqual(t.functions, ['f', 'g']);
});

test('prunescope.train in a cell names its own field (train.layers), not a CLI flag, and shows a corrected example', async () => {
  await assert.rejects(
    cell(
      `await prunescope.train({ data: 'wine', layers: [32, 16], epochs: 1, out: '/nonexistent-prunescope-test/m' })`,
      'untitled:nb-train',
    ),
    (e: unknown) =>
      e instanceof PruneScopeError &&
      e.context.field === 'train.layers' &&
      /last width is 16/.test(e.message) &&
      /e\.g\. 32, 16, 3/.test(e.message) &&
      !/--layers/.test(e.message),
  );
});
