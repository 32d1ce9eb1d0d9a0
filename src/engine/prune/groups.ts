// Dependency groups for channel pruning (the idea of Torch-Pruning's dependency graph, on a
// GraphSpec). Every tensor of the graph has channels (its last axis). Channel-preserving layers tie
// a channel of their input to channels of their output (BN, activations, pooling, padding, Add for
// every branch, depthwise to its multiplier outputs, Concatenate by offsets, Flatten to every
// position); removing a channel removes every tied channel at once, and with them every weight
// slice they index: the producing filter and bias, BN's gamma, beta and moving statistics, the
// depthwise filter, the consuming kernels' input slices (a Dense after Flatten: rows p * C + c).
//
// A group is a set of tensors tied together; its channels are the classes of tied channels,
// numbered in the order they first appear (graph inputs, then nodes in graph order). Channels
// that reach a graph input, a graph output, an opaque layer or a softmax are fixed: never removed.
import type { GraphSpec, Shape } from '../graphSpec';
import { flatLayout } from '../model/graphFlat';
import { sizeOf } from '../model/graphShapes';
import { channelView, NodeChannels } from './channelRules';

export interface GroupMember {
  node: string;
  weight: string;
  axis: number;
  /**
   * producer: a slice of the layer making the channel (filter, bias); channel: a per-channel weight
   * of a channel-preserving layer (BN, depthwise); consumer: the input slice of a kernel reading it.
   */
  role: 'producer' | 'channel' | 'consumer';
  trainable: boolean;
  /** indices[k]: the positions along `axis` that channel k of the group owns (empty when none). */
  indices: number[][];
}

export interface ChannelGroup {
  id: number;
  /** Number of channels (classes of tied channels). */
  channels: number;
  /** Tensors (node outputs, graph inputs) whose channels are the group's. */
  tensors: string[];
  /** Layers that make the group's channels (Dense, Conv2D). */
  producers: string[];
  members: GroupMember[];
  /** fixed[k]: channel k cannot be removed. */
  fixed: boolean[];
  /** Why some channels are fixed (empty when none is). */
  fixedBecause: string[];
  /** Trainable parameters removed with channel k. */
  paramsPerChannel: number[];
}

export interface ChannelGroups {
  groups: ChannelGroup[];
  /** Per tensor: the group it belongs to and, per position of its channel axis, the group's channel. */
  tensorChannels: Map<string, { group: number; channel: Int32Array }>;
  view: NodeChannels[];
}

