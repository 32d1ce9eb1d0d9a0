// Real data: wine 13-13-3 tanh reaches a sensible test accuracy; evaluate() against a plain JS
// computation; the train command's saved model reloaded by TF.js itself reproduces its metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { denseFromFlat, randomDense } from '../../src/engine/model/denseChain';
import { train } from '../../src/engine/train/train';
import { evaluate } from '../../src/engine/train/metrics';
import { loadDataset, splitDataset } from '../../src/engine/data';
import { spawnSync } from 'child_process';
import { linearRegression } from './fixtures';

/** Runs the compiled CLI in a child process (its stdout is the command's, not the test runner's). */
function cli(argv: string[]) {
  return spawnSync(process.execPath, [path.join(__dirname, '../../src/cli/run.js'), ...argv], { encoding: 'utf8' });
}

const WINE = {
  inputSize: 13,
  layers: [
    { name: 'h', units: 13, activation: 'tanh' as const },
    { name: 'out', units: 3, activation: 'softmax' as const },
  ],
};

test('wine, standardised, 13-13-3 tanh: test accuracy > 0.9', async () => {
  await backend();
  const split = splitDataset(loadDataset('wine'), { seed: 0, standardize: true });
  const net = randomDense(WINE, 0);
  const history: number[] = [];
  const r = await train(net, split, {
    epochs: 60,
    batchSize: 16,
    lr: 0.01,
    seed: 0,
    onEpoch: (m) => history.push(m.trainLoss),
  });
  assert.ok(r.final.test.accuracy! > 0.9, `test accuracy ${r.final.test.accuracy}`);
  assert.ok(history[history.length - 1] < history[0] / 5, `train loss ${history[0]} -> ${history[history.length - 1]}`);
  assert.equal(r.steps, 60 * Math.ceil(split.train.rows / 16));
  net.dispose();
});

test('evaluate matches a direct JS computation of cross-entropy, accuracy and MSE (across batch boundaries)', async () => {
  await backend();
  const split = splitDataset(loadDataset('wine'), { seed: 1, standardize: true });
  const net = randomDense(WINE, 4);
  const p = net.predict(tf.tensor2d(split.test.x, [split.test.rows, 13]));
  const probs = p.dataSync();
  p.dispose();
  let ce = 0,
    correct = 0;
  for (let i = 0; i < split.test.rows; i++) {
    const row = Array.from(probs.subarray(i * 3, i * 3 + 3));
    ce -= Math.log(row[split.test.y[i]]);
    if (row.indexOf(Math.max(...row)) === split.test.y[i]) correct++;
  }
  const m = evaluate(net, split.test, 'classification', 3, 7); // 7 does not divide the rows
  assert.ok(Math.abs(m.loss - ce / split.test.rows) < 1e-5);
  assert.equal(m.accuracy, correct / split.test.rows);
  net.dispose();

  const { split: reg } = linearRegression(50, 3, 2);
  const lin = denseFromFlat(
    { inputSize: 3, layers: [{ name: 'o', units: 1, activation: 'linear' }] },
    Float32Array.from([1, -1, 0.5, 0.25]),
  );
  let se = 0;
  for (let i = 0; i < 50; i++) {
    const [a, b, c] = reg.train.x.subarray(i * 3, i * 3 + 3);
    se += (a - b + 0.5 * c + 0.25 - reg.train.y[i]) ** 2;
  }
  const mr = evaluate(lin, reg.train, 'regression', 0, 16);
  assert.ok(Math.abs(mr.mse! - se / 50) < 1e-4 * (se / 50));
  assert.equal(mr.accuracy, undefined);
  lin.dispose();
});

test('prunescope train writes a model that TF.js loads and that reproduces the reported test accuracy', async () => {
  await backend();
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ps-train-')), 'model');
  const r = cli([
    'train',
    '--data',
    'wine',
    '--layers',
    '13,3',
    '--epochs',
    '40',
    '--batch',
    '16',
    '--lr',
    '0.01',
    '--seed',
    '3',
    '--standardize',
    '--out',
    dir,
    '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.ok(doc.final.test.accuracy > 0.85, `accuracy ${doc.final.test.accuracy}`);
  const modelJson = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const meta = modelJson.userDefinedMetadata.prunescope;
  assert.equal(meta.task, 'classification');
  assert.equal(meta.featureNames.length, 13);
  assert.equal(meta.labelNames.length, 3);
  assert.equal(meta.provenance.job, 'train');
  assert.equal(meta.preprocessing.standardization.mean.length, 13);
  // Reload with TF.js's own loader, feed the held-out rows standardised with the stored statistics.
  const shard = fs.readFileSync(path.join(dir, modelJson.weightsManifest[0].paths[0]));
  const model = await tf.loadLayersModel({
    load: async () => ({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest[0].weights,
      weightData: shard.buffer.slice(shard.byteOffset, shard.byteOffset + shard.byteLength),
    }),
  });
  const raw = splitDataset(loadDataset('wine'), { seed: 3, testFraction: 0.2, standardize: false }).test;
  const { mean, std } = meta.preprocessing.standardization;
  const xs = Float32Array.from(raw.x, (v, k) => (v - mean[k % 13]) / std[k % 13]);
  const pred = model.predict(tf.tensor2d(xs, [raw.rows, 13])) as tf.Tensor;
  const labels = pred.argMax(1).dataSync();
  let correct = 0;
  for (let i = 0; i < raw.rows; i++) if (labels[i] === raw.y[i]) correct++;
  assert.ok(
    Math.abs(correct / raw.rows - doc.final.test.accuracy) < 1e-9,
    `${correct / raw.rows} vs ${doc.final.test.accuracy}`,
  );
  // Never overwrites: a second run into the same folder is refused.
  const again = cli(['train', '--data', 'wine', '--epochs', '1', '--out', dir]);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /not empty/);
  tf.dispose(pred);
  model.dispose();
});

test('--layers must end with the output width the data needs', async () => {
  const { mlpSpec: buildSpec } = await import('../../src/engine/model/mlpSpec');
  assert.throws(() => buildSpec(13, 3, 'classification', [13, 4], 'tanh'), /--layers.*expected hidden widths then 3/);
  const s = buildSpec(13, 3, 'classification', [20, 10, 3], 'relu');
  assert.deepEqual(
    s.layers.map((l) => [l.units, l.activation]),
    [
      [20, 'relu'],
      [10, 'relu'],
      [3, 'softmax'],
    ],
  );
  assert.equal(buildSpec(5, 1, 'regression', undefined, 'tanh').layers[1].activation, 'linear');
});
