// From a masked graph to a physically smaller one that computes the same function (the dense
// student's rules, student.ts, generalised to channels of dependency groups):
// - a channel that no consuming kernel (Conv2D / Dense input slice) reads is dead: removed;
// - a channel that is a constant wherever it is read (its producing filter is all zero, or a BN's
//   gamma is zero, ...) is folded into the consumers' biases, then removed. A constant stays a
//   constant through per-channel maps, pooling and valid windows; a window reaching into zero
//   padding breaks it (unless the constant is 0), and such a channel is kept.
// Removing a channel zeroes its slices in the producing kernel, which can leave channels upstream
// dead, so the passes repeat until nothing changes. Every group keeps at least one channel.
import { badInput } from '../errors';
import type { GraphSpec, LayerConfigs, NodeSpec, Shape, WeightSpec } from '../graphSpec';
import { flatLayout } from '../model/graphFlat';
import { inferShapes, sizeOf } from '../model/graphShapes';
import type { HiddenActivation } from '../model/activations';
import type { NodeChannels } from './channelRules';
import { channelGroups, ChannelGroup, ChannelGroups, forEachOnAxis } from './groups';
import { act1 } from './student';

export interface GraphShrinkOptions {
  /** Parameters to treat as pruned (1 = pruned) over the flat index; default: the exact zeros. */
  mask?: Uint8Array;
}

export interface LayerWidth {
  node: string;
  className: string;
  channelsBefore: number;
  channelsAfter: number;
}

export interface GraphShrinkResult {
  spec: GraphSpec;
  groups: ChannelGroups;
  /** Per group id: the group's channels kept. */
  kept: number[][];
  /** Output channels of the layers that make channels (Dense, Conv2D, DepthwiseConv2D), before and after. */
  layers: LayerWidth[];
  removedDead: number;
  removedConstant: number;
  /** Consumers that were given a bias to absorb a constant channel. */
  biasAdded: string[];
}

type Weights = Map<string, Map<string, Float64Array>>;

function activationOf(node: NodeSpec): (v: number) => number | null {
  const c = node.config as Record<string, unknown>;
  if (node.className === 'ReLU') {
    const { maxValue, negativeSlope, threshold } = c as LayerConfigs['ReLU'];
    return (v) =>
      maxValue !== null && v >= maxValue ? maxValue : v >= threshold ? v : negativeSlope * (v - threshold);
  }
  if (node.className === 'LeakyReLU') return (v) => (v >= 0 ? v : (c as LayerConfigs['LeakyReLU']).alpha * v);
  const a = (c.activation as string | undefined) ?? 'linear';
  if (a === 'softmax') return () => null;
  return (v) => act1(a as HiddenActivation, v);
}

const key = (t: string, j: number) => `${t}\u0000${j}`;

class Shrinker {
  readonly w: Weights = new Map();
  readonly shapes = new Map<string, Map<string, Shape>>();
  readonly views: Map<string, NodeChannels>;
  readonly alive: boolean[][];
  /** Per group, per channel: the (tensor, position) pairs of the channel, tensors in graph order. */
  readonly atoms: { t: string; j: number }[][][];
  readonly biasAdded = new Set<string>();
  removedDead = 0;
  removedConstant = 0;

  constructor(
    readonly spec: GraphSpec,
    readonly g: ChannelGroups,
    mask: Uint8Array,
  ) {
    const layout = flatLayout(spec);
    for (const n of spec.nodes) {
      const m = new Map<string, Float64Array>();
      const s = new Map<string, Shape>();
      for (const wt of n.weights) {
        const v = Float64Array.from(wt.values);
        const off = layout.offsetOf(n.name, wt.name);
        if (off !== undefined) for (let i = 0; i < v.length; i++) if (mask[off + i]) v[i] = 0;
        m.set(wt.name, v);
        s.set(wt.name, wt.shape);
      }
      this.w.set(n.name, m);
      this.shapes.set(n.name, s);
    }
    this.views = new Map(g.view.map((v) => [v.node.name, v]));
    this.alive = g.groups.map((x) => Array<boolean>(x.channels).fill(true));
    this.atoms = g.groups.map((grp) => {
      const lists: { t: string; j: number }[][] = Array.from({ length: grp.channels }, () => []);
      for (const t of grp.tensors) {
        const ch = g.tensorChannels.get(t)!.channel;
        for (let j = 0; j < ch.length; j++) lists[ch[j]].push({ t, j });
      }
      return lists;
    });
  }

