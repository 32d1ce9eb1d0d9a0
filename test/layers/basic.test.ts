// The graph engine's own layer modules through the harness: Dense, the element-wise activations
// (every Keras name, ReLU's options, LeakyReLU), Flatten, Reshape, Identity, Add, Concatenate. Each
// reference below is a plain float64 loop written from the Keras definition of the layer.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { NodeSpec, LayerClass, LayerConfigs } from '../../src/engine/graphSpec';
import { layerModule } from '../../src/engine/layers/registry';
import { HIDDEN_ACTIVATIONS } from '../../src/engine/layers/activationFunctions';
import { PruneScopeError } from '../../src/engine/errors';
import { backend } from '../helpers';
import { act64, Act } from '../curvature/reference64';
import { checkLayer, nodeReference, Reference } from './harness';

function make<C extends LayerClass>(className: C, config: LayerConfigs[C], inputShapes: number[][], name = 'l') {
  const node: NodeSpec = { name, className, config, inputs: [], weights: [] };
  return layerModule(className)!.create(node, inputShapes);
}

const dense =
  (inSize: number, units: number, bias: boolean): Reference =>
  ([x], [W, b]) => {
    const y = new Float64Array(units);
    for (let j = 0; j < units; j++) {
      let s = bias ? b[j] : 0;
      for (let i = 0; i < inSize; i++) s += x[i] * W[i * units + j];
      y[j] = s;
    }
    return y;
  };

const elementwise =
  (f: (v: number) => number): Reference =>
  ([x]) =>
    x.map(f);

test('Dense: every backward quantity against float64 finite differences', async () => {
  await backend();
  const r = checkLayer({
    layer: make('Dense', { units: 3, activation: 'linear', useBias: true }, [[4]]),
    reference: dense(4, 3, true),
  });
  assert.ok(Object.keys(r.errors).length >= 12, `checks run: ${Object.keys(r.errors).join(', ')}`);
  checkLayer({
    layer: make('Dense', { units: 2, activation: 'linear', useBias: false }, [[5]]),
    reference: dense(5, 2, false),
    c: 3,
  });
});

test('Dense against the float64 GraphSpec reference (fused activation left to the graph)', async () => {
  await backend();
  const node: NodeSpec = {
    name: 'fc',
    className: 'Dense',
    config: { units: 3, activation: 'tanh', useBias: true },
    inputs: ['x'],
    weights: [
      { name: 'kernel', shape: [4, 3], trainable: true, values: new Float32Array(12) },
      { name: 'bias', shape: [3], trainable: true, values: new Float32Array(3) },
    ],
  };
  checkLayer({ layer: layerModule('Dense')!.create(node, [[4]]), reference: nodeReference(node, [4]) });
});

test('Dense refuses an image input and names the layer', async () => {
  await backend();
  assert.throws(
    () => make('Dense', { units: 2, activation: 'linear', useBias: true }, [[4, 4, 1]], 'fc'),
    (e: unknown) => e instanceof PruneScopeError && /fc \(Dense\)/.test(e.message) && /Flatten/.test(e.message),
  );
});

test("Activation: each Keras activation (f, f', f'') on images", async () => {
  await backend();
  for (const a of HIDDEN_ACTIVATIONS) {
    const r = checkLayer({
      layer: make('Activation', { activation: a }, [[2, 2, 2]]),
      reference: elementwise((v) => act64(a as Act, v)[0]),
    });
    const curved = a !== 'linear' && a !== 'relu';
    assert.equal('residual' in r.errors, curved, `${a}: residual checked against finite differences`);
  }
});

test('Activation softmax inside the network is refused with what is supported', async () => {
  await backend();
  assert.throws(
    () => make('Activation', { activation: 'softmax' }, [[3]], 'act3'),
    (e: unknown) => e instanceof PruneScopeError && /act3 \(Activation\)/.test(e.message) && /tanh/.test(e.message),
  );
});

test('ReLU with max_value, threshold and negative slope; LeakyReLU', async () => {
  await backend();
  const relu = (m: number | null, s: number, t: number) => (v: number) => {
    const y = v >= t ? v : s * (v - t);
    return m === null ? y : Math.min(y, m);
  };
  for (const [m, s, t] of [
    [null, 0, 0],
    [1.5, 0, 0],
    [null, 0.2, 0.3],
    [2, 0.1, -0.5],
  ] as [number | null, number, number][])
    checkLayer({
      layer: make('ReLU', { maxValue: m, negativeSlope: s, threshold: t }, [[6]]),
      reference: elementwise(relu(m, s, t)),
      seed: 3,
    });
  checkLayer({
    layer: make('LeakyReLU', { alpha: 0.3 }, [[3, 2]]),
    reference: elementwise((v) => (v > 0 ? v : 0.3 * v)),
  });
});

test('Flatten, Reshape (with -1) and Identity are relabellings', async () => {
  await backend();
  const copy: Reference = ([x]) => x.slice();
  const f = make('Flatten', {}, [[2, 3, 2]]);
  assert.deepEqual(f.outputShape, [12]);
  assert.deepEqual(f.channels, { kind: 'flatten', channels: 2, positions: 6 });
  checkLayer({ layer: f, reference: copy });
  const r = make('Reshape', { targetShape: [3, -1] }, [[2, 3, 2]]);
  assert.deepEqual(r.outputShape, [3, 4]);
  checkLayer({ layer: r, reference: copy });
  checkLayer({ layer: make('Identity', { kind: 'Dropout' }, [[5]]), reference: copy });
  assert.throws(() => make('Reshape', { targetShape: [5, -1] }, [[2, 3, 2]], 'rs'), /rs \(Reshape\)/);
});

test('Add and Concatenate route gradients to each input', async () => {
  await backend();
  checkLayer({
    layer: make('Add', {}, [
      [2, 2, 3],
      [2, 2, 3],
      [2, 2, 3],
    ]),
    reference: ([a, b, c]) => a.map((v, i) => v + b[i] + c[i]),
  });
  // NHWC channel concatenation: per position, a's 3 channels then b's 1.
  const cat = make('Concatenate', { axis: -1 }, [
    [2, 2, 3],
    [2, 2, 1],
  ]);
  assert.deepEqual(cat.outputShape, [2, 2, 4]);
  assert.deepEqual(cat.channels, { kind: 'concat', offsets: [0, 3] });
  checkLayer({
    layer: cat,
    reference: ([a, b]) => {
      const y = new Float64Array(16);
      for (let p = 0; p < 4; p++) {
        for (let ch = 0; ch < 3; ch++) y[p * 4 + ch] = a[p * 3 + ch];
        y[p * 4 + 3] = b[p];
      }
      return y;
    },
  });
  assert.throws(() => make('Add', {}, [[2], [3]], 'sum'), /sum \(Add\).*input 1/);
  assert.throws(
    () =>
      make(
        'Concatenate',
        { axis: 1 },
        [
          [2, 2, 3],
          [2, 2, 1],
        ],
        'cc',
      ),
    /cc \(Concatenate\)/,
  );
});

test('the harness catches a wrong module (it is not vacuous)', async () => {
  await backend();
  const l = make('Dense', { units: 3, activation: 'linear', useBias: true }, [[4]]);
  // A reference with one weight's role changed must fail.
  const wrong: Reference = (xs, ws) => {
    const y = dense(4, 3, true)(xs, ws);
    y[0] += 0.5 * xs[0][1] * ws[0][0];
    return y;
  };
  assert.throws(() => checkLayer({ layer: l, reference: wrong }), /relative error/);
});
