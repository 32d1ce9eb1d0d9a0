// Keras model configs as Keras 2 (h5 model_config wrapper, bare-list Sequential, list-style
// inbound nodes) and Keras 3 (module / registered_name / build_config, DTypePolicy objects,
// keras_tensor inbound nodes) write them, for the classes TF.js cannot build itself
// (Normalization, the augmentation layers, SpatialDropout2D). Outputs are checked against tfjs
// running the same weights, with the classes tfjs lacks replaced by their closed forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { readTfjs, writeTfjs } from '../../src/engine/formats/tfjs';
import { Rng } from '../../src/engine/util/random';
import { artifactsOf, tfjsLoad, tmpDir, writeArtifacts } from '../fixtures/models/tfjsFiles';

const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const init = (c: string) => ({ module: 'keras.initializers', class_name: c, config: {}, registered_name: null });

/** A Keras 3 layer entry (Sequential: no inbound nodes; Functional: keras_tensor args). */
function k3(cls: string, name: string, config: Record<string, unknown>, inbound?: string[][]): Record<string, unknown> {
  const kt = (n: string) => ({
    class_name: '__keras_tensor__',
    config: { shape: [null], dtype: 'float32', keras_history: [n, 0, 0] },
  });
  return {
    module: 'keras.layers',
    class_name: cls,
    config: { name, trainable: true, dtype: policy, ...config },
    registered_name: null,
    build_config: { input_shape: [null, 4, 4, 2] },
    ...(inbound
      ? {
          name,
          inbound_nodes: [
            {
              args: inbound.length === 1 && inbound[0].length === 1 ? [kt(inbound[0][0])] : [inbound[0].map(kt)],
              kwargs: {},
            },
          ],
        }
      : {}),
  };
}

function randomise(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  model.setWeights(
    model.getWeights().map((w) =>
      tf.tensor(
        Float32Array.from({ length: w.size }, () => rng.uniform(-0.7, 0.7)),
        w.shape,
      ),
    ),
  );
}

function rows(shape: number[], n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * shape.reduce((a, b) => a * b, 1) }, () => 3 * rng.normal() + 1);
}

function maxGap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let g = 0;
  for (let i = 0; i < a.length; i++) g = Math.max(g, Math.abs(a[i] - b[i]));
  return g;
}

