// What the Keras config reader refuses, and how: a PruneScopeError naming the file, the layer, its
// class (or the field) and what is supported. Nothing in a config is ever executed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readKerasConfig } from '../../src/engine/formats/keras/modelConfig';
import { ErrorCode, PruneScopeError } from '../../src/engine/errors';

const FILE = '/models/m.json';
type L = Record<string, unknown>;

const input = (shape: number[] = [8]): L => ({
  class_name: 'InputLayer',
  config: { name: 'in', batch_input_shape: [null, ...shape] },
  name: 'in',
  inbound_nodes: [],
});
const layer = (cls: string, name: string, config: L, from: string[] = ['in']): L => ({
  class_name: cls,
  config: { name, ...config },
  name,
  inbound_nodes: [from.map((f) => [f, 0, 0, {}])],
});
const functional = (layers: L[], out = 'out', ins: string[] = ['in']): L => ({
  class_name: 'Functional',
  config: { name: 'm', layers, input_layers: ins.map((i) => [i, 0, 0]), output_layers: [[out, 0, 0]] },
});
const sequential = (layers: L[]): L => ({ class_name: 'Sequential', config: { name: 's', layers } });

function refused(topology: unknown, code: ErrorCode, parts: (string | RegExp)[]): void {
  assert.throws(
    () => readKerasConfig(topology, FILE, 'modelTopology'),
    (e: unknown) => {
      assert.ok(e instanceof PruneScopeError, `not a PruneScopeError: ${String(e)}`);
      assert.equal(e.code, code, e.message);
      assert.ok(e.message.startsWith(FILE), `does not name the file: ${e.message}`);
      for (const p of parts)
        if (typeof p === 'string') assert.ok(e.message.includes(p), `"${p}" missing from: ${e.message}`);
        else assert.match(e.message, p);
      return true;
    },
  );
}

test('Lambda layers and serialised Python functions (Keras 2 and 3) are refused, naming the layer', () => {
  refused(
    functional([
      input(),
      layer('Lambda', 'lam', { function: ['4wEAAAAAAAAA', null, null], function_type: 'lambda', output_shape: null }),
      layer('Dense', 'out', { units: 2 }, ['lam']),
    ]),
    'unsupported',
    ['layer lam (Lambda)', /Python code/, /never runs code/, /expected built-in layers only/],
  );
  refused(
    sequential([
      input(),
      {
        module: 'keras.layers',
        class_name: 'Lambda',
        config: { name: 'k3lam', function: { class_name: '__lambda__', config: { code: 'YWJj', defaults: null } } },
        registered_name: null,
      },
    ]),
    'unsupported',
    ['layer k3lam (Lambda)'],
  );
  // Python code hidden in an otherwise supported layer's activation.
  refused(
    sequential([
      input(),
      {
        class_name: 'Dense',
        config: { name: 'd', units: 2, activation: { class_name: '__lambda__', config: { code: 'x' } } },
      },
    ]),
    'unsupported',
    ['layer d (Dense)', /serialised Python function/],
  );
  refused(
    functional([
      input(),
      layer('TFOpLambda', 'tf.math.add', { function: 'math.add' }),
      layer('Dense', 'out', { units: 1 }, ['tf.math.add']),
    ]),
    'unsupported',
    ['layer tf.math.add (TFOpLambda)'],
  );
});

test('a shared layer (called twice) is refused with its call count', () => {
  const shared = layer('Dense', 'shared', { units: 8 });
  shared.inbound_nodes = [[['in', 0, 0, {}]], [['in', 0, 0, {}]]];
  refused(functional([input(), shared, layer('Dense', 'out', { units: 1 }, ['shared'])]), 'unsupported', [
    'layer shared (Dense).inbound_nodes',
    /called 2 times \(a shared layer\)/,
  ]);
});

test('unknown and custom classes, nested models and multi-input/output graphs are refused', () => {
  refused(
    sequential([input([8, 2]), { class_name: 'Conv1D', config: { name: 'c1', filters: 2, kernel_size: 3 } }]),
    'unsupported',
    ['layer c1 (Conv1D)', /layer class Conv1D is not supported/, /expected InputLayer, Dense, Conv2D/],
  );
  refused(
    sequential([
      input(),
      { module: null, class_name: 'MyLayers>Scaled', config: { name: 'mine' }, registered_name: 'MyLayers>Scaled' },
    ]),
    'unsupported',
    ['layer mine (MyLayers>Scaled)'],
  );
  refused(sequential([input(), { class_name: 'Sequential', config: { name: 'augment', layers: [] } }]), 'unsupported', [
    'layer augment (Sequential)',
    /nested model/,
  ]);
  const two = functional(
    [
      input(),
      { ...input(), name: 'in2', config: { name: 'in2', batch_input_shape: [null, 8] } },
      layer('Add', 'out', {}, ['in', 'in2']),
    ],
    'out',
    ['in', 'in2'],
  );
  refused(two, 'unsupported', [/2 inputs/, /one input/]);
});