  sliceIsZero(node: string, weight: string, axis: number, j: number): boolean {
    const v = this.w.get(node)!.get(weight)!;
    let zero = true;
    forEachOnAxis(this.shapes.get(node)!.get(weight)!, axis, j, (i) => {
      if (v[i] !== 0) zero = false;
    });
    return zero;
  }

  /** Per atom of channel k of group grp: its value when it is the same constant for every input, else null. */
  constants(grp: ChannelGroup, k: number): Map<string, number | null> {
    const val = new Map<string, number | null>();
    const get = (t: string, j: number) => val.get(key(t, j)) ?? null;
    for (const { t, j } of this.atoms[grp.id][k]) {
      const v = this.views.get(t);
      val.set(key(t, j), v ? this.constantAt(v, j, get) : null);
    }
    return val;
  }

  private constantAt(v: NodeChannels, j: number, get: (t: string, j: number) => number | null): number | null {
    const node = v.node;
    const w = this.w.get(node.name)!;
    const bias = (i: number) => w.get('bias')?.[i] ?? 0;
    const x = node.inputs[0];
    switch (v.rule.kind) {
      case 'new': {
        const axis = this.shapes.get(node.name)!.get('kernel')!.length - 1;
        return this.sliceIsZero(node.name, 'kernel', axis, j) ? activationOf(node)(bias(j)) : null;
      }
      case 'depthwise': {
        const m = v.rule.multiplier;
        const c = Math.floor(j / m);
        const [kh, kw, C] = this.shapes.get(node.name)!.get('depthwise_kernel')!;
        const K = w.get('depthwise_kernel')!;
        let sum = 0;
        let zero = true;
        for (let p = 0; p < kh * kw; p++) {
          const e = K[(p * C + c) * m + (j % m)];
          sum += e;
          if (e !== 0) zero = false;
        }
        const xin = get(x, c);
        if (zero) return activationOf(node)(bias(j));
        if (xin === null || (v.padded && xin !== 0)) return null;
        return activationOf(node)(xin * sum + bias(j));
      }
      case 'concat': {
        const offs = v.rule.offsets;
        let i = offs.length - 1;
        while (offs[i] > j) i--;
        return get(node.inputs[i], j - offs[i]);
      }
      case 'flatten':
        return get(x, j % v.rule.channels);
      case 'opaque':
        return null;
      case 'same':
        break;
    }
    if (node.className === 'Add') {
      let s = 0;
      for (const t of node.inputs) {
        const e = get(t, j);
        if (e === null) return null;
        s += e;
      }
      return s;
    }
    const xin = get(x, j);
    const at = (a: number | number[], i: number) => (typeof a === 'number' ? a : a.length === 1 ? a[0] : a[i]);
    switch (node.className) {
      case 'BatchNormalization': {
        const c = node.config as LayerConfigs['BatchNormalization'];
        const s = (w.get('gamma')?.[j] ?? 1) / Math.sqrt(w.get('moving_variance')![j] + c.epsilon);
        const t = (w.get('beta')?.[j] ?? 0) - w.get('moving_mean')![j] * s;
        if (s === 0) return t;
        return xin === null ? null : xin * s + t;
      }
      case 'Normalization': {
        const mean = w.get('mean')!;
        const variance = w.get('variance')!;
        const s =
          1 /
          Math.max(
            Math.sqrt(variance.length === 1 ? variance[0] : variance[j]),
            (node.config as LayerConfigs['Normalization']).epsilon,
          );
        return xin === null ? null : (xin - (mean.length === 1 ? mean[0] : mean[j])) * s;
      }
      case 'Rescaling': {
        const c = node.config as LayerConfigs['Rescaling'];
        return xin === null ? null : xin * at(c.scale, j) + at(c.offset, j);
      }
      case 'Activation':
      case 'ReLU':
      case 'LeakyReLU':
        return xin === null ? null : activationOf(node)(xin);
      case 'ZeroPadding2D':
        return xin === 0 ? 0 : null;
      case 'Softmax':
        return null;
      default:
        // Pooling (TF leaves padded cells out), global pooling, Identity, Flatten / Reshape of a channel.
        return xin;
    }
  }