test('Keras 3 Sequential: Normalization (weights), the augmentation layers and SpatialDropout2D compute (x - mean) / sqrt(var) then the rest', async () => {
  await backend();
  // The reference: tfjs runs Conv2D -> GAP -> Dense on inputs normalised by hand.
  const ref = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [4, 4, 2],
        filters: 3,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: 'conv2d',
      }),
      tf.layers.globalAveragePooling2d({ name: 'gap' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'dense' }),
    ],
  });
  randomise(ref, 5);
  const mean = [0.5, -1.25];
  const variance = [2.25, 0.36];
  const a = await artifactsOf(ref);
  const stats = new Float32Array([...mean, ...variance]);
  const specs = [
    ...a.specs,
    { name: 'normalization/mean', shape: [2], dtype: 'float32' as const },
    { name: 'normalization/variance', shape: [2], dtype: 'float32' as const },
    { name: 'normalization/count', shape: [], dtype: 'int32' as const },
  ];
  const data = new Uint8Array([...a.data, ...new Uint8Array(stats.buffer), 0, 0, 0, 0]);
  const topology = {
    module: 'keras',
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      trainable: true,
      dtype: policy,
      layers: [
        {
          module: 'keras.layers',
          class_name: 'InputLayer',
          config: { batch_shape: [null, 4, 4, 2], dtype: 'float32', sparse: false, name: 'input_layer' },
          registered_name: null,
        },
        k3('Normalization', 'normalization', { axis: [-1], mean: null, variance: null, invert: false }),
        k3('RandomFlip', 'random_flip', { mode: 'horizontal_and_vertical', seed: null, data_format: 'channels_last' }),
        k3('RandomRotation', 'random_rotation', {
          factor: [-0.1, 0.1],
          fill_mode: 'reflect',
          interpolation: 'bilinear',
          seed: null,
        }),
        k3('RandomZoom', 'random_zoom', { height_factor: 0.1, width_factor: null, fill_mode: 'reflect' }),
        k3('RandomTranslation', 'random_translation', { height_factor: 0.1, width_factor: 0.1 }),
        k3('RandomContrast', 'random_contrast', { factor: 0.2, value_range: [0, 255] }),
        k3('SpatialDropout2D', 'spatial_dropout2d', { rate: 0.2, seed: null, noise_shape: null }),
        k3('Conv2D', 'conv2d', {
          filters: 3,
          kernel_size: [3, 3],
          strides: [1, 1],
          padding: 'same',
          data_format: 'channels_last',
          dilation_rate: [1, 1],
          groups: 1,
          activation: 'relu',
          use_bias: true,
          kernel_initializer: init('GlorotUniform'),
          bias_initializer: init('Zeros'),
          kernel_regularizer: null,
        }),
        k3('GlobalAveragePooling2D', 'gap', { data_format: 'channels_last', keepdims: false }),
        k3('Dense', 'dense', { units: 3, activation: 'softmax', use_bias: true }),
      ],
      build_input_shape: [null, 4, 4, 2],
    },
    registered_name: null,
    build_config: { input_shape: [null, 4, 4, 2] },
  };
  const file = writeArtifacts(tmpDir('k3seq'), { topology, specs, data });
  const read = await readTfjs(file);
  assert.deepEqual(
    read.spec.nodes.map((n) => n.className),
    [
      'Normalization',
      'Identity',
      'Identity',
      'Identity',
      'Identity',
      'Identity',
      'Identity',
      'Conv2D',
      'GlobalAveragePooling2D',
      'Dense',
    ],
  );
  assert.deepEqual(
    read.spec.nodes.slice(1, 7).map((n) => (n.config as { kind: string }).kind),
    ['RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomTranslation', 'RandomContrast', 'SpatialDropout2D'],
  );
  assert.deepEqual(
    read.spec.nodes[0].weights.map((w) => [w.name, w.shape, w.trainable, Array.from(w.values)]),
    [
      ['mean', [2], false, Array.from(Float32Array.from(mean))],
      ['variance', [2], false, Array.from(Float32Array.from(variance))],
    ],
  );
  assert.equal(read.spec.inputs[0].name, 'input_layer');

  const out = await writeTfjs(path.join(tmpDir('k3seq-out'), 'm'), read);
  assert.ok(out.warnings.some((w) => /RandomRotation/.test(w)) && out.warnings.some((w) => /Normalization/.test(w)));
  const back = await tfjsLoad(out.path);
  const x = rows([4, 4, 2], 5, 9);
  const xn = x.map((v, i) => (v - mean[i % 2]) / Math.sqrt(variance[i % 2]));
  const want = (ref.predict(tf.tensor(xn, [5, 4, 4, 2])) as tf.Tensor).dataSync();
  const got = (back.predict(tf.tensor(x, [5, 4, 4, 2])) as tf.Tensor).dataSync();
  assert.ok(maxGap(got, want) < 1e-6, `gap ${maxGap(got, want)}`);
});

test('Normalization with mean and variance in its config (no weights), over all axes', async () => {
  await backend();
  const ref = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2, name: 'dense' })] });
  randomise(ref, 8);
  const a = await artifactsOf(ref);
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 's',
      layers: [
        { class_name: 'InputLayer', config: { batch_shape: [null, 3], name: 'x' } },
        { class_name: 'Normalization', config: { name: 'norm', axis: null, mean: 2, variance: 4, invert: false } },
        { class_name: 'Dense', config: { name: 'dense', units: 2, activation: 'linear' } },
      ],
    },
  };
  const read = await readTfjs(writeArtifacts(tmpDir('normcfg'), { topology, specs: a.specs, data: a.data }));
  assert.deepEqual(
    read.spec.nodes[0].weights.map((w) => [w.name, w.shape, Array.from(w.values)]),
    [
      ['mean', [], [2]],
      ['variance', [], [4]],
    ],
  );
  const back = await tfjsLoad((await writeTfjs(path.join(tmpDir('normcfg-out'), 'm'), read)).path);
  const x = rows([3], 4, 2);
  const want = (
    ref.predict(
      tf.tensor(
        x.map((v) => (v - 2) / 2),
        [4, 3],
      ),
    ) as tf.Tensor
  ).dataSync();
  const got = (back.predict(tf.tensor(x, [4, 3])) as tf.Tensor).dataSync();
  assert.ok(maxGap(got, want) < 1e-6, `gap ${maxGap(got, want)}`);
});

