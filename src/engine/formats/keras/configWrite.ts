// A GraphSpec as a Keras model config, in the dialect its reader expects:
// - 'tfjs'   tfjs-layers 4.x (Sequential for chains, Model otherwise; classes tfjs lacks are
//            written as the tfjs layer computing the same at inference, with a warning);
// - 'keras2' tf.keras 2.x, as legacy .h5 files carry it (batch_input_shape, list inbound nodes);
//            Keras 3 reads it too;
// - 'keras3' Keras 3 .keras (module / class_name / config / registered_name / build_config,
//            keras_tensor inbound nodes).
// Only keys each class's constructor accepts are written (Keras 3 refuses unknown ones);
// initializers and regularizers are left to their defaults (a loaded model never uses them).
import { PruneScopeError } from '../../errors';
import type { GraphSpec, LayerConfigs, NodeSpec, Shape } from '../../graphSpec';
import { inferShapes, nodeField, sourceClass } from '../../model/graphShapes';

export type Dialect = 'tfjs' | 'keras2' | 'keras3';
type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface WrittenWeight {
  layer: string;
  /** Keras short name (kernel, bias, gamma, ...). */
  name: string;
  shape: number[];
  /** float32 values, or int64 for Normalization's count. */
  values: Float32Array | BigInt64Array;
}

export interface LayerOut {
  node: NodeSpec;
  class_name: string;
  config: Json;
  weights: WrittenWeight[];
}

/** Identity classes tfjs-layers has; the rest become a rate-0 Dropout there (the same at inference). */
const TFJS_IDENTITY = new Set(['Dropout', 'AlphaDropout', 'GaussianDropout', 'GaussianNoise', 'SpatialDropout1D']);

/** The numeric config of an identity layer worth keeping (a Dropout's rate, a RandomZoom's factor). */
function identityKeys(n: NodeSpec, dialect: Dialect): Json {
  const src =
    isObj(n.source) && n.source.class_name === sourceClass(n) && isObj(n.source.config) ? n.source.config : {};
  const out: Json = {};
  const plain = (v: unknown): boolean =>
    v === null ||
    typeof v === 'boolean' ||
    typeof v === 'string' ||
    (typeof v === 'number' && Number.isFinite(v)) ||
    (Array.isArray(v) && v.length <= 16 && v.every((x) => typeof x === 'number' && Number.isFinite(x)));
  // Keras 3 renamed a few arguments; keep only what both generations share for these classes.
  const keys =
    dialect === 'tfjs'
      ? ['rate', 'stddev']
      : [
          'rate',
          'stddev',
          'seed',
          'noise_shape',
          'mode',
          'factor',
          'height_factor',
          'width_factor',
          'fill_mode',
          'interpolation',
          'fill_value',
          'value_range',
          'l1',
          'l2',
        ];
  for (const k of keys) if (k in src && plain(src[k])) out[k] = src[k];
  return out;
}