  /** The consumers' input slices of channel k: (member, position) with the tensor they read. */
  *sinks(grp: ChannelGroup, k: number): Generator<{ node: string; axis: number; j: number; t: string }> {
    for (const m of grp.members) {
      if (m.role !== 'consumer') continue;
      const t = this.views.get(m.node)!.node.inputs[0];
      for (const j of m.indices[k]) yield { node: m.node, axis: m.axis, j, t };
    }
  }

  remove(grp: ChannelGroup, k: number): void {
    this.alive[grp.id][k] = false;
    for (const m of grp.members) {
      const v = this.w.get(m.node)!.get(m.weight)!;
      const shape = this.shapes.get(m.node)!.get(m.weight)!;
      for (const j of m.indices[k]) forEachOnAxis(shape, m.axis, j, (i) => (v[i] = 0));
    }
  }

  /** Adds the constant inputs of channel k to its consumers' biases, when every consumer can absorb them. */
  tryFold(grp: ChannelGroup, k: number): boolean {
    const live = [...this.sinks(grp, k)].filter((s) => !this.sliceIsZero(s.node, 'kernel', s.axis, s.j));
    if (live.length === 0) return false;
    const val = this.constants(grp, k);
    for (const s of live) {
      const c = val.get(key(s.t, s.j));
      if (c === undefined || c === null || !Number.isFinite(c)) return false;
      if (c !== 0 && this.views.get(s.node)!.padded) return false;
    }
    for (const s of live) {
      const c = val.get(key(s.t, s.j))!;
      const ws = this.w.get(s.node)!;
      const shape = this.shapes.get(s.node)!.get('kernel')!;
      const K = ws.get('kernel')!;
      const units = shape[shape.length - 1];
      if (c !== 0) {
        let b = ws.get('bias');
        if (!b) {
          b = new Float64Array(units);
          ws.set('bias', b);
          this.shapes.get(s.node)!.set('bias', [units]);
          this.biasAdded.add(s.node);
        }
        // kernel [..., in, out]: entries of input j for output o at (p * in + j) * out + o.
        const inSize = shape[shape.length - 2];
        const positions = sizeOf(shape) / (inSize * units);
        for (let p = 0; p < positions; p++)
          for (let o = 0; o < units; o++) b[o] += c * K[(p * inSize + s.j) * units + o];
      }
      forEachOnAxis(shape, s.axis, s.j, (i) => (K[i] = 0));
    }
    return true;
  }

  run(): void {
    const prunable = this.g.groups.filter((grp) => grp.producers.length > 0);
    for (let changed = true; changed;) {
      changed = false;
      for (const grp of prunable) {
        for (let k = 0; k < grp.channels; k++) {
          if (!this.alive[grp.id][k] || grp.fixed[k]) continue;
          let dead = true;
          for (const s of this.sinks(grp, k)) if (!this.sliceIsZero(s.node, 'kernel', s.axis, s.j)) dead = false;
          if (dead) {
            this.remove(grp, k);
            this.removedDead++;
            changed = true;
          } else if (this.tryFold(grp, k)) {
            this.remove(grp, k);
            this.removedConstant++;
            changed = true;
          }
        }
      }
    }
    // A group whose channels all went keeps its first one (its consumers read it with zero weights).
    for (const a of this.alive) if (a.length && !a.some(Boolean)) a[0] = true;
  }
}

/** values of `shape` restricted to positions `keep` on `axis`. */
export function gatherAxis(values: ArrayLike<number>, shape: Shape, axis: number, keep: number[]): Float64Array {
  const inner = sizeOf(shape.slice(axis + 1));
  const outer = sizeOf(shape.slice(0, axis));
  const n = shape[axis];
  const out = new Float64Array(outer * keep.length * inner);
  let o = 0;
  for (let a = 0; a < outer; a++)
    for (const j of keep) {
      const start = (a * n + j) * inner;
      for (let i = 0; i < inner; i++) out[o++] = values[start + i];
    }
  return out;
}

