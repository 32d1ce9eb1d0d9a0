// The TF.js reader and writer against TF.js itself: tfjs-layers builds and saves each model,
// PruneScope reads it into a GraphSpec and writes it back, and tf.loadLayersModel reads what was
// written: every weight must come back bit for bit and the predictions must equal the original's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { readTfjs, writeTfjs } from '../../src/engine/formats/tfjs';
import { readModel, writeModel } from '../../src/engine/formats';
import { flatSize } from '../../src/engine/model/graphShapes';
import { encodePruneMask, PruneScopeMetadata } from '../../src/engine/model/metadata';
import { PruneScopeError } from '../../src/engine/errors';
import { Rng } from '../../src/engine/util/random';
import { tfjsLoad, tmpDir, writeTfjsModel } from '../fixtures/models/tfjsFiles';

/** Every weight to seeded random values (variances positive), so nothing lines up by accident. */
function randomise(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const l of model.layers) {
    const ws = l.weights;
    if (ws.length === 0) continue;
    l.setWeights(
      ws.map((w) => {
        const n = (w.shape as number[]).reduce((a, b) => a * b, 1);
        const variance = /variance/.test(w.name);
        const v = Float32Array.from({ length: n }, () =>
          variance ? 0.5 + rng.uniform(0, 1.5) : rng.uniform(-0.6, 0.6),
        );
        return tf.tensor(v, w.shape as number[]);
      }),
    );
  }
}

function inputs(shape: number[], rows = 6, seed = 3): tf.Tensor {
  const rng = new Rng(seed);
  const n = rows * shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => 2 * rng.normal()),
    [rows, ...shape],
  );
}

/** tfjs model -> file -> readTfjs -> writeTfjs -> tf.loadLayersModel; weights and outputs compared. */
async function roundTrip(model: tf.LayersModel, tag: string, inputShape: number[]) {
  await backend();
  randomise(model, 7);
  const file = await writeTfjsModel(model, tmpDir(tag));
  const read = await readTfjs(file);
  const out = path.join(tmpDir(`${tag}-out`), 'model');
  const written = await writeTfjs(out, { spec: read.spec }, { input: file });
  const back = await tfjsLoad(written.path);
  for (const l of model.layers) {
    const want = l.getWeights();
    const got = back.getLayer(l.name).getWeights();
    assert.equal(got.length, want.length, `layer ${l.name} weight count`);
    want.forEach((w, i) =>
      assert.deepEqual(Array.from(got[i].dataSync()), Array.from(w.dataSync()), `layer ${l.name} weight ${i}`),
    );
  }
  const x = inputs(inputShape);
  const a = (model.predict(x) as tf.Tensor).dataSync();
  const b = (back.predict(x) as tf.Tensor).dataSync();
  assert.equal(a.length, b.length);
  let gap = 0;
  for (let i = 0; i < a.length; i++) gap = Math.max(gap, Math.abs(a[i] - b[i]));
  assert.ok(gap <= 1e-6, `${tag}: max |original - rewritten| = ${gap}`);
  // The flat parameter index is the trainable weights, in order: tfjs agrees on its size.
  const trainable = model.trainableWeights.reduce((s, w) => s + (w.shape as number[]).reduce((p, d) => p * d, 1), 0);
  assert.equal(flatSize(read.spec), trainable);
  tf.dispose(x);
  return { read, back, file };
}

test('Sequential MLP: Flatten, Dense (tanh), Dropout, bias-free Dense, Activation softmax', async () => {
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [4, 3] }),
      tf.layers.dense({ units: 6, activation: 'tanh', name: 'h1' }),
      tf.layers.dropout({ rate: 0.3, name: 'drop' }),
      tf.layers.dense({ units: 4, useBias: false, name: 'logits' }),
      tf.layers.activation({ activation: 'softmax', name: 'sm' }),
    ],
  });
  const { read } = await roundTrip(model, 'mlp', [4, 3]);
  assert.deepEqual(
    read.spec.nodes.map((n) => [n.name, n.className]),
    [
      ['flatten_Flatten1', 'Flatten'],
      ['h1', 'Dense'],
      ['drop', 'Identity'],
      ['logits', 'Dense'],
      ['sm', 'Activation'],
    ].map(([n, c], i) => [i === 0 ? read.spec.nodes[0].name : n, c]),
  );
  assert.deepEqual(read.spec.nodes[1].config, { units: 6, activation: 'tanh', useBias: true });
  assert.deepEqual(
    read.spec.nodes[3].weights.map((w) => w.name),
    ['kernel'],
  );
  assert.deepEqual(read.spec.inputs[0].shape, [4, 3]);
  assert.equal(read.format.type, 'tfjs');
  assert.equal(read.format.modelClass, 'Sequential');
});

