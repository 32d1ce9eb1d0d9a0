// The flat parameter index of a GraphSpec (graphSpec.ts): nodes in order, within a node its
// trainable weights in order, each row-major. Non-trainable weights have no flat position.
import type { GraphSpec, Shape } from '../graphSpec';
import { sizeOf } from './graphShapes';

export interface FlatWeight {
  node: string;
  weight: string;
  shape: Shape;
  offset: number;
  size: number;
}

export interface FlatLayout {
  weights: FlatWeight[];
  total: number;
  /** Offset of `node`'s weight `weight`, or undefined when it is not trainable / absent. */
  offsetOf(node: string, weight: string): number | undefined;
}

export function flatLayout(spec: GraphSpec): FlatLayout {
  const weights: FlatWeight[] = [];
  const byKey = new Map<string, number>();
  let offset = 0;
  for (const n of spec.nodes) {
    for (const w of n.weights) {
      if (!w.trainable) continue;
      const size = sizeOf(w.shape);
      weights.push({ node: n.name, weight: w.name, shape: [...w.shape], offset, size });
      byKey.set(`${n.name}\u0000${w.name}`, offset);
      offset += size;
    }
  }
  return { weights, total: offset, offsetOf: (node, weight) => byKey.get(`${node}\u0000${weight}`) };
}

/** The trainable weights' values in the flat order. */
export function graphToFlat(spec: GraphSpec): Float32Array {
  const out = new Float32Array(flatLayout(spec).total);
  let o = 0;
  for (const n of spec.nodes)
    for (const w of n.weights)
      if (w.trainable) {
        out.set(w.values, o);
        o += w.values.length;
      }
  return out;
}

/** A copy of the spec whose trainable weights are taken from `flat` (same layout). */
export function graphWithFlat(spec: GraphSpec, flat: ArrayLike<number>): GraphSpec {
  let o = 0;
  const nodes = spec.nodes.map((n) => ({
    ...n,
    weights: n.weights.map((w) => {
      if (!w.trainable) return { ...w, shape: [...w.shape], values: Float32Array.from(w.values) };
      const values = Float32Array.from({ length: w.values.length }, (_, i) => flat[o + i]);
      o += w.values.length;
      return { ...w, shape: [...w.shape], values };
    }),
  }));
  if (o !== flat.length) throw new Error(`graphWithFlat: flat has ${flat.length} values, the graph ${o}`);
  return { ...spec, inputs: spec.inputs.map((i) => ({ ...i, shape: [...i.shape] })), nodes };
}
