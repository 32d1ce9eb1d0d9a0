// The one backward pass. A block g of R = n*c rows enters at one tensor and is carried down the
// graph by the layer modules' vector-Jacobian products: fan-out sums the contributions, Add and
// Concatenate route them. At every op the caller asked for, `visit` sees the op's output block;
// what the caller does there is the only difference between training (weight sums, c = 1),
// per-sample moments (sums and squares), the GGN (squares of the propagated factor, c = classes),
// the Hessian's residual terms, the MC-GGN and GGN blocks (curvature/), the freezing tracker and
// distillation. Only ops that feed some wanted op are visited; nothing below them is computed.
import * as tf from '@tensorflow/tfjs';
import type { Saved } from '../layers/layer';
import type { PlannedOp } from './graphPlan';
import type { Graph, Pass } from './graph';

export interface Propagation {
  /** The tensor id the block enters at (graph.plan.top for the loss). */
  start: number;
  /** [n*c, ...shape of the start tensor]; not owned (the driver copies it). */
  block: tf.Tensor;
  c: number;
  /** Ops whose output block the caller wants to see. */
  wants(op: PlannedOp): boolean;
  /** Called on each wanted op, in reverse topological order, with its output block (owned by the driver). */
  visit(op: PlannedOp, g: tf.Tensor, s: Saved): void;
  /**
   * Replaces an op's input VJPs (returns undefined to use the layer's inputGrads): the variational
   * fit backpropagates through the layers' variational forward. The returned tensors are owned by
   * the driver.
   */
  inputGrads?(op: PlannedOp, g: tf.Tensor, s: Saved, need: boolean[]): (tf.Tensor | undefined)[] | undefined;
}

/**
 * required[t]: the block at tensor t is needed (some wanted op produces t or lies below it).
 * Computed in topological order; tensor 0 (the model input) is never required.
 */
export function requiredTensors(graph: Graph, wants: (op: PlannedOp) => boolean): boolean[] {
  const req = new Array<boolean>(graph.ops.length + 1).fill(false);
  for (const op of graph.ops) req[op.output] = wants(op) || op.inputs.some((t) => req[t]);
  return req;
}

export function propagate(graph: Graph, pass: Pass, p: Propagation): void {
  const req = requiredTensors(graph, p.wants);
  if (!req[p.start]) return;
  const acc = new Map<number, tf.Tensor>([[p.start, p.block.clone()]]);
  const add = (t: number, g: tf.Tensor) => {
    const old = acc.get(t);
    if (!old) acc.set(t, g);
    else {
      acc.set(t, tf.add(old, g));
      tf.dispose([old, g]);
    }
  };
  try {
    for (let i = p.start - 1; i >= 0; i--) {
      const op = graph.ops[i];
      const g = acc.get(op.output);
      if (!g) continue;
      acc.delete(op.output);
      try {
        const s = pass.saved[i];
        if (p.wants(op)) p.visit(op, g, s);
        const need = op.inputs.map((t) => req[t]);
        // An override runs even when no input needs a block (it may collect weight gradients).
        const custom = p.inputGrads?.(op, g, s, need);
        if (!custom && !need.some(Boolean)) continue;
        const grads =
          custom ??
          (tf.tidy(() => op.layer.inputGrads(g, s, graph.vars[i], p.c, need) as never) as (tf.Tensor | undefined)[]);
        grads.forEach((gi, k) => {
          if (!gi) return;
          if (need[k]) add(op.inputs[k], gi);
          else gi.dispose();
        });
      } finally {
        g.dispose();
      }
    }
  } finally {
    tf.dispose([...acc.values()]);
  }
}

/**
 * Rows [start, start + size) of a saved forward record (inputs, output and the per-row cache); the
 * shared cache is reused. The caller disposes the result with disposeSaved.
 */
export function sliceSaved(s: Saved, start: number, size: number): Saved {
  const rows = (t: tf.Tensor) => tf.slice(t, start, size);
  return {
    inputs: s.inputs.map(rows),
    output: rows(s.output),
    cache: {
      rows: s.cache.rows ? Object.fromEntries(Object.entries(s.cache.rows).map(([k, t]) => [k, rows(t)])) : undefined,
      shared: s.cache.shared,
    },
    mode: s.mode,
    isGraphInput: s.isGraphInput.map(() => false),
    memo: new Map(),
  };
}

export function disposeSaved(s: Saved): void {
  tf.dispose([...s.inputs, s.output, ...Object.values(s.cache.rows ?? {}), ...s.memo.values()]);
}