test('conv layers: Rescaling, ZeroPadding2D, Conv2D (stride 2, same), DepthwiseConv2D x2, BatchNormalization, pooling', async () => {
  const model = tf.sequential({
    layers: [
      tf.layers.rescaling({ inputShape: [9, 8, 2], scale: 0.5, offset: -0.25, name: 'rescale' }),
      tf.layers.zeroPadding2d({
        padding: [
          [1, 0],
          [2, 1],
        ],
        name: 'pad',
      }),
      tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'conv' }),
      tf.layers.batchNormalization({ epsilon: 0.01, name: 'bn' }),
      tf.layers.depthwiseConv2d({ kernelSize: [3, 2], depthMultiplier: 2, padding: 'same', name: 'dw' }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'valid', name: 'maxp' }),
      tf.layers.averagePooling2d({ poolSize: [2, 2], padding: 'same', name: 'avgp' }),
      tf.layers.conv2d({ filters: 3, kernelSize: 1, useBias: false, activation: 'selu', name: 'conv1x1' }),
      tf.layers.globalAveragePooling2d({ name: 'gap' }),
      tf.layers.dense({ units: 4, activation: 'softmax', name: 'head' }),
    ],
  });
  const { read } = await roundTrip(model, 'conv', [9, 8, 2]);
  const byName = new Map(read.spec.nodes.map((n) => [n.name, n]));
  // Configs as built above, normalised.
  assert.deepEqual(byName.get('conv')!.config, {
    filters: 5,
    kernelSize: [3, 3],
    strides: [2, 2],
    padding: 'same',
    dilationRate: [1, 1],
    activation: 'relu',
    useBias: true,
  });
  assert.deepEqual(
    byName.get('dw')!.weights.map((w) => [w.name, w.shape]),
    [
      ['depthwise_kernel', [3, 2, 5, 2]],
      ['bias', [10]],
    ],
  );
  assert.deepEqual(
    byName.get('bn')!.weights.map((w) => [w.name, w.trainable]),
    [
      ['gamma', true],
      ['beta', true],
      ['moving_mean', false],
      ['moving_variance', false],
    ],
  );
  assert.equal((byName.get('bn')!.config as { epsilon: number }).epsilon, 0.01);
  assert.deepEqual(byName.get('pad')!.config, {
    padding: [
      [1, 0],
      [2, 1],
    ],
  });
  assert.deepEqual(byName.get('rescale')!.config, { scale: 0.5, offset: -0.25 });
});

test('activation layers and reshapes: ReLU (capped), LeakyReLU, Softmax, Reshape, GlobalMaxPooling2D, noise layers', async () => {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 4, kernelSize: 3, name: 'c' }),
      tf.layers.reLU({ maxValue: 0.4, name: 'relu6' }),
      tf.layers.gaussianNoise({ stddev: 0.2, name: 'noise' }),
      tf.layers.gaussianDropout({ rate: 0.2, name: 'gdrop' }),
      tf.layers.globalMaxPooling2d({ name: 'gmp' }),
      tf.layers.reshape({ targetShape: [2, 2], name: 'rs' }),
      tf.layers.dense({ units: 3, name: 'd' }),
      tf.layers.leakyReLU({ alpha: 0.15, name: 'lrelu' }),
      tf.layers.flatten({ name: 'fl' }),
      tf.layers.dense({ units: 2, name: 'out' }),
      tf.layers.softmax({ name: 'sm' }),
    ],
  });
  const { read } = await roundTrip(model, 'acts', [6, 6, 1]);
  const byName = new Map(read.spec.nodes.map((n) => [n.name, n]));
  assert.deepEqual(byName.get('relu6')!.config, { maxValue: 0.4, negativeSlope: 0, threshold: 0 });
  assert.deepEqual(byName.get('lrelu')!.config, { alpha: 0.15 });
  assert.deepEqual(byName.get('noise')!.config, { kind: 'GaussianNoise' });
  assert.deepEqual(byName.get('rs')!.config, { targetShape: [2, 2] });
  // Dense on a [2, 2] input acts on the last axis: kernel [2, 3].
  assert.deepEqual(byName.get('d')!.weights[0].shape, [2, 3]);
});

