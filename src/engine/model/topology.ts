// Reads the Keras model config inside a LayersModel's `modelTopology` (as TF.js, Keras 2 and
// Keras 3 write it) down to PruneScope's dense chain: which Dense layers, their widths and
// activations, and which weights each needs. Layers that only reshape or are the identity at
// inference (Flatten of row-major data, Dropout) disappear; Activation layers fold into the Dense
// before them. Anything else is refused with the layer's name and class.
import { PruneScopeError } from '../errors';
import { preview } from '../util/jsonLimits';
import { Activation, isActivation } from './activations';
import type { NetworkSpec } from './denseChain';

export interface DenseFromFile {
  name: string;
  units: number;
  inSize: number;
  activation: Activation;
  useBias: boolean;
  /** Layer that gave the activation (the Dense itself, or a folded Activation layer). */
  activationFrom: string;
}

export interface ParsedTopology {
  /** 'Sequential', 'Model' or 'Functional'. */
  modelClass: string;
  /** Input shape without the batch dimension, as declared. */
  inputShape: number[];
  inputSize: number;
  dense: DenseFromFile[];
  kerasVersion?: string;
}

type Json = Record<string, unknown>;
interface LayerEntry {
  className: string;
  name: string;
  config: Json;
  raw: Json;
}

const SUPPORTED = 'InputLayer, Dense, Activation, ReLU, Softmax, Dropout, Flatten';
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseTopology(topology: unknown, file: string): ParsedTopology {
  const bad = (field: string, msg: string, expected?: string) =>
    new PruneScopeError('bad-input', msg, { file, field, expected });
  // Keras h5 conversions wrap the model config as { model_config, training_config }.
  let topo = topology;
  if (isObj(topo) && isObj(topo.model_config)) topo = topo.model_config;
  if (!isObj(topo) || typeof topo.class_name !== 'string')
    throw bad('modelTopology', 'has no class_name', 'a Keras model config {class_name, config}');
  const modelClass = topo.class_name;
  let entries: LayerEntry[];
  if (modelClass === 'Sequential') {
    // Keras <= 2.1 wrote the Sequential config as a bare list of layers.
    const layers = Array.isArray(topo.config) ? topo.config : isObj(topo.config) ? topo.config.layers : undefined;
    if (!Array.isArray(layers)) throw bad('modelTopology.config.layers', 'is missing', 'a list of layer configs');
    entries = layers.map((l, i) => entry(l, `modelTopology.config.layers[${i}]`, file));
  } else if (modelClass === 'Model' || modelClass === 'Functional') {
    entries = functionalChain(topo.config, file);
  } else {
    throw new PruneScopeError('unsupported', `model class ${modelClass} is not supported`, {
      file,
      field: 'modelTopology.class_name',
      expected: 'Sequential, Model or Functional',
    });
  }
  const kv = typeof topo.keras_version === 'string' ? topo.keras_version : undefined;
  return { modelClass, ...walkChain(entries, file), kerasVersion: kv };
}

function entry(l: unknown, field: string, file: string): LayerEntry {
  if (!isObj(l) || typeof l.class_name !== 'string' || !isObj(l.config)) {
    throw new PruneScopeError('bad-input', 'is not a layer config', { file, field, expected: '{class_name, config}' });
  }
  const name = typeof l.config.name === 'string' ? l.config.name : typeof l.name === 'string' ? l.name : field;
  // Names end up in every message about the layer; Keras names are short identifiers.
  if (name.length > 512)
    throw new PruneScopeError('bad-input', `layer name is ${name.length} characters long: ${preview(name)}`, {
      file,
      field: `${field}.config.name`,
      expected: 'a name of at most 512 characters',
    });
  return { className: l.class_name, name, config: l.config, raw: l };
}

/** Names of the layers feeding each call ("node") of a functional layer, Keras 2 or 3 style. */
function inboundNodes(raw: Json): string[][] {
  const nodes = raw.inbound_nodes;
  if (!Array.isArray(nodes)) return [];
  return nodes.map((node) => {
    const names: string[] = [];
    // Keras 3: { args: [ {class_name: '__keras_tensor__', config: {keras_history: [name, node, tensor]}} ], kwargs }
    const visit = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(visit);
      else if (isObj(v)) {
        if (v.class_name === '__keras_tensor__' && isObj(v.config) && Array.isArray(v.config.keras_history))
          names.push(String(v.config.keras_history[0]));
        else if (Array.isArray(v.args)) visit(v.args);
      }
    };
    if (isObj(node)) visit(node);
    // Keras 2 / TF.js: [[name, nodeIndex, tensorIndex, kwargs], ...]
    else if (Array.isArray(node))
      for (const t of node) if (Array.isArray(t) && typeof t[0] === 'string') names.push(t[0]);
    return names;
  });
}

