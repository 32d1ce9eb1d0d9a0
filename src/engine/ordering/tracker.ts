// Gradient-variance tracker: runs beside the optimiser from step 1 and keeps C_t (3.6) per
// parameter (diag), per layer (block) or for the whole model (full). It consumes what the training
// step's backward pass already computed (each layer's per-sample output block and forward record,
// and the minibatch gradient), so the essay estimator needs no extra pass and the per-sample
// estimator one extra product of squares per layer (the layer's weightStats; on wasm one fused
// kernel per dense layer, which skips the background entries of sparse inputs: layers/denseSquares.ts).
import * as tf from '@tensorflow/tfjs';
import type { Graph, ParamLayer } from '../model/graph';
import { disposePass } from '../model/graph';
import type { PlannedOp } from '../model/graphPlan';
import type { Saved } from '../layers/layer';
import { disposeSaved, propagate, sliceSaved } from '../model/backward';
import { lossKindOf, topDelta } from '../model/loss';
import { PruneScopeError } from '../errors';
import { updateOuter, updateRowCovariance } from './covariance';
import { ORDER_DEFAULTS, type CovarianceMode, type VarianceEstimator } from '../options';
import { CovarianceBlock } from './types';
import { formatBytes } from '../util/formatBytes';
import { orderByVariance, ranksFromOrder } from './rank';

export interface TrackerOptions {
  estimator?: VarianceEstimator;
  mode?: CovarianceMode;
  /** block mode: layers with more parameters than this stay diagonal (default 2048, 16 MiB). */
  blockLimit?: number;
  /** full mode: refuse when the n x n float32 matrix would exceed this (default 256 MiB). */
  fullLimitBytes?: number;
}

const DEFAULT_FULL_LIMIT = 256 * 1024 * 1024;

export class GradientVarianceTracker {
  readonly estimator: VarianceEstimator;
  readonly mode: CovarianceMode;
  private t = 0;
  private readonly layers: ParamLayer[];
  /** Param-layer index by op index. */
  private readonly layerOf = new Map<number, number>();
  /**
   * diag state per trainable weight (every layer in diag mode; oversize layers in block mode): the
   * sum t C_t = (t - 1) C_(t-1) + X_t, i.e. (3.6) with k_t = 1/t multiplied through by t. C_t is read
   * as the sum / t. Same recursion, one elementwise add per step instead of a scale and a blend.
   */
  private readonly diag: (tf.Variable | undefined)[];
  /** block state per param layer, or one full matrix. */
  private readonly blockC: (tf.Variable | undefined)[] = [];
  private fullC: tf.Variable | undefined;
  /** full mode: this step's parts in layer order. */
  private parts: { flat?: tf.Tensor1D; rows?: tf.Tensor2D; mean?: tf.Tensor1D }[] = [];
  readonly diagonalLayers: string[] = [];

  constructor(
    private readonly net: Graph,
    opts: TrackerOptions = {},
  ) {
    this.estimator = opts.estimator ?? ORDER_DEFAULTS.estimator;
    this.mode = opts.mode ?? ORDER_DEFAULTS.mode;
    this.layers = net.layers();
    this.layers.forEach((l, i) => this.layerOf.set(l.op, i));
    this.diag = new Array(net.weights.length).fill(undefined);
    const blockLimit = opts.blockLimit ?? ORDER_DEFAULTS.blockLimit;
    if (this.mode === 'full') {
      const bytes = net.nParams * net.nParams * 4;
      const limit = opts.fullLimitBytes ?? DEFAULT_FULL_LIMIT;
      if (bytes > limit) {
        throw new PruneScopeError(
          'too-large',
          `full covariance of ${net.nParams} parameters would need ${formatBytes(bytes)} (n^2 float32), over the ${formatBytes(limit)} limit; use --mode block or --mode diag`,
          { field: 'mode', expected: `full only for models up to ${Math.floor(Math.sqrt(limit / 4))} parameters` },
        );
      }
      this.fullC = zeroVariable([net.nParams, net.nParams]);
      return;
    }
    for (const l of this.layers) {
      if (this.mode === 'block' && l.size <= blockLimit) {
        this.blockC.push(zeroVariable([l.size, l.size]));
      } else {
        if (this.mode === 'block') this.diagonalLayers.push(l.name);
        this.blockC.push(undefined);
        for (const k of l.weights) this.diag[k] = zeroVariable(net.weights[k].shape);
      }
    }
  }

