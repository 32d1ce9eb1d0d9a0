// NaN / Infinity stops the job with a PruneScopeError('numerical') that says where (step / epoch
// and layer), and nothing is written. Failures are injected directly (an Inf or NaN weight, a NaN
// input), never hoped for from large values: tfjs' softmax and tanh saturate without overflowing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { NetworkSpec, randomDense } from '../../src/engine/model/denseChain';
import { Graph } from '../../src/engine/model/graph';
import { PruneScopeError } from '../../src/engine/errors';
import { train } from '../../src/engine/train/train';
import { trainWithFreezing } from '../../src/engine/ordering/freezeTrain';
import { distill } from '../../src/engine/distill/distill';
import { variationalRelevance } from '../../src/engine/relevance/variational';
import { curvatureDiagonal, gradientVariance, ggnLayerBlock } from '../../src/engine/curvature';
import { laplaceBlocks } from '../../src/engine/relevance/covariance/laplace';
import { saveModel } from '../../src/engine/formats/modelFile';
import { describeParam, checkFiniteFlat } from '../../src/engine/model/finiteParams';
import type { DataSplit, Dataset } from '../../src/engine/data/dataset';
import { Rng } from '../../src/engine/util/random';
import { linearRegression, splitOf } from '../train/fixtures';

// 4 features, 5 tanh units, 3 classes: hidden1 kernel = flat 0..19, bias 20..24; out kernel 25..39, bias 40..42.
const SPEC: NetworkSpec = {
  inputSize: 4,
  layers: [
    { name: 'hidden1', units: 5, activation: 'tanh' },
    { name: 'out', units: 3, activation: 'softmax' },
  ],
};

/** 3-class data with every feature in [0.5, 1.5] (never 0, so x * Inf is +-Inf, never NaN). */
function positiveData(n = 24): DataSplit {
  const rng = new Rng(3);
  const x = Float32Array.from({ length: n * 4 }, () => rng.uniform(0.5, 1.5));
  const y = Float32Array.from({ length: n }, (_, i) => i % 3);
  const ds: Dataset = {
    name: 'pos',
    task: 'classification',
    featureNames: ['a', 'b', 'c', 'd'],
    targetName: 'k',
    labelNames: ['0', '1', '2'],
    x,
    y,
    rows: n,
    features: 4,
  };
  return splitOf(ds, { x, y, rows: n }, { x: x.subarray(0, 24), y: y.subarray(0, 6), rows: 6 });
}

/** SPEC's network with parameter j set to v. */
function netWith(j: number, v: number): Graph {
  const net = randomDense(SPEC, 1);
  const f = net.toFlat();
  f[j] = v;
  net.setFlat(f);
  return net;
}

function numerical(re: RegExp[]): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof PruneScopeError, `not a PruneScopeError: ${String(e)}`);
    assert.equal(e.code, 'numerical');
    for (const r of re) assert.match(e.message, r);
    return true;
  };
}

test('describeParam and checkFiniteFlat name the layer and the [input, unit] of a flat index', async () => {
  await backend();
  const layout = randomDense(
    {
      inputSize: 4,
      layers: [
        { name: 'hidden1', units: 12, activation: 'tanh' },
        { name: 'out', units: 2, activation: 'linear' },
      ],
    },
    0,
  );
  // kernel [4, 12] row-major: 41 = 3 * 12 + 5; bias of hidden1 starts at 48; out kernel at 60, bias at 84.
  assert.equal(describeParam(layout, 41), 'layer hidden1 kernel[3, 5] (flat 41)');
  assert.equal(describeParam(layout, 50), 'layer hidden1 bias[2] (flat 50)');
  assert.equal(describeParam(layout, 61), 'layer out kernel[0, 1] (flat 61)');
  const v = new Float32Array(86);
  v[41] = NaN;
  v[70] = Infinity;
  assert.throws(
    () => checkFiniteFlat(layout, v, 'hessian diagonal', "the model's weights or inputs overflow"),
    numerical([
      /hessian diagonal has NaN at layer hidden1 kernel\[3, 5\] \(flat 41\): the model's weights or inputs overflow/,
    ]),
  );
  layout.dispose();
});

test('train: an Inf weight behind a saturated tanh keeps the loss finite; the epoch check names epoch and layer', async () => {
  await backend();
  const net = netWith(6, Infinity); // hidden1 kernel[1, 1]
  const before = tf.memory().numTensors;
  await assert.rejects(
    train(net, positiveData(), { epochs: 2, batchSize: 8, lr: 1e-3, seed: 1 }),
    numerical([/epoch 1\)/, /by step 3 /, /Infinity at layer hidden1 kernel\[1, 1\] \(flat 6\)/]),
  );
  assert.equal(tf.memory().numTensors, before);
  net.dispose();
});

test('train: a NaN output weight behind the clipped cross-entropy (finite loss) is caught at the end of epoch 1', async () => {
  await backend();
  const net = netWith(30, NaN); // out kernel[1, 2]; cross-entropy clips p, so the step losses stay finite
  await assert.rejects(
    train(net, positiveData(), { epochs: 1, batchSize: 8, lr: 1e-3, seed: 1 }),
    numerical([/parameters became non-finite by step 3 \(epoch 1\)/, /NaN at layer out kernel/]),
  );
  net.dispose();
});