function rebuild(s: Shrinker): GraphSpec {
  const { g, spec } = s;
  const keptOf = (t: string): number[] => {
    const tc = g.tensorChannels.get(t)!;
    const a = s.alive[tc.group];
    return Array.from(tc.channel.keys()).filter((j) => a[tc.channel[j]]);
  };
  const nodes = spec.nodes.map((node): NodeSpec => {
    const v = s.views.get(node.name)!;
    const inKeep = keptOf(node.inputs[0]);
    const outKeep = keptOf(node.name);
    const ws = s.w.get(node.name)!;
    const shapes = s.shapes.get(node.name)!;
    const weights: WeightSpec[] = [];
    const names = [...node.weights.map((x) => x.name)];
    if (s.biasAdded.has(node.name)) names.splice(names.indexOf('kernel') + 1, 0, 'bias');
    for (const name of names) {
      let values: Float64Array = ws.get(name)!;
      let shape = [...shapes.get(name)!];
      for (const ax of v.axes.filter((a) => a.weight === name)) {
        const keep = ax.side === 'input' ? inKeep : outKeep;
        values = gatherAxis(values, shape, ax.axis, keep);
        shape[ax.axis] = keep.length;
      }
      if (s.biasAdded.has(node.name) && name === 'bias') {
        values = gatherAxis(values, shape, 0, outKeep);
        shape = [outKeep.length];
      }
      const trainable = node.weights.find((x) => x.name === name)?.trainable ?? true;
      weights.push({ name, shape, trainable, values: Float32Array.from(values) });
    }
    const outBefore = v.outputShape[v.outputShape.length - 1];
    let config = node.config as unknown as Record<string, unknown>;
    const changed = outKeep.length !== outBefore || s.biasAdded.has(node.name);
    if (node.className === 'Dense') config = { ...config, units: outKeep.length };
    if (node.className === 'Conv2D') config = { ...config, filters: outKeep.length };
    if (s.biasAdded.has(node.name)) config = { ...config, useBias: true };
    if (node.className === 'Rescaling') {
      const slice = (a: number | number[]) => (typeof a === 'number' || a.length <= 1 ? a : outKeep.map((j) => a[j]));
      const c = node.config as LayerConfigs['Rescaling'];
      config = { ...config, scale: slice(c.scale), offset: slice(c.offset) };
    }
    if (node.className === 'Reshape') {
      const t = [...(node.config as LayerConfigs['Reshape']).targetShape];
      if (t[t.length - 1] !== -1 && t.length === 1) t[0] = sizeOf(v.outputShape) * (outKeep.length / outBefore);
      else if (t[t.length - 1] !== -1) t[t.length - 1] = outKeep.length;
      config = { ...config, targetShape: t };
    }
    const out: NodeSpec = { ...node, inputs: [...node.inputs], config: config as never, weights };
    if (changed) delete out.source;
    return out;
  });
  return {
    ...spec,
    inputs: spec.inputs.map((i) => ({ ...i, shape: [...i.shape] })),
    nodes,
    outputs: [...spec.outputs],
  };
}

export function shrinkGraph(spec: GraphSpec, opts: GraphShrinkOptions = {}): GraphShrinkResult {
  const groups = channelGroups(spec);
  const layout = flatLayout(spec);
  let mask = opts.mask;
  if (mask && mask.length !== layout.total)
    throw badInput(`mask has ${mask.length} entries, the model ${layout.total} parameters`, {
      field: 'mask',
      expected: `${layout.total} entries`,
    });
  if (!mask) {
    mask = new Uint8Array(layout.total);
    let o = 0;
    for (const n of spec.nodes)
      for (const w of n.weights)
        if (w.trainable) for (let i = 0; i < w.values.length; i++, o++) mask[o] = w.values[i] === 0 ? 1 : 0;
  }
  const s = new Shrinker(spec, groups, mask);
  s.run();
  const student = rebuild(s);
  const kept = s.alive.map((a) => a.flatMap((x, k) => (x ? [k] : [])));
  const after = inferShapes(student);
  const layers: LayerWidth[] = spec.nodes
    .filter((n) => n.className === 'Dense' || n.className === 'Conv2D' || n.className === 'DepthwiseConv2D')
    .map((n) => ({
      node: n.name,
      className: n.className,
      channelsBefore: s.views.get(n.name)!.outputShape.at(-1)!,
      channelsAfter: after.get(n.name)!.at(-1)!,
    }));
  return {
    spec: student,
    groups,
    kept,
    layers,
    removedDead: s.removedDead,
    removedConstant: s.removedConstant,
    biasAdded: [...s.biasAdded],
  };
}
