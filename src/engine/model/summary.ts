// A short description of a model's architecture for reports: widths for a dense chain
// ([13, 13, 3]), otherwise the input shape and each layer with parameters (['28x28x1', 'Conv2D 6',
// 'Dense 10', ...]).
import type { Graph } from './graph';
import { denseLayout, networkSpecOf } from './denseChain';

export function architectureOf(graph: Graph): (number | string)[] {
  const dense = networkSpecOf(graph);
  if (dense) return [dense.inputSize, ...dense.layers.map((l) => l.units)];
  return [
    graph.inputShape.join('x'),
    ...graph.layers().map((l) => {
      const c = graph.ops[l.op].node.config as { units?: number; filters?: number };
      const width = c.units ?? c.filters;
      return width === undefined ? l.className : `${l.className} ${width}`;
    }),
  ];
}

/** One trainable weight of the flat index, as `curvature --json`, `relevance --json` and `info --json` describe it. */
export interface WeightIndexEntry {
  name: string;
  layer: string;
  offset: number;
  shape: number[];
}

export function weightIndex(graph: Graph): WeightIndexEntry[] {
  return graph.weights.map((w) => ({ name: w.name, layer: w.layer, offset: w.offset, shape: w.shape.slice() }));
}

/** The old per-layer description of a dense chain (kernel [in, out] at offset, then the bias), or undefined. */
export function denseLayersJson(
  graph: Graph,
): { name: string; offset: number; kernelShape: number[]; biasSize: number }[] | undefined {
  return denseLayout(graph)?.map((l) => ({
    name: l.name,
    offset: l.kernelOffset,
    kernelShape: [l.inSize, l.outSize],
    biasSize: l.biasSize,
  }));
}

/**
 * A short name for every flat parameter: `hidden1.W[alcohol,3]` and `hidden1.b[3]` for dense layers
 * (the first layer's inputs by feature name), `conv1.kernel[2,1,0,5]` for any other weight.
 */
export function paramNames(graph: Graph, featureNames: string[]): string[] {
  const firstDense = graph.inputShape.length === 1 ? graph.weights[0] : undefined;
  return Array.from({ length: graph.nParams }, (_, j) => {
    const p = graph.locate(j);
    const l = p.weight.layer;
    if (p.weight.weight === 'bias' && p.at.length === 1) return `${l}.b[${p.at[0]}]`;
    if (p.weight.weight === 'kernel' && p.at.length === 2) {
      const input = p.weight === firstDense ? (featureNames[p.at[0]] ?? p.at[0]) : p.at[0];
      return `${l}.W[${input},${p.at[1]}]`;
    }
    return `${l}.${p.weight.weight}[${p.at.join(',')}]`;
  });
}

/** One row per layer for summaries: elements in and out per sample, and its activation (or class). */
export function layerSummary(graph: Graph): { name: string; inSize: number; outSize: number; activation: string }[] {
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  return graph.ops
    .filter((op) => op.role === 'layer')
    .map((op) => {
      const act = (op.node.config as { activation?: string }).activation;
      return {
        name: op.node.name,
        inSize: size(op.layer.inputShapes[0]),
        outSize: size(op.layer.outputShape),
        activation:
          op.node.className === 'Dense' ? (act ?? 'linear') : act ? `${op.node.className} ${act}` : op.node.className,
      };
    });
}