/** The same network built in tfjs (the reference) and described as Keras 2 / Keras 3 configs. */
function residualRef(): tf.LayersModel {
  type T = tf.SymbolicTensor;
  const inp = tf.input({ shape: [4, 4, 2], name: 'input_1' });
  const c1 = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', name: 'conv_a' }).apply(inp) as T;
  const bn = tf.layers.batchNormalization({ epsilon: 0.001, name: 'bn' }).apply(c1) as T;
  const r = tf.layers.reLU({ name: 'relu' }).apply(bn) as T;
  const add = tf.layers.add({ name: 'add' }).apply([r, inp]) as T;
  const cat = tf.layers.concatenate({ name: 'cat' }).apply([add, r]) as T;
  const lr = tf.layers.leakyReLU({ alpha: 0.2, name: 'lrelu' }).apply(cat) as T;
  const f = tf.layers.flatten({ name: 'flat' }).apply(lr) as T;
  const d = tf.layers.dense({ units: 3, activation: 'softmax', name: 'out' }).apply(f) as T;
  return tf.model({ inputs: inp, outputs: d });
}

const K2_LAYERS = (): Record<string, unknown>[] => {
  const l = (cls: string, name: string, config: Record<string, unknown>, inbound: string[]) => ({
    class_name: cls,
    config: { name, trainable: true, dtype: 'float32', ...config },
    name,
    inbound_nodes: inbound.length ? [inbound.map((i) => [i, 0, 0, {}])] : [],
  });
  return [
    l('InputLayer', 'input_1', { batch_input_shape: [null, 4, 4, 2], sparse: false, ragged: false }, []),
    l(
      'Conv2D',
      'conv_a',
      {
        filters: 2,
        kernel_size: [3, 3],
        strides: [1, 1],
        padding: 'same',
        data_format: 'channels_last',
        dilation_rate: [1, 1],
        groups: 1,
        activation: 'linear',
        use_bias: true,
        kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
      },
      ['input_1'],
    ),
    l('BatchNormalization', 'bn', { axis: [3], momentum: 0.99, epsilon: 0.001, center: true, scale: true }, ['conv_a']),
    l('ReLU', 'relu', { max_value: null, negative_slope: 0.0, threshold: 0.0 }, ['bn']),
    l('Add', 'add', {}, ['relu', 'input_1']),
    l('Concatenate', 'cat', { axis: -1 }, ['add', 'relu']),
    l('LeakyReLU', 'lrelu', { alpha: 0.2 }, ['cat']),
    l('Flatten', 'flat', { data_format: 'channels_last' }, ['lrelu']),
    l('Dense', 'out', { units: 3, activation: 'softmax', use_bias: true }, ['flat']),
  ];
};

async function checkAgainstRef(topology: unknown, tag: string): Promise<void> {
  await backend();
  const ref = residualRef();
  randomise(ref, 21);
  const a = await artifactsOf(ref);
  const read = await readTfjs(
    writeArtifacts(tmpDir(tag), { topology: topology as Record<string, unknown>, specs: a.specs, data: a.data }),
  );
  const byName = new Map(read.spec.nodes.map((n) => [n.name, n]));
  assert.deepEqual(byName.get('add')!.inputs, ['relu', 'input_1']);
  assert.deepEqual(byName.get('cat')!.inputs, ['add', 'relu']);
  assert.deepEqual(byName.get('lrelu')!.config, { alpha: 0.2 });
  const back = await tfjsLoad((await writeTfjs(path.join(tmpDir(`${tag}-out`), 'm'), read)).path);
  const x = tf.tensor(rows([4, 4, 2], 6, 4), [6, 4, 4, 2]);
  const gap = maxGap((back.predict(x) as tf.Tensor).dataSync(), (ref.predict(x) as tf.Tensor).dataSync());
  assert.ok(gap < 1e-6, `${tag}: gap ${gap}`);
}