/** `[[name, 0, 0]]` (Keras 2, TF.js) or `[name, 0, 0]` (Keras 3, single tensor) to layer names. */
function endpointNames(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  if (typeof v[0] === 'string') return [v[0]];
  return v.filter(Array.isArray).map((t) => String(t[0]));
}

/** Orders a functional model's layers along its single input-to-output chain; refuses graphs. */
function functionalChain(config: unknown, file: string): LayerEntry[] {
  const unsupported = (field: string, msg: string) =>
    new PruneScopeError('unsupported', msg, {
      file,
      field,
      expected: 'a single chain of layers from one input to one output',
    });
  if (!isObj(config) || !Array.isArray(config.layers))
    throw new PruneScopeError('bad-input', 'is missing', {
      file,
      field: 'modelTopology.config.layers',
      expected: 'a list of layer configs',
    });
  const all = config.layers.map((l, i) => entry(l, `modelTopology.config.layers[${i}]`, file));
  const byName = new Map(all.map((e) => [e.name, e]));
  const ins = endpointNames(config.input_layers);
  const outs = endpointNames(config.output_layers);
  if (ins.length !== 1) throw unsupported('modelTopology.config.input_layers', `has ${ins.length} inputs`);
  if (outs.length !== 1) throw unsupported('modelTopology.config.output_layers', `has ${outs.length} outputs`);
  const chain: LayerEntry[] = [];
  const seen = new Set<string>();
  let cur = byName.get(outs[0]);
  if (!cur)
    throw new PruneScopeError('bad-input', `names layer ${outs[0]}, which does not exist`, {
      file,
      field: 'modelTopology.config.output_layers',
    });
  while (cur) {
    if (seen.has(cur.name)) throw unsupported(`layer ${cur.name}`, 'is part of a cycle');
    seen.add(cur.name);
    chain.push(cur);
    const nodes = inboundNodes(cur.raw);
    if (cur.name === ins[0]) break;
    if (nodes.length !== 1 || nodes[0].length !== 1) {
      throw unsupported(
        `layer ${cur.name} (${cur.className}).inbound_nodes`,
        `has ${nodes.length} call(s) with ${nodes.map((n) => n.length).join('+') || 0} input(s); shared layers, merges and multiple inputs are not supported`,
      );
    }
    const prev = byName.get(nodes[0][0]);
    if (!prev)
      throw new PruneScopeError('bad-input', `refers to layer ${nodes[0][0]}, which does not exist`, {
        file,
        field: `layer ${cur.name} (${cur.className}).inbound_nodes`,
      });
    cur = prev;
  }
  if (chain[chain.length - 1].name !== ins[0])
    throw unsupported('modelTopology.config.input_layers', `output ${outs[0]} does not lead back to input ${ins[0]}`);
  const off = all.filter((e) => !seen.has(e.name));
  if (off.length > 0)
    throw unsupported(`layer ${off[0].name} (${off[0].className})`, 'is not on the chain from the input to the output');
  return chain.reverse();
}

/** Non-batch dims from batch_input_shape (Keras 2, TF.js), batch_shape (Keras 3) or input_shape. */
function declaredShape(config: Json): number[] | undefined {
  const b = config.batch_input_shape ?? config.batch_shape;
  if (Array.isArray(b)) return b.slice(1) as number[];
  if (Array.isArray(config.input_shape)) return config.input_shape as number[];
  return undefined;
}

function activationName(v: unknown, file: string, where: string): Activation {
  // Keras 3 may serialise a built-in activation as {class_name: 'function', config: 'relu'}.
  const name = isObj(v) ? (typeof v.config === 'string' ? v.config : v.class_name) : v;
  if (name === undefined || name === null) return 'linear';
  if (!isActivation(name)) {
    throw new PruneScopeError('unsupported', `activation ${preview(name)} is not supported`, {
      file,
      field: where,
      expected: 'linear, tanh, relu, sigmoid, elu, selu, softplus, softsign or softmax',
    });
  }
  return name;
}

