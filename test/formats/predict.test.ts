// prunescope predict: the outputs it prints equal tfjs-layers' own predict on the same file and
// rows (softmax and linear heads, the standardisation the model records applied first), the split
// parts are the same rows of the full output, the nine real Keras files give their reference
// outputs (computed by Keras itself) to 1e-4, and PyTorch-exported ONNX files PyTorch's outputs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { tfjsLoad, tmpDir, writeTfjsModel } from '../fixtures/models/tfjsFiles';
import { npyBytes } from '../data/npyWrite';
import { Rng } from '../../src/engine/util/random';
import { predictCommand, type PredictReport } from '../../src/cli/commands/predict';
import { PruneScopeError } from '../../src/engine/errors';
import { h5Service } from '../../src/engine/formats/hdf5/h5Client';
import {
  SHARED_FILES,
  SHARED_MODELS,
  SKIP_MESSAGE,
  expectedOf,
  inputsOf,
  sharedModels,
} from '../fixtures/models/sharedModels';
import { runCommand } from '../cliRun';

after(() => h5Service.stop());

async function predict(argv: string[]): Promise<string> {
  return await runCommand(predictCommand, argv);
}

function rowsOf(n: number, f: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * f }, () => 2 * rng.normal());
}

function maxGap(a: number[][], b: number[][]): number {
  assert.equal(a.length, b.length, 'row count');
  let g = 0;
  a.forEach((r, i) => {
    assert.equal(r.length, b[i].length, `row ${i} width`);
    r.forEach((v, j) => (g = Math.max(g, Math.abs(v - b[i][j]))));
  });
  return g;
}

async function denseModel(dir: string, activation: 'softmax' | 'linear', outputs: number): Promise<string> {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [5], units: 7, activation: 'tanh', name: 'h' }),
      tf.layers.dense({ units: outputs, activation, name: 'o' }),
    ],
  });
  return writeTfjsModel(m, dir);
}

test('predict on a softmax model: outputs from an .npy without labels equal tfjs predict; --split parts are rows of the whole', async () => {
  await backend();
  const dir = tmpDir('predict-softmax');
  const file = await denseModel(path.join(dir, 'm'), 'softmax', 3);
  const n = 37;
  const x = rowsOf(n, 5, 1);
  const npy = path.join(dir, 'x.npy');
  fs.writeFileSync(npy, npyBytes(x, [n, 5], '<f4'));
  const r = JSON.parse(await predict([file, '--data', npy, '--json'])) as PredictReport;
  const ref = await tfjsLoad(file);
  const want = (ref.predict(tf.tensor2d(x, [n, 5])) as tf.Tensor).arraySync() as number[][];
  assert.ok(maxGap(r.outputs, want) < 1e-6, `max gap ${maxGap(r.outputs, want)}`);
  assert.deepEqual(
    r.rows,
    Array.from({ length: n }, (_, i) => i),
  );
  assert.deepEqual(r.columns, ['out0', 'out1', 'out2']);
  assert.equal(r.provenance.job, 'predict');
  assert.equal(r.provenance.data?.split, 'all');
  assert.equal(r.provenance.data?.rows, n);
  assert.match(r.provenance.modelHash ?? '', /^[0-9a-f]{16}$/);

  const parts = await Promise.all(
    ['train', 'test'].map(
      async (s) =>
        JSON.parse(await predict([file, '--data', npy, '--split', s, '--seed', '4', '--json'])) as PredictReport,
    ),
  );
  assert.equal(parts[1].rows.length, Math.round(0.2 * n));
  assert.deepEqual(
    [...parts[0].rows, ...parts[1].rows].sort((a, b) => a - b),
    r.rows,
    'the parts cover every row once',
  );
  for (const p of parts) p.rows.forEach((row, i) => assert.deepEqual(p.outputs[i], r.outputs[row], `row ${row}`));

  const text = (await predict([file, '--data', npy, '--max-rows', '5'])).trim().split('\n');
  assert.equal(text[0], 'row,out0,out1,out2');
  assert.equal(text.length, 6);
  ref.dispose();
});

