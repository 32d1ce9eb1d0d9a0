// A Keras model config (the JSON TF.js, Keras 2 and Keras 3 write: Sequential or Functional,
// old bare-list Sequential, the h5 `model_config` wrapper, Keras 3 module / registered_name /
// build_config and keras_tensor inbound nodes) to a GraphSpec without weight values, plus the
// weights each node must have. The weight readers of each format fill those in.
import { PruneScopeError } from '../../errors';
import { preview } from '../../util/jsonLimits';
import type { GraphInputSpec, GraphSpec, NodeSpec, Shape } from '../../graphSpec';
import { WeightSlot, outputShape, sourceClass, weightSlots } from '../../model/graphShapes';
import { normaliseLayer, refuseCode } from './layerConfig';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keras names are short identifiers; longer ones only bloat messages. */
export const MAX_NAME = 512;
/** Far beyond any real model; bounds the work a hostile config can ask for. */
export const MAX_LAYERS = 100_000;

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

export interface KerasGraph {
  /** Sequential, Functional or Model. */
  modelClass: string;
  kerasVersion?: string;
  /** Nodes carry no weight values yet (weights: []). */
  spec: GraphSpec;
  /** The weights each node needs, in Keras order, by node name. */
  slots: Map<string, WeightSlot[]>;
  /** Normalization weights given in the layer config rather than stored as weights. */
  given: Map<string, Map<string, number[]>>;
  /**
   * Keras's model.layers: every layer of the config in file order, the InputLayer included for
   * Functional models and left out for Sequential ones (weight files are laid out by it).
   */
  layers: { name: string; className: string }[];
  /** Layers dropped because no output depends on them. */
  warnings: string[];
}

interface Entry {
  cls: string;
  name: string;
  config: Json;
  raw: Json;
  field: string;
  inputs: string[];
}

/**
 * Parses a Keras model config. `base` names where it sits in the file (e.g. 'modelTopology',
 * 'config.json', 'model_config'), for error messages.
 */
export function readKerasConfig(topology: unknown, file: string, base: string): KerasGraph {
  const bad = (field: string, msg: string, expected?: string) =>
    new PruneScopeError('bad-input', msg, { file, field, expected });
  let topo = topology;
  // TF.js conversions of Keras h5 files wrap the config as { model_config, training_config }.
  if (isObj(topo) && isObj(topo.model_config)) {
    topo = topo.model_config;
    base = `${base}.model_config`;
  }
  if (!isObj(topo) || typeof topo.class_name !== 'string')
    throw bad(base, 'has no class_name', 'a Keras model config {class_name, config}');
  const modelClass = topo.class_name;
  if (!MODEL_CLASSES.has(modelClass))
    throw new PruneScopeError('unsupported', `model class ${preview(modelClass)} is not supported`, {
      file,
      field: `${base}.class_name`,
      expected: 'Sequential, Functional or Model',
    });
  const kerasVersion = typeof topo.keras_version === 'string' ? topo.keras_version : undefined;
  const { layers, entries, inputs, outputs } =
    modelClass === 'Sequential' ? sequential(topo, file, base) : functional(topo.config, file, base);
  const graph = build(entries, inputs, outputs, file);
  return { modelClass, kerasVersion, layers, ...graph };
}

function entryOf(l: unknown, field: string, file: string): Entry {
  if (!isObj(l) || typeof l.class_name !== 'string' || !isObj(l.config))
    throw new PruneScopeError('bad-input', 'is not a layer config', { file, field, expected: '{class_name, config}' });
  const name = typeof l.config.name === 'string' ? l.config.name : typeof l.name === 'string' ? l.name : undefined;
  if (name === undefined || name === '')
    throw new PruneScopeError('bad-input', 'has no name', {
      file,
      field: `${field}.config.name`,
      expected: 'a layer name',
    });
  if (name.length > MAX_NAME)
    throw new PruneScopeError('bad-input', `layer name is ${name.length} characters long: ${preview(name)}`, {
      file,
      field: `${field}.config.name`,
      expected: `a name of at most ${MAX_NAME} characters`,
    });
  const cls = l.class_name;
  const where = `layer ${name} (${cls})`;
  refuseCode(cls, l, file, where);
  if (MODEL_CLASSES.has(cls))
    throw new PruneScopeError('unsupported', `is a nested model`, {
      file,
      field: where,
      expected: 'a model whose layers are all built-in layers (flatten nested models before saving)',
    });
  return { cls, name, config: l.config, raw: l, field: where, inputs: [] };
}

