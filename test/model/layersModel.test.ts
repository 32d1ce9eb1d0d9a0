// LayersModel reading and writing, checked against TF.js itself: tfjs builds and saves the models,
// tfjs predicts and decodes weights as the reference, and tfjs loads what saveModel writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { loadModel, saveModel, encodePruneMask, PruneScopeMetadata } from '../../src/engine/formats/modelFile';
import { randomDense } from '../../src/engine/model/denseChain';
import { Graph } from '../../src/engine/model/graph';
import { lenet5Spec, resnet8Spec } from '../../src/engine/model/architectures';
import { makeProvenance } from '../../src/engine/provenance';
import { PruneScopeError } from '../../src/engine/errors';
import { Rng } from '../../src/engine/util/random';
import { artifactsOf, tfjsLoad, tmpDir, writeArtifacts, writeTfjsModel } from '../fixtures/models/tfjsFiles';

function inputs(rows: number, shape: number[], seed = 1): { flat: tf.Tensor2D; shaped: tf.Tensor } {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Float32Array.from({ length: rows * n }, () => 2 * rng.normal());
  return { flat: tf.tensor2d(v, [rows, n]), shaped: tf.tensor(v, [rows, ...shape]) };
}

/** max |ours - tfjs| over a batch of inputs. */
function predictionGap(net: Graph, model: tf.LayersModel, shape: number[]): number {
  const { flat, shaped } = inputs(32, shape);
  const a = net.predict(flat);
  const b = model.predict(shaped) as tf.Tensor;
  const gap = tf.max(tf.abs(tf.sub(a, tf.reshape(b, a.shape)))).dataSync()[0];
  tf.dispose([flat, shaped, a, b]);
  return gap;
}

/** Non-zero biases, so a bias that is dropped or misplaced shows in the predictions. */
function perturbBiases(model: tf.LayersModel): void {
  for (const l of model.layers) {
    const ws = l.getWeights();
    if (ws.length === 2) l.setWeights([ws[0], tf.randomUniform(ws[1].shape, -0.5, 0.5, 'float32', 3)]);
  }
}

test('tfjs Sequential with Flatten, Dense, Dropout, bias-free Dense and an Activation head loads and predicts like tfjs', async () => {
  await backend();
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [4, 3] }),
      tf.layers.dense({ units: 6, activation: 'tanh', name: 'h1' }),
      tf.layers.dropout({ rate: 0.3 }),
      tf.layers.dense({ units: 5, activation: 'elu', name: 'h2' }),
      tf.layers.dense({ units: 4, useBias: false, name: 'logits' }),
      tf.layers.activation({ activation: 'softmax' }),
    ],
  });
  perturbBiases(model);
  const file = await writeTfjsModel(model, tmpDir('seq'));
  const m = await loadModel(file);
  assert.equal(m.network.inputSize, 12);
  assert.deepEqual(m.format.inputShape, [4, 3]);
  // The bias-free Dense has no bias parameters: 12*6+6 + 6*5+5 + 5*4 trainable values.
  assert.equal(m.network.nParams, 72 + 6 + 30 + 5 + 20);
  const gap = predictionGap(m.network, model, [4, 3]);
  assert.ok(gap < 1e-5, `max abs diff ${gap}`);
  m.network.dispose();
});

test('functional chain (Input -> Dense -> Activation -> Dropout -> Dense) loads and predicts like tfjs', async () => {
  await backend();
  const inp = tf.input({ shape: [5] });
  let t = tf.layers.dense({ units: 7, name: 'd1' }).apply(inp) as tf.SymbolicTensor;
  t = tf.layers.activation({ activation: 'selu' }).apply(t) as tf.SymbolicTensor;
  t = tf.layers.dropout({ rate: 0.1 }).apply(t) as tf.SymbolicTensor;
  t = tf.layers.dense({ units: 3, activation: 'softplus', name: 'd2' }).apply(t) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: t });
  perturbBiases(model);
  const m = await loadModel(await writeTfjsModel(model, tmpDir('fn')));
  assert.equal(m.format.modelClass, 'Model');
  const gap = predictionGap(m.network, model, [5]);
  assert.ok(gap < 1e-5, `max abs diff ${gap}`);
  m.network.dispose();
});

