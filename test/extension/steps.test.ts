// The analysis notebook: the standard steps, each cell self-contained and syntactically valid.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { analysisCells } from '../../src/extension/notebook/steps';
import { DEFAULT_SETTINGS } from '../../src/extension/args';
import { makeApi } from '../../src/worker/jobs/cell';

const AsyncFunction = Object.getPrototypeOf(async function () {
  /* */
}).constructor;

test('analysis notebook: the standard steps for the given model and data, every cell parses', () => {
  const nb = analysisCells({
    modelPath: '/w/m "x"/model.json',
    data: 'iris',
    settings: { ...DEFAULT_SETTINGS, defaultMethod: 'belsley' },
    pruneOut: '/w/out/pruned-belsley-0.5',
    studentOut: '/w/out/student',
  });
  const code = nb.cells.filter((c) => c.kind === 'code').map((c) => c.source);
  assert.equal(code.length, 7);
  for (const src of code) {
    // Cells run as separate async functions in the worker: each must declare its own model and data.
    assert.doesNotThrow(() => new AsyncFunction('prunescope', 'plot', 'display', 'print', 'console', src), src);
    assert.ok(src.includes('const MODEL = "/w/m \\"x\\"/model.json";'), src);
    assert.ok(src.includes('const DATA = "iris";'), src);
  }
  const all = code.join('\n');
  for (const step of [
    'prunescope.info(',
    "method: 'belsley'",
    'prunescope.analysis(',
    'prunescope.gradientVariance(',
    'prunescope.prune(',
    'prunescope.exportStudent(',
  ])
    assert.ok(all.includes(step), step);
  assert.ok(all.includes('"/w/out/pruned-belsley-0.5"'), 'prune writes a new folder under outDir');
  assert.deepEqual(nb.metadata, { prunescope: { model: '/w/m "x"/model.json', data: 'iris' } });
});

test('every prunescope.X( a generated cell calls is a function of the worker cell API', () => {
  // The object the worker's cell job puts in scope as `prunescope` (building it only makes closures).
  const api = makeApi([], {} as Parameters<typeof makeApi>[1], 'untitled:x') as unknown as Record<string, unknown>;
  for (const trainFirst of [undefined, { layers: [6, 3], epochs: 30, standardize: true }]) {
    const nb = analysisCells({
      modelPath: '/w/model.json',
      data: 'wine',
      settings: DEFAULT_SETTINGS,
      pruneOut: '/w/p',
      studentOut: '/w/s',
      ...(trainFirst ? { trainFirst } : {}),
    });
    const all = nb.cells
      .filter((c) => c.kind === 'code')
      .map((c) => c.source)
      .join('\n');
    const used = [...all.matchAll(/prunescope\.([A-Za-z_$][\w$]*)\s*\(/g)].map((m) => m[1]);
    assert.ok(used.length >= 6, `found the calls: ${used.join(', ')}`);
    if (trainFirst) assert.ok(used.includes('train'), 'the train-first notebook calls prunescope.train');
    for (const fn of used)
      assert.equal(typeof api[fn], 'function', `prunescope.${fn} is not in the worker cell API (cell.ts / cellApi.ts)`);
    assert.ok(!/not available yet|typeof prunescope/.test(all), 'no missing-API guards left');
  }
});

test('the train-first cell calls prunescope.train with the requested layers and reports the result', async () => {
  const nb = analysisCells({
    modelPath: '/w/model.json',
    data: 'wine',
    settings: DEFAULT_SETTINGS,
    pruneOut: '/w/p',
    studentOut: '/w/s',
    trainFirst: { layers: [6, 3], epochs: 30, standardize: true },
  });
  const printed: string[] = [];
  const train = nb.cells.find((c) => c.source.includes('prunescope train'))!;
  const calls: unknown[] = [];
  const withTrain = {
    train: async (o: unknown) => {
      calls.push(o);
      return { modelJson: '/w/model.json', layers: [13, 6, 3], seconds: 1.25 };
    },
  };
  await new AsyncFunction('prunescope', 'plot', 'display', 'print', 'console', train.source)(
    withTrain,
    () => {},
    (s: string) => printed.push(s),
    (s: string) => printed.push(s),
    console,
  );
  assert.deepEqual(calls, [{ data: 'wine', layers: [6, 3], epochs: 30, standardize: true, out: '/w/model.json' }]);
  assert.deepEqual(printed, ['trained 13-6-3 in 1.3 s: /w/model.json']);
});
