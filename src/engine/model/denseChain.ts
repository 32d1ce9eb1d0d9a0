// The dense-chain view of a graph: a model that is a chain of Dense layers (each with a bias) on a
// rank-1 input. Dense-only features (the unit-level student export, neuron selection, privileged
// features, the [in, out] relevance heatmaps) read its layout; everything else works on any graph.
// NetworkSpec is the short description of such a chain (the `--layers` of train, paper1's networks).
import type { GraphSpec } from '../graphSpec';
import { Graph } from './graph';
import type { HiddenActivation } from '../layers/activationFunctions';
import { withDeclaredWeights } from './graphPlan';
import { PruneScopeError } from '../errors';

export type DenseActivation = HiddenActivation | 'softmax';

export interface DenseLayerSpec {
  name: string;
  units: number;
  activation: DenseActivation;
}

export interface NetworkSpec {
  inputSize: number;
  layers: DenseLayerSpec[];
}

export interface LayerLayout {
  index: number;
  name: string;
  inSize: number;
  outSize: number;
  activation: DenseActivation;
  kernelOffset: number;
  kernelSize: number;
  biasOffset: number;
  biasSize: number;
}

export interface ParamLocation {
  layer: number;
  kind: 'kernel' | 'bias';
  /** Input index for a kernel entry; -1 for a bias. */
  input: number;
  unit: number;
}

/** The GraphSpec of a dense chain (Dense nodes with biases, declared zero weights). */
export function denseSpec(s: NetworkSpec): GraphSpec {
  if (!Number.isInteger(s.inputSize) || s.inputSize <= 0)
    throw new PruneScopeError('bad-input', `inputSize must be a positive integer, got ${s.inputSize}`, {
      field: 'network',
      expected: 'a positive integer',
    });
  if (s.layers.length === 0)
    throw new PruneScopeError('bad-input', 'needs at least one dense layer', { field: 'network', expected: 'layers' });
  return withDeclaredWeights({
    inputs: [{ name: 'input', shape: [s.inputSize] }],
    nodes: s.layers.map((l, i) => ({
      name: l.name,
      className: 'Dense' as const,
      config: { units: l.units, activation: l.activation, useBias: true },
      inputs: [i === 0 ? 'input' : s.layers[i - 1].name],
      weights: [],
    })),
    outputs: [s.layers[s.layers.length - 1].name],
    inputLayout: 'NHWC',
  });
}

/** A dense chain with Glorot-uniform kernels and zero biases from a seeded RNG. */
export function randomDense(s: NetworkSpec, seed: number): Graph {
  return Graph.random(denseSpec(s), seed);
}

/** A dense chain with the given flat parameters (layers in order: kernel [in, out] row-major, bias). */
export function denseFromFlat(s: NetworkSpec, flat: Float32Array): Graph {
  const g = Graph.fromSpec(denseSpec(s));
  g.setFlat(flat);
  return g;
}

/**
 * The chain's description when the graph is a dense chain (one rank-1 input, Dense layers with biases), else
 * undefined.
 */
export function networkSpecOf(graph: Graph): NetworkSpec | undefined {
  const nodes = graph.spec.nodes;
  if (graph.inputShape.length !== 1) return undefined;
  let prev = graph.spec.inputs[0].name;
  for (const n of nodes) {
    if (n.className !== 'Dense' || n.inputs.length !== 1 || n.inputs[0] !== prev) return undefined;
    if (!(n.config as { useBias: boolean }).useBias) return undefined;
    prev = n.name;
  }
  if (graph.spec.outputs[0] !== prev) return undefined;
  return {
    inputSize: graph.inputShape[0],
    layers: nodes.map((n) => {
      const c = n.config as { units: number; activation: DenseActivation };
      return { name: n.name, units: c.units, activation: c.activation };
    }),
  };
}

export function computeLayout(spec: NetworkSpec): LayerLayout[] {
  const out: LayerLayout[] = [];
  let offset = 0;
  let inSize = spec.inputSize;
  spec.layers.forEach((l, index) => {
    const kernelSize = inSize * l.units;
    out.push({
      index,
      name: l.name,
      inSize,
      outSize: l.units,
      activation: l.activation,
      kernelOffset: offset,
      kernelSize,
      biasOffset: offset + kernelSize,
      biasSize: l.units,
    });
    offset += kernelSize + l.units;
    inSize = l.units;
  });
  return out;
}

/** The dense layout of the graph, or undefined when it is not a dense chain. */
export function denseLayout(graph: Graph): LayerLayout[] | undefined {
  const s = networkSpecOf(graph);
  return s ? computeLayout(s) : undefined;
}

/** The dense layout, or a PruneScopeError saying that `feature` needs a chain of Dense layers. */
export function requireDense(graph: Graph, feature: string): LayerLayout[] {
  const l = denseLayout(graph);
  if (l) return l;
  const other = graph.spec.nodes.find((n) => n.className !== 'Dense') ?? graph.spec.nodes[0];
  throw new PruneScopeError(
    'unsupported',
    `${feature} works on chains of Dense layers; this model has ${other.name} (${other.className})`,
    { field: 'model', expected: 'a dense network (a model of Dense layers only, each with a bias)' },
  );
}

export function locate(layout: LayerLayout[], j: number): ParamLocation {
  for (const l of layout) {
    if (j >= l.kernelOffset && j < l.biasOffset) {
      const k = j - l.kernelOffset;
      return { layer: l.index, kind: 'kernel', input: Math.floor(k / l.outSize), unit: k % l.outSize };
    }
    if (j >= l.biasOffset && j < l.biasOffset + l.biasSize) {
      return { layer: l.index, kind: 'bias', input: -1, unit: j - l.biasOffset };
    }
  }
  throw new RangeError(`flat parameter index ${j} is outside the network`);
}

export function flatIndex(layout: LayerLayout[], loc: ParamLocation): number {
  const l = layout[loc.layer];
  if (!l) throw new RangeError(`layer ${loc.layer} does not exist`);
  if (loc.unit < 0 || loc.unit >= l.outSize) throw new RangeError(`unit ${loc.unit} outside layer ${l.name}`);
  if (loc.kind === 'bias') return l.biasOffset + loc.unit;
  if (loc.input < 0 || loc.input >= l.inSize) throw new RangeError(`input ${loc.input} outside layer ${l.name}`);
  return l.kernelOffset + loc.input * l.outSize + loc.unit;
}

export function parameterCount(spec: NetworkSpec): number {
  const l = computeLayout(spec);
  const last = l[l.length - 1];
  return last.biasOffset + last.biasSize;
}
