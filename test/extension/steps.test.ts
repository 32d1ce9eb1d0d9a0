// The analysis notebook: the standard steps, each cell self-contained and syntactically valid.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { analysisCells } from '../../src/extension/notebook/steps';
import { DEFAULT_SETTINGS } from '../../src/extension/args';

const AsyncFunction = Object.getPrototypeOf(async function () { /* */ }).constructor;

test('analysis notebook: the standard steps for the given model and data, every cell parses', () => {
  const nb = analysisCells({ modelPath: '/w/m "x"/model.json', data: 'iris', settings: { ...DEFAULT_SETTINGS, defaultMethod: 'belsley' }, pruneOut: '/w/out/pruned-belsley-0.5', studentOut: '/w/out/student' });
  const code = nb.cells.filter((c) => c.kind === 'code').map((c) => c.source);
  assert.equal(code.length, 7);
  for (const src of code) {
    // Cells run as separate async functions in the worker: each must declare its own model and data.
    assert.doesNotThrow(() => new AsyncFunction('prunescope', 'plot', 'display', 'print', 'console', src), src);
    assert.ok(src.includes('const MODEL = "/w/m \\"x\\"/model.json";'), src);
    assert.ok(src.includes('const DATA = "iris";'), src);
  }
  const all = code.join('\n');
  for (const step of ['prunescope.info(', "method: 'belsley'", 'prunescope.analysis(', 'prunescope.gradientVariance(', 'prunescope.prune(', 'prunescope.exportStudent(']) assert.ok(all.includes(step), step);
  assert.ok(all.includes('"/w/out/pruned-belsley-0.5"'), 'prune writes a new folder under outDir');
  assert.deepEqual(nb.metadata, { prunescope: { model: '/w/m "x"/model.json', data: 'iris' } });
});

test('a cell whose API is missing prints why and stops, instead of throwing', async () => {
  const nb = analysisCells({ modelPath: '/w/model.json', data: 'wine', settings: DEFAULT_SETTINGS, pruneOut: '/w/p', studentOut: '/w/s', trainFirst: { layers: [6, 3], epochs: 30, standardize: true } });
  const printed: string[] = [];
  const api = { info: async () => ({ layers: [1, 2], totalParams: 9 }) };
  const pruneCell = nb.cells.find((c) => c.source.includes('prunescope.prune('))!;
  const fn = new AsyncFunction('prunescope', 'plot', 'display', 'print', 'console', pruneCell.source);
  await fn(api, () => assert.fail('no plot'), (s: string) => printed.push(s), (s: string) => printed.push(s), console);
  assert.deepEqual(printed, ['Pruning: not available yet in this engine version (prunescope.prune).']);
  const train = nb.cells.find((c) => c.source.includes('prunescope train'))!;
  printed.length = 0;
  const calls: unknown[] = [];
  const withTrain = { ...api, train: async (o: unknown) => { calls.push(o); return { modelJson: '/w/model.json', layers: [13, 6, 3], seconds: 1.25 }; } };
  await new AsyncFunction('prunescope', 'plot', 'display', 'print', 'console', train.source)(withTrain, () => {}, (s: string) => printed.push(s), (s: string) => printed.push(s), console);
  assert.deepEqual(calls, [{ data: 'wine', layers: [6, 3], epochs: 30, standardize: true, out: '/w/model.json' }]);
  assert.deepEqual(printed, ['trained 13-6-3 in 1.3 s: /w/model.json']);
});