/** One node as a layer config of the dialect, with the weights to store for it. */
export function layerOut(n: NodeSpec, inShape: Shape, dialect: Dialect, warnings: string[], file?: string): LayerOut {
  const refuse = (msg: string, expected: string) =>
    new PruneScopeError('unsupported', msg, { file, field: nodeField(n), expected });
  const base: Json = { name: n.name, trainable: true, ...(dialect === 'tfjs' ? {} : { dtype: 'float32' }) };
  const w: WrittenWeight[] = n.weights.map((x) => ({ layer: n.name, name: x.name, shape: x.shape, values: x.values }));
  const img = { data_format: 'channels_last' };
  const out = (class_name: string, config: Json, weights: WrittenWeight[] = []): LayerOut => ({
    node: n,
    class_name,
    config: { ...base, ...config },
    weights,
  });
  switch (n.className) {
    case 'Dense': {
      const c = n.config as LayerConfigs['Dense'];
      return out('Dense', { units: c.units, activation: c.activation, use_bias: c.useBias }, w);
    }
    case 'Conv2D': {
      const c = n.config as LayerConfigs['Conv2D'];
      const cfg: Json = {
        ...img,
        filters: c.filters,
        kernel_size: c.kernelSize,
        strides: c.strides,
        padding: c.padding,
        dilation_rate: c.dilationRate,
        ...(dialect === 'tfjs' ? {} : { groups: 1 }),
        activation: c.activation,
        use_bias: c.useBias,
      };
      return out('Conv2D', cfg, w);
    }
    case 'DepthwiseConv2D': {
      const c = n.config as LayerConfigs['DepthwiseConv2D'];
      const cfg = {
        ...img,
        kernel_size: c.kernelSize,
        strides: c.strides,
        padding: c.padding,
        depth_multiplier: c.depthMultiplier,
        dilation_rate: c.dilationRate,
        activation: c.activation,
        use_bias: c.useBias,
      };
      return out('DepthwiseConv2D', cfg, w);
    }
    case 'BatchNormalization': {
      const c = n.config as LayerConfigs['BatchNormalization'];
      return out(
        'BatchNormalization',
        { axis: -1, momentum: c.momentum, epsilon: c.epsilon, center: c.center, scale: c.scale },
        w,
      );
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const c = n.config as LayerConfigs['MaxPooling2D'];
      return out(n.className, { ...img, pool_size: c.poolSize, strides: c.strides, padding: c.padding });
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D': {
      const c = n.config as LayerConfigs['GlobalMaxPooling2D'];
      if (dialect === 'tfjs') {
        if (c.keepdims)
          throw refuse('keeps the pooled dimensions (keepdims)', 'keepdims false for TF.js; write Keras instead');
        return out(n.className, img);
      }
      return out(n.className, { ...img, keepdims: c.keepdims });
    }
    case 'ZeroPadding2D': {
      const c = n.config as LayerConfigs['ZeroPadding2D'];
      return out('ZeroPadding2D', { ...img, padding: c.padding });
    }
    case 'Rescaling': {
      const c = n.config as LayerConfigs['Rescaling'];
      return out('Rescaling', { scale: c.scale, offset: c.offset });
    }
    case 'Normalization':
      return normalization(n, inShape, dialect, base, warnings, refuse);
    case 'Flatten':
      return out('Flatten', img);
    case 'Reshape': {
      const c = n.config as LayerConfigs['Reshape'];
      return out('Reshape', { target_shape: c.targetShape });
    }
    case 'Activation': {
      const c = n.config as LayerConfigs['Activation'];
      return out('Activation', { activation: c.activation });
    }
    case 'ReLU': {
      const c = n.config as LayerConfigs['ReLU'];
      if (dialect !== 'tfjs')
        return out('ReLU', { max_value: c.maxValue, negative_slope: c.negativeSlope, threshold: c.threshold });
      if (c.threshold === 0 && c.negativeSlope === 0) return out('ReLU', { max_value: c.maxValue });
      if (c.threshold === 0 && c.maxValue === null) return out('LeakyReLU', { alpha: c.negativeSlope });
      throw refuse(
        'has a threshold, or both a negative slope and a maximum',
        'a plain, capped or leaky ReLU for TF.js',
      );
    }
    case 'LeakyReLU': {
      const c = n.config as LayerConfigs['LeakyReLU'];
      return out('LeakyReLU', dialect === 'keras3' ? { negative_slope: c.alpha } : { alpha: c.alpha });
    }
    case 'Softmax':
      return out('Softmax', { axis: -1 });
    case 'Add':
      return out('Add', {});
    case 'Concatenate':
      return out('Concatenate', { axis: -1 });
    case 'Identity': {
      const kind = sourceClass(n);
      if (dialect !== 'tfjs' || TFJS_IDENTITY.has(kind)) return out(kind, identityKeys(n, dialect));
      warnings.push(
        `${nodeField(n)}: written as a Dropout of rate 0 (TF.js has no ${kind}; both are the identity at inference)`,
      );
      return out('Dropout', { rate: 0 });
    }
    default:
      throw refuse(`layer class ${String(n.className)} cannot be written`, 'a GraphSpec layer class');
  }
}