test('ReLU and Softmax layer classes load and predict like tfjs', async () => {
  await backend();
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 6, name: 'd1' }),
      tf.layers.reLU(),
      tf.layers.dense({ units: 3, name: 'd2' }),
      tf.layers.softmax(),
    ],
  });
  perturbBiases(model);
  const m = await loadModel(await writeTfjsModel(model, tmpDir('relu')));
  assert.equal(m.network.task, 'classification');
  const gap = predictionGap(m.network, model, [4]);
  assert.ok(gap < 1e-5, `max abs diff ${gap}`);
  m.network.dispose();
});

test('several groups, several shards per group and prefixed weight names load like tfjs', async () => {
  await backend();
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [6], units: 9, activation: 'sigmoid', name: 'a' }),
      tf.layers.dense({ units: 8, activation: 'softsign', name: 'b' }),
      tf.layers.dense({ units: 2, activation: 'linear', name: 'c' }),
    ],
  });
  perturbBiases(model);
  const a = await artifactsOf(model);
  // Shuffle the manifest order too, so only name matching (not position) puts weights in place.
  const reversed = { ...a, specs: [...a.specs].reverse(), data: reverseData(a) };
  const dir = tmpDir('shards');
  const file = writeArtifacts(dir, reversed, { groups: 3, shardBytes: 28, prefix: 'sequential/' });
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(json.weightsManifest.length, 3);
  assert.ok(json.weightsManifest.some((g: { paths: string[] }) => g.paths.length > 2));
  const m = await loadModel(file);
  assert.equal(m.format.weightGroups, 3);
  const gap = predictionGap(m.network, model, [6]);
  assert.ok(gap < 1e-5, `max abs diff ${gap}`);
  m.network.dispose();
});

function reverseData(a: { specs: tf.io.WeightsManifestEntry[]; data: Uint8Array }): Uint8Array {
  const pieces: Uint8Array[] = [];
  let off = 0;
  for (const s of a.specs) {
    const len = s.shape.reduce((x, y) => x * y, 1) * 4;
    pieces.push(a.data.subarray(off, off + len));
    off += len;
  }
  return Buffer.concat(pieces.reverse());
}

test('Keras 3 style config (InputLayer with batch_shape, keras_tensor inbound nodes, Functional) loads', async () => {
  await backend();
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 5, activation: 'relu', name: 'dense' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'dense_1' }),
    ],
  });
  perturbBiases(model);
  const kt = (name: string, shape: (number | null)[]) => ({
    class_name: '__keras_tensor__',
    config: { shape, dtype: 'float32', keras_history: [name, 0, 0] },
  });
  const keras3 = {
    class_name: 'Functional',
    config: {
      name: 'functional',
      layers: [
        {
          module: 'keras.layers',
          class_name: 'InputLayer',
          config: { batch_shape: [null, 4], dtype: 'float32', sparse: false, name: 'input_layer' },
          name: 'input_layer',
          inbound_nodes: [],
        },
        {
          module: 'keras.layers',
          class_name: 'Dense',
          config: { name: 'dense', units: 5, activation: 'relu', use_bias: true },
          name: 'dense',
          inbound_nodes: [{ args: [kt('input_layer', [null, 4])], kwargs: {} }],
        },
        {
          module: 'keras.layers',
          class_name: 'Dense',
          config: { name: 'dense_1', units: 3, activation: 'softmax', use_bias: true },
          name: 'dense_1',
          inbound_nodes: [{ args: [kt('dense', [null, 5])], kwargs: {} }],
        },
      ],
      input_layers: ['input_layer', 0, 0],
      output_layers: ['dense_1', 0, 0],
    },
    keras_version: '3.4.1',
    backend: 'tensorflow',
  };
  const file = await writeTfjsModel(model, tmpDir('k3'), { topology: () => keras3 });
  const m = await loadModel(file);
  assert.equal(m.format.modelClass, 'Functional');
  assert.equal(m.format.kerasVersion, '3.4.1');
  assert.ok(predictionGap(m.network, model, [4]) < 1e-5);
  m.network.dispose();
  // Keras 3 Sequential: the InputLayer is listed as a layer, with batch_shape.
  const seq3 = {
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      layers: [keras3.config.layers[0], ...keras3.config.layers.slice(1).map(({ inbound_nodes: _, ...l }) => l)],
    },
  };
  const m2 = await loadModel(await writeTfjsModel(model, tmpDir('k3s'), { topology: () => seq3 }));
  assert.ok(predictionGap(m2.network, model, [4]) < 1e-5);
  m2.network.dispose();
});