class UnionFind {
  readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(a: number): number {
    const p = this.parent;
    while (p[a] !== a) {
      p[a] = p[p[a]];
      a = p[a];
    }
    return a;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

const channelsOf = (s: Shape) => (s.length === 0 ? 1 : s[s.length - 1]);

export function channelGroups(spec: GraphSpec): ChannelGroups {
  const view = channelView(spec);
  // Tensors in definition order, each with a block of atom ids (one per channel).
  const names: string[] = [];
  const width: number[] = [];
  const base = new Map<string, number>();
  let atoms = 0;
  const addTensor = (name: string, shape: Shape) => {
    base.set(name, atoms);
    names.push(name);
    width.push(channelsOf(shape));
    atoms += channelsOf(shape);
  };
  for (const i of spec.inputs) addTensor(i.name, i.shape);
  for (const v of view) addTensor(v.node.name, v.outputShape);
  const atom = (t: string, j: number) => base.get(t)! + j;

  const uf = new UnionFind(atoms);
  const tensorUf = new UnionFind(names.length);
  const tIndex = new Map(names.map((n, i) => [n, i]));
  const fixedWhy = new Map<number, string>(); // atom -> reason
  const fixTensor = (t: string, why: string) => {
    for (let j = 0; j < width[tIndex.get(t)!]; j++) if (!fixedWhy.has(atom(t, j))) fixedWhy.set(atom(t, j), why);
  };
  for (const i of spec.inputs) fixTensor(i.name, `${i.name} is the model's input`);
  for (const o of spec.outputs) fixTensor(o, `${o} is a model output`);

  for (const v of view) {
    const out = v.node.name;
    const tie = (inName: string, j: number, k: number) => {
      uf.union(atom(inName, j), atom(out, k));
      tensorUf.union(tIndex.get(inName)!, tIndex.get(out)!);
    };
    const r = v.rule;
    v.node.inputs.forEach((inName, i) => {
      const C = channelsOf(v.inputShapes[i]);
      switch (r.kind) {
        case 'same':
          for (let j = 0; j < C; j++) tie(inName, j, j);
          break;
        case 'depthwise':
          for (let j = 0; j < C; j++) for (let m = 0; m < r.multiplier; m++) tie(inName, j, j * r.multiplier + m);
          break;
        case 'concat':
          for (let j = 0; j < C; j++) tie(inName, j, r.offsets[i] + j);
          break;
        case 'flatten':
          for (let j = 0; j < C; j++) for (let p = 0; p < r.positions; p++) tie(inName, j, p * C + j);
          break;
        case 'opaque':
          fixTensor(inName, `${out} (${v.node.className}) mixes channels`);
          break;
        case 'new':
          break;
      }
    });
    if (r.kind === 'opaque') fixTensor(out, `${out} (${v.node.className}) mixes channels`);
    if (v.outputCoupled) fixTensor(out, `${out} applies a softmax over its channels`);
  }

  // Groups: connected tensors; channels: classes of tied atoms, numbered in order of appearance.
  const groupOfRoot = new Map<number, number>();
  const groups: ChannelGroup[] = [];
  const channelOfRoot = new Map<number, number>();
  const tensorChannels = new Map<string, { group: number; channel: Int32Array }>();
  names.forEach((t, ti) => {
    const root = tensorUf.find(ti);
    let g = groupOfRoot.get(root);
    if (g === undefined) {
      g = groups.length;
      groupOfRoot.set(root, g);
      groups.push({
        id: g,
        channels: 0,
        tensors: [],
        producers: [],
        members: [],
        fixed: [],
        fixedBecause: [],
        paramsPerChannel: [],
      });
    }
    const grp = groups[g];
    grp.tensors.push(t);
    const channel = new Int32Array(width[ti]);
    for (let j = 0; j < width[ti]; j++) {
      const a = uf.find(atom(t, j));
      let k = channelOfRoot.get(a);
      if (k === undefined) {
        k = grp.channels++;
        channelOfRoot.set(a, k);
        grp.fixed.push(false);
        grp.paramsPerChannel.push(0);
      }
      channel[j] = k;
      const why = fixedWhy.get(atom(t, j));
      if (why !== undefined) {
        grp.fixed[k] = true;
        if (!grp.fixedBecause.includes(why)) grp.fixedBecause.push(why);
      }
    }
    tensorChannels.set(t, { group: g, channel });
  });

  const layout = flatLayout(spec);
  for (const v of view) {
    if (v.rule.kind === 'new') groups[tensorChannels.get(v.node.name)!.group].producers.push(v.node.name);
    for (const ax of v.axes) {
      const w = v.node.weights.find((x) => x.name === ax.weight)!;
      const t = ax.side === 'input' ? v.node.inputs[0] : v.node.name;
      const tc = tensorChannels.get(t)!;
      const grp = groups[tc.group];
      const indices: number[][] = Array.from({ length: grp.channels }, () => []);
      const n = w.shape[ax.axis];
      for (let j = 0; j < n; j++) indices[tc.channel[j]].push(j);
      const trainable = layout.offsetOf(v.node.name, w.name) !== undefined;
      const role = v.rule.kind !== 'new' ? 'channel' : ax.side === 'input' ? 'consumer' : 'producer';
      grp.members.push({ node: v.node.name, weight: w.name, axis: ax.axis, role, trainable, indices });
      if (trainable) {
        const perIndex = sizeOf(w.shape) / n;
        indices.forEach((ix, k) => (grp.paramsPerChannel[k] += ix.length * perIndex));
      }
    }
  }
  return { groups, tensorChannels, view };
}

/**
 * Groups with at least one channel that can be removed; for 'units', only the groups made by Dense
 * layers alone (convolutions keep their filters).
 */
export function prunableGroups(g: ChannelGroups, mode: 'channels' | 'units' = 'channels'): ChannelGroup[] {
  const dense = new Set(g.view.filter((v) => v.node.className === 'Dense').map((v) => v.node.name));
  return g.groups.filter(
    (x) =>
      x.fixed.some((f) => !f) &&
      x.producers.length > 0 &&
      (mode === 'channels' || x.producers.every((p) => dense.has(p))),
  );
}

/** Calls f(i) for every row-major offset i of a weight of `shape` whose coordinate on `axis` is `index`. */
export function forEachOnAxis(shape: Shape, axis: number, index: number, f: (i: number) => void): void {
  const inner = sizeOf(shape.slice(axis + 1));
  const outer = sizeOf(shape.slice(0, axis));
  const n = shape[axis];
  for (let o = 0; o < outer; o++) {
    const start = (o * n + index) * inner;
    for (let i = 0; i < inner; i++) f(start + i);
  }
}
