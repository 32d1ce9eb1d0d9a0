// A GraphSpec as the Keras model config TF.js (tfjs-layers 4.x) writes and reads: snake_case
// keys, no initializers (a loaded model never uses them), Sequential for chains and Model
// otherwise. Classes tfjs-layers lacks are written as the tfjs layer that computes the same thing
// at inference, with a warning; what tfjs cannot express at all is refused.
import { PruneScopeError } from '../../errors';
import type { GraphSpec, LayerConfigs, NodeSpec, Shape } from '../../model/graphSpec';
import { inferShapes, nodeField, sourceClass } from '../shapes';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface WrittenWeight {
  layer: string;
  /** Keras short name (kernel, bias, gamma, ...). */
  name: string;
  shape: number[];
  values: Float32Array;
}

export interface LayerOut {
  class_name: string;
  config: Json;
  weights: WrittenWeight[];
}

/** Identity classes tfjs-layers has; the rest become a rate-0 Dropout (the same at inference). */
const TFJS_IDENTITY: Record<string, string[]> = {
  Dropout: ['rate'],
  AlphaDropout: ['rate'],
  GaussianDropout: ['rate'],
  GaussianNoise: ['stddev'],
  SpatialDropout1D: ['rate'],
};

/** Numbers of the original config worth keeping (a Dropout's rate), when they are plain numbers. */
function sourceNumbers(n: NodeSpec, keys: string[]): Json {
  const cfg = isObj(n.source) && isObj(n.source.config) ? n.source.config : {};
  const out: Json = {};
  for (const k of keys) {
    const v = cfg[k];
    out[k] = typeof v === 'number' && Number.isFinite(v) && v >= 0 && v < 1e6 ? v : 0;
  }
  return out;
}

function weightsOf(n: NodeSpec): WrittenWeight[] {
  return n.weights.map((w) => ({ layer: n.name, name: w.name, shape: w.shape, values: w.values }));
}

