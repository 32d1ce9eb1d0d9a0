// BatchNormalization (Keras; channel = last axis): y = gamma * xhat + beta with
// xhat = (x - mean) / sqrt(variance + epsilon). 'inference' (what analysis uses) takes the moving
// statistics, so the layer is a per-channel affine map of x, linear in gamma and beta, with a
// diagonal Jacobian. 'train' takes the batch's statistics (mean and biased variance over every
// axis but the last, as Keras and tfjs-layers do), returns the moving averages
// moving = momentum * moving + (1 - momentum) * batch as `updates`, and its input VJP carries the
// batch-statistics terms (one row per sample only).
import * as tf from '@tensorflow/tfjs';
import type { LayerConfigs, NodeSpec, Shape } from '../graphSpec';
import type {
  ChannelRule,
  ForwardResult,
  Layer,
  LayerModule,
  Mode,
  Saved,
  VariationalForward,
  VariationalGrads,
  VariationalOps,
  WeightDecl,
  WeightStats,
  WeightStatsRequest,
} from './layer';
import { expectInputs, layerError, memo, rowSquareSum, scaleRows } from './util';
import { PruneScopeError } from '../errors';

export class BatchNormalizationLayer implements Layer {
  readonly className = 'BatchNormalization' as const;
  readonly channels: ChannelRule = { kind: 'same' };
  readonly outputShape: Shape;
  readonly weights: WeightDecl[];
  readonly variational: VariationalOps;
  /** Indices into `weights` (-1 when absent). */
  private readonly iGamma: number;
  private readonly iBeta: number;
  private readonly iMean: number;
  private readonly iVar: number;
  /** Axes reduced by batch statistics and per-row sums: every axis but the channel. */
  private readonly positionAxes: number[];

  constructor(
    readonly name: string,
    readonly inputShapes: Shape[],
    readonly cfg: LayerConfigs['BatchNormalization'],
  ) {
    const shape = inputShapes[0];
    const C = shape[shape.length - 1];
    this.outputShape = shape.slice();
    const decl = (name: string, trainable: boolean, init: WeightDecl['init']): WeightDecl => ({
      name,
      shape: [C],
      trainable,
      init,
      outputAxis: 0,
      inputAxis: 0,
    });
    this.weights = [];
    if (cfg.scale) this.weights.push(decl('gamma', true, 'ones'));
    if (cfg.center) this.weights.push(decl('beta', true, 'zeros'));
    this.weights.push(decl('moving_mean', false, 'zeros'), decl('moving_variance', false, 'ones'));
    const at = (n: string) => this.weights.findIndex((d) => d.name === n);
    this.iGamma = at('gamma');
    this.iBeta = at('beta');
    this.iMean = at('moving_mean');
    this.iVar = at('moving_variance');
    this.positionAxes = shape.slice(0, -1).map((_, i) => i + 1);
    this.variational = this.variationalOps();
  }

  /** [n, ...] -> [n, C]: the per-row sum over positions. */
  private rowSums(t: tf.Tensor): tf.Tensor2D {
    return (this.positionAxes.length ? tf.sum(t, this.positionAxes) : t) as tf.Tensor2D;
  }