function normalization(
  n: NodeSpec,
  inShape: Shape,
  dialect: Dialect,
  base: Json,
  warnings: string[],
  refuse: (msg: string, expected: string) => PruneScopeError,
): LayerOut {
  const c = n.config as LayerConfigs['Normalization'];
  const mean = n.weights.find((x) => x.name === 'mean');
  const variance = n.weights.find((x) => x.name === 'variance');
  if (!mean || !variance) throw refuse('has no mean or variance weight', 'weights mean and variance');
  const ch = inShape[inShape.length - 1];
  if (dialect === 'tfjs') {
    // tfjs-layers has no Normalization; (x - mean) / max(sqrt(var), eps) is a BatchNormalization
    // without gamma and beta, epsilon 0 and the variance floored at eps^2.
    if (mean.values.length !== ch && mean.values.length !== 1)
      throw refuse(
        'normalises over axes other than the last',
        'a Normalization over the channel axis for TF.js; write Keras instead',
      );
    const widen = (v: Float32Array, floor: number) =>
      Float32Array.from({ length: ch }, (_, i) => Math.max(v.length === 1 ? v[0] : v[i], floor));
    warnings.push(
      `${nodeField(n)}: written as a BatchNormalization without gamma and beta (TF.js has no Normalization)`,
    );
    return {
      node: n,
      class_name: 'BatchNormalization',
      config: { ...base, axis: -1, momentum: 0.99, epsilon: 0, center: false, scale: false },
      weights: [
        { layer: n.name, name: 'moving_mean', shape: [ch], values: widen(mean.values, -Infinity) },
        { layer: n.name, name: 'moving_variance', shape: [ch], values: widen(variance.values, c.epsilon * c.epsilon) },
      ],
    };
  }
  // Keras keeps mean/variance over the kept axes only: the trailing-aligned weight shape with the
  // axes of size 1 that the input does not have dropped.
  const rank = inShape.length;
  const ws = mean.shape;
  const kept: number[] = [];
  ws.forEach((d, j) => {
    const axis = rank - ws.length + j;
    if (d === inShape[axis]) kept.push(axis + 1);
    else if (d !== 1)
      throw refuse(
        `mean has shape [${ws.join(', ')}] for an input of shape [${inShape.join(', ')}]`,
        'a shape that broadcasts against the input',
      );
  });
  const keptShape = kept.map((a) => inShape[a - 1]);
  return {
    node: n,
    class_name: 'Normalization',
    config: { ...base, axis: kept.length ? kept : null, mean: null, variance: null, invert: false },
    weights: [
      { layer: n.name, name: 'mean', shape: keptShape, values: mean.values },
      { layer: n.name, name: 'variance', shape: keptShape, values: variance.values },
      { layer: n.name, name: 'count', shape: [], values: new BigInt64Array(1) },
    ],
  };
}

/** Whether the graph is one chain from its input to its output (written as Sequential). */
export function isChain(spec: GraphSpec): boolean {
  return (
    spec.inputs.length === 1 &&
    spec.outputs.length === 1 &&
    spec.nodes.length > 0 &&
    spec.nodes.every(
      (n, i) => n.inputs.length === 1 && n.inputs[0] === (i === 0 ? spec.inputs[0].name : spec.nodes[i - 1].name),
    ) &&
    spec.outputs[0] === spec.nodes[spec.nodes.length - 1].name
  );
}

export interface KerasTopology {
  /** The model config ({class_name, config, ...}). */
  topology: Json;
  /** Every layer in Keras's model.layers order (the InputLayer is not among them). */
  layers: LayerOut[];
  /** Whether model.layers starts with the InputLayer (Functional) or not (Sequential). */
  sequential: boolean;
  warnings: string[];
}

