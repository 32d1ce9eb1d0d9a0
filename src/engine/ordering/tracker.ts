// Gradient-variance tracker: runs beside the optimiser from step 1 and keeps C_t (3.6) per
// parameter (diag), per layer (block) or for the whole model (full). It consumes what the explicit
// backprop already computed (layer inputs and per-sample deltas), so the essay estimator needs no
// extra pass and the per-sample estimator one extra product of squares per layer (on wasm one fused
// kernel per layer, which skips the background entries of sparse inputs: squares.ts).
import * as tf from '@tensorflow/tfjs';
import type { Network } from '../model/network';
import { backwardDeltas, disposeCache, forwardCache } from '../model/backprop';
import { PruneScopeError } from '../errors';
import { essayDiff, LayerGrad, meanGrad, perSampleRows } from './estimators';
import { updateOuter, updateRowCovariance } from './covariance';
import { ORDER_DEFAULTS, type CovarianceMode, type VarianceEstimator } from '../options';
import { CovarianceBlock } from './types';
import { formatBytes, orderByVariance, ranksFromOrder } from './rank';
import { accumulateSquares } from './squares';

export interface TrackerOptions {
  estimator?: VarianceEstimator;
  mode?: CovarianceMode;
  /** block mode: layers with more parameters than this stay diagonal (default 2048, 16 MiB). */
  blockLimit?: number;
  /** full mode: refuse when the n x n float32 matrix would exceed this (default 256 MiB). */
  fullLimitBytes?: number;
}

/** Per-layer gradients of the mean loss, as the training loop already has them. */
export interface BatchGrads {
  kernels: readonly tf.Tensor2D[];
  biases: readonly tf.Tensor1D[];
  /** inputs[l]^T [in, N] where the loop already materialised it (saves the tracker a transpose). */
  inputsT?: readonly (tf.Tensor2D | undefined)[];
}

const DEFAULT_FULL_LIMIT = 256 * 1024 * 1024;

export class GradientVarianceTracker {
  readonly estimator: VarianceEstimator;
  readonly mode: CovarianceMode;
  private t = 0;
  /**
   * diag state per layer (every layer in diag mode; oversize layers in block mode): the sum
   * t C_t = (t - 1) C_(t-1) + X_t, i.e. (3.6) with k_t = 1/t multiplied through by t. C_t is read
   * as the sum / t. Same recursion, one elementwise add per step instead of a scale and a blend.
   */
  private readonly diagK: (tf.Variable | undefined)[] = [];
  private readonly diagB: (tf.Variable | undefined)[] = [];
  /** block state per layer, or one full matrix. */
  private readonly blockC: (tf.Variable | undefined)[] = [];
  private fullC: tf.Variable | undefined;
  readonly diagonalLayers: string[] = [];

  constructor(
    private readonly net: Network,
    opts: TrackerOptions = {},
  ) {
    this.estimator = opts.estimator ?? ORDER_DEFAULTS.estimator;
    this.mode = opts.mode ?? ORDER_DEFAULTS.mode;
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
    net.layout.forEach((l) => {
      const p = l.kernelSize + l.biasSize;
      if (this.mode === 'block' && p <= blockLimit) {
        this.blockC.push(zeroVariable([p, p]));
        this.diagK.push(undefined);
        this.diagB.push(undefined);
      } else {
        if (this.mode === 'block') this.diagonalLayers.push(l.name);
        this.blockC.push(undefined);
        this.diagK.push(zeroVariable([l.inSize, l.outSize]));
        this.diagB.push(zeroVariable([l.outSize]));
      }
    });
  }

  /** Steps observed so far (the t of C_t). */
  get steps(): number {
    return this.t;
  }

  /**
   * One training step: inputs[l] = input of layer l [N, in], deltas[l] = per-sample dl_n/dz_l
   * [N, out] (backprop.ts), grads = the minibatch-mean gradients if already computed.
   */
  observe(inputs: readonly tf.Tensor2D[], deltas: readonly tf.Tensor2D[], grads?: BatchGrads): void {
    this.t++;
    const t = this.t;
    tf.tidy(() => {
      const flatParts: tf.Tensor1D[] = [];
      const rowParts: tf.Tensor2D[] = [];
      const meanParts: tf.Tensor1D[] = [];
      this.net.layout.forEach((l, i) => {
        const gS: LayerGrad = grads
          ? { kernel: grads.kernels[i], bias: grads.biases[i] }
          : meanGrad(inputs[i], deltas[i]);
        const dk = this.diagK[i];
        if (dk) {
          diagStep(this.estimator, dk, this.diagB[i]!, inputs[i], deltas[i], gS, grads?.inputsT?.[i]);
          return;
        }
        const gFlat = tf.concat([tf.reshape(gS.kernel, [-1]), gS.bias]) as tf.Tensor1D;
        if (this.estimator === 'essay') {
          const d = essayDiff(inputs[i], deltas[i], gS);
          const dFlat = tf.concat([tf.reshape(d.kernel, [-1]), d.bias]) as tf.Tensor1D;
          if (this.fullC) flatParts.push(dFlat);
          else updateOuter(this.blockC[i]!, dFlat, t);
        } else {
          const rows = perSampleRows(inputs[i], deltas[i]);
          if (this.fullC) {
            rowParts.push(rows);
            meanParts.push(gFlat);
          } else updateRowCovariance(this.blockC[i]!, rows, gFlat, t);
        }
      });
      if (this.fullC) {
        if (this.estimator === 'essay') updateOuter(this.fullC, tf.concat(flatParts) as tf.Tensor1D, t);
        else
          updateRowCovariance(
            this.fullC,
            tf.concat(rowParts, 1) as tf.Tensor2D,
            tf.concat(meanParts) as tf.Tensor1D,
            t,
          );
      }
    });
  }