  /** Steps observed so far (the t of C_t). */
  get steps(): number {
    return this.t;
  }

  /** Starts a training step; then observeLayer for every layer with weights, then endStep. */
  beginStep(): void {
    this.t++;
    this.parts = [];
  }

  /**
   * One layer of the current step: g = its per-sample output block [n, ...out] (c = 1, not divided
   * by n), s = its forward record, gS = the minibatch-mean gradient of each of its trainable weights.
   */
  observeLayer(op: PlannedOp, g: tf.Tensor, s: Saved, gS: tf.Tensor[]): void {
    const li = this.layerOf.get(op.index)!;
    const w = this.net.vars[op.index];
    const n = g.shape[0];
    const t = this.t;
    const layer = this.layers[li];
    tf.tidy(() => {
      const diagVars = layer.weights.map((k) => this.diag[k]);
      if (diagVars[0]) {
        const sums = diagVars as tf.Variable[];
        if (this.estimator === 'essay') {
          const g1 = firstRowGrads(op, g, s, w);
          sums.forEach((v, k) => v.assign(tf.add(v, tf.squaredDifference(g1[k], gS[k]))));
        } else if (!op.layer.accumulateVariance?.(g, s, w, gS, sums)) {
          // X = (1/N) sum_n g_n^2 - g_S^2; nothing clamped per step (the clamp happens on read).
          const sq = op.layer.weightStats!(g, s, w, 1, { squares: true }).squares!;
          sums.forEach((v, k) => v.assign(tf.add(v, tf.sub(tf.mul(sq[k], 1 / n), tf.square(gS[k])))));
        }
        return;
      }
      const gFlat = tf.concat(gS.map((x) => tf.reshape(x, [-1]))) as tf.Tensor1D;
      if (this.estimator === 'essay') {
        const g1 = firstRowGrads(op, g, s, w);
        const d = tf.sub(tf.concat(g1.map((x) => tf.reshape(x, [-1]))), gFlat) as tf.Tensor1D;
        if (this.fullC) this.parts[li] = { flat: tf.keep(d) };
        else updateOuter(this.blockC[li]!, d, t);
      } else {
        const rows = op.layer.weightRows!(g, s, w, 1);
        if (this.fullC) this.parts[li] = { rows: tf.keep(rows), mean: tf.keep(gFlat) };
        else updateRowCovariance(this.blockC[li]!, rows, gFlat, t);
      }
    });
  }

  endStep(): void {
    if (!this.fullC) return;
    const parts = this.parts;
    this.parts = [];
    tf.tidy(() => {
      if (this.estimator === 'essay')
        updateOuter(this.fullC!, tf.concat(parts.map((p) => p.flat!)) as tf.Tensor1D, this.t);
      else
        updateRowCovariance(
          this.fullC!,
          tf.concat(
            parts.map((p) => p.rows!),
            1,
          ) as tf.Tensor2D,
          tf.concat(parts.map((p) => p.mean!)) as tf.Tensor1D,
          this.t,
        );
    });
    tf.dispose(parts.flatMap((p) => [p.flat, p.rows, p.mean].filter(Boolean) as tf.Tensor[]));
  }