function walkChain(entries: LayerEntry[], file: string): Omit<ParsedTopology, 'modelClass' | 'kerasVersion'> {
  let shape: number[] | undefined;
  let inputShape: number[] | undefined;
  const dense: DenseFromFile[] = [];
  // The Dense an Activation layer may fold into: reset by any layer that is not an identity.
  let foldTarget: DenseFromFile | undefined;
  const field = (e: LayerEntry) => `layer ${e.name} (${e.className})`;
  const bad = (e: LayerEntry, msg: string, expected?: string) =>
    new PruneScopeError('bad-input', msg, { file, field: field(e), expected });
  const unsupported = (e: LayerEntry, msg: string, expected?: string) =>
    new PruneScopeError('unsupported', msg, { file, field: field(e), expected });

  entries.forEach((e, i) => {
    const declared = declaredShape(e.config);
    if (declared && shape === undefined) {
      if (!declared.every((d) => Number.isInteger(d) && d > 0))
        throw bad(
          e,
          `input shape ${preview(declared)} has unknown or invalid dimensions`,
          'positive integers after the batch dimension',
        );
      shape = declared.slice();
      inputShape = declared.slice();
    }
    if (e.className === 'InputLayer') {
      if (i !== 0) throw unsupported(e, 'appears after the first layer');
      if (!declared) throw bad(e, 'has no batch_input_shape or batch_shape', '[null, n]');
      return;
    }
    if (shape === undefined)
      throw bad(e, 'the first layer declares no input shape', 'batch_input_shape, batch_shape or input_shape');
    switch (e.className) {
      case 'Dense': {
        if (shape.length !== 1)
          throw unsupported(e, `gets an input of shape ${preview(shape)}`, 'a flat input; add a Flatten before it');
        const units = e.config.units;
        if (!Number.isInteger(units) || (units as number) <= 0)
          throw bad(e, `units is ${preview(units)}`, 'a positive integer');
        const act = activationName(e.config.activation, file, `${field(e)}.activation`);
        const d: DenseFromFile = {
          name: e.name,
          units: units as number,
          inSize: shape[0],
          activation: act,
          useBias: e.config.use_bias !== false,
          activationFrom: e.name,
        };
        dense.push(d);
        foldTarget = d;
        shape = [d.units];
        return;
      }
      case 'Activation':
      case 'ReLU':
      case 'Softmax': {
        const act =
          e.className === 'Activation'
            ? activationName(e.config.activation, file, `${field(e)}.activation`)
            : e.className === 'ReLU'
              ? 'relu'
              : 'softmax';
        if (
          e.className === 'ReLU' &&
          ((e.config.max_value ?? null) !== null ||
            Number(e.config.negative_slope ?? 0) !== 0 ||
            Number(e.config.threshold ?? 0) !== 0)
        ) {
          throw unsupported(e, 'has max_value, negative_slope or threshold set', 'a plain ReLU');
        }
        if (e.className === 'Softmax') {
          // The data here is always [batch, features], so axis 1 (TF.js's default) is the same as -1.
          const ax =
            Array.isArray(e.config.axis) && e.config.axis.length === 1 ? e.config.axis[0] : (e.config.axis ?? -1);
          if (ax !== -1 && ax !== 1)
            throw unsupported(e, `axis is ${preview(e.config.axis)}`, 'axis -1 (the feature axis)');
        }
        if (act === 'linear') return;
        if (!foldTarget)
          throw unsupported(
            e,
            `applies ${act} without a Dense layer directly before it`,
            'an activation right after a Dense layer',
          );
        if (foldTarget.activation !== 'linear') {
          throw unsupported(
            e,
            `applies ${act} after Dense layer ${foldTarget.name}, which already applies ${foldTarget.activation}`,
            'at most one non-linear activation per Dense layer',
          );
        }
        foldTarget.activation = act;
        foldTarget.activationFrom = e.name;
        return;
      }
      case 'Dropout':
        return; // identity at inference
      case 'Flatten': {
        if (shape.length >= 2 && e.config.data_format === 'channels_first')
          throw unsupported(e, 'uses data_format channels_first, which permutes the input', 'channels_last');
        shape = [shape.reduce((a, b) => a * b, 1)];
        return; // row-major data: a flatten is only a reshape
      }
      default:
        throw unsupported(e, `layer class ${e.className} is not supported`, SUPPORTED);
    }
  });
  if (!inputShape || !shape)
    throw new PruneScopeError('bad-input', 'declares no input shape', {
      file,
      field: 'modelTopology',
      expected: 'an InputLayer or a first layer with batch_input_shape',
    });
  if (dense.length === 0)
    throw new PruneScopeError('unsupported', 'has no Dense layer', {
      file,
      field: 'modelTopology',
      expected: 'a chain of Dense layers',
    });
  dense.forEach((d, i) => {
    if (d.activation === 'softmax' && i !== dense.length - 1) {
      throw new PruneScopeError(
        'unsupported',
        `softmax on hidden Dense layer ${d.name}${d.activationFrom !== d.name ? ` (from layer ${d.activationFrom})` : ''}`,
        { file, field: `layer ${d.activationFrom}.activation`, expected: 'softmax only on the last Dense layer' },
      );
    }
  });
  return { inputShape, inputSize: inputShape.reduce((a, b) => a * b, 1), dense };
}

export function toNetworkSpec(t: ParsedTopology): NetworkSpec {
  return {
    inputSize: t.inputSize,
    layers: t.dense.map((d) => ({ name: d.name, units: d.units, activation: d.activation })),
  };
}
