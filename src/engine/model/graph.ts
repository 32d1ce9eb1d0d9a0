// The engine's model: a graph of layer modules built from a GraphSpec (graphPlan.ts), its weights as
// tf.Variables, and the forward pass. Trainable weights are the parameters, in the flat order every
// method shares (`weights`: nodes in order, trainable weights in order, each row-major); the
// non-trainable ones (moving statistics) are state. The one backward pass is model/backward.ts.
import * as tf from '@tensorflow/tfjs';
import { PruneScopeError } from '../errors';
import type { GraphSpec, Shape, WeightSpec } from '../graphSpec';
import type { Mode, Saved } from '../layers/layer';
import { GraphPlan, Head, PlannedOp, WeightInfo, planGraph } from './graphPlan';
import { Rng } from '../util/random';
import { sizeOf } from '../layers/util';

export type Task = 'classification' | 'regression';

/** A layer with trainable parameters: its contiguous block of the flat index. */
export interface ParamLayer {
  name: string;
  className: string;
  /** Index of its op in graph.ops. */
  op: number;
  offset: number;
  size: number;
  /** Indices into graph.weights. */
  weights: number[];
}

export interface ParamLocation {
  weight: WeightInfo;
  /** Index of the weight in graph.weights. */
  index: number;
  /** Position within the weight (row-major multi-index). */
  at: number[];
}

/** One forward pass kept for backward passes. Dispose with disposePass. */
export interface Pass {
  n: number;
  mode: Mode;
  /** By tensor id: 0 is the input (reshaped to [n, ...inputShape]), op i's output is i + 1. */
  tensors: tf.Tensor[];
  /** By op index. */
  saved: Saved[];
  /** The tensor the loss reads: logits under a softmax head, else the output. */
  top: tf.Tensor;
  /** The model's output: probabilities under a softmax head (a separate tensor), else `top`. */
  output: tf.Tensor;
}

export function disposePass(p: Pass): void {
  const all: tf.Tensor[] = [...p.tensors];
  for (const s of p.saved) {
    all.push(...Object.values(s.cache.rows ?? {}), ...Object.values(s.cache.shared ?? {}), ...s.memo.values());
    s.memo.clear();
  }
  if (p.output !== p.top) all.push(p.output);
  tf.dispose(all);
}

export class Graph {
  readonly plan: GraphPlan;
  readonly ops: PlannedOp[];
  readonly weights: WeightInfo[];
  readonly nParams: number;
  readonly inputShape: Shape;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly head: Head;
  /** Per op, aligned with op.layer.weights (trainable and state). */
  readonly vars: tf.Variable[][];
  /** Trainable variables in the flat order (aligned with `weights`). */
  readonly params: tf.Variable[];

  private constructor(readonly spec: GraphSpec) {
    this.plan = planGraph(spec);
    this.ops = this.plan.ops;
    this.weights = this.plan.weights;
    this.nParams = this.plan.nParams;
    this.inputShape = this.plan.inputShape;
    this.inputSize = sizeOf(this.inputShape);
    this.outputSize = this.plan.outputShape[0];
    this.head = this.plan.head;
    this.vars = tf.tidy(() =>
      this.ops.map((op) =>
        op.layer.weights.map((d) => {
          const w = op.node.weights.find((x) => x.name === d.name)!;
          return tf.variable(tf.tensor(w.values, d.shape, 'float32'), d.trainable, undefined, 'float32');
        }),
      ),
    );
    this.params = this.ops.flatMap((op, i) => op.trainable.map((k) => this.vars[i][k]));
  }

  /** The graph with the spec's weight values. */
  static fromSpec(spec: GraphSpec): Graph {
    return new Graph(spec);
  }

  /**
   * The graph with Keras's default initial weights from a seeded RNG (same seed, same weights):
   * glorot_uniform kernels (drawn weight by weight, in node order, row-major), zero biases, BN gamma
   * and moving variance 1. The spec's own values are ignored (its weights give names and shapes).
   */
  static random(spec: GraphSpec, seed: number): Graph {
    const rng = new Rng(seed);
    const plan = planGraph(spec);
    const nodes = spec.nodes.map((node) => {
      const op = plan.ops.find((o) => o.node === node && o.role === 'layer');
      if (!op) return node;
      const weights: WeightSpec[] = op.layer.weights.map((d) => {
        const values = new Float32Array(sizeOf(d.shape));
        if (d.init === 'ones') values.fill(1);
        else if (d.init === 'glorot_uniform') {
          const { fanIn, fanOut } = fans(d.shape);
          const lim = Math.sqrt(6 / (fanIn + fanOut));
          for (let i = 0; i < values.length; i++) values[i] = rng.uniform(-lim, lim);
        }
        return { name: d.name, shape: d.shape.slice(), trainable: d.trainable, values };
      });
      return { ...node, weights };
    });
    return new Graph({ ...spec, nodes });
  }

