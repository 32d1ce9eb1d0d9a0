// Worker jobs and notebook calls on the user's own data: an .npz, an .npy with its labels given in
// dataOptions or found beside it, and a class-folder tree (as the data picker offers them), each
// giving the ranking computed from the same rows built here by their closed form; dataOptions
// change the result (scale) and are checked field by field.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as url from 'url';
import { backend } from '../helpers';
import { saveModel, loadModel } from '../../src/engine/formats/modelFile';
import { mlpSpec } from '../../src/engine/model/mlpSpec';
import { Graph } from '../../src/engine/model/graph';
import { denseSpec } from '../../src/engine/model/denseChain';
import { splitForModel, type Dataset } from '../../src/engine/data';
import { computeRelevance } from '../../src/engine/relevance/compute';
import { PruneScopeError } from '../../src/engine/errors';
import { jobRunner } from './runJob';
import { cellJob } from '../../src/worker/jobs/cell';
import { npyFixture } from '../data/fixturePaths';
import { PNG } from 'pngjs';
import { workspaceDataChoices, workspaceFiles } from '../../src/extension/dataChoices';

const { ctx, run } = jobRunner();

let dir: string;
let modelPath: string;

before(async () => {
  await backend();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-datajobs-'));
  const net = Graph.random(denseSpec(mlpSpec(16, 3, 'classification', [5, 3], 'tanh')), 4);
  modelPath = (await saveModel(path.join(dir, 'model'), net, { task: 'classification', labelNames: ['0', '1', '2'] }))
    .modelJson;
  net.dispose();
});

/**
 * The fixture's rows by their closed form: x = (40 n + 4 r + c) * scale / 255, y = n % 3, rows in
 * the `order` given (a class-folder tree lists them by class).
 */
function closedForm(scale: 1 | 255, order = [0, 1, 2, 3, 4, 5]): Dataset {
  const x = new Float32Array(6 * 16);
  order.forEach((n, k) => {
    for (let j = 0; j < 16; j++) x[k * 16 + j] = ((40 * n + 4 * (j >> 2) + (j & 3)) * scale) / 255;
  });
  return {
    name: 'closed form',
    task: 'classification',
    featureNames: Array.from({ length: 16 }, (_, j) => `x${j}`),
    targetName: 'y',
    labelNames: ['0', '1', '2'],
    x,
    y: Float32Array.from(order, (n) => n % 3),
    rows: 6,
    features: 16,
  };
}

async function reference(scale: 1 | 255, order?: number[]): Promise<number[]> {
  const m = await loadModel(modelPath);
  try {
    const split = splitForModel(m.network, m.metadata, closedForm(scale, order), { seed: 0 });
    return Array.from((await computeRelevance(m.network, split, { method: 'obd', seed: 0 })).scores);
  } finally {
    m.network.dispose();
  }
}

test('relevance job: .npz, .npy + dataOptions.labels, and scale 255 equal the closed-form rows', async () => {
  const ref1 = await reference(1);
  const a = await run('relevance', { modelPath, data: npyFixture('xy.npz'), method: 'obd' });
  const b = await run('relevance', {
    modelPath,
    data: npyFixture('x_img.npy'),
    dataOptions: { labels: npyFixture('y_img.npy') },
    method: 'obd',
  });
  assert.deepEqual(a.scores, ref1);
  assert.deepEqual(b.scores, ref1);
  const c = await run('relevance', {
    modelPath,
    data: npyFixture('xy.npz'),
    dataOptions: { scale: 255 },
    method: 'obd',
  });
  assert.deepEqual(c.scores, await reference(255));
  assert.notDeepEqual(c.scores, ref1);
});

test('dataOptions are checked field by field, naming the field', async () => {
  const bad = async (dataOptions: unknown, field: RegExp) => {
    try {
      await run('relevance', { modelPath, data: npyFixture('xy.npz'), dataOptions });
    } catch (e) {
      assert.ok(e instanceof PruneScopeError);
      assert.match(e.message, field);
      return;
    }
    assert.fail(`accepted ${JSON.stringify(dataOptions)}`);
  };
  await bad({ scale: 2 }, /dataOptions\.scale is 2 .*1 or 255/);
  await bad({ maxRows: 0 }, /maxRows/);
  await bad({ labelz: 'y.npy' }, /unknown data option "labelz"/);
  await bad({ resize: 'no' }, /resize/);
  await bad('x', /params must be an object/);
});

test('notebook: relevance on a .npy with labels and an .npz, paths relative to the notebook', async () => {
  fs.copyFileSync(npyFixture('x_img.npy'), path.join(dir, 'x.npy'));
  fs.copyFileSync(npyFixture('y_img.npy'), path.join(dir, 'y.npy'));
  fs.copyFileSync(npyFixture('xy.npz'), path.join(dir, 'xy.npz'));
  const notebook = url.pathToFileURL(path.join(dir, 'a.prune.ipynb')).href;
  const source = `
    const a = await prunescope.relevance({ model: ${JSON.stringify(modelPath)}, data: 'x.npy', labels: 'y.npy' });
    const b = await prunescope.relevance({ model: ${JSON.stringify(modelPath)}, data: 'xy.npz', scale: 255 });
    return JSON.stringify([a.scores, b.scores]);`;
  const out = (await cellJob.run(cellJob.parse({ source, notebook, cellIndex: 0 }), ctx())).result.outputs;
  const [a, b] = JSON.parse(String(out[0].data));
  // JSON has no -0.
  const json = (v: number[]) => v.map((x) => (x === 0 ? 0 : x));
  assert.deepEqual(a, json(await reference(1)));
  assert.deepEqual(b, json(await reference(255)));
});

test("the data picker's workspace choices reach the jobs as their path alone", async () => {
  // A workspace as users have it: a class-folder tree of PNGs, x_test.npy + y_test.npy, an .npz.
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-workspace-'));
  fs.copyFileSync(npyFixture('x_img.npy'), path.join(ws, 'x_test.npy'));
  fs.copyFileSync(npyFixture('y_img.npy'), path.join(ws, 'y_test.npy'));
  fs.copyFileSync(npyFixture('xy.npz'), path.join(ws, 'xy.npz'));
  for (let n = 0; n < 6; n++) {
    const png = new PNG({ width: 4, height: 4, colorType: 0 });
    for (let j = 0; j < 16; j++) png.data.set([40 * n + j, 40 * n + j, 40 * n + j, 255], 4 * j);
    fs.mkdirSync(path.join(ws, 'shapes', String(n % 3)), { recursive: true });
    fs.writeFileSync(path.join(ws, 'shapes', String(n % 3), `${n}.png`), PNG.sync.write(png, { colorType: 0 }));
  }
  const found = fs.readdirSync(ws, { recursive: true, encoding: 'utf8' }).map((f) => path.join(ws, f));
  const choices = workspaceDataChoices(workspaceFiles(found), (f) => path.relative(ws, f));
  assert.deepEqual(
    choices.map((c) => [c.kind, path.relative(ws, c.data)]),
    [
      ['image-folder', 'shapes'],
      ['npy', 'x_test.npy'],
      ['npz', 'xy.npz'],
    ],
  );
  const inFileOrder = await reference(1);
  // The folder lists its rows class by class: 0, 3 (class 0), 1, 4, 2, 5.
  const byClass = await reference(1, [0, 3, 1, 4, 2, 5]);
  for (const c of choices) {
    const r = await run('relevance', { modelPath, data: c.data, method: 'obd' });
    assert.deepEqual(r.scores, c.kind === 'image-folder' ? byClass : inFileOrder, c.label);
  }
  fs.rmSync(ws, { recursive: true, force: true });
});
