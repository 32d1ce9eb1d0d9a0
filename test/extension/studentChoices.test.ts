// Export Student's choices: what the quick picks offer for a conv model and a dense chain (read from
// the `info` job's summary of the committed e2e fixtures), and the job parameters they give, run
// through the real export-student job: the channel student of the conv fixture has fewer filters.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backend } from '../helpers';
import { STRUCTURED_DEFAULTS } from '../../src/engine/options';
import {
  exportStudentParams,
  foldBnChoices,
  hasBatchNorm,
  hasConvolutions,
  pruningUnitChoices,
  shareNoun,
  studentTag,
  type ModelLayers,
} from '../../src/extension/studentChoices';
import type { JobParams, JobResult } from '../../src/protocol';
import type { JobContext } from '../../src/worker/jobTypes';
import { summarizeModelJson } from '../../src/worker/jobs/modelInfo';
import { handlers } from '../../src/worker/registry';

const FIXTURES = path.join(__dirname, '../../../test/e2e/fixtures');
const convModel = path.join(FIXTURES, 'shapes/model/shapes-conv.json');
const convImages = path.join(FIXTURES, 'shapes/images');
const denseModel = path.join(FIXTURES, 'wine/model.json');

/** The layers as the command sees them: the `info` job's summary of the file. */
function layersOf(file: string): ModelLayers {
  const info = summarizeModelJson(JSON.parse(fs.readFileSync(file, 'utf8')), file);
  return { classNames: info.layers.map((l) => l.className) };
}

/** Output channels of every Conv2D in a written TF.js model.json, in order. */
function convFilters(file: string): number[] {
  const layers = JSON.parse(fs.readFileSync(file, 'utf8')).modelTopology.config.layers as {
    class_name: string;
    config: { filters?: number };
  }[];
  return layers.filter((l) => l.class_name === 'Conv2D').map((l) => l.config.filters as number);
}

function manifestParams(file: string): number {
  const m = JSON.parse(fs.readFileSync(file, 'utf8')).weightsManifest as { weights: { shape: number[] }[] }[];
  return m.flatMap((g) => g.weights).reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
}

before(() => backend());

test('a conv model is offered whole filters first; a dense chain its weights first', () => {
  const conv = layersOf(convModel);
  const dense = layersOf(denseModel);
  assert.equal(hasConvolutions(conv), true);
  assert.equal(hasConvolutions(dense), false);
  assert.equal(hasConvolutions({ classNames: ['InputLayer', 'DepthwiseConv2D', 'Dense'] }), true);
  assert.deepEqual(
    pruningUnitChoices(conv).map((c) => c.label),
    ['channels (whole filters)', 'units', 'weights (dense chain only)'],
  );
  assert.deepEqual(
    pruningUnitChoices(dense).map((c) => c.unit),
    ['none', 'units', 'channels'],
  );
  assert.deepEqual(
    ['channels', 'units', 'none'].map((u) => shareNoun(u as 'channels')),
    ['channels', 'units', 'weights'],
  );
});

test('BN folding is asked only of models with BatchNormalization, the engine default first', () => {
  assert.equal(hasBatchNorm(layersOf(convModel)), false);
  assert.equal(hasBatchNorm({ classNames: ['Conv2D', 'BatchNormalization', 'Dense'] }), true);
  const choices = foldBnChoices();
  assert.deepEqual(choices.map((c) => c.fold).sort(), [false, true]);
  assert.equal(choices[0].fold, STRUCTURED_DEFAULTS.foldBn);
});

test('the dense-chain student sends no structured fields; widths with channels are refused', () => {
  const p = exportStudentParams('/w/m.json', 'wine', { method: 'obd', sizing: { widths: [3] } }, '/w/out');
  assert.deepEqual(p, { modelPath: '/w/m.json', data: 'wine', seed: 0, method: 'obd', widths: [3], out: '/w/out' });
  const none = exportStudentParams(
    '/w/m.json',
    'wine',
    { method: 'random', sizing: { fraction: 0.3 }, structured: 'none', foldBn: true },
    '/w/out',
  );
  assert.equal('structured' in none || 'foldBn' in none, false);
  assert.throws(() =>
    exportStudentParams('/w/m.json', 'x', { method: 'obd', sizing: { widths: [3] }, structured: 'channels' }, '/w/o'),
  );
  assert.equal(studentTag({ method: 'obd', sizing: { fraction: 0.5 }, structured: 'channels' }), 'obd-channels-0.5');
  assert.equal(studentTag({ method: 'obd', sizing: { widths: [3, 2] } }), 'obd-3x2');
});

test('channels at 0.5 through the real job: the student of the conv fixture has half the filters', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-student-choices-'));
  try {
    const out = path.join(dir, 'student');
    const before = fs.readFileSync(convModel);
    const params = exportStudentParams(
      convModel,
      convImages,
      { method: 'obd', sizing: { fraction: 0.5 }, structured: 'channels', foldBn: false },
      out,
    );
    const h = handlers['export-student'];
    const parsed = h.parse(params) as JobParams<'export-student'>;
    assert.equal(parsed.structured, 'channels');
    const ctx: JobContext = {
      signal: new AbortController().signal,
      progress: () => undefined,
      log: () => undefined,
      cache: new Map(),
    };
    const r = (await h.run(parsed, ctx)).result as JobResult<'export-student'>;
    assert.deepEqual(convFilters(convModel), [4]);
    assert.deepEqual(convFilters(path.join(out, 'model.json')), [2]);
    // Conv 3x3x1 -> 2 filters: 2*9 + 2; Dense over 7*7*2 flattened inputs -> 3: 98*3 + 3.
    const expected = 2 * 9 + 2 + 98 * 3 + 3;
    assert.equal(manifestParams(path.join(out, 'model.json')), expected);
    assert.equal(r.paramsAfter, expected);
    assert.equal(r.paramsBefore, manifestParams(convModel));
    assert.ok(fs.readFileSync(convModel).equals(before), 'the teacher changed');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