  /** The layers with trainable parameters, in the flat order. */
  layers(): ParamLayer[] {
    return this.ops
      .filter((op) => op.paramCount > 0)
      .map((op) => ({
        name: op.node.name,
        className: op.node.className,
        op: op.index,
        offset: op.paramOffset,
        size: op.paramCount,
        weights: op.trainable.map((_, k) => op.weightIndex + k),
      }));
  }

  /** Which weight (and where in it) flat index j is. */
  locate(j: number): ParamLocation {
    if (!(j >= 0 && j < this.nParams)) throw new RangeError(`flat parameter index ${j} is outside the model`);
    let lo = 0;
    let hi = this.weights.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.weights[mid].offset <= j) lo = mid;
      else hi = mid - 1;
    }
    const w = this.weights[lo];
    let r = j - w.offset;
    const at = new Array<number>(w.shape.length);
    for (let d = w.shape.length - 1; d >= 0; d--) {
      at[d] = r % w.shape[d];
      r = Math.floor(r / w.shape[d]);
    }
    return { weight: w, index: lo, at };
  }

  /** "layer hidden1 kernel[3, 5] (flat 41)". */
  describe(j: number): string {
    const p = this.locate(j);
    return `layer ${p.weight.layer} ${p.weight.weight}[${p.at.join(', ')}] (flat ${j})`;
  }

  /** 1 where the flat parameter is a kernel entry (pruned by default), 0 for biases, gamma, beta. */
  kernelMask(): Uint8Array {
    const m = new Uint8Array(this.nParams);
    for (const w of this.weights) if (w.isKernel) m.fill(1, w.offset, w.offset + w.size);
    return m;
  }

  get task(): Task {
    return this.head === 'softmax' ? 'classification' : 'regression';
  }

  /** All parameters in the flat order (downloads from the backend). */
  toFlat(): Float32Array {
    const flat = new Float32Array(this.nParams);
    this.params.forEach((p, i) => flat.set(p.dataSync() as Float32Array, this.weights[i].offset));
    return flat;
  }

  setFlat(flat: ArrayLike<number>): void {
    if (flat.length !== this.nParams)
      throw new PruneScopeError('internal', `graph: expected ${this.nParams} parameters, got ${flat.length}`);
    const f = flat instanceof Float32Array ? flat : Float32Array.from(flat);
    tf.tidy(() =>
      this.params.forEach((p, i) => {
        const w = this.weights[i];
        p.assign(tf.tensor(f.subarray(w.offset, w.offset + w.size), w.shape));
      }),
    );
  }

  /** The spec with the current weight values (trainable and state). */
  toSpec(): GraphSpec {
    const values = new Map<string, Map<string, Float32Array>>();
    this.ops.forEach((op, i) => {
      if (op.role !== 'layer') return;
      values.set(
        op.node.name,
        new Map(
          op.layer.weights.map((d, k) => [d.name, Float32Array.from(this.vars[i][k].dataSync() as Float32Array)]),
        ),
      );
    });
    return {
      ...this.spec,
      inputs: structuredClone(this.spec.inputs),
      outputs: this.spec.outputs.slice(),
      nodes: this.spec.nodes.map((node) => ({
        ...structuredClone({ ...node, weights: [] }),
        weights: node.weights.map((w) => ({
          name: w.name,
          shape: w.shape.slice(),
          trainable: w.trainable,
          values: values.get(node.name)?.get(w.name) ?? w.values.slice(),
        })),
      })),
    };
  }

  /** The structure without weight values (for hashes and provenance). */
  structure(): unknown {
    return {
      inputs: this.spec.inputs,
      outputs: this.spec.outputs,
      nodes: this.spec.nodes.map((n) => ({
        name: n.name,
        className: n.className,
        config: n.config,
        inputs: n.inputs,
        weights: n.weights.map((w) => ({ name: w.name, shape: w.shape, trainable: w.trainable })),
      })),
    };
  }

  clone(): Graph {
    return new Graph(this.toSpec());
  }

  /** Rows of x as inputs: [n, inputSize] or [n, ...inputShape] (row-major NHWC). */
  private inputOf(x: tf.Tensor): tf.Tensor {
    const n = x.shape[0];
    if (sizeOf(x.shape.slice(1)) !== this.inputSize)
      throw new PruneScopeError('bad-input', `x has shape [${x.shape.join(', ')}]`, {
        field: 'x',
        expected: `[N, ${this.inputSize}] or [N, ${this.inputShape.join(', ')}]`,
      });
    return tf.reshape(x, [n, ...this.inputShape]);
  }

  /**
   * Forward pass keeping what the backward needs. `train` mode also updates the state (BN moving
   * statistics) unless `update` is false.
   */
  forward(x: tf.Tensor, mode: Mode = 'inference', opts: { update?: boolean } = {}): Pass {
    const tensors: tf.Tensor[] = [this.inputOf(x)];
    const saved: Saved[] = [];
    try {
      this.ops.forEach((op, i) => {
        const inputs = op.inputs.map((t) => tensors[t]);
        const r = tf.tidy(() => op.layer.forward(inputs, this.vars[i], mode) as never) as ReturnType<
          typeof op.layer.forward
        >;
        tensors.push(r.output);
        saved.push({
          inputs,
          output: r.output,
          cache: r.cache,
          mode,
          isGraphInput: op.inputs.map((t) => t === 0),
          memo: new Map(),
        });
        if (r.updates) {
          if (opts.update === false) tf.dispose(r.updates.filter((u): u is tf.Tensor => !!u));
          else this.applyUpdates(i, r.updates);
        }
      });
    } catch (e) {
      disposePass({ n: 0, mode, tensors, saved, top: tensors[0], output: tensors[0] });
      throw e;
    }
    const top = tensors[this.plan.top];
    const output = this.head === 'softmax' ? tf.softmax(top) : top;
    return { n: x.shape[0], mode, tensors, saved, top, output };
  }

  private applyUpdates(op: number, updates: (tf.Tensor | undefined)[]): void {
    updates.forEach((u, k) => {
      if (!u) return;
      this.vars[op][k].assign(u);
      u.dispose();
    });
  }

  /** The model's output (probabilities under a softmax head), inference mode. */
  predict(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => this.headOutput(this.runOps(0, this.ops.length, this.inputOf(x))));
  }

  /** Tensor `id` (0 is the input, op i's output is i + 1) for the rows of x, inference mode. */
  activationAt(x: tf.Tensor, id: number): tf.Tensor {
    return tf.tidy(() => this.runOps(0, id, this.inputOf(x))[id]);
  }

  /**
   * The model's output given tensor `id` (as activationAt returns it): runs ops id.. only, so no
   * later op may read a tensor before `id` (prune/stemCache.ts finds such cuts).
   */
  predictFrom(id: number, t: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => this.headOutput(this.runOps(id, this.ops.length, t)));
  }

  /** Ops [from, to) in inference mode from tensor `from`; the tensors by id (earlier ids absent). */
  private runOps(from: number, to: number, t: tf.Tensor): tf.Tensor[] {
    const tensors: tf.Tensor[] = [];
    tensors[from] = t;
    for (let i = from; i < to; i++) {
      const op = this.ops[i];
      const inputs = op.inputs.map((k) => {
        if (!tensors[k])
          throw new PruneScopeError('internal', `graph: op ${op.node.name} reads tensor ${k}, before ${from}`);
        return tensors[k];
      });
      tensors[i + 1] = op.layer.forward(inputs, this.vars[i], 'inference').output;
    }
    return tensors;
  }

  private headOutput(tensors: tf.Tensor[]): tf.Tensor2D {
    const top = tensors[this.plan.top] as tf.Tensor2D;
    return this.head === 'softmax' ? tf.softmax(top) : top;
  }

  /** Logits (softmax head) or outputs, inference mode. */
  predictTop(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const p = this.forward(x);
      const top = p.top.clone() as tf.Tensor2D;
      disposePass(p);
      return top;
    });
  }

  dispose(): void {
    for (const vs of this.vars) for (const v of vs) v.dispose();
  }
}

/** Keras's fan-in / fan-out of a weight shape (receptive field times channels for kernels of rank > 2). */
export function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length < 2) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  const receptive = sizeOf(shape.slice(0, -2));
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

/** Per-weight tensors (one per entry of graph.weights) downloaded into the flat order; disposes them. */
export function flatten(graph: Graph, perWeight: tf.Tensor[]): Float32Array {
  const flat = new Float32Array(graph.nParams);
  try {
    perWeight.forEach((t, i) => flat.set(t.dataSync() as Float32Array, graph.weights[i].offset));
    return flat;
  } finally {
    tf.dispose(perWeight);
  }
}
