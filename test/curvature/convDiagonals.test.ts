// Curvature on tiny convolutional graphs, every layer type of the conv family inside the one
// backward pass: a stride-2 `same` convolution, a depthwise convolution, batch normalisation (in
// inference, with non-trivial statistics), a residual Add with a 1x1 projection, a channel
// Concatenate, zero padding, rescaling, each pooling (max, average, global average, global max).
// Hessian, GGN, Fisher, variance and mean against float64 references from the GraphSpec forward
// and finite differences alone (graph64.ts), the backend to 1e-3; the Hessian of a ReLU network
// with max pooling equals its GGN; the MC-GGN's mean approaches the GGN on a conv net.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backend, maxRelErr } from '../helpers';
import type { ActivationName, GraphSpec, NodeSpec, Pair, Padding } from '../../src/engine/graphSpec';
import { withDeclaredWeights } from '../../src/engine/model/graphPlan';
import { curvatureDiagonal } from '../../src/engine/curvature';
import { ggnDiag64, hessianDiag64 } from './graph64';
import { checkAllDiagonals, graphCase } from './graphCases';

const conv = (
  name: string,
  input: string,
  filters: number,
  k: number,
  stride: number,
  padding: Padding,
  activation: ActivationName,
  useBias = true,
): NodeSpec => ({
  name,
  className: 'Conv2D',
  config: {
    filters,
    kernelSize: [k, k],
    strides: [stride, stride],
    padding,
    dilationRate: [1, 1],
    activation,
    useBias,
  },
  inputs: [input],
  weights: [],
});
const node = (name: string, className: NodeSpec['className'], config: unknown, inputs: string[]): NodeSpec => ({
  name,
  className,
  config: config as never,
  inputs,
  weights: [],
});
const pool = (name: string, input: string, max: boolean, size: Pair, stride: Pair, padding: Padding) =>
  node(name, max ? 'MaxPooling2D' : 'AveragePooling2D', { poolSize: size, strides: stride, padding }, [input]);
const bn = (name: string, input: string) =>
  node(name, 'BatchNormalization', { epsilon: 1e-3, momentum: 0.99, center: true, scale: true }, [input]);
const dense = (name: string, input: string, units: number, activation: ActivationName) =>
  node(name, 'Dense', { units, activation, useBias: true }, [input]);

function spec(shape: number[], nodes: NodeSpec[]): GraphSpec {
  return withDeclaredWeights({
    inputs: [{ name: 'x', shape }],
    nodes,
    outputs: [nodes[nodes.length - 1].name],
    inputLayout: 'NHWC',
  });
}

/** ReLU everywhere: a stride-2 same conv, BN, max pooling, a dense softmax head. */
const reluMaxPool = () =>
  spec(
    [6, 6, 2],
    [
      conv('c1', 'x', 3, 3, 2, 'same', 'linear'),
      bn('bn', 'c1'),
      node('r1', 'ReLU', { maxValue: null, negativeSlope: 0, threshold: 0 }, ['bn']),
      pool('mp', 'r1', true, [2, 2], [1, 1], 'valid'),
      node('f', 'Flatten', {}, ['mp']),
      dense('out', 'f', 3, 'softmax'),
    ],
  );

/** Curved: zero padding, rescaling, a tanh depthwise conv, average pooling, a valid conv, global average pooling. */
const curvedDepthwise = () =>
  spec(
    [5, 5, 2],
    [
      node(
        'pad',
        'ZeroPadding2D',
        {
          padding: [
            [1, 0],
            [0, 1],
          ],
        },
        ['x'],
      ),
      node('scale', 'Rescaling', { scale: 0.5, offset: 0.1 }, ['pad']),
      node(
        'dw',
        'DepthwiseConv2D',
        {
          kernelSize: [3, 3],
          strides: [1, 1],
          padding: 'valid',
          depthMultiplier: 2,
          dilationRate: [1, 1],
          activation: 'tanh',
          useBias: true,
        },
        ['scale'],
      ),
      pool('ap', 'dw', false, [2, 2], [1, 1], 'same'),
      conv('c2', 'ap', 3, 2, 1, 'valid', 'sigmoid'),
      node('gap', 'GlobalAveragePooling2D', { keepdims: false }, ['c2']),
      dense('out', 'gap', 3, 'softmax'),
    ],
  );

/** A residual block (conv, BN, tanh; a strided 1x1 projection; Add), a Concatenate, global max pooling; regression. */
const residualBlock = () =>
  spec(
    [6, 6, 2],
    [
      conv('a', 'x', 3, 3, 2, 'same', 'tanh'),
      conv('b', 'a', 3, 3, 1, 'same', 'linear', false),
      bn('bnb', 'b'),
      conv('proj', 'x', 3, 1, 2, 'same', 'linear', false),
      node('add', 'Add', {}, ['bnb', 'proj']),
      node('act', 'Activation', { activation: 'softplus' }, ['add']),
      node('cat', 'Concatenate', { axis: -1 }, ['act', 'a']),
      node('gmp', 'GlobalMaxPooling2D', { keepdims: false }, ['cat']),
      dense('out', 'gmp', 2, 'linear'),
    ],
  );

test('ReLU, stride-2 same conv, BN, max pooling: every diagonal exact, and Hessian == GGN', async () => {
  await backend();
  const c = graphCase(reluMaxPool(), true, 3, 11);
  try {
    const e = await checkAllDiagonals(c, 'relu/maxpool');
    const h = (await curvatureDiagonal(c.graph, c.x, c.y, 'hessian')).values;
    const g = (await curvatureDiagonal(c.graph, c.x, c.y, 'ggn')).values;
    // float64: the finite-difference Hessian equals the GGN for this piecewise-linear network ...
    assert.ok(maxRelErr(hessianDiag64(c.p), ggnDiag64(c.p)) < 1e-5, 'float64 hessian = ggn');
    // ... and the engine computes the same (no residual term anywhere).
    assert.deepEqual(h, g);
    console.log('relu/maxpool', JSON.stringify(e));
  } finally {
    c.dispose();
  }
});

test('zero padding, rescaling, depthwise (tanh), average pooling, conv (sigmoid), global average pooling', async () => {
  await backend();
  const c = graphCase(curvedDepthwise(), true, 3, 12);
  try {
    const e = await checkAllDiagonals(c, 'depthwise');
    assert.ok(maxRelErr(hessianDiag64(c.p), ggnDiag64(c.p)) > 1e-2, 'curved: the Hessian is not the GGN');
    console.log('depthwise', JSON.stringify(e));
  } finally {
    c.dispose();
  }
});

test('residual block with BN and a 1x1 strided projection, Concatenate, global max pooling, regression', async () => {
  await backend();
  const c = graphCase(residualBlock(), false, 3, 13);
  try {
    console.log('residual conv', JSON.stringify(await checkAllDiagonals(c, 'residual conv')));
  } finally {
    c.dispose();
  }
});

test('MC-GGN on a conv net: the mean over many sampled labels approaches the exact GGN', async () => {
  await backend();
  const c = graphCase(reluMaxPool(), true, 4, 14);
  try {
    const exact = (await curvatureDiagonal(c.graph, c.x, c.y, 'ggn')).values;
    const many = (await curvatureDiagonal(c.graph, c.x, c.y, 'mc-ggn', { seed: 3, samples: 3000 })).values;
    const e = maxRelErr(many, exact);
    assert.ok(e < 0.05, `mean of 3000 samples within 5 %: ${e}`);
  } finally {
    c.dispose();
  }
});
