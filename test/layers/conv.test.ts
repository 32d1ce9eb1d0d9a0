// Conv2D and DepthwiseConv2D modules through the layer harness (every backward quantity against
// float64 central finite differences of the integrator's forward64), including TF padding with
// strides, a depth multiplier, K-FAC on a one-position output, and the configs they refuse.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { NodeSpec, LayerClass, LayerConfigs, Shape } from '../../src/engine/graphSpec';
import { layerModule } from '../../src/engine/layers/registry';
import { PruneScopeError } from '../../src/engine/errors';
import { backend } from '../helpers';
import { checkLayer, nodeReference } from './harness';

function node<C extends LayerClass>(className: C, config: LayerConfigs[C], name = 'l'): NodeSpec {
  return { name, className, config, inputs: ['x'], weights: [] };
}

function check<C extends LayerClass>(className: C, config: LayerConfigs[C], inputShape: Shape, kfacOneRow: boolean) {
  const nd = node(className, config);
  const layer = layerModule(className)!.create(nd, [inputShape]);
  nd.weights = layer.weights.map((d) => ({ ...d, values: new Float32Array(0) }));
  return checkLayer({ layer, reference: nodeReference(nd, inputShape), kfacOneRow });
}

const conv = (filters: number, k: [number, number], s: [number, number], padding: 'same' | 'valid', useBias = true) =>
  ({
    filters,
    kernelSize: k,
    strides: s,
    padding,
    dilationRate: [1, 1],
    activation: 'relu',
    useBias,
  }) as LayerConfigs['Conv2D'];

test('Conv2D stride 2, same padding: every backward quantity', async () => {
  await backend();
  const r = check('Conv2D', conv(3, [3, 3], [2, 2], 'same'), [5, 6, 2], false);
  for (const k of [
    'inputGrads[0]',
    'weightStats.squares c=2 signed',
    'weightRows per-sample',
    'weightDiagFromDiagonal',
    'squaredJacobianT',
    'variational d variance',
  ])
    assert.ok(k in r.errors, `${k} checked`);
});

test('Conv2D valid 2x3 kernel, strides (1, 2), no bias', async () => {
  await backend();
  check('Conv2D', conv(2, [2, 3], [1, 2], 'valid', false), [4, 7, 3], false);
});

test('Conv2D K-FAC (KFC) on a one-position output: A (x) G = grad grad^T', async () => {
  await backend();
  const r = check('Conv2D', conv(2, [3, 3], [1, 1], 'valid'), [3, 3, 2], true);
  assert.ok('kroneckerFactors[0]' in r.errors);
});

test('DepthwiseConv2D multiplier 2, stride 2 same: every backward quantity', async () => {
  await backend();
  const cfg: LayerConfigs['DepthwiseConv2D'] = {
    kernelSize: [3, 3],
    strides: [2, 2],
    padding: 'same',
    depthMultiplier: 2,
    dilationRate: [1, 1],
    activation: 'linear',
    useBias: true,
  };
  const r = check('DepthwiseConv2D', cfg, [5, 4, 3], false);
  assert.ok('weightStats.squares c=2 signed' in r.errors && 'variational d mean' in r.errors);
  check(
    'DepthwiseConv2D',
    { ...cfg, depthMultiplier: 1, padding: 'valid', strides: [1, 1], useBias: false },
    [4, 4, 2],
    false,
  );
});

test('Conv2D and DepthwiseConv2D refuse dilation, flat inputs and empty outputs, naming the layer', async () => {
  await backend();
  const refuse = (className: 'Conv2D' | 'DepthwiseConv2D', cfg: object, shape: Shape, re: RegExp) =>
    assert.throws(
      () => layerModule(className)!.create(node(className, cfg as never, 'c7'), [shape]),
      (e: unknown) =>
        e instanceof PruneScopeError && /c7 \((Conv2D|DepthwiseConv2D)\)/.test(e.message) && re.test(e.message),
    );
  refuse('Conv2D', { ...conv(2, [3, 3], [1, 1], 'same'), dilationRate: [2, 2] }, [5, 5, 1], /dilation/);
  refuse('Conv2D', conv(2, [3, 3], [1, 1], 'same'), [25], /height, width, channels/);
  refuse('Conv2D', conv(2, [5, 5], [1, 1], 'valid'), [3, 3, 1], /no output/);
  refuse(
    'DepthwiseConv2D',
    {
      kernelSize: [3, 3],
      strides: [1, 1],
      padding: 'same',
      depthMultiplier: 0,
      dilationRate: [1, 1],
      activation: 'linear',
      useBias: true,
    },
    [5, 5, 2],
    /depth_multiplier/,
  );
});

test('DepthwiseConv2D K-FAC per channel: with one position, A_c (x) G_c = grad_c grad_c^T per input channel', async () => {
  await backend();
  const tf = await import('@tensorflow/tfjs');
  const [C, m] = [2, 3];
  const cfg: LayerConfigs['DepthwiseConv2D'] = {
    kernelSize: [3, 3],
    strides: [1, 1],
    padding: 'valid',
    depthMultiplier: m,
    dilationRate: [1, 1],
    activation: 'linear',
    useBias: true,
  };
  const layer = layerModule('DepthwiseConv2D')!.create(node('DepthwiseConv2D', cfg), [[3, 3, C]]);
  const before = tf.memory().numTensors;
  const x = tf.randomNormal([1, 3, 3, C], 0, 1, 'float32', 3);
  const w = [tf.randomNormal([3, 3, C, m], 0, 1, 'float32', 4), tf.randomNormal([C * m], 0, 1, 'float32', 5)];
  const g = tf.randomNormal([1, 1, 1, C * m], 0, 1, 'float32', 6);
  const f = layer.forward([x], w, 'inference');
  const s = {
    inputs: [x],
    output: f.output,
    cache: f.cache,
    mode: 'inference' as const,
    isGraphInput: [false],
    memo: new Map(),
  };
  // weightRows is checked against float64 finite differences by the harness above.
  const rowT = layer.weightRows!(g, s, w, 1);
  const row = rowT.dataSync();
  const [kf] = layer.kroneckerFactors!(g, s, w, 1);
  assert.equal(kf.groups, C);
  assert.equal(kf.positions, 1);
  const KK = 9;
  const a = KK + 1;
  const A = kf.A.dataSync();
  const G = kf.G.dataSync();
  for (let ci = 0; ci < C; ci++) {
    const grad = (i: number) => {
      const [t, j] = [Math.floor(i / m), i % m];
      return t < KK ? row[(t * C + ci) * m + j] : row[KK * C * m + ci * m + j];
    };
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < a * m; i++)
      for (let k = 0; k < a * m; k++) {
        const got = A[(ci * a + Math.floor(i / m)) * a + Math.floor(k / m)] * G[(ci * m + (i % m)) * m + (k % m)];
        const want = grad(i) * grad(k);
        worst = Math.max(worst, Math.abs(got - want));
        scale = Math.max(scale, Math.abs(want));
      }
    assert.ok(worst <= 1e-4 * scale, `channel ${ci}: ${worst} vs scale ${scale}`);
  }
  tf.dispose([x, ...w, g, f.output, rowT, kf.A, kf.G, ...s.memo.values()]);
  assert.equal(tf.memory().numTensors, before);
});