function layerList(v: unknown, field: string, file: string): unknown[] {
  if (!Array.isArray(v))
    throw new PruneScopeError('bad-input', 'is missing', { file, field, expected: 'a list of layer configs' });
  if (v.length > MAX_LAYERS)
    throw new PruneScopeError('too-large', `lists ${v.length} layers`, {
      file,
      field,
      expected: `at most ${MAX_LAYERS} layers`,
    });
  return v;
}

/** Non-batch dims from batch_input_shape (Keras 2, TF.js), batch_shape (Keras 3) or input_shape. */
function declaredShape(config: Json): unknown[] | undefined {
  const b = config.batch_input_shape ?? config.batch_shape;
  if (Array.isArray(b)) return b.slice(1);
  if (Array.isArray(config.input_shape)) return config.input_shape;
  return undefined;
}

function checkShape(s: unknown[], file: string, field: string): Shape {
  if (s.length === 0 || !s.every((d) => Number.isSafeInteger(d) && (d as number) > 0))
    throw new PruneScopeError('bad-input', `input shape ${preview(s)} has unknown or invalid dimensions`, {
      file,
      field,
      expected: 'positive integers after the batch dimension',
    });
  return s as Shape;
}

interface Parsed {
  layers: { name: string; className: string }[];
  entries: Entry[];
  inputs: GraphInputSpec[];
  outputs: string[];
}

function sequential(topo: Json, file: string, base: string): Parsed {
  // Keras <= 2.1 wrote the Sequential config as a bare list of layers.
  const cfg = topo.config;
  const field = Array.isArray(cfg) ? `${base}.config` : `${base}.config.layers`;
  const list = layerList(Array.isArray(cfg) ? cfg : isObj(cfg) ? cfg.layers : undefined, field, file);
  const all = list.map((l, i) => entryOf(l, `${field}[${i}]`, file));
  let input: GraphInputSpec | undefined;
  const entries: Entry[] = [];
  all.forEach((e, i) => {
    if (e.cls === 'InputLayer') {
      if (i !== 0)
        throw new PruneScopeError('unsupported', 'appears after the first layer', {
          file,
          field: e.field,
          expected: 'an InputLayer only at the start of a Sequential model',
        });
      const s = declaredShape(e.config);
      if (!s)
        throw new PruneScopeError('bad-input', 'has no batch_input_shape or batch_shape', {
          file,
          field: e.field,
          expected: '[null, ...]',
        });
      input = { name: e.name, shape: checkShape(s, file, `${e.field}.batch_shape`) };
      return;
    }
    if (!input) {
      // The first layer declares the input (Keras 2, TF.js), or the model's build shape does (Keras 3).
      const build = isObj(cfg) && Array.isArray(cfg.build_input_shape) ? cfg.build_input_shape.slice(1) : undefined;
      const topBuild =
        isObj(topo.build_config) && Array.isArray(topo.build_config.input_shape)
          ? topo.build_config.input_shape.slice(1)
          : undefined;
      const s = declaredShape(e.config) ?? build ?? topBuild;
      if (!s)
        throw new PruneScopeError('bad-input', 'the first layer declares no input shape', {
          file,
          field: e.field,
          expected: 'an InputLayer, or batch_input_shape / batch_shape / input_shape on the first layer',
        });
      input = { name: `${e.name}_input`, shape: checkShape(s, file, `${e.field}.batch_input_shape`) };
    }
    e.inputs = [entries.length ? entries[entries.length - 1].name : input.name];
    entries.push(e);
  });
  if (!input || entries.length === 0)
    throw new PruneScopeError('bad-input', 'has no layers', { file, field, expected: 'at least one layer' });
  return {
    layers: entries.map((e) => ({ name: e.name, className: e.cls })),
    entries,
    inputs: [input],
    outputs: [entries[entries.length - 1].name],
  };
}

