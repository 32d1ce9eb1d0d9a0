// The float64 reference forward agrees with tfjs-layers, built layer by layer from the same
// weights (no PruneScope code in between), on graphs that use every layer class it knows.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { GraphSpec, NodeSpec, WeightSpec } from '../../src/engine/graphSpec';
import { Rng } from '../../src/engine/util/random';
import { Batch64, flatParams64, forward64, padding1d } from './forward64';

const rng = new Rng(11);
const rand = (n: number, lo = -0.5, hi = 0.5) => Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
const w = (name: string, shape: number[], trainable = true, lo?: number, hi?: number): WeightSpec => ({
  name,
  shape,
  trainable,
  values: rand(
    shape.reduce((a, b) => a * b, 1),
    lo,
    hi,
  ),
});
const node = (n: Omit<NodeSpec, 'weights'> & { weights?: WeightSpec[] }): NodeSpec =>
  ({ weights: [], ...n }) as NodeSpec;

function batch(n: number, shape: number[]): Batch64 {
  const data = new Float64Array(n * shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-1, 1);
  return { n, shape, data };
}

function tfjsOutput(model: tf.LayersModel, x: Batch64): Float32Array {
  return tf.tidy(
    () =>
      (model.predict(tf.tensor(Float32Array.from(x.data), [x.n, ...x.shape])) as tf.Tensor).dataSync() as Float32Array,
  );
}

function assertClose(ref: Float64Array, got: Float32Array, tol: number) {
  assert.equal(ref.length, got.length);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i] - got[i]) / (1 + Math.abs(ref[i])));
  assert.ok(worst < tol, `max relative difference ${worst} >= ${tol}`);
}

const tensors = (ws: WeightSpec[]) => ws.map((v) => tf.tensor(v.values, v.shape));

test('TF padding rule: same = ceil(in/stride) with the extra pixel after; valid = floor((in-k)/s)+1', () => {
  assert.deepEqual(padding1d(7, 3, 2, 1, 'same'), { out: 4, before: 1 });
  assert.deepEqual(padding1d(8, 3, 2, 1, 'same'), { out: 4, before: 0 });
  assert.deepEqual(padding1d(8, 2, 2, 1, 'same'), { out: 4, before: 0 });
  assert.deepEqual(padding1d(7, 3, 2, 1, 'valid'), { out: 3, before: 0 });
  assert.deepEqual(padding1d(5, 3, 1, 2, 'valid'), { out: 1, before: 0 });
});