test('functional graph: residual Add, Concatenate of two branches, two-input merge into the head', async () => {
  const inp = tf.input({ shape: [8, 8, 3], name: 'img' });
  type T = tf.SymbolicTensor;
  const a = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'a' })
    .apply(inp) as T;
  const bn = tf.layers.batchNormalization({ name: 'bn_a' }).apply(a) as T;
  const b = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'b' }).apply(bn) as T;
  const res = tf.layers.add({ name: 'res' }).apply([bn, b]) as T;
  const c = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', name: 'c' }).apply(res) as T;
  const cat = tf.layers.concatenate({ name: 'cat' }).apply([res, c]) as T;
  const g = tf.layers.globalAveragePooling2d({ name: 'g' }).apply(cat) as T;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', name: 'out' }).apply(g) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: out });
  const { read } = await roundTrip(model, 'res', [8, 8, 3]);
  const byName = new Map(read.spec.nodes.map((n) => [n.name, n]));
  assert.deepEqual(byName.get('res')!.inputs, ['bn_a', 'b']);
  assert.deepEqual(byName.get('cat')!.inputs, ['res', 'c']);
  assert.deepEqual(read.spec.inputs, [{ name: 'img', shape: [8, 8, 3] }]);
  assert.deepEqual(read.spec.outputs, ['out']);
  // Topological: every node's inputs come before it.
  const seen = new Set(['img']);
  for (const n of read.spec.nodes) {
    assert.ok(
      n.inputs.every((i) => seen.has(i)),
      `${n.name} before its inputs`,
    );
    seen.add(n.name);
  }
  assert.equal(read.format.modelClass, 'Model');
});

test('metadata and prune mask survive writeTfjs -> readTfjs; pruned weights read as zero', async () => {
  await backend();
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [4, 4, 1], filters: 2, kernelSize: 2, name: 'c' }),
      tf.layers.flatten({ name: 'f' }),
      tf.layers.dense({ units: 2, activation: 'softmax', name: 'o' }),
    ],
  });
  randomise(model, 11);
  const read = await readTfjs(await writeTfjsModel(model, tmpDir('meta-src')));
  const n = flatSize(read.spec); // conv 2*2*1*2 + 2 = 10, dense 18*2 + 2 = 38
  assert.equal(n, 48);
  const pruned = new Uint8Array(n);
  for (const j of [0, 9, 10, 47]) pruned[j] = 1;
  const meta: PruneScopeMetadata = {
    task: 'classification',
    labelNames: ['a', 'b'],
    pruneMask: encodePruneMask(pruned, { method: 'obd', fraction: 4 / 48 }),
  };
  const dir = path.join(tmpDir('meta'), 'm');
  const w = await writeModel(dir, { spec: read.spec, metadata: meta }, 'tfjs');
  const back = await readModel(dir);
  assert.deepEqual(back.metadata, JSON.parse(JSON.stringify(meta)));
  assert.deepEqual(Array.from(back.pruneMask!), Array.from(pruned));
  // Flat order: conv kernel (8), conv bias (2), dense kernel (36), dense bias (2).
  const c = back.spec.nodes[0].weights;
  const o = back.spec.nodes[2].weights;
  assert.equal(c[0].values[0], 0);
  assert.equal(c[1].values[1], 0);
  assert.equal(o[0].values[0], 0);
  assert.equal(o[1].values[1], 0);
  assert.ok(
    back.warnings.some((x) => /set to zero/.test(x)),
    back.warnings.join('; '),
  );
  assert.equal(w.path, path.join(dir, 'model.json'));
  // A mask of the wrong size is refused before anything is written.
  const bad = { ...meta, pruneMask: encodePruneMask(new Uint8Array(n + 1)) };
  await assert.rejects(
    writeModel(path.join(tmpDir('meta-bad'), 'm'), { spec: read.spec, metadata: bad }, 'tfjs'),
    (e: unknown) => e instanceof PruneScopeError && /covers 49 parameters but the network has 48/.test(e.message),
  );
});

test('writeTfjs never writes over the input model nor into an existing folder, and refuses NaN weights', async () => {
  await backend();
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2, name: 'd' })] });
  const dir = tmpDir('guard');
  const file = await writeTfjsModel(model, dir);
  const read = await readTfjs(file);
  await assert.rejects(
    writeTfjs(dir, { spec: read.spec }, { input: file, replace: true }),
    (e: unknown) => e instanceof PruneScopeError && /overwrite the input model/.test(e.message),
  );
  await assert.rejects(
    writeTfjs(path.dirname(dir), { spec: read.spec }, { input: file, replace: true }),
    (e: unknown) => e instanceof PruneScopeError && /overwrite the input model/.test(e.message),
  );
  const other = tmpDir('guard-other');
  fs.writeFileSync(path.join(other, 'keep.txt'), 'x');
  await assert.rejects(
    writeTfjs(other, { spec: read.spec }),
    (e: unknown) => e instanceof PruneScopeError && /not empty/.test(e.message),
  );
  assert.deepEqual(fs.readdirSync(other), ['keep.txt']);
  read.spec.nodes[0].weights[1].values[1] = NaN;
  const nanDir = path.join(tmpDir('guard-nan'), 'm');
  await assert.rejects(
    writeTfjs(nanDir, { spec: read.spec }),
    (e: unknown) =>
      e instanceof PruneScopeError &&
      e.code === 'numerical' &&
      // bias entry 1 comes after the 3 x 2 kernel in the flat index every method reports.
      /layer d \(Dense\)\.bias: weight bias has NaN at entry 1 \(flat 7\)/.test(e.message),
  );
  assert.equal(fs.existsSync(nanDir), false);
});