test('train (regression): a NaN weight makes the loss NaN at step 1 (epoch 1); the message names the layers', async () => {
  await backend();
  const { split } = linearRegression(24, 3, 5);
  const spec: NetworkSpec = {
    inputSize: 3,
    layers: [
      { name: 'h', units: 4, activation: 'tanh' },
      { name: 'y', units: 1, activation: 'linear' },
    ],
  };
  const net = randomDense(spec, 1);
  const f = net.toFlat();
  f[17] = NaN; // y kernel[1, 0] (h: 12 + 4 = 16 parameters)
  net.setFlat(f);
  const fresh = net.clone();
  // train() reads the losses once per epoch: by then the NaN has spread through every layer's update.
  await assert.rejects(
    train(net, split, { epochs: 1, batchSize: 8, lr: 1e-3, seed: 1 }),
    numerical([
      /training loss became NaN at step 1 \(epoch 1\)/,
      /NaN at layer h kernel\[0, 0\] \(flat 0\)/,
      /NaN at layer y kernel/,
    ]),
  );
  // freezeTrain reads each step's loss before its update: only the injected weight is non-finite.
  await assert.rejects(
    trainWithFreezing(fresh, split, { steps: 4, batchSize: 8, lr: 1e-3, seed: 1 }),
    numerical([
      /training loss became NaN at step 1; non-finite parameters: NaN at layer y kernel\[1, 0\] \(flat 17\); try/,
    ]),
  );
  net.dispose();
  fresh.dispose();
});

test('saveModel refuses non-finite weights, naming layer and weight, and writes nothing', async () => {
  await backend();
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-nonfinite-'));
  const out = path.join(parent, 'model');
  const net = netWith(41, -Infinity); // out bias[1]
  await assert.rejects(
    saveModel(out, net),
    numerical([/layer out \(Dense\)\.bias: weight bias has -Infinity at entry 1 \(flat 41\); nothing was written/]),
  );
  assert.equal(fs.existsSync(out), false);
  assert.deepEqual(fs.readdirSync(parent), []);
  net.dispose();
  fs.rmSync(parent, { recursive: true });
});

test('curvature: NaN input row gives NaN everywhere; the error names kind, layer and first parameter', async () => {
  await backend();
  const net = randomDense(SPEC, 1);
  const xv = Array.from({ length: 8 * 4 }, (_, i) => 0.1 * (i % 7));
  xv[13] = NaN; // row 3: its activations, deltas and so every per-parameter term are NaN
  const x = tf.tensor2d(xv, [8, 4]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3).toFloat() as tf.Tensor2D;
  for (const kind of ['hessian', 'ggn', 'fisher'] as const) {
    await assert.rejects(
      curvatureDiagonal(net, x, y, kind),
      numerical([
        new RegExp(
          `${kind} diagonal has NaN at layer hidden1 kernel\\[0, 0\\] \\(flat 0\\): the model's weights or inputs overflow`,
        ),
      ]),
    );
  }
  await assert.rejects(
    gradientVariance(net, x, y),
    numerical([/gradient mean has NaN at layer hidden1 kernel\[0, 0\] \(flat 0\)/]),
  );
  await assert.rejects(
    ggnLayerBlock(net, x, y, 1),
    numerical([/GGN block of layer out has NaN at row layer out kernel\[0, 0\] \(flat 25\)/]),
  );
  await assert.rejects(
    laplaceBlocks(net, x, y, net.toFlat(), { blockLimit: 100 }),
    numerical([/GGN block of layer hidden1 has NaN/]),
  );
  tf.dispose([x, y]);
  net.dispose();
});

test('freezeTrain: a finite loss with an Inf weight is caught at the end of the run, naming the layer', async () => {
  await backend();
  const b = netWith(6, Infinity);
  await assert.rejects(
    trainWithFreezing(b, positiveData(), { steps: 4, batchSize: 8, lr: 1e-3, seed: 1 }),
    numerical([/by step 4 \(end of the run\)/, /Infinity at layer hidden1 kernel\[1, 1\] \(flat 6\)/]),
  );
  b.dispose();
});

test('distill: a NaN student weight stops at step 1 (epoch 1) naming the layer', async () => {
  await backend();
  const teacher = randomDense(SPEC, 2);
  const student = netWith(22, NaN); // hidden1 bias[2]
  await assert.rejects(
    distill(teacher, student, positiveData(), { epochs: 1, batchSize: 8, lr: 1e-3, seed: 1 }),
    numerical([/distillation loss became NaN at step 1 \(epoch 1\)/, /non-finite parameters: NaN at layer hidden1/]),
  );
  tf.dispose([teacher, student].flatMap((n) => n.params));
});

test('variational: a NaN weight makes the ELBO non-finite at epoch 1, step 1, naming the posterior layer', async () => {
  await backend();
  const net = netWith(30, NaN);
  await assert.rejects(
    variationalRelevance(net, positiveData(), { epochs: 1, batchSize: 8, seed: 1 }),
    numerical([/diverged at epoch 1, step 1 /, /non-finite posterior in layer [a-z0-9, ]*out/]),
  );
  net.dispose();
});