/** `[[name, 0, 0]]` (Keras 2, TF.js) or `[name, 0, 0]` (Keras 3, single tensor) to layer names. */
function endpoints(v: unknown, field: string, file: string): string[] {
  if (Array.isArray(v) && typeof v[0] === 'string') return [v[0]];
  if (Array.isArray(v) && v.every((t) => Array.isArray(t) && typeof t[0] === 'string'))
    return v.map((t) => (t as string[])[0]);
  throw new PruneScopeError('bad-input', `is ${preview(v)}`, { file, field, expected: '[[layer, node, tensor], ...]' });
}

/** Names of the layers feeding one call of a layer, Keras 2 / TF.js list style or Keras 3 args style. */
function callInputs(node: unknown, field: string, file: string): string[] {
  const names: string[] = [];
  const badRef = (msg: string) =>
    new PruneScopeError('unsupported', msg, {
      file,
      field,
      expected: 'inputs that are the single output of another layer',
    });
  if (Array.isArray(node)) {
    for (const t of node) {
      if (!Array.isArray(t) || typeof t[0] !== 'string')
        throw new PruneScopeError('bad-input', `has an inbound tensor ${preview(t)}`, {
          file,
          field,
          expected: '[layer, node, tensor, kwargs]',
        });
      if ((t[2] ?? 0) !== 0) throw badRef(`takes output ${preview(t[2])} of layer ${t[0]}`);
      names.push(t[0]);
    }
    return names;
  }
  if (!isObj(node))
    throw new PruneScopeError('bad-input', `is ${preview(node)}`, { file, field, expected: 'an inbound node' });
  // Keras 3: { args: [...], kwargs: {...} } with {class_name: '__keras_tensor__', config: {keras_history}}.
  const stack: unknown[] = [node.kwargs, node.args];
  let visited = 0;
  while (stack.length > 0 && visited++ < 10_000) {
    const v = stack.pop();
    if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
    else if (isObj(v)) {
      if (v.class_name === '__keras_tensor__' && isObj(v.config) && Array.isArray(v.config.keras_history)) {
        const [name, , tensor] = v.config.keras_history;
        if (typeof name !== 'string')
          throw new PruneScopeError('bad-input', `has keras_history ${preview(v.config.keras_history)}`, {
            file,
            field,
            expected: '[layer, node, tensor]',
          });
        if ((tensor ?? 0) !== 0) throw badRef(`takes output ${preview(tensor)} of layer ${name}`);
        names.push(name);
      } else for (const k of Object.keys(v)) stack.push(v[k]);
    }
  }
  return names;
}

function functional(config: unknown, file: string, base: string): Parsed {
  if (!isObj(config))
    throw new PruneScopeError('bad-input', 'is missing', { file, field: `${base}.config`, expected: 'an object' });
  const field = `${base}.config.layers`;
  const all = layerList(config.layers, field, file).map((l, i) => entryOf(l, `${field}[${i}]`, file));
  const inputNames = endpoints(config.input_layers, `${base}.config.input_layers`, file);
  const outputs = endpoints(config.output_layers, `${base}.config.output_layers`, file);
  const byName = new Map(all.map((e) => [e.name, e]));
  const inputs: GraphInputSpec[] = [];
  for (const name of inputNames) {
    const e = byName.get(name);
    if (!e || e.cls !== 'InputLayer')
      throw new PruneScopeError('bad-input', `names ${name}, which is not an InputLayer of the model`, {
        file,
        field: `${base}.config.input_layers`,
        expected: 'the names of InputLayer layers',
      });
    const s = declaredShape(e.config);
    if (!s) throw new PruneScopeError('bad-input', 'has no batch_input_shape or batch_shape', { file, field: e.field });
    inputs.push({ name, shape: checkShape(s, file, `${e.field}.batch_shape`) });
  }
  const entries: Entry[] = [];
  for (const e of all) {
    if (e.cls === 'InputLayer') {
      if (!inputNames.includes(e.name))
        throw new PruneScopeError('unsupported', 'is an InputLayer that is not a model input', {
          file,
          field: e.field,
        });
      continue;
    }
    const nodes = e.raw.inbound_nodes;
    if (!Array.isArray(nodes) || nodes.length === 0)
      throw new PruneScopeError('bad-input', 'has no inbound_nodes', {
        file,
        field: `${e.field}.inbound_nodes`,
        expected: 'the layer feeding it',
      });
    if (nodes.length > 1)
      throw new PruneScopeError('unsupported', `is called ${nodes.length} times (a shared layer)`, {
        file,
        field: `${e.field}.inbound_nodes`,
        expected: 'each layer called once (shared weights are not supported)',
      });
    e.inputs = callInputs(nodes[0], `${e.field}.inbound_nodes[0]`, file);
    entries.push(e);
  }
  if (inputs.length === 0)
    throw new PruneScopeError('bad-input', 'is empty', {
      file,
      field: `${base}.config.input_layers`,
      expected: 'an input',
    });
  return { layers: all.map((e) => ({ name: e.name, className: e.cls })), entries, inputs, outputs };
}