test('float16-quantized, uint8-quantized and int32 weights decode like tf.io.decodeWeights', async () => {
  await backend();
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [3], units: 4, activation: 'tanh', name: 'q' })],
  });
  perturbBiases(model);
  const [k, b] = model.getWeights().map((w) => w.dataSync() as Float32Array);
  // Kernel as uint8 with scale/min, bias as float16: TF.js's two quantization formats.
  const min = Math.min(...k),
    scale = (Math.max(...k) - min) / 255;
  const kq = Uint8Array.from(k, (v) => Math.round((v - min) / scale));
  const bq = Uint16Array.from(b, toHalf);
  const specs: tf.io.WeightsManifestEntry[] = [
    { name: 'q/kernel', shape: [3, 4], dtype: 'float32', quantization: { dtype: 'uint8', scale, min } },
    { name: 'q/bias', shape: [4], dtype: 'float32', quantization: { dtype: 'float16' } },
  ];
  const data = Buffer.concat([Buffer.from(kq.buffer), Buffer.from(bq.buffer)]);
  const a = await artifactsOf(model);
  const file = writeArtifacts(tmpDir('quant'), { topology: a.topology, specs, data: new Uint8Array(data) });
  const m = await loadModel(file);
  const ref = tf.io.decodeWeights(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength), specs);
  const want = [...ref['q/kernel'].dataSync(), ...ref['q/bias'].dataSync()];
  const got = m.network.toFlat();
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs(got[i] - want[i]) < 1e-7, `entry ${i}: ${got[i]} vs ${want[i]}`);
  assert.ok(m.warnings.some((w) => /uint8-quantized/.test(w)) && m.warnings.some((w) => /float16/.test(w)));
  tf.dispose(Object.values(ref));
  m.network.dispose();

  // int32 weights: converted to float32 with a warning, equal to tfjs's own int32 decode.
  const ki = Int32Array.from({ length: 12 }, (_, i) => i - 5);
  const bi = Int32Array.from([3, -2, 0, 7]);
  const ispecs: tf.io.WeightsManifestEntry[] = [
    { name: 'q/kernel', shape: [3, 4], dtype: 'int32' },
    { name: 'q/bias', shape: [4], dtype: 'int32' },
  ];
  const idata = Buffer.concat([Buffer.from(ki.buffer), Buffer.from(bi.buffer)]);
  const mi = await loadModel(
    writeArtifacts(tmpDir('int'), { topology: a.topology, specs: ispecs, data: new Uint8Array(idata) }),
  );
  const iref = tf.io.decodeWeights(idata.buffer.slice(idata.byteOffset, idata.byteOffset + idata.byteLength), ispecs);
  assert.deepEqual(Array.from(mi.network.toFlat()), [...iref['q/kernel'].dataSync(), ...iref['q/bias'].dataSync()]);
  assert.ok(mi.warnings.some((w) => /int32/.test(w)));
  tf.dispose(Object.values(iref));
  mi.network.dispose();
});

/** float32 -> IEEE half bits (round to nearest even), for normal-range values. */
function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (exp <= 0) return sign; // tiny: flush to zero (not hit by these values)
  let h = sign | (exp << 10) | (mant >>> 13);
  mant &= 0x1fff;
  if (mant > 0x1000 || (mant === 0x1000 && h & 1)) h++;
  return h;
}