test('Keras 2 Functional inside the h5 model_config wrapper (list inbound nodes, BN axis [3]) predicts like tfjs', async () => {
  await checkAgainstRef(
    {
      model_config: {
        class_name: 'Functional',
        config: {
          name: 'model',
          layers: K2_LAYERS(),
          input_layers: [['input_1', 0, 0]],
          output_layers: [['out', 0, 0]],
        },
      },
      training_config: { loss: 'categorical_crossentropy' },
    },
    'k2fn',
  );
});

test('Keras 3 Functional (keras_tensor args, nested list for merges, DTypePolicy, activation objects) predicts like tfjs', async () => {
  type Entry = { class_name: string; name: string; config: Record<string, unknown>; inbound_nodes: [string][][] };
  const layers = (K2_LAYERS() as Entry[]).map((l) => {
    const cfg: Record<string, unknown> = { ...l.config, dtype: policy };
    if (l.class_name === 'InputLayer') {
      const { batch_input_shape, ...c } = cfg;
      return {
        module: 'keras.layers',
        class_name: 'InputLayer',
        config: { ...c, batch_shape: batch_input_shape },
        registered_name: null,
        name: l.name,
        inbound_nodes: [],
      };
    }
    if (l.class_name === 'LeakyReLU') {
      delete cfg.alpha;
      cfg.negative_slope = 0.2;
    }
    if (l.class_name === 'Dense')
      cfg.activation = {
        module: 'keras.activations',
        class_name: 'function',
        config: 'softmax',
        registered_name: 'function',
      };
    return k3(l.class_name, l.name, cfg, [l.inbound_nodes[0].map(([n]) => n)]);
  });
  await checkAgainstRef(
    {
      module: 'keras.src.models.functional',
      class_name: 'Functional',
      config: {
        name: 'functional',
        trainable: true,
        layers,
        input_layers: ['input_1', 0, 0],
        output_layers: ['out', 0, 0],
      },
      registered_name: 'Functional',
      build_config: { input_shape: null },
    },
    'k3fn',
  );
});

test('old Keras bare-list Sequential (config is the list of layers) reads and predicts like tfjs', async () => {
  await backend();
  const ref = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [5], units: 4, activation: 'elu', name: 'd1' }),
      tf.layers.dense({ units: 2, activation: 'softsign', name: 'd2' }),
    ],
  });
  randomise(ref, 3);
  const a = await artifactsOf(ref);
  const topology = {
    class_name: 'Sequential',
    config: [
      { class_name: 'Dense', config: { name: 'd1', units: 4, activation: 'elu', batch_input_shape: [null, 5] } },
      { class_name: 'Dropout', config: { name: 'drop', rate: 0.5 } },
      { class_name: 'Dense', config: { name: 'd2', units: 2, activation: 'softsign' } },
    ],
    keras_version: '2.0.8',
  };
  const read = await readTfjs(writeArtifacts(tmpDir('bare'), { topology, specs: a.specs, data: a.data }));
  assert.equal(read.format.kerasVersion, '2.0.8');
  assert.deepEqual(read.spec.inputs, [{ name: 'd1_input', shape: [5] }]);
  const back = await tfjsLoad((await writeTfjs(path.join(tmpDir('bare-out'), 'm'), read)).path);
  const x = tf.tensor(rows([5], 7, 1), [7, 5]);
  const gap = maxGap((back.predict(x) as tf.Tensor).dataSync(), (ref.predict(x) as tf.Tensor).dataSync());
  assert.ok(gap < 1e-6, `gap ${gap}`);
});