function build(
  entries: Entry[],
  inputs: GraphInputSpec[],
  outputs: string[],
  file: string,
): Omit<KerasGraph, 'modelClass' | 'kerasVersion' | 'layers'> {
  const unsupported = (field: string, msg: string, expected: string) =>
    new PruneScopeError('unsupported', msg, { file, field, expected });
  if (inputs.length !== 1)
    throw unsupported(
      'input_layers',
      `the model has ${inputs.length} inputs`,
      'one input (PruneScope feeds one data matrix)',
    );
  if (outputs.length !== 1) throw unsupported('output_layers', `the model has ${outputs.length} outputs`, 'one output');
  const byName = new Map<string, Entry>();
  for (const e of entries) {
    if (byName.has(e.name) || inputs.some((i) => i.name === e.name))
      throw new PruneScopeError('bad-input', `layer name ${e.name} appears twice`, {
        file,
        field: e.field,
        expected: 'unique layer names',
      });
    byName.set(e.name, e);
  }
  const inputNames = new Set(inputs.map((i) => i.name));
  for (const e of entries)
    for (const i of e.inputs)
      if (!byName.has(i) && !inputNames.has(i))
        throw new PruneScopeError('bad-input', `refers to layer ${preview(i)}, which does not exist`, {
          file,
          field: `${e.field}.inbound_nodes`,
        });
  if (!byName.has(outputs[0]))
    throw new PruneScopeError('bad-input', `names layer ${preview(outputs[0])}, which is not a layer of the model`, {
      file,
      field: 'output_layers',
    });

  // Keep what the output depends on, in a topological order that follows the file where it can.
  const needed = new Set<string>();
  const stack = [outputs[0]];
  while (stack.length) {
    const n = stack.pop()!;
    if (needed.has(n) || inputNames.has(n)) continue;
    needed.add(n);
    stack.push(...byName.get(n)!.inputs);
  }
  const warnings: string[] = [];
  const dropped = entries.filter((e) => !needed.has(e.name));
  if (dropped.length)
    warnings.push(
      `ignored ${dropped.length} layer(s) no output depends on: ${dropped
        .slice(0, 5)
        .map((e) => e.name)
        .join(', ')}`,
    );
  const order = topological(
    entries.filter((e) => needed.has(e.name)),
    inputNames,
    (e) => unsupported(e.field, 'is part of a cycle', 'an acyclic graph of layers'),
  );
  if (order.length > 0 && !order.some((e) => e.inputs.some((i) => inputNames.has(i))))
    throw unsupported('input_layers', 'the output does not depend on the input', 'a path from the input to the output');

  const shapes = new Map<string, Shape>(inputs.map((i) => [i.name, i.shape]));
  const nodes: NodeSpec[] = [];
  const slots = new Map<string, WeightSlot[]>();
  const given = new Map<string, Map<string, number[]>>();
  for (const e of order) {
    const inShapes = e.inputs.map((i) => shapes.get(i)!);
    if (inShapes.length === 0)
      throw new PruneScopeError('bad-input', 'has no inputs', { file, field: `${e.field}.inbound_nodes` });
    const norm = normaliseLayer(e.cls, e.config, { file, field: e.field, inShapes });
    const { inbound_nodes: _drop, ...source } = e.raw;
    const node: NodeSpec = {
      name: e.name,
      className: norm.className,
      config: norm.config,
      inputs: e.inputs,
      weights: [],
      source,
    };
    shapes.set(e.name, outputShape(node, inShapes, file));
    const ws = weightSlots(node, inShapes[0], norm.normalization?.shape);
    if (norm.normalization?.mean) {
      given.set(
        e.name,
        new Map([
          ['mean', norm.normalization.mean],
          ['variance', norm.normalization.variance!],
        ]),
      );
    }
    slots.set(e.name, ws);
    nodes.push(node);
  }
  const spec: GraphSpec = { inputs, nodes, outputs, inputLayout: 'NHWC' };
  checkSoftmaxAtOutput(spec, file);
  return { spec, slots, given, warnings };
}

