// Gradient-variance tracker: runs beside the optimiser from step 1 and keeps C_t (3.6) per
// parameter (diag), per layer (block) or for the whole model (full). It consumes what the explicit
// backprop already computed (layer inputs and per-sample deltas), so the essay estimator needs no
// extra pass and the per-sample estimator one extra matmul of squares per layer.
import * as tf from '@tensorflow/tfjs';
import type { Network } from '../model/network';
import { backwardDeltas, disposeCache, forwardCache } from '../model/backprop';
import { PruneScopeError } from '../errors';
import { essayDiff, LayerGrad, meanGrad, perSampleRows, perSampleVariance } from './estimators';
import { runningMean, updateOuter, updateRowCovariance } from './covariance';
import { CovarianceBlock, CovarianceMode, VarianceEstimator } from './types';
import { formatBytes, orderByVariance, ranksFromOrder } from './rank';

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
}

const DEFAULT_BLOCK_LIMIT = 2048;
const DEFAULT_FULL_LIMIT = 256 * 1024 * 1024;

export class GradientVarianceTracker {
  readonly estimator: VarianceEstimator;
  readonly mode: CovarianceMode;
  private t = 0;
  /** diag state per layer (every layer in diag mode; oversize layers in block mode). */
  private readonly diagK: (tf.Variable | undefined)[] = [];
  private readonly diagB: (tf.Variable | undefined)[] = [];
  /** block state per layer, or one full matrix. */
  private readonly blockC: (tf.Variable | undefined)[] = [];
  private fullC: tf.Variable | undefined;
  readonly diagonalLayers: string[] = [];

  constructor(private readonly net: Network, opts: TrackerOptions = {}) {
    this.estimator = opts.estimator ?? 'essay';
    this.mode = opts.mode ?? 'diag';
    const blockLimit = opts.blockLimit ?? DEFAULT_BLOCK_LIMIT;
    if (this.mode === 'full') {
      const bytes = net.nParams * net.nParams * 4;
      const limit = opts.fullLimitBytes ?? DEFAULT_FULL_LIMIT;
      if (bytes > limit) {
        throw new PruneScopeError('too-large',
          `full covariance of ${net.nParams} parameters would need ${formatBytes(bytes)} (n^2 float32), over the ${formatBytes(limit)} limit; use --mode block or --mode diag`,
          { field: 'mode', expected: `full only for models up to ${Math.floor(Math.sqrt(limit / 4))} parameters` });
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
        const gS: LayerGrad = grads ? { kernel: grads.kernels[i], bias: grads.biases[i] } : meanGrad(inputs[i], deltas[i]);
        const dk = this.diagK[i];
        if (dk) {
          // Diagonal: essay squares d_t; per-sample takes the exact batch variance.
          const x = this.estimator === 'essay'
            ? (() => { const d = essayDiff(inputs[i], deltas[i], gS); return { kernel: tf.square(d.kernel), bias: tf.square(d.bias) }; })()
            : perSampleVariance(inputs[i], deltas[i], gS);
          runningMean(dk, x.kernel, t);
          runningMean(this.diagB[i]!, x.bias, t);
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
          if (this.fullC) { rowParts.push(rows); meanParts.push(gFlat); }
          else updateRowCovariance(this.blockC[i]!, rows, gFlat, t);
        }
      });
      if (this.fullC) {
        if (this.estimator === 'essay') updateOuter(this.fullC, tf.concat(flatParts) as tf.Tensor1D, t);
        else updateRowCovariance(this.fullC, tf.concat(rowParts, 1) as tf.Tensor2D, tf.concat(meanParts) as tf.Tensor1D, t);
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
        v.set(this.diagK[i]!.dataSync(), l.kernelOffset);
        v.set(this.diagB[i]!.dataSync(), l.biasOffset);
      }
    });
    return v;
  }

  /** The covariance blocks held (block: one per small layer; full: the whole matrix as one block). */
  blocks(): CovarianceBlock[] {
    if (this.fullC) return [{ layer: -1, name: 'all', offset: 0, size: this.net.nParams, matrix: this.fullC.dataSync() as Float32Array }];
    const out: CovarianceBlock[] = [];
    this.net.layout.forEach((l, i) => {
      const b = this.blockC[i];
      if (b) out.push({ layer: i, name: l.name, offset: l.kernelOffset, size: l.kernelSize + l.biasSize, matrix: b.dataSync() as Float32Array });
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
    tf.dispose([...this.diagK, ...this.diagB, ...this.blockC, this.fullC].filter((v): v is tf.Variable => v !== undefined));
  }
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