test('predict on a regression CSV applies the standardisation the model records before the forward', async () => {
  await backend();
  const dir = tmpDir('predict-csv');
  const file = await denseModel(path.join(dir, 'm'), 'linear', 1);
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const mean = [1, -2, 0.5, 3, 0];
  const std = [2, 0.5, 1, 4, 1.5];
  json.userDefinedMetadata = { prunescope: { task: 'regression', preprocessing: { standardization: { mean, std } } } };
  fs.writeFileSync(file, JSON.stringify(json));
  const n = 12;
  const x = rowsOf(n, 5, 2);
  const csv = path.join(dir, 'rows.csv');
  const lines = ['a,b,c,d,e,y'];
  for (let i = 0; i < n; i++) lines.push([...x.subarray(i * 5, i * 5 + 5), i].join(','));
  fs.writeFileSync(csv, lines.join('\n') + '\n');
  const r = JSON.parse(await predict([file, '--data', csv, '--json'])) as PredictReport;
  const z = x.map((v, k) => (v - mean[k % 5]) / std[k % 5]);
  const ref = await tfjsLoad(file);
  const want = (ref.predict(tf.tensor2d(z, [n, 5])) as tf.Tensor).arraySync() as number[][];
  assert.ok(maxGap(r.outputs, want) < 1e-5, `max gap ${maxGap(r.outputs, want)}`);
  assert.equal(r.provenance.data?.standardized, true);
  ref.dispose();
});

test('predict refuses data whose rows do not fit the model, naming both sizes', async () => {
  await backend();
  const dir = tmpDir('predict-bad');
  const file = await denseModel(path.join(dir, 'm'), 'softmax', 3);
  const npy = path.join(dir, 'x.npy');
  fs.writeFileSync(npy, npyBytes(rowsOf(4, 6, 3), [4, 6], '<f4'));
  await assert.rejects(predict([file, '--data', npy]), (e: unknown) => {
    assert.ok(e instanceof PruneScopeError);
    assert.match(e.message, /x has rows of shape \(6,\)/);
    assert.equal(e.context.file, npy);
    return true;
  });
  const csv = path.join(dir, 'rows.csv');
  fs.writeFileSync(csv, 'a,b,c,d,e,f,y\n1,2,3,4,5,6,0\n6,5,4,3,2,1,1\n');
  await assert.rejects(predict([file, '--data', csv]), (e: unknown) => {
    assert.ok(e instanceof PruneScopeError);
    assert.match(e.message, /6 features per row/);
    assert.match(String(e.context.expected), /5 values per row/);
    return true;
  });
  await assert.rejects(predict([file, '--data', npy, '--split', 'some']), PruneScopeError);
});

for (const name of SHARED_FILES) {
  test(`${name}: predict on the Keras file prints Keras's own outputs to 1e-4`, async (t) => {
    if (!sharedModels()) return t.skip(SKIP_MESSAGE);
    await backend();
    const rows = inputsOf(name);
    const x = new Float32Array(rows.length * rows[0].length);
    rows.forEach((r, i) => x.set(r, i * r.length));
    const npy = path.join(tmpDir('predict-shared'), 'x.npy');
    fs.writeFileSync(npy, npyBytes(x, [rows.length, 28, 28, 1], '<f4'));
    const r = JSON.parse(await predict([path.join(SHARED_MODELS, name), '--data', npy, '--json'])) as PredictReport;
    const gap = maxGap(r.outputs, expectedOf(name).outputs);
    assert.ok(gap < 1e-4, `${name}: max |ours - Keras| = ${gap}`);
  });
}

const ONNX = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'onnx');

for (const [net, file] of [
  ['mlp', 'mlp-opset13.onnx'],
  ['lenet', 'lenet-opset13.onnx'],
  ['resnet', 'resnet-opset17.onnx'],
]) {
  test(`${file}: predict reads CSV rows in the model's own (C, H, W) order and prints PyTorch's outputs to 1e-4`, async () => {
    await backend();
    const fx = JSON.parse(fs.readFileSync(path.join(ONNX, `${net}.json`), 'utf8')) as {
      inputs: number[][];
      outputs: number[][];
    };
    const f = fx.inputs[0].length;
    const csv = path.join(tmpDir('predict-onnx'), 'rows.csv');
    const header = [...Array.from({ length: f }, (_, j) => `x${j}`), 'y'].join(',');
    fs.writeFileSync(csv, [header, ...fx.inputs.map((r, i) => [...r, i % 2].join(','))].join('\n') + '\n');
    const r = JSON.parse(await predict([path.join(ONNX, file), '--data', csv, '--json'])) as PredictReport;
    const gap = maxGap(r.outputs, fx.outputs);
    assert.ok(gap < 1e-4, `${file}: max |ours - PyTorch| = ${gap}`);
  });
}