  /**
   * Fallback for a training loop that exposes only the batch (a trainer's onStep hook): recomputes
   * the forward (train mode, state not updated) and backward pass, so it costs one extra pass.
   * `grads`: the minibatch-mean gradients per weight when the loop has them.
   */
  observeBatch(x: tf.Tensor, y: tf.Tensor2D, grads?: readonly tf.Tensor[]): void {
    const pass = this.net.forward(x, 'train', { update: false });
    try {
      const n = pass.n;
      const delta = topDelta(lossKindOf(this.net), pass.output as tf.Tensor2D, y);
      this.beginStep();
      try {
        propagate(this.net, pass, {
          start: this.net.plan.top,
          block: delta,
          c: 1,
          wants: (op) => op.paramCount > 0,
          visit: (op, g, s) => {
            const own = grads
              ? undefined
              : tf.tidy(() =>
                  op.layer.weightStats!(g, s, this.net.vars[op.index], 1, { sum: true }).sum!.map((t) => tf.div(t, n)),
                );
            try {
              const gS = own ?? op.trainable.map((_, k) => grads![op.weightIndex + k]);
              this.observeLayer(op, g, s, gS);
            } finally {
              if (own) tf.dispose(own);
            }
          },
        });
      } finally {
        delta.dispose();
      }
      this.endStep();
    } finally {
      disposePass(pass);
    }
  }

  /** C_jj in the flat order (downloads from the backend). */
  variances(): Float64Array {
    const v = new Float64Array(this.net.nParams);
    if (this.fullC) {
      v.set(diagonalOf(this.fullC, this.net.nParams));
      return v;
    }
    this.layers.forEach((l, i) => {
      const b = this.blockC[i];
      if (b) v.set(diagonalOf(b, l.size), l.offset);
      else for (const k of l.weights) v.set(diagMean(this.diag[k]!, this.t), this.net.weights[k].offset);
    });
    return v;
  }

  /** The covariance blocks held (block: one per small layer; full: the whole matrix as one block). */
  blocks(): CovarianceBlock[] {
    if (this.fullC)
      return [
        { layer: -1, name: 'all', offset: 0, size: this.net.nParams, matrix: this.fullC.dataSync() as Float32Array },
      ];
    const out: CovarianceBlock[] = [];
    this.layers.forEach((l, i) => {
      const b = this.blockC[i];
      if (b) out.push({ layer: i, name: l.name, offset: l.offset, size: l.size, matrix: b.dataSync() as Float32Array });
    });
    return out;
  }

  /** Order and ranks of the current estimate (least variance first). */
  ordering(candidates?: ArrayLike<number>): { variances: Float64Array; order: Int32Array; ranks: Int32Array } {
    const variances = this.variances();
    const order = orderByVariance(variances, candidates);
    return { variances, order, ranks: ranksFromOrder(order, variances.length) };
  }

  dispose(): void {
    tf.dispose([...this.diag, ...this.blockC, this.fullC].filter((v): v is tf.Variable => v !== undefined));
    tf.dispose(this.parts.flatMap((p) => [p.flat, p.rows, p.mean].filter(Boolean) as tf.Tensor[]));
  }
}

/** The gradient g_1 of the first sample's loss alone, per trainable weight of the op. */
export function firstRowGrads(op: PlannedOp, g: tf.Tensor, s: Saved, w: tf.Tensor[]): tf.Tensor[] {
  const s1 = sliceSaved(s, 0, 1);
  try {
    const g1 = tf.slice(g, 0, 1);
    return op.layer.weightStats!(g1, s1, w, 1, { sum: true }).sum!;
  } finally {
    disposeSaved(s1);
  }
}

/** C_jj = sum / t, clamped at 0 (the per-sample E[x^2] - E[x]^2 can round below 0 in float32). */
function diagMean(sum: tf.Variable, t: number): Float32Array {
  if (t === 0) return new Float32Array(sum.size);
  return tf.tidy(() => tf.relu(tf.div(sum, t)).dataSync() as Float32Array);
}

/** The diagonal of a p x p matrix: a gather of every (p+1)-th entry, without a p x p eye. */
function diagonalOf(c: tf.Tensor, p: number): Float32Array {
  return tf.tidy(() => {
    const idx = tf.range(0, p * (p + 1), p + 1, 'int32');
    return tf.gather(tf.reshape(c, [-1]), idx).dataSync() as Float32Array;
  });
}

/** C_0 = 0: with k_1 = 1 the essay's uniform C_0 has no effect, so zeros keep runs reproducible. */
function zeroVariable(shape: number[]): tf.Variable {
  return tf.tidy(() => tf.variable(tf.zeros(shape), false));
}