test('sequential conv graph (stride-2 same conv, BN, depthwise x2, pools, padding, rescaling) equals tfjs-layers', () => {
  const convW = [w('kernel', [3, 3, 2, 4]), w('bias', [4])];
  const bnW = [
    w('gamma', [4], true, 0.5, 1.5),
    w('beta', [4]),
    w('moving_mean', [4], false),
    w('moving_variance', [4], false, 0.5, 2),
  ];
  const dwW = [w('depthwise_kernel', [3, 3, 4, 2]), w('bias', [8])];
  const denseW = [w('kernel', [8, 3]), w('bias', [3])];
  const spec: GraphSpec = {
    inputLayout: 'NHWC',
    inputs: [{ name: 'in', shape: [7, 7, 2] }],
    outputs: ['out'],
    nodes: [
      node({ name: 'scale', className: 'Rescaling', config: { scale: 0.5, offset: 0.1 }, inputs: ['in'] }),
      node({
        name: 'pad',
        className: 'ZeroPadding2D',
        config: {
          padding: [
            [1, 0],
            [0, 2],
          ],
        },
        inputs: ['scale'],
      }),
      node({
        name: 'conv',
        className: 'Conv2D',
        config: {
          filters: 4,
          kernelSize: [3, 3],
          strides: [2, 2],
          padding: 'same',
          dilationRate: [1, 1],
          activation: 'tanh',
          useBias: true,
        },
        inputs: ['pad'],
        weights: convW,
      }),
      node({
        name: 'bn',
        className: 'BatchNormalization',
        config: { epsilon: 1e-3, momentum: 0.99, center: true, scale: true },
        inputs: ['conv'],
        weights: bnW,
      }),
      node({
        name: 'dw',
        className: 'DepthwiseConv2D',
        config: {
          kernelSize: [3, 3],
          strides: [1, 1],
          padding: 'same',
          depthMultiplier: 2,
          dilationRate: [1, 1],
          activation: 'relu',
          useBias: true,
        },
        inputs: ['bn'],
        weights: dwW,
      }),
      node({
        name: 'avg',
        className: 'AveragePooling2D',
        config: { poolSize: [2, 2], strides: [2, 2], padding: 'same' },
        inputs: ['dw'],
      }),
      node({
        name: 'max',
        className: 'MaxPooling2D',
        config: { poolSize: [2, 2], strides: [1, 1], padding: 'valid' },
        inputs: ['avg'],
      }),
      node({ name: 'gap', className: 'GlobalAveragePooling2D', config: { keepdims: false }, inputs: ['max'] }),
      node({ name: 'drop', className: 'Identity', config: { kind: 'Dropout' }, inputs: ['gap'] }),
      node({
        name: 'out',
        className: 'Dense',
        config: { units: 3, activation: 'softmax', useBias: true },
        inputs: ['drop'],
        weights: denseW,
      }),
    ],
  };
  const model = tf.sequential({
    layers: [
      tf.layers.zeroPadding2d({
        inputShape: [7, 7, 2],
        padding: [
          [1, 0],
          [0, 2],
        ],
      }),
      tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' }),
      tf.layers.batchNormalization({ epsilon: 1e-3 }),
      tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu' }),
      tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same' }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'valid' }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  model.layers[1].setWeights(tensors(convW));
  model.layers[2].setWeights(tensors(bnW));
  model.layers[3].setWeights(tensors(dwW));
  model.layers[8].setWeights(tensors(denseW));
  const x = batch(5, [7, 7, 2]);
  // Rescaling applied by hand before tfjs (its own layer is not in every tfjs build).
  const scaled: Batch64 = { ...x, data: x.data.map((v) => v * 0.5 + 0.1) };
  assertClose(forward64(spec, x).data, tfjsOutput(model, scaled), 1e-5);
  assert.equal(flatParams64(spec).length, 3 * 3 * 2 * 4 + 4 + 4 + 4 + 3 * 3 * 4 * 2 + 8 + 8 * 3 + 3);
});

test('functional graph with a residual Add, a Concatenate, ReLU/LeakyReLU layers and Flatten equals tfjs-layers', () => {
  const c1 = [w('kernel', [3, 3, 3, 4]), w('bias', [4])];
  const c2 = [w('kernel', [1, 1, 4, 4])];
  const c3 = [w('kernel', [3, 3, 4, 2]), w('bias', [2])];
  const d = [w('kernel', [4 * 4 * 6, 2]), w('bias', [2])];
  const conv = (filters: number, k: number, useBias: boolean) => ({
    filters,
    kernelSize: [k, k] as [number, number],
    strides: [1, 1] as [number, number],
    padding: 'same' as const,
    dilationRate: [1, 1] as [number, number],
    activation: 'linear' as const,
    useBias,
  });
  const spec: GraphSpec = {
    inputLayout: 'NHWC',
    inputs: [{ name: 'in', shape: [4, 4, 3] }],
    outputs: ['out'],
    nodes: [
      node({ name: 'c1', className: 'Conv2D', config: conv(4, 3, true), inputs: ['in'], weights: c1 }),
      node({
        name: 'r1',
        className: 'ReLU',
        config: { maxValue: null, negativeSlope: 0, threshold: 0 },
        inputs: ['c1'],
      }),
      node({ name: 'c2', className: 'Conv2D', config: conv(4, 1, false), inputs: ['r1'], weights: c2 }),
      node({ name: 'add', className: 'Add', config: {}, inputs: ['c2', 'r1'] }),
      node({ name: 'lr', className: 'LeakyReLU', config: { alpha: 0.2 }, inputs: ['add'] }),
      node({ name: 'c3', className: 'Conv2D', config: conv(2, 3, true), inputs: ['lr'], weights: c3 }),
      node({ name: 'cat', className: 'Concatenate', config: { axis: -1 }, inputs: ['lr', 'c3'] }),
      node({ name: 'flat', className: 'Flatten', config: {}, inputs: ['cat'] }),
      node({
        name: 'out',
        className: 'Dense',
        config: { units: 2, activation: 'sigmoid', useBias: true },
        inputs: ['flat'],
        weights: d,
      }),
    ],
  };
  const input = tf.input({ shape: [4, 4, 3] });
  const l1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' });
  const r1 = tf.layers.reLU().apply(l1.apply(input)) as tf.SymbolicTensor;
  const l2 = tf.layers.conv2d({ filters: 4, kernelSize: 1, padding: 'same', useBias: false });
  const add = tf.layers.add().apply([l2.apply(r1) as tf.SymbolicTensor, r1]) as tf.SymbolicTensor;
  const lr = tf.layers.leakyReLU({ alpha: 0.2 }).apply(add) as tf.SymbolicTensor;
  const l3 = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' });
  const cat = tf.layers.concatenate({ axis: -1 }).apply([lr, l3.apply(lr) as tf.SymbolicTensor]);
  const l4 = tf.layers.dense({ units: 2, activation: 'sigmoid' });
  const out = l4.apply(tf.layers.flatten().apply(cat)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  l1.setWeights(tensors(c1));
  l2.setWeights(tensors(c2));
  l3.setWeights(tensors(c3));
  l4.setWeights(tensors(d));
  const x = batch(3, [4, 4, 3]);
  assertClose(forward64(spec, x).data, tfjsOutput(model, x), 1e-5);
});

test('the flat vector overrides exactly the trainable weights, in node then weight order', () => {
  const spec: GraphSpec = {
    inputLayout: 'NHWC',
    inputs: [{ name: 'in', shape: [2] }],
    outputs: ['d'],
    nodes: [
      node({
        name: 'd',
        className: 'Dense',
        config: { units: 1, activation: 'linear', useBias: true },
        inputs: ['in'],
        weights: [w('kernel', [2, 1]), w('bias', [1])],
      }),
    ],
  };
  const x: Batch64 = { n: 2, shape: [2], data: Float64Array.from([1, 2, -3, 0.5]) };
  const y = forward64(spec, x, [10, 100, 1000]).data;
  assert.deepEqual(Array.from(y), [1 * 10 + 2 * 100 + 1000, -3 * 10 + 0.5 * 100 + 1000]);
});
