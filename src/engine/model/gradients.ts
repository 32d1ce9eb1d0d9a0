// Gradients of the mean loss from the one backward pass: training, distillation (another top
// delta), freezing (skipping wholly frozen layers) all call weightGradients.
import * as tf from '@tensorflow/tfjs';
import type { Graph, Pass } from './graph';
import { disposePass } from './graph';
import type { PlannedOp } from './graphPlan';
import { propagate } from './backward';
import { LossKind, lossKindOf, sampleLosses, topDelta } from './loss';
import type { Mode } from '../layers/layer';

export interface GradientOptions {
  /** Multiplies every gradient (1/n for the mean loss). */
  scale: number;
  /** Ops whose weight gradient is not wanted (wholly frozen layers); their entries come back undefined. */
  skip?: (op: PlannedOp) => boolean;
  /** Also called at every op with trainable weights with its per-sample output block (c = 1). */
  onBlock?: (op: PlannedOp, g: tf.Tensor, s: Pass['saved'][number]) => void;
}

/**
 * sum_n dl_n/dw * scale per trainable weight (graph.weights order), from per-sample deltas at the
 * loss's top tensor ([n, K]). Undefined for skipped ops' weights.
 */
export function weightGradients(
  graph: Graph,
  pass: Pass,
  delta: tf.Tensor,
  opts: GradientOptions,
): (tf.Tensor | undefined)[] {
  const out: (tf.Tensor | undefined)[] = new Array(graph.weights.length).fill(undefined);
  propagate(graph, pass, {
    start: graph.plan.top,
    block: delta,
    c: 1,
    wants: (op) => op.paramCount > 0 && !opts.skip?.(op),
    visit: (op, g, s) => {
      opts.onBlock?.(op, g, s);
      const sums = op.layer.weightStats!(g, s, graph.vars[op.index], 1, { sum: true }).sum!;
      sums.forEach((t, k) => {
        out[op.weightIndex + k] = opts.scale === 1 ? t : tf.tidy(() => tf.mul(t, opts.scale));
        if (opts.scale !== 1) t.dispose();
      });
    },
  });
  return out;
}

export interface LossGradients {
  /** Mean loss over the batch. */
  loss: number;
  /** Mean-loss gradient per trainable weight (graph.weights order). */
  grads: tf.Tensor[];
}

/** Gradient of the mean loss (1/N) sum_n l_n on (x, target). */
export function lossGradients(
  graph: Graph,
  x: tf.Tensor,
  target: tf.Tensor2D,
  mode: Mode = 'inference',
  kind: LossKind = lossKindOf(graph),
): LossGradients {
  const pass = graph.forward(x, mode);
  try {
    const n = pass.n;
    const delta = topDelta(kind, pass.output as tf.Tensor2D, target);
    const grads = weightGradients(graph, pass, delta, { scale: 1 / n }) as tf.Tensor[];
    delta.dispose();
    const loss = tf.tidy(() => tf.mean(sampleLosses(kind, pass.output as tf.Tensor2D, target)).dataSync()[0]);
    return { loss, grads };
  } finally {
    disposePass(pass);
  }
}
