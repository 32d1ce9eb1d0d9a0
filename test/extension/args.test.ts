// Command arguments: explorer passes (uri, uris), links pass strings, the palette nothing.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { modelArgFrom } from '../../src/extension/args';

const uri = (scheme: string, fsPath: string) => ({ scheme, fsPath, path: fsPath });

test('a file Uri from the explorer (with the selection as second argument) gives its path', () => {
  assert.deepEqual(modelArgFrom([uri('file', '/w/model.json'), [uri('file', '/w/model.json')]]), {
    kind: 'path',
    path: '/w/model.json',
  });
  assert.deepEqual(modelArgFrom([uri('file', '/w/Classifier.JSON')]), { kind: 'path', path: '/w/Classifier.JSON' });
});

test('no argument means "ask"; null too (command links without args)', () => {
  assert.deepEqual(modelArgFrom([]), { kind: 'none' });
  assert.deepEqual(modelArgFrom([null]), { kind: 'none' });
});

test('remote resources, non-json files, relative paths and junk are refused with a reason', () => {
  const refused = (args: unknown[], re: RegExp) => {
    const r = modelArgFrom(args);
    assert.equal(r.kind, 'refused', JSON.stringify(args));
    if (r.kind === 'refused') assert.match(r.reason, re);
  };
  refused([uri('vscode-vfs', '/github/model.json')], /local files only/);
  refused([uri('untitled', 'Untitled-1')], /local files only/);
  refused([uri('file', '/w/weights.bin')], /not a \.json model file/);
  refused(['model.json'], /absolute/);
  refused(['/w/model.txt'], /not a \.json/);
  refused([42], /unexpected command argument/);
  refused([{ fsPath: '/w/model.json' }], /unexpected command argument/);
});

test('an absolute path string is normalised', () => {
  assert.deepEqual(modelArgFrom(['/w/a/../model.json']), { kind: 'path', path: '/w/model.json' });
});

import * as path from 'node:path';
import {
  curveShares,
  methodOrder,
  outputFolder,
  parseShare,
  parseWidths,
  readSettings,
  rememberedData,
  shareLabel,
  DEFAULT_SETTINGS,
} from '../../src/extension/args';

test('share: numbers strictly inside (0, 1), also as percent; everything else refused with a reason', () => {
  assert.deepEqual(parseShare('0.35'), { ok: true, value: 0.35 });
  assert.deepEqual(parseShare(' .5 '), { ok: true, value: 0.5 });
  assert.deepEqual(parseShare('35%'), { ok: true, value: 0.35 });
  for (const t of [
    '0',
    '1',
    '1.0',
    '100%',
    '0%',
    '-0.2',
    '1.5',
    '',
    'abc',
    '0.5.1',
    '1e-1',
    'NaN',
    'Infinity',
    '0x1',
  ]) {
    const r = parseShare(t);
    assert.equal(r.ok, false, t);
    if (!r.ok) assert.ok(r.reason.length > 10, t);
  }
});

test('widths: positive integers separated by commas or spaces', () => {
  assert.deepEqual(parseWidths('8, 3'), { ok: true, value: [8, 3] });
  assert.deepEqual(parseWidths('4 2'), { ok: true, value: [4, 2] });
  for (const t of ['', ' , ', '0', '3.5', '-1', 'a,b', '8,,x', '100001']) assert.equal(parseWidths(t).ok, false, t);
});

test('output folder: beside the model, named by what/method/share, suffixed while taken', () => {
  const taken = new Set<string>();
  const exists = (p: string) => taken.has(p);
  const m = path.join('/w', 'nets', 'model.json');
  const first = outputFolder(m, 'pruned', 'obd-0.3', exists);
  assert.equal(first, path.join('/w', 'nets', 'model-pruned-obd-0.3'));
  taken.add(first);
  assert.equal(outputFolder(m, 'pruned', 'obd-0.3', exists), first + '-2');
  taken.add(first + '-2');
  assert.equal(outputFolder(m, 'pruned', 'obd-0.3', exists), first + '-3');
  assert.equal(
    outputFolder('/w/Classifier.JSON', 'student', 'belsley-0.5', exists),
    path.join('/w', 'Classifier-student-belsley-0.5'),
  );
  assert.throws(() => outputFolder(m, 'pruned', 'x', () => true, 5), /no free folder name/);
  assert.equal(shareLabel(0.1 + 0.2), '0.3');
  assert.equal(shareLabel(0.123456), '0.1235');
});

test('settings: valid values pass, junk falls back to the defaults', () => {
  const from = (o: Record<string, unknown>) => readSettings((k) => o[k]);
  assert.deepEqual(from({}), DEFAULT_SETTINGS);
  assert.deepEqual(
    from({ defaultMethod: 'belsley', defaultVariant: 'fisher', belsleyBlockLimit: 512, seeds: 5, curveStep: 0.1 }),
    { defaultMethod: 'belsley', defaultVariant: 'fisher', belsleyBlockLimit: 512, seeds: 5, curveStep: 0.1 },
  );
  assert.deepEqual(
    from({ defaultMethod: 'magnitude', defaultVariant: 7, belsleyBlockLimit: 0.5, seeds: -1, curveStep: 0.03 }),
    DEFAULT_SETTINGS,
  );
  assert.equal(from({ curveStep: 0.3 }).curveStep, DEFAULT_SETTINGS.curveStep, '1/0.3 is not an integer');
  assert.equal(from({ curveStep: 0.02 }).curveStep, 0.02);
});

test('method order puts the default first and keeps all four', () => {
  assert.deepEqual(methodOrder('variational'), ['variational', 'random', 'obd', 'belsley']);
  assert.deepEqual(methodOrder('random'), ['random', 'obd', 'variational', 'belsley']);
  assert.deepEqual(curveShares(0.25), [0, 0.25, 0.5, 0.75]);
  assert.equal(curveShares(0.05).length, 20);
});

test('remembered data: a built-in name or an absolute data path; anything else forgotten', () => {
  const b = ['wine', 'iris'];
  assert.equal(rememberedData('iris', b), 'iris');
  for (const v of ['/d/x.csv', '/d/x_test.npy', '/d/mnist.NPZ', '/d/digits']) assert.equal(rememberedData(v, b), v);
  for (const v of [
    undefined,
    3,
    '',
    'mnist',
    'x.csv',
    'digits',
    '/',
    '/d/x.json',
    '/d/a.png',
    { data: 'wine' },
    '/'.repeat(5000) + '.csv',
  ])
    assert.equal(rememberedData(v, b), undefined, String(v));
});