test('saveModel writes a LayersModel that tf.loadLayersModel reads and that predicts like our Graph', async () => {
  await backend();
  const net = randomDense(
    {
      inputSize: 7,
      layers: [
        { name: 'hidden_a', units: 6, activation: 'tanh' },
        { name: 'hidden_b', units: 5, activation: 'relu' },
        { name: 'head', units: 3, activation: 'softmax' },
      ],
    },
    11,
  );
  net.setFlat(Float32Array.from(net.toFlat(), (v, i) => v + 0.05 * Math.cos(i)));
  const dir = path.join(tmpDir('save'), 'out');
  const { modelJson, bytes } = await saveModel(dir, net);
  assert.equal(modelJson, path.join(dir, 'model.json'));
  assert.deepEqual(fs.readdirSync(dir).sort(), ['group1-shard1of1.bin', 'model.json']);
  assert.equal(bytes, fs.statSync(modelJson).size + fs.statSync(path.join(dir, 'group1-shard1of1.bin')).size);
  assert.equal(fs.statSync(path.join(dir, 'group1-shard1of1.bin')).size, 4 * net.nParams);
  const model = await tfjsLoad(modelJson);
  assert.deepEqual(
    model.layers.map((l) => l.name),
    ['hidden_a', 'hidden_b', 'head'],
  );
  const gap = predictionGap(net, model, [7]);
  assert.ok(gap < 1e-5, `max abs diff ${gap}`);
  // And back through our own reader: same parameters bit for bit.
  const back = await loadModel(modelJson);
  assert.deepEqual(Array.from(back.network.toFlat()), Array.from(net.toFlat()));
  // Never over an existing non-empty folder unless replace.
  await assert.rejects(
    saveModel(dir, net),
    (e: unknown) => e instanceof PruneScopeError && e.message.includes(dir) && /not empty/.test(e.message),
  );
  const again = await saveModel(dir, net, undefined, { replace: true });
  assert.equal(again.bytes, bytes);
  model.dispose();
  back.network.dispose();
  net.dispose();
});

test('PruneScope metadata survives a save/load round trip and the prune mask is honoured', async () => {
  await backend();
  const net = randomDense(
    {
      inputSize: 3,
      layers: [
        { name: 'h', units: 4, activation: 'tanh' },
        { name: 'out', units: 2, activation: 'softmax' },
      ],
    },
    5,
  );
  const flat = net.toFlat();
  const pruned = new Uint8Array(net.nParams);
  for (const j of [0, 5, 11, 17]) {
    pruned[j] = 1;
    flat[j] = 0;
  }
  net.setFlat(flat);
  const meta: PruneScopeMetadata = {
    task: 'classification',
    featureNames: ['x1', 'x2', 'x3'],
    targetName: 'class',
    labelNames: ['no', 'yes'],
    preprocessing: { standardization: { mean: [0.5, -1, 2], std: [1, 2, 0.25] } },
    provenance: makeProvenance({ job: 'prune', method: 'obd', seed: 3 }),
    pruneMask: encodePruneMask(pruned, { method: 'obd', fraction: 0.25, includeBiases: false }),
    notes: { anything: [1, 2] },
  };
  const dir = path.join(tmpDir('meta'), 'm');
  const { modelJson } = await saveModel(dir, net, meta);
  // Someone edits a weight that the mask says is pruned: the reader zeroes it and warns.
  const shard = path.join(dir, 'group1-shard1of1.bin');
  const buf = fs.readFileSync(shard);
  buf.writeFloatLE(0.75, 4 * 11);
  fs.writeFileSync(shard, buf);
  const m = await loadModel(modelJson);
  assert.deepEqual(m.metadata, JSON.parse(JSON.stringify(meta)));
  assert.deepEqual(Array.from(m.pruneMask!), Array.from(pruned));
  assert.equal(m.network.toFlat()[11], 0);
  assert.ok(m.warnings.some((w) => /set to zero/.test(w)));
  // Bits in the mask decode to exactly the pruned indices (LSB first).
  assert.equal(meta.pruneMask!.prunedCount, 4);
  const bytes = Buffer.from((meta.pruneMask as { bits: string }).bits, 'base64');
  assert.equal(bytes[0], 0b00100001); // indices 0 and 5
  assert.equal(bytes[1], 0b00001000); // index 11
  assert.equal(bytes[2], 0b00000010); // index 17
  m.network.dispose();
  net.dispose();
});