  forward(inputs: tf.Tensor[], w: tf.Tensor[], mode: Mode): ForwardResult {
    const x = inputs[0];
    if (mode === 'inference') {
      return {
        output: tf.tidy(() => {
          const { scale, offset } = this.inferenceAffine(w);
          return tf.add(tf.mul(x, scale), offset);
        }),
        cache: {},
      };
    }
    const axes = [0, ...this.positionAxes];
    const m = this.cfg.momentum;
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, axes);
      const invStd = tf.rsqrt(tf.add(variance, this.cfg.epsilon));
      const xhat = tf.mul(tf.sub(x, mean), invStd);
      const y = this.affineOf(xhat, w);
      const updates: (tf.Tensor | undefined)[] = this.weights.map(() => undefined);
      updates[this.iMean] = tf.add(tf.mul(w[this.iMean], m), tf.mul(mean, 1 - m));
      updates[this.iVar] = tf.add(tf.mul(w[this.iVar], m), tf.mul(variance, 1 - m));
      return { output: y, cache: { shared: { mean, invStd } }, updates } as never;
    }) as ForwardResult;
  }

  private gamma(w: tf.Tensor[]): tf.Tensor | undefined {
    return this.iGamma >= 0 ? w[this.iGamma] : undefined;
  }

  private affineOf(xhat: tf.Tensor, w: tf.Tensor[]): tf.Tensor {
    const g = this.gamma(w);
    const scaled = g ? tf.mul(xhat, g) : xhat;
    return this.iBeta >= 0 ? tf.add(scaled, w[this.iBeta]) : scaled;
  }

  /** y = x * scale + offset with the moving statistics. */
  private inferenceAffine(w: tf.Tensor[]): { invStd: tf.Tensor; scale: tf.Tensor; offset: tf.Tensor } {
    return tf.tidy(() => {
      const invStd = tf.rsqrt(tf.add(w[this.iVar], this.cfg.epsilon));
      const g = this.gamma(w);
      const scale = g ? tf.mul(g, invStd) : invStd;
      const shift = tf.neg(tf.mul(w[this.iMean], scale));
      const offset = this.iBeta >= 0 ? tf.add(shift, w[this.iBeta]) : shift;
      return { invStd, scale, offset };
    });
  }

  /** (mean, 1 / std) of the normalisation this pass used. */
  private stats(s: Saved, w: tf.Tensor[]): { mean: tf.Tensor; invStd: tf.Tensor } {
    if (s.mode === 'train') return { mean: s.cache.shared!.mean, invStd: s.cache.shared!.invStd };
    const invStd = memo(s.memo, 'invStd', () => tf.rsqrt(tf.add(w[this.iVar], this.cfg.epsilon)));
    return { mean: w[this.iMean], invStd };
  }

  private xhat(s: Saved, w: tf.Tensor[]): tf.Tensor {
    return memo(s.memo, 'xhat', () => {
      const { mean, invStd } = this.stats(s, w);
      return tf.tidy(() => tf.mul(tf.sub(s.inputs[0], mean), invStd));
    });
  }

  /** dy/dx per channel in inference: gamma / std. */
  private slope(s: Saved, w: tf.Tensor[], square: boolean): tf.Tensor {
    return memo(s.memo, square ? 'slope2' : 'slope', () =>
      tf.tidy(() => {
        const { invStd } = this.stats(s, w);
        const g = this.gamma(w);
        const a = g ? tf.mul(g, invStd) : invStd.clone();
        return square ? tf.square(a) : a;
      }),
    );
  }

  private inferenceOnly(s: Saved, what: string): void {
    if (s.mode === 'train')
      throw new PruneScopeError('internal', `layer ${this.name} (BatchNormalization): ${what} in train mode`, {
        expected: 'inference mode (analysis uses the moving statistics)',
      });
  }

  inputGrads(g: tf.Tensor, s: Saved, w: tf.Tensor[], c: number, need: boolean[]): (tf.Tensor | undefined)[] {
    if (!need[0]) return [undefined];
    if (s.mode === 'inference') return [tf.mul(g, this.slope(s, w, false))];
    if (c !== 1)
      throw new PruneScopeError(
        'internal',
        `layer ${this.name} (BatchNormalization): ${c} rows per sample in train mode`,
        {
          expected: 'one row per sample (batch statistics couple the samples)',
        },
      );
    // dx = invStd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), means over the batch and positions.
    return [
      tf.tidy(() => {
        const { invStd } = this.stats(s, w);
        const xhat = this.xhat(s, w);
        const gm = this.gamma(w);
        const dxhat = gm ? tf.mul(g, gm) : g;
        const axes = [0, ...this.positionAxes];
        const centred = tf.sub(dxhat, tf.mean(dxhat, axes));
        return tf.mul(tf.sub(centred, tf.mul(xhat, tf.mean(tf.mul(dxhat, xhat), axes))), invStd);
      }),
    ];
  }

  /** Per-row gradients [R, C] of gamma (sum over positions of g xhat) and of beta (sum of g), in weight order. */
  private rowGrads(g: tf.Tensor, s: Saved, w: tf.Tensor[], c: number): tf.Tensor2D[] {
    const out: tf.Tensor2D[] = [];
    if (this.iGamma >= 0) out.push(this.rowSums(scaleRows(g, this.xhat(s, w), c)));
    if (this.iBeta >= 0) out.push(this.rowSums(g));
    return out;
  }

  weightStats(g: tf.Tensor, s: Saved, w: tf.Tensor[], c: number, want: WeightStatsRequest): WeightStats {
    return tf.tidy(() => {
      const rows = this.rowGrads(g, s, w, c);
      const out: WeightStats = {};
      if (want.sum) out.sum = rows.map((r) => tf.sum(r, 0));
      if (want.squares) out.squares = rows.map((r) => tf.sum(rowSquareSum(r, c, want.signs), 0));
      return out as never;
    }) as WeightStats;
  }

  weightRows(g: tf.Tensor, s: Saved, w: tf.Tensor[], c: number): tf.Tensor2D {
    return tf.tidy(() => tf.concat(this.rowGrads(g, s, w, c), 1) as tf.Tensor2D);
  }

  weightDiagFromDiagonal(D: tf.Tensor, s: Saved, w: tf.Tensor[]): tf.Tensor[] {
    this.inferenceOnly(s, 'a diagonal curvature term');
    return tf.tidy(() => {
      const out: tf.Tensor[] = [];
      if (this.iGamma >= 0) out.push(tf.sum(this.rowSums(tf.mul(D, tf.square(this.xhat(s, w)))), 0));
      if (this.iBeta >= 0) out.push(tf.sum(this.rowSums(D), 0));
      return out;
    });
  }

  diagonalThrough(D: tf.Tensor, s: Saved, w: tf.Tensor[]): tf.Tensor {
    this.inferenceOnly(s, 'a diagonal curvature term');
    return tf.mul(D, this.slope(s, w, true));
  }

  squaredJacobianT(D: tf.Tensor, s: Saved, w: tf.Tensor[]): tf.Tensor {
    return this.diagonalThrough(D, s, w);
  }

  /**
   * Mean-field Gaussian gamma and beta, moving statistics fixed: each output is linear in them,
   * y = gamma xhat + beta, so its marginal is exact: mean mu_g xhat + mu_b, variance
   * xhat^2 s_g + s_b (local reparameterisation with one noise per output).
   */
  private variationalOps(): VariationalOps {
    const hasG = this.iGamma >= 0;
    const hasB = this.iBeta >= 0;
    // Trainable weights in order: gamma (if any), then beta (if any).
    const gi = hasG ? 0 : -1;
    const bi = hasB ? (hasG ? 1 : 0) : -1;
    const xhatOf = (x: tf.Tensor, state: tf.Tensor[]) =>
      tf.mul(tf.sub(x, state[0]), tf.rsqrt(tf.add(state[1], this.cfg.epsilon)));
    return {
      kind: 'lrt',
      forward: (inputs, mean, variance, state, eps): VariationalForward =>
        tf.tidy(() => {
          const xhat = xhatOf(inputs[0], state);
          let m: tf.Tensor = hasG ? tf.mul(xhat, mean[gi]) : xhat;
          if (hasB) m = tf.add(m, mean[bi]);
          let v: tf.Tensor = tf.zerosLike(xhat);
          if (hasG) v = tf.add(v, tf.mul(tf.square(xhat), variance[gi]));
          if (hasB) v = tf.add(v, variance[bi]);
          const sd = tf.sqrt(v);
          return { output: tf.add(m, tf.mul(sd, eps)), cache: { rows: { sd, xhat } } } as never;
        }) as VariationalForward,
      backward: (g, _inputs, mean, variance, state, eps, f, need): VariationalGrads =>
        tf.tidy(() => {
          const { sd, xhat } = f.cache.rows!;
          const gv = tf.div(tf.mul(g, eps), tf.mul(sd, 2));
          const sumAll = (t: tf.Tensor) => tf.sum(this.rowSums(t), 0);
          const meanG: tf.Tensor[] = [];
          const varG: tf.Tensor[] = [];
          if (hasG) {
            meanG.push(sumAll(tf.mul(g, xhat)));
            varG.push(sumAll(tf.mul(gv, tf.square(xhat))));
          }
          if (hasB) {
            meanG.push(sumAll(g));
            varG.push(sumAll(gv));
          }
          let dx: tf.Tensor | undefined;
          if (need[0]) {
            let dxhat: tf.Tensor = hasG ? tf.mul(g, mean[gi]) : g;
            if (hasG) dxhat = tf.add(dxhat, tf.mul(tf.mul(tf.mul(xhat, 2), variance[gi]), gv));
            dx = tf.mul(dxhat, tf.rsqrt(tf.add(state[1], this.cfg.epsilon)));
          }
          return { inputs: [dx], mean: meanG, variance: varG } as never;
        }) as VariationalGrads,
    };
  }
}

export const BatchNormalizationModule: LayerModule = {
  className: 'BatchNormalization',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    expectInputs(node, inputShapes, 1);
    const cfg = node.config as LayerConfigs['BatchNormalization'];
    if (inputShapes[0].length < 1) throw layerError(node, 'a scalar input', 'an input with a channel axis');
    if (!(cfg.epsilon > 0)) throw layerError(node, `epsilon = ${cfg.epsilon}`, 'a positive number');
    if (!(cfg.momentum >= 0 && cfg.momentum <= 1))
      throw layerError(node, `momentum = ${cfg.momentum}`, 'a number in [0, 1]');
    return new BatchNormalizationLayer(node.name, inputShapes, cfg);
  },
};