  /**
   * Fallback for a training loop that exposes only the batch (e.g. a trainer's onStep hook without
   * the forward cache): recomputes the forward and backward pass, so it costs one extra pass.
   */
  observeBatch(x: tf.Tensor2D, y: tf.Tensor2D, grads?: BatchGrads): void {
    const cache = forwardCache(this.net, x);
    const deltas = backwardDeltas(this.net, cache, y);
    try {
      this.observe(cache.inputs, deltas, grads);
    } finally {
      tf.dispose(deltas);
      disposeCache(cache);
    }
  }

  /** C_jj in the flat order (downloads from the backend). */
  variances(): Float64Array {
    const v = new Float64Array(this.net.nParams);
    if (this.fullC) {
      v.set(diagonalOf(this.fullC, this.net.nParams));
      return v;
    }
    this.net.layout.forEach((l, i) => {
      const b = this.blockC[i];
      if (b) {
        const p = l.kernelSize + l.biasSize;
        v.set(diagonalOf(b, p), l.kernelOffset);
      } else {
        v.set(diagMean(this.diagK[i]!, this.t), l.kernelOffset);
        v.set(diagMean(this.diagB[i]!, this.t), l.biasOffset);
      }
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
    this.net.layout.forEach((l, i) => {
      const b = this.blockC[i];
      if (b)
        out.push({
          layer: i,
          name: l.name,
          offset: l.kernelOffset,
          size: l.kernelSize + l.biasSize,
          matrix: b.dataSync() as Float32Array,
        });
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
    tf.dispose(
      [...this.diagK, ...this.diagB, ...this.blockC, this.fullC].filter((v): v is tf.Variable => v !== undefined),
    );
  }
}

/**
 * One diag step for one layer, fused so the per-step cost is the statistic itself plus one add:
 * essay: X = (g_1 - g_S)^2 as a broadcast outer product and one squaredDifference;
 * per-sample: X = (a^2)^T (delta^2 / N) - g_S^2, the 1/N folded into the small delta^2 factor;
 * (a^2)^T taken as square(a^T) when the loop passes a^T (bit-identical: squaring commutes with it).
 * Nothing is clamped per step: the clamp of the per-sample float32 cancellation happens on read.
 */
function diagStep(
  estimator: VarianceEstimator,
  sumK: tf.Variable,
  sumB: tf.Variable,
  a: tf.Tensor2D,
  delta: tf.Tensor2D,
  gS: LayerGrad,
  aT?: tf.Tensor2D,
): void {
  // On wasm the per-sample step is one fused kernel (squares.ts), sparse-aware on sparse inputs.
  if (estimator === 'per-sample' && accumulateSquares(sumK, sumB, a, delta, gS.kernel, gS.bias)) return;
  tf.tidy(() => {
    const [n, inSize] = a.shape;
    const out = delta.shape[1];
    let xK: tf.Tensor, xB: tf.Tensor;
    if (estimator === 'essay') {
      const a0 = tf.reshape(tf.slice(a, [0, 0], [1, inSize]), [inSize, 1]);
      const d0 = tf.slice(delta, [0, 0], [1, out]);
      xK = tf.squaredDifference(tf.mul(a0, d0), gS.kernel);
      xB = tf.squaredDifference(tf.reshape(d0, [out]), gS.bias);
    } else {
      const d2 = tf.mul(tf.square(delta), 1 / n);
      // (a^2)^T = (a^T)^2: with a^T given, square it and multiply without any transpose.
      const sq = aT ? tf.matMul(tf.square(aT), d2) : tf.matMul(tf.square(a), d2, true, false);
      xK = tf.sub(sq, tf.square(gS.kernel));
      xB = tf.sub(tf.sum(d2, 0), tf.square(gS.bias));
    }
    sumK.assign(tf.add(sumK, xK));
    sumB.assign(tf.add(sumB, xB));
  });
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