test('channels_first, dilation, grouped convolution and a BatchNormalization not on the last axis are refused', () => {
  const img = input([6, 6, 3]);
  refused(
    functional([img, layer('Conv2D', 'out', { filters: 2, kernel_size: 3, data_format: 'channels_first' })]),
    'unsupported',
    ['layer out (Conv2D).data_format', /channels_first/, /channels_last/],
  );
  refused(
    functional([img, layer('Conv2D', 'out', { filters: 2, kernel_size: 3, dilation_rate: [2, 2] })]),
    'unsupported',
    ['layer out (Conv2D).dilation_rate', /dilation 1/],
  );
  refused(functional([img, layer('Conv2D', 'out', { filters: 2, kernel_size: 3, groups: 3 })]), 'unsupported', [
    'layer out (Conv2D).groups',
    /groups 1/,
  ]);
  refused(functional([img, layer('BatchNormalization', 'out', { axis: 1 })]), 'unsupported', [
    'layer out (BatchNormalization).axis',
    /the last axis \(-1 or 3\)/,
  ]);
  refused(functional([img, layer('DepthwiseConv2D', 'out', { kernel_size: 3, activation: 'gelu' })]), 'unsupported', [
    'layer out (DepthwiseConv2D).activation',
    /activation "gelu" is not supported/,
  ]);
});

test('softmax anywhere but the output is refused; softmax then Dropout at the output is fine', () => {
  refused(
    sequential([
      input(),
      { class_name: 'Dense', config: { name: 'h', units: 4, activation: 'softmax' } },
      { class_name: 'Dense', config: { name: 'o', units: 2 } },
    ]),
    'unsupported',
    ['layer h (Dense)', /softmax before the output/],
  );
  refused(
    functional([input(), layer('Softmax', 'sm', {}), layer('Dense', 'out', { units: 2 }, ['sm'])]),
    'unsupported',
    ['layer sm (Softmax)'],
  );
  const g = readKerasConfig(
    sequential([
      input(),
      { class_name: 'Dense', config: { name: 'o', units: 2, activation: 'softmax' } },
      { class_name: 'Dropout', config: { name: 'dr', rate: 0.1 } },
    ]),
    FILE,
    'modelTopology',
  );
  assert.deepEqual(g.spec.outputs, ['dr']);
});

test('layers listed after their users are ordered inputs-first, keeping the file order where it can', () => {
  // b and c both wait for a; among ready layers the one earlier in the file comes first.
  const g = readKerasConfig(
    functional([
      input([4]),
      layer('Add', 'out', {}, ['c', 'b']),
      layer('Dense', 'c', { units: 4 }, ['a']),
      layer('Dense', 'b', { units: 4 }, ['a']),
      layer('Dense', 'a', { units: 4 }),
    ]),
    FILE,
    'modelTopology',
  );
  assert.deepEqual(
    g.spec.nodes.map((n) => n.name),
    ['a', 'c', 'b', 'out'],
  );
  // A long chain written backwards: every layer after its input.
  const n = 3000;
  const chain = [input([2])];
  for (let i = n - 1; i >= 0; i--) chain.push(layer('Dense', `d${i}`, { units: 2 }, [i === 0 ? 'in' : `d${i - 1}`]));
  const long = readKerasConfig(functional(chain, `d${n - 1}`), FILE, 'modelTopology');
  assert.deepEqual(
    long.spec.nodes.map((x) => x.name),
    Array.from({ length: n }, (_, i) => `d${i}`),
  );
});

test('shape errors name the layer: a window larger than its input, a Reshape of the wrong size, an Add of unequal shapes', () => {
  refused(functional([input([2, 2, 1]), layer('Conv2D', 'out', { filters: 1, kernel_size: 3 })]), 'bad-input', [
    'layer out (Conv2D)',
    /3x3 window with 'valid' padding does not fit its 2x2 input/,
  ]);
  refused(functional([input([6]), layer('Reshape', 'out', { target_shape: [4, 2] })]), 'bad-input', [
    'layer out (Reshape)',
    /cannot reshape \[6\] \(6 values\) to \[4, 2\]/,
  ]);
  refused(
    functional([input([6]), layer('Dense', 'd', { units: 3 }), layer('Add', 'out', {}, ['in', 'd'])]),
    'bad-input',
    ['layer out (Add)', /adds inputs of shapes \[6\] and \[3\]/],
  );
  refused(functional([input([6]), layer('Dense', 'out', { units: 0 })]), 'bad-input', [
    'layer out (Dense).units',
    /is 0/,
  ]);
});

test('structural damage: missing inputs, unknown references, duplicate names, cycles', () => {
  refused({ class_name: 'Functional', config: { layers: [] } }, 'bad-input', ['modelTopology.config.input_layers']);
  refused(functional([input(), layer('Dense', 'out', { units: 1 }, ['ghost'])]), 'bad-input', [
    'layer out (Dense).inbound_nodes',
    /refers to layer "ghost"/,
  ]);
  refused(
    functional([input(), layer('Dense', 'out', { units: 1 }), layer('Dense', 'out', { units: 1 })]),
    'bad-input',
    [/layer name out appears twice/],
  );
  refused(
    functional([
      input(),
      layer('Dense', 'a', { units: 8 }, ['b']),
      layer('Dense', 'b', { units: 8 }, ['a']),
      layer('Add', 'out', {}, ['a', 'in']),
    ]),
    'unsupported',
    [/part of a cycle/],
  );
  refused({ class_name: 'Graph', config: {} }, 'unsupported', [
    'modelTopology.class_name',
    /Sequential, Functional or Model/,
  ]);
});