/**
 * The entries in an order where every layer comes after its inputs, keeping the file's order
 * where it allows (Keras writes layers in order; Kahn's algorithm otherwise, in O(layers + edges):
 * configs with tens of thousands of layers must not take quadratic time).
 */
function topological(entries: Entry[], inputs: Set<string>, cycle: (e: Entry) => PruneScopeError): Entry[] {
  const seen = new Set(inputs);
  if (entries.every((e) => e.inputs.every((i) => seen.has(i)) && seen.add(e.name))) return entries;
  const waiting = entries.map((e) => new Set(e.inputs.filter((i) => !inputs.has(i))).size);
  const users = new Map<string, number[]>();
  entries.forEach((e, k) => {
    for (const i of new Set(e.inputs))
      if (!inputs.has(i)) {
        const list = users.get(i);
        if (list) list.push(k);
        else users.set(i, [k]);
      }
  });
  // A min-heap of ready entries by file position.
  const heap: number[] = [];
  const push = (k: number) => {
    heap.push(k);
    for (let c = heap.length - 1; c > 0;) {
      const p = (c - 1) >> 1;
      if (heap[p] <= heap[c]) break;
      [heap[p], heap[c]] = [heap[c], heap[p]];
      c = p;
    }
  };
  const pop = (): number => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      for (let p = 0; ;) {
        const l = 2 * p + 1;
        const r = l + 1;
        let m = p;
        if (l < heap.length && heap[l] < heap[m]) m = l;
        if (r < heap.length && heap[r] < heap[m]) m = r;
        if (m === p) break;
        [heap[p], heap[m]] = [heap[m], heap[p]];
        p = m;
      }
    }
    return top;
  };
  waiting.forEach((w, k) => w === 0 && push(k));
  const order: Entry[] = [];
  while (heap.length) {
    const k = pop();
    order.push(entries[k]);
    for (const u of users.get(entries[k].name) ?? []) if (--waiting[u] === 0) push(u);
  }
  if (order.length < entries.length) throw cycle(entries[waiting.findIndex((w) => w > 0)]);
  return order;
}

/** Whether a node applies a softmax (its own activation, an Activation layer or a Softmax layer). */
export function appliesSoftmax(n: NodeSpec): boolean {
  if (n.className === 'Softmax') return true;
  const act = (n.config as { activation?: string }).activation;
  return act === 'softmax';
}

/**
 * Softmax is the classification head: it may only feed the output, directly or through
 * identity-at-inference layers. Anywhere else the engine's loss and curvature would be wrong.
 */
export function checkSoftmaxAtOutput(spec: GraphSpec, file: string): void {
  const consumers = new Map<string, NodeSpec[]>();
  for (const n of spec.nodes)
    for (const i of n.inputs) {
      const list = consumers.get(i);
      if (list) list.push(n);
      else consumers.set(i, [n]);
    }
  // Nodes whose value reaches the output through identity layers only; consumers come later in
  // the (topological) node order, so one backward sweep decides every node without recursion.
  const plain = new Set<string>();
  for (let k = spec.nodes.length - 1; k >= 0; k--) {
    const name = spec.nodes[k].name;
    const next = consumers.get(name) ?? [];
    if (
      spec.outputs.includes(name) ||
      (next.length > 0 && next.every((c) => c.className === 'Identity' && plain.has(c.name)))
    )
      plain.add(name);
  }
  for (const n of spec.nodes) {
    if (appliesSoftmax(n) && !plain.has(n.name))
      throw new PruneScopeError('unsupported', 'applies softmax before the output', {
        file,
        field: `layer ${n.name} (${sourceClass(n)})`,
        expected: 'softmax only on the output layer (the classification head)',
      });
  }
}
