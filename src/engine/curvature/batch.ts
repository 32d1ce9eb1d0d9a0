// Shared plumbing for every curvature quantity: input checks, chunking over samples (bounds the
// memory of per-sample factors), per-weight accumulators in the flat order.
import * as tf from '@tensorflow/tfjs';
import { badInput, throwIfCancelled } from '../errors';
import type { Graph } from '../model/graph';
import { flatten } from '../model/graph';
import { sizeOf } from '../layers/util';

export interface ChunkOptions {
  /** Samples per chunk; default from a memory budget (see defaultChunk). */
  chunkSize?: number;
  signal?: AbortSignal;
}

export function checkBatch(graph: Graph, x: tf.Tensor, target: tf.Tensor, where = 'curvature'): number {
  if (x.rank < 2 || sizeOf(x.shape.slice(1)) !== graph.inputSize) {
    throw badInput(`x has shape [${x.shape}]`, {
      field: `${where}: x`,
      expected: `[N, ${graph.inputSize}] (the model's input [${graph.inputShape.join(', ')}] row-major)`,
    });
  }
  if (target.rank !== 2 || target.shape[0] !== x.shape[0] || target.shape[1] !== graph.outputSize) {
    throw badInput(`target has shape [${target.shape}]`, {
      field: `${where}: target`,
      expected: `[${x.shape[0]}, ${graph.outputSize}]`,
    });
  }
  if (x.shape[0] === 0) throw badInput('empty batch', { field: `${where}: x`, expected: 'at least one row' });
  return x.shape[0];
}

/** Chunk size so that roughly `floatsPerSample * chunk` stays under a budget (default 16M floats). */
export function defaultChunk(n: number, floatsPerSample: number, budget = 1 << 24): number {
  return Math.max(1, Math.min(n, Math.floor(budget / Math.max(1, floatsPerSample))));
}

export function resolveChunk(n: number, opts: ChunkOptions | undefined, floatsPerSample: number): number {
  const c = opts?.chunkSize;
  if (c === undefined) return defaultChunk(n, floatsPerSample);
  if (!Number.isInteger(c) || c <= 0)
    throw badInput(`chunkSize ${c}`, { field: 'curvature: chunkSize', expected: 'a positive integer' });
  return Math.min(c, n);
}

/** Floats per sample of the forward cache and of a block of c rows per sample over the widest tensor. */
export function floatsPerSample(graph: Graph, c: number): number {
  let total = graph.inputSize;
  let widest = graph.inputSize;
  for (const op of graph.ops) {
    const s = sizeOf(op.layer.outputShape);
    total += s;
    widest = Math.max(widest, s);
  }
  return total + 3 * c * widest;
}

/**
 * Runs `step` on consecutive row chunks [start, start + size) of x and target. The chunk tensors
 * are owned here; between chunks the event loop turns so an AbortSignal can fire.
 */
export async function forEachChunk(
  x: tf.Tensor,
  target: tf.Tensor2D,
  chunk: number,
  signal: AbortSignal | undefined,
  step: (xc: tf.Tensor, tc: tf.Tensor2D) => void,
): Promise<void> {
  const n = x.shape[0];
  for (let start = 0; start < n; start += chunk) {
    throwIfCancelled(signal, 'curvature');
    const size = Math.min(chunk, n - start);
    if (size === n) {
      step(x, target);
    } else {
      const xc = tf.slice(x, start, size);
      const tc = tf.slice(target, [start, 0], [size, target.shape[1]]);
      try {
        step(xc, tc);
      } finally {
        tf.dispose([xc, tc]);
      }
    }
    if (start + chunk < n) await new Promise((r) => setImmediate(r));
  }
  throwIfCancelled(signal, 'curvature');
}

/** Running per-weight sums (one slot per entry of graph.weights): add() keeps the new sum. */
export class WeightSums {
  readonly sums: (tf.Tensor | undefined)[];
  constructor(readonly graph: Graph) {
    this.sums = new Array(graph.weights.length).fill(undefined);
  }
  /** Adds one tensor per trainable weight of an op (takes ownership). */
  addOp(weightIndex: number, ts: tf.Tensor[]): void {
    ts.forEach((t, k) => this.add(weightIndex + k, t));
  }
  add(i: number, t: tf.Tensor): void {
    const old = this.sums[i];
    if (!old) {
      this.sums[i] = t;
      return;
    }
    this.sums[i] = tf.add(old, t);
    tf.dispose([old, t]);
  }
  /** The sums divided by n (zeros where nothing was added); the sums are disposed. */
  mean(n: number): tf.Tensor[] {
    const out = this.graph.weights.map((w, i) => {
      const s = this.sums[i];
      return s ? tf.tidy(() => tf.div(s, n)) : tf.zeros(w.shape);
    });
    this.dispose();
    return out;
  }
  dispose(): void {
    tf.dispose(this.sums.filter((t): t is tf.Tensor => t !== undefined));
    this.sums.fill(undefined);
  }
}

/** Per-weight tensors downloaded into the flat order and disposed. */
export function toFlat(graph: Graph, perWeight: tf.Tensor[]): Float32Array {
  return flatten(graph, perWeight);
}

/** Population variance E[g^2] - E[g]^2 per entry, clamped at 0 against float32 round-off; disposes `second`. */
export function varianceFrom(first: tf.Tensor[], second: tf.Tensor[]): tf.Tensor[] {
  const v = second.map((q, i) => tf.tidy(() => tf.relu(tf.sub(q, tf.square(first[i])))));
  tf.dispose(second);
  return v;
}