/** The whole graph as a model config of `dialect`, with each layer's weights. */
export function kerasTopology(spec: GraphSpec, dialect: Dialect, file?: string): KerasTopology {
  const shapes = inferShapes(spec, file);
  const warnings: string[] = [];
  const layers = spec.nodes.map((n) => layerOut(n, shapes.get(n.inputs[0])!, dialect, warnings, file));
  const batch = (name: string) => [null, ...shapes.get(name)!];
  const input = spec.inputs[0];
  const inputConfig: Json =
    dialect === 'keras3'
      ? { batch_shape: batch(input.name), dtype: 'float32', sparse: false, name: input.name }
      : {
          batch_input_shape: batch(input.name),
          dtype: 'float32',
          sparse: false,
          ...(dialect === 'keras2' ? { ragged: false } : {}),
          name: input.name,
        };
  const sequential = isChain(spec);
  const k3 = (l: LayerOut, extra: Json = {}): Json => ({
    module: 'keras.layers',
    class_name: l.class_name,
    config: l.config,
    registered_name: null,
    build_config: { input_shape: batch(l.node.inputs.length === 1 ? l.node.inputs[0] : l.node.inputs[0]) },
    ...extra,
  });
  if (dialect === 'keras3') {
    // Merge layers are built from the list of their input shapes.
    const buildShape = (l: LayerOut) => (l.node.inputs.length > 1 ? l.node.inputs.map(batch) : batch(l.node.inputs[0]));
    const tensor = (name: string) => ({
      class_name: '__keras_tensor__',
      config: { shape: batch(name), dtype: 'float32', keras_history: [name, 0, 0] },
    });
    const inputEntry = { module: 'keras.layers', class_name: 'InputLayer', config: inputConfig, registered_name: null };
    if (sequential) {
      return {
        topology: {
          module: 'keras',
          class_name: 'Sequential',
          config: {
            name: 'sequential',
            trainable: true,
            dtype: 'float32',
            layers: [inputEntry, ...layers.map((l) => ({ ...k3(l), build_config: { input_shape: buildShape(l) } }))],
            build_input_shape: batch(input.name),
          },
          registered_name: null,
          build_config: { input_shape: batch(input.name) },
        },
        layers,
        sequential,
        warnings,
      };
    }
    const entries = layers.map((l) => {
      const args = l.node.inputs.length > 1 ? [l.node.inputs.map(tensor)] : [tensor(l.node.inputs[0])];
      return {
        ...k3(l),
        build_config: { input_shape: buildShape(l) },
        name: l.node.name,
        inbound_nodes: [{ args, kwargs: {} }],
      };
    });
    return {
      topology: {
        module: 'keras.src.models.functional',
        class_name: 'Functional',
        config: {
          name: 'functional',
          trainable: true,
          layers: [{ ...inputEntry, name: input.name, inbound_nodes: [] }, ...entries],
          input_layers: [input.name, 0, 0],
          output_layers: [spec.outputs[0], 0, 0],
        },
        registered_name: 'Functional',
        build_config: { input_shape: null },
      },
      layers,
      sequential,
      warnings,
    };
  }
  // tfjs and Keras 2 share the classic layout.
  const head = dialect === 'tfjs' ? { keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js' } : {};
  if (sequential) {
    const list = layers.map((l, i) => ({
      class_name: l.class_name,
      config:
        i === 0 && dialect === 'tfjs'
          ? { ...l.config, batch_input_shape: batch(input.name), dtype: 'float32' }
          : l.config,
    }));
    const all = dialect === 'keras2' ? [{ class_name: 'InputLayer', config: inputConfig }, ...list] : list;
    return {
      topology: { class_name: 'Sequential', config: { name: 'sequential', layers: all }, ...head },
      layers,
      sequential,
      warnings,
    };
  }
  const entries = [
    { name: input.name, class_name: 'InputLayer', config: inputConfig, inbound_nodes: [] },
    ...layers.map((l) => ({
      name: l.node.name,
      class_name: l.class_name,
      config: l.config,
      inbound_nodes: [l.node.inputs.map((i) => [i, 0, 0, {}])],
    })),
  ];
  return {
    topology: {
      class_name: dialect === 'tfjs' ? 'Model' : 'Functional',
      config: {
        name: 'model',
        layers: entries,
        input_layers: [[input.name, 0, 0]],
        output_layers: [[spec.outputs[0], 0, 0]],
      },
      ...head,
    },
    layers,
    sequential,
    warnings,
  };
}

/** The tfjs-layers modelTopology and the float32 weights to store, in node order. */
export function tfjsTopology(
  spec: GraphSpec,
  file?: string,
): { topology: Json; weights: WrittenWeight[]; warnings: string[] } {
  const t = kerasTopology(spec, 'tfjs', file);
  return { topology: t.topology, weights: t.layers.flatMap((l) => l.weights), warnings: t.warnings };
}

/**
 * Keras 3's path for a layer's variables inside model.weights.h5: `layers/<snake_case(class)>`,
 * numbered `_1`, `_2`, ... among layers of the same class, in model.layers order (not the
 * layer's name: saving_lib addresses list members by class).
 */
export function keras3VarPaths(classNames: string[]): string[] {
  const used = new Map<string, number>();
  return classNames.map((c) => {
    const base = snakeCase(c);
    const k = used.get(base);
    used.set(base, k === undefined ? 0 : k + 1);
    return `layers/${k === undefined ? base : `${base}_${k + 1}`}`;
  });
}

/** Keras's naming.to_snake_case. */
export function snakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}
