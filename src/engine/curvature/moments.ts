// Per-sample gradient moments over a batch: the sum and the sum of squares of each parameter's
// per-sample gradient, from one c = 1 backward pass (each layer's weightStats; a convolution sums
// over positions before squaring, a dense layer needs one product of squares). The empirical Fisher
// diagonal is the second moment; the variance is the population variance
// (1/N) sum_n (g_n - mean)^2 = E[g^2] - mean^2 (clamped at 0 against float32 round-off), the
// quantity the gradient-variance ordering of METHODS.md section 3 uses.
import * as tf from '@tensorflow/tfjs';
import type { Graph } from '../model/graph';
import { disposePass } from '../model/graph';
import { propagate } from '../model/backward';
import { lossKindOf, sampleLosses, topDelta } from '../model/loss';
import {
  ChunkOptions,
  WeightSums,
  checkBatch,
  floatsPerSample,
  forEachChunk,
  resolveChunk,
  varianceFrom,
} from './batch';

/** Adds the chunk's sums of g (when `first`) and g^2 per weight; returns the chunk's summed loss. */
export function momentsChunk(
  graph: Graph,
  x: tf.Tensor,
  target: tf.Tensor2D,
  first: WeightSums | undefined,
  second: WeightSums,
): number {
  const kind = lossKindOf(graph);
  const pass = graph.forward(x);
  try {
    const out = pass.output as tf.Tensor2D;
    const delta = topDelta(kind, out, target);
    try {
      propagate(graph, pass, {
        start: graph.plan.top,
        block: delta,
        c: 1,
        wants: (op) => op.paramCount > 0,
        visit: (op, g, s) => {
          const st = op.layer.weightStats!(g, s, graph.vars[op.index], 1, { sum: !!first, squares: true });
          if (first) first.addOp(op.weightIndex, st.sum!);
          second.addOp(op.weightIndex, st.squares!);
        },
      });
    } finally {
      delta.dispose();
    }
    return tf.tidy(() => tf.sum(sampleLosses(kind, out, target)).dataSync()[0]);
  } finally {
    disposePass(pass);
  }
}

export interface GradientMoments {
  /** Mean over the batch of per-sample gradients = the gradient of the mean loss, per weight. */
  mean: tf.Tensor[];
  /** Population variance over the batch of per-sample gradients, (1/N) sum (g_n - mean)^2, per weight. */
  variance: tf.Tensor[];
  n: number;
}

/**
 * Mean and variance of per-sample gradients, per weight, left on the backend. Synchronous; one
 * chunk unless chunkSize is given. The caller owns (disposes) the returned tensors.
 */
export function gradientMoments(
  graph: Graph,
  x: tf.Tensor,
  target: tf.Tensor2D,
  opts: { chunkSize?: number } = {},
): GradientMoments {
  const n = checkBatch(graph, x, target, 'gradientMoments');
  const chunk = opts.chunkSize === undefined ? n : resolveChunk(n, opts, 0);
  const s1 = new WeightSums(graph);
  const s2 = new WeightSums(graph);
  try {
    for (let start = 0; start < n; start += chunk) {
      const size = Math.min(chunk, n - start);
      if (size === n) momentsChunk(graph, x, target, s1, s2);
      else {
        const xc = tf.slice(x, start, size);
        const tc = tf.slice(target, [start, 0], [size, target.shape[1]]);
        try {
          momentsChunk(graph, xc, tc, s1, s2);
        } finally {
          tf.dispose([xc, tc]);
        }
      }
    }
  } catch (e) {
    s1.dispose();
    s2.dispose();
    throw e;
  }
  const mean = s1.mean(n);
  return { mean, variance: varianceFrom(mean, s2.mean(n)), n };
}

/** Async, chunked, cancellable form: mean first (optional) and second moments per weight, and the mean loss. */
export async function momentSums(
  graph: Graph,
  x: tf.Tensor,
  target: tf.Tensor2D,
  withMean: boolean,
  opts: ChunkOptions = {},
): Promise<{ first?: tf.Tensor[]; second: tf.Tensor[]; loss: number; n: number }> {
  const n = checkBatch(graph, x, target);
  const chunk = resolveChunk(n, opts, floatsPerSample(graph, 1));
  const s1 = withMean ? new WeightSums(graph) : undefined;
  const s2 = new WeightSums(graph);
  let loss = 0;
  try {
    await forEachChunk(x, target, chunk, opts.signal, (xc, tc) => {
      loss += momentsChunk(graph, xc, tc, s1, s2);
    });
  } catch (e) {
    s1?.dispose();
    s2.dispose();
    throw e;
  }
  return { first: s1?.mean(n), second: s2.mean(n), loss: loss / n, n };
}