test('conv graphs PruneScope writes (LeNet-5, resnet8) load in tf.loadLayersModel and predict like our Graph', async () => {
  await backend();
  for (const [name, spec] of [
    ['lenet5', lenet5Spec([16, 16, 1], 10, 'relu', 'classification')],
    ['resnet8', resnet8Spec([12, 12, 2], 5, 'classification')],
  ] as const) {
    const net = Graph.random(spec, 7);
    // Non-zero biases and BN shifts, so a misplaced or dropped weight shows in the outputs.
    net.setFlat(Float32Array.from(net.toFlat(), (v, i) => v + 0.05 * Math.cos(i)));
    const dir = path.join(tmpDir(name), 'out');
    const { modelJson } = await saveModel(dir, net);
    const model = await tfjsLoad(modelJson);
    const gap = predictionGap(net, model, [...net.inputShape]);
    assert.ok(gap < 1e-5, `${name}: max abs diff ${gap}`);
    const back = await loadModel(modelJson);
    // Same weights bit for bit, matched by name (the reader may order independent branches
    // differently from the spec the graph was built from).
    const byName = (g: Graph) => {
      const flat = g.toFlat();
      return Object.fromEntries(g.weights.map((w) => [w.name, Array.from(flat.subarray(w.offset, w.offset + w.size))]));
    };
    assert.deepEqual(byName(back.network), byName(net), name);
    model.dispose();
    back.network.dispose();
    net.dispose();
  }
});

test('a functional conv model built by tfjs-layers (BN, depthwise, residual Add, Concatenate, pools) reads with tfjs outputs', async () => {
  await backend();
  const inp = tf.input({ shape: [10, 10, 3] });
  const c1 = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'c1' })
    .apply(inp) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ name: 'bn' }).apply(c1) as tf.SymbolicTensor;
  const dw = tf.layers
    .depthwiseConv2d({ kernelSize: 3, depthMultiplier: 1, padding: 'same', name: 'dw' })
    .apply(bn) as tf.SymbolicTensor;
  const res = tf.layers.add({ name: 'res' }).apply([bn, dw]) as tf.SymbolicTensor;
  const mp = tf.layers.maxPooling2d({ poolSize: 2, name: 'mp' }).apply(res) as tf.SymbolicTensor;
  const ap = tf.layers.averagePooling2d({ poolSize: 2, name: 'ap' }).apply(res) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate({ name: 'cat' }).apply([mp, ap]) as tf.SymbolicTensor;
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(cat) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', name: 'out' }).apply(gap) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: out });
  perturbBiases(model);
  // Moving statistics away from 0 / 1, so inference-mode BN is really exercised.
  const bnLayer = model.getLayer('bn');
  const [gamma, beta] = bnLayer.getWeights();
  bnLayer.setWeights([gamma, beta, tf.tensor1d([0.3, -0.2, 0.1, 0.5]), tf.tensor1d([0.5, 2, 1.5, 0.8])]);
  const m = await loadModel(await writeTfjsModel(model, tmpDir('convfn')));
  const diff = predictionGap(m.network, model, [10, 10, 3]);
  assert.ok(diff < 1e-5, `max abs diff ${diff}`);
  // Trainable parameters: c1 4*27+4, bn gamma+beta 8, dw 9*4+4, out 8*3+3.
  assert.equal(m.network.nParams, 112 + 8 + 40 + 27);
  m.network.dispose();
  model.dispose();
});