/** One node as a tfjs-layers layer config. */
export function tfjsLayer(n: NodeSpec, inShape: Shape, warnings: string[], file?: string): LayerOut {
  const refuse = (msg: string, expected: string) =>
    new PruneScopeError('unsupported', msg, { file, field: nodeField(n), expected });
  const base = { name: n.name, trainable: true };
  const w = weightsOf(n);
  const img = { data_format: 'channels_last' };
  switch (n.className) {
    case 'Dense': {
      const c = n.config as LayerConfigs['Dense'];
      return {
        class_name: 'Dense',
        config: { ...base, units: c.units, activation: c.activation, use_bias: c.useBias },
        weights: w,
      };
    }
    case 'Conv2D': {
      const c = n.config as LayerConfigs['Conv2D'];
      const config = {
        ...base,
        ...img,
        filters: c.filters,
        kernel_size: c.kernelSize,
        strides: c.strides,
        padding: c.padding,
        dilation_rate: c.dilationRate,
        activation: c.activation,
        use_bias: c.useBias,
      };
      return { class_name: 'Conv2D', config, weights: w };
    }
    case 'DepthwiseConv2D': {
      const c = n.config as LayerConfigs['DepthwiseConv2D'];
      const config = {
        ...base,
        ...img,
        kernel_size: c.kernelSize,
        strides: c.strides,
        padding: c.padding,
        depth_multiplier: c.depthMultiplier,
        dilation_rate: c.dilationRate,
        activation: c.activation,
        use_bias: c.useBias,
      };
      return { class_name: 'DepthwiseConv2D', config, weights: w };
    }
    case 'BatchNormalization': {
      const c = n.config as LayerConfigs['BatchNormalization'];
      const config = { ...base, axis: -1, momentum: c.momentum, epsilon: c.epsilon, center: c.center, scale: c.scale };
      return { class_name: 'BatchNormalization', config, weights: w };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const c = n.config as LayerConfigs['MaxPooling2D'];
      const config = { ...base, ...img, pool_size: c.poolSize, strides: c.strides, padding: c.padding };
      return { class_name: n.className, config, weights: [] };
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D': {
      const c = n.config as LayerConfigs['GlobalMaxPooling2D'];
      if (c.keepdims)
        throw refuse('keeps the pooled dimensions (keepdims)', 'keepdims false for TF.js; write Keras instead');
      return { class_name: n.className, config: { ...base, ...img }, weights: [] };
    }
    case 'ZeroPadding2D': {
      const c = n.config as LayerConfigs['ZeroPadding2D'];
      return { class_name: 'ZeroPadding2D', config: { ...base, ...img, padding: c.padding }, weights: [] };
    }
    case 'Rescaling': {
      const c = n.config as LayerConfigs['Rescaling'];
      return { class_name: 'Rescaling', config: { ...base, scale: c.scale, offset: c.offset }, weights: [] };
    }
    case 'Normalization': {
      // tfjs-layers has no Normalization; (x - mean) / max(sqrt(var), eps) is a BatchNormalization
      // without gamma and beta, epsilon 0 and the variance floored at eps^2.
      const c = n.config as LayerConfigs['Normalization'];
      const mean = n.weights.find((x) => x.name === 'mean');
      const variance = n.weights.find((x) => x.name === 'variance');
      const ch = inShape[inShape.length - 1];
      if (!mean || !variance || (mean.values.length !== ch && mean.values.length !== 1))
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
        class_name: 'BatchNormalization',
        config: { ...base, axis: -1, momentum: 0.99, epsilon: 0, center: false, scale: false },
        weights: [
          { layer: n.name, name: 'moving_mean', shape: [ch], values: widen(mean.values, -Infinity) },
          {
            layer: n.name,
            name: 'moving_variance',
            shape: [ch],
            values: widen(variance.values, c.epsilon * c.epsilon),
          },
        ],
      };
    }
    case 'Flatten':
      return { class_name: 'Flatten', config: { ...base, ...img }, weights: [] };
    case 'Reshape': {
      const c = n.config as LayerConfigs['Reshape'];
      return { class_name: 'Reshape', config: { ...base, target_shape: c.targetShape }, weights: [] };
    }
    case 'Activation': {
      const c = n.config as LayerConfigs['Activation'];
      return { class_name: 'Activation', config: { ...base, activation: c.activation }, weights: [] };
    }
    case 'ReLU': {
      const c = n.config as LayerConfigs['ReLU'];
      if (c.threshold === 0 && c.negativeSlope === 0)
        return { class_name: 'ReLU', config: { ...base, max_value: c.maxValue }, weights: [] };
      if (c.threshold === 0 && c.maxValue === null)
        return { class_name: 'LeakyReLU', config: { ...base, alpha: c.negativeSlope }, weights: [] };
      throw refuse(
        'has a threshold, or both a negative slope and a maximum',
        'a plain, capped or leaky ReLU for TF.js',
      );
    }
    case 'LeakyReLU': {
      const c = n.config as LayerConfigs['LeakyReLU'];
      return { class_name: 'LeakyReLU', config: { ...base, alpha: c.alpha }, weights: [] };
    }
    case 'Softmax':
      return { class_name: 'Softmax', config: { ...base, axis: -1 }, weights: [] };
    case 'Add':
      return { class_name: 'Add', config: base, weights: [] };
    case 'Concatenate':
      return { class_name: 'Concatenate', config: { ...base, axis: -1 }, weights: [] };
    case 'Identity': {
      const kind = sourceClass(n);
      const keys = TFJS_IDENTITY[kind];
      if (keys) return { class_name: kind, config: { ...base, ...sourceNumbers(n, keys) }, weights: [] };
      warnings.push(
        `${nodeField(n)}: written as a Dropout of rate 0 (TF.js has no ${kind}; both are the identity at inference)`,
      );
      return { class_name: 'Dropout', config: { ...base, rate: 0 }, weights: [] };
    }
    default:
      throw refuse(`layer class ${String(n.className)} cannot be written`, 'a GraphSpec layer class');
  }
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

/** The whole graph as a tfjs-layers modelTopology, with the weights to store in node order. */
export function tfjsTopology(
  spec: GraphSpec,
  file?: string,
): { topology: Json; weights: WrittenWeight[]; warnings: string[] } {
  const shapes = inferShapes(spec, file);
  const warnings: string[] = [];
  const layers = spec.nodes.map((n) => tfjsLayer(n, shapes.get(n.inputs[0])!, warnings, file));
  const weights = layers.flatMap((l) => l.weights);
  const batchShape = (name: string) => [null, ...shapes.get(name)!];
  let topology: Json;
  if (isChain(spec)) {
    topology = {
      class_name: 'Sequential',
      config: {
        name: 'sequential',
        layers: layers.map((l, i) => ({
          class_name: l.class_name,
          config:
            i === 0 ? { ...l.config, batch_input_shape: batchShape(spec.inputs[0].name), dtype: 'float32' } : l.config,
        })),
      },
    };
  } else {
    const inputs = spec.inputs.map((i) => ({
      name: i.name,
      class_name: 'InputLayer',
      config: { batch_input_shape: batchShape(i.name), dtype: 'float32', sparse: false, name: i.name },
      inbound_nodes: [],
    }));
    const body = spec.nodes.map((n, k) => ({
      name: n.name,
      class_name: layers[k].class_name,
      config: layers[k].config,
      inbound_nodes: [n.inputs.map((i) => [i, 0, 0, {}])],
    }));
    topology = {
      class_name: 'Model',
      config: {
        name: 'model',
        layers: [...inputs, ...body],
        input_layers: spec.inputs.map((i) => [i.name, 0, 0]),
        output_layers: spec.outputs.map((o) => [o, 0, 0]),
      },
    };
  }
  return {
    topology: { ...topology, keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js' },
    weights,
    warnings,
  };
}
