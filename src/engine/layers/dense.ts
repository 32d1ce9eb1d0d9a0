// Dense: y = x W + b on rank-1 inputs ([n, in] batches; a Flatten or pooling layer comes first for
// images). The fused activation is a separate op appended by the graph. Each weight W_ij touches
// one output per sample (y_j), so the weight diagonal of any curvature needs only the diagonal of
// the output's Hessian (diagonalSuffices), and per-row gradients are outer products a_n (x) g_r:
//   sum_r grad_r = A^T (sum_c g),   sum_r sign_r grad_r^2 = (A^2)^T (sum_c sign g^2).
// Fast paths: on a sparse model input (MNIST pixels) both products run over the used columns only
// (denseSparse.ts); on wasm the per-sample variance step of ordering is one fused kernel (denseSquares.ts).
import * as tf from '@tensorflow/tfjs';
import type { LayerConfigs, NodeSpec, Shape } from '../graphSpec';
import type {
  ChannelRule,
  ForwardResult,
  KroneckerFactors,
  Layer,
  LayerModule,
  Saved,
  VariationalOps,
  WeightDecl,
  WeightStats,
  WeightStatsRequest,
} from './layer';
import { expectInputs, layerError, memo, repeatRows, rowSquareSum } from './util';
import { BilinearMap, lrtOps } from './lrt';
import { compactFor, compactProducts } from './denseSparse';
import { accumulateSquares } from './denseSquares';

const DENSE_MAP: BilinearMap = {
  apply: (x, k) => tf.matMul(x as tf.Tensor2D, k as tf.Tensor2D),
  inputVJP: (g, k) => tf.matMul(g as tf.Tensor2D, k as tf.Tensor2D, false, true),
  kernelVJP: (x, g) => tf.matMul(x as tf.Tensor2D, g as tf.Tensor2D, true, false),
};

/** Sum over each sample's c rows: [n*c, out] -> [n, out]. */
function sampleSum(g: tf.Tensor, c: number): tf.Tensor {
  if (c === 1) return g;
  const [r, out] = g.shape;
  return tf.sum(g.reshape([r / c, c, out]), 1);
}

export class DenseLayer implements Layer {
  readonly className = 'Dense' as const;
  readonly outputShape: Shape;
  readonly weights: WeightDecl[];
  readonly channels: ChannelRule = { kind: 'new' };
  readonly diagonalSuffices = true;
  readonly inSize: number;
  readonly units: number;
  readonly useBias: boolean;
  readonly variational: VariationalOps;

  constructor(
    readonly name: string,
    readonly inputShapes: Shape[],
    cfg: LayerConfigs['Dense'],
  ) {
    this.inSize = inputShapes[0][0];
    this.units = cfg.units;
    this.useBias = cfg.useBias;
    this.outputShape = [cfg.units];
    this.weights = [
      {
        name: 'kernel',
        shape: [this.inSize, this.units],
        trainable: true,
        init: 'glorot_uniform',
        outputAxis: 1,
        inputAxis: 0,
      },
    ];
    if (cfg.useBias)
      this.weights.push({
        name: 'bias',
        shape: [this.units],
        trainable: true,
        init: 'zeros',
        outputAxis: 0,
        inputAxis: null,
      });
    this.variational = lrtOps(DENSE_MAP, cfg.useBias);
  }

  forward(inputs: tf.Tensor[], w: tf.Tensor[]): ForwardResult {
    const x = inputs[0] as tf.Tensor2D;
    const y = tf.tidy(() => {
      const z = tf.matMul(x, w[0] as tf.Tensor2D);
      return this.useBias ? tf.add(z, w[1]) : z;
    });
    return { output: y, cache: {} };
  }

  inputGrads(g: tf.Tensor, _s: Saved, w: tf.Tensor[], _c: number, need: boolean[]): (tf.Tensor | undefined)[] {
    return [need[0] ? tf.matMul(g as tf.Tensor2D, w[0] as tf.Tensor2D, false, true) : undefined];
  }

  weightStats(g: tf.Tensor, s: Saved, _w: tf.Tensor[], c: number, want: WeightStatsRequest): WeightStats {
    const a = s.inputs[0] as tf.Tensor2D;
    const out: WeightStats = {};
    const compact = s.isGraphInput[0] ? compactFor(s) : undefined;
    if (want.sum) {
      const d = tf.tidy(() => sampleSum(g, c)) as tf.Tensor2D;
      out.sum = compact ? this.biasKept(compactProducts(compact, d, 1)) : this.products(a, d, false);
      if (d !== g) d.dispose();
    }
    if (want.squares) {
      const d2 = rowSquareSum(g, c, want.signs) as tf.Tensor2D;
      out.squares = compact ? this.biasKept(compactProducts(compact, d2, 2)) : this.products(a, d2, true);
      d2.dispose();
    }
    return out;
  }

  private biasKept(kb: tf.Tensor[]): tf.Tensor[] {
    if (this.useBias) return kb;
    kb[1].dispose();
    return [kb[0]];
  }

  /** [A^T d, 1^T d] or, squared, [(A^2)^T d, 1^T d]. */
  private products(a: tf.Tensor2D, d: tf.Tensor2D, squareInput: boolean): tf.Tensor[] {
    return tf.tidy(() => {
      const k = tf.matMul(squareInput ? tf.square(a) : a, d, true, false);
      return this.useBias ? [k, tf.sum(d, 0)] : [k];
    });
  }

  weightRows(g: tf.Tensor, s: Saved, _w: tf.Tensor[], c: number): tf.Tensor2D {
    return tf.tidy(() => {
      const r = g.shape[0];
      const a = repeatRows(s.inputs[0], c).reshape([r, this.inSize, 1]);
      const k = tf.mul(a, g.reshape([r, 1, this.units])).reshape([r, this.inSize * this.units]);
      return (this.useBias ? tf.concat([k, g], 1) : k) as tf.Tensor2D;
    });
  }

  weightDiagFromDiagonal(D: tf.Tensor, s: Saved): tf.Tensor[] {
    return this.products(s.inputs[0] as tf.Tensor2D, D as tf.Tensor2D, true);
  }

  squaredJacobianT(D: tf.Tensor, s: Saved, w: tf.Tensor[]): tf.Tensor {
    const w2 = memo(s.memo, 'W2', () => tf.square(w[0]));
    return tf.matMul(D as tf.Tensor2D, w2 as tf.Tensor2D, false, true);
  }

  /** On wasm, one fused kernel per layer (denseSquares.ts), sparse-aware on sparse inputs. */
  accumulateVariance(g: tf.Tensor, s: Saved, _w: tf.Tensor[], mean: tf.Tensor[], sums: tf.Variable[]): boolean {
    if (!this.useBias) return false;
    return accumulateSquares(
      sums[0],
      sums[1],
      s.inputs[0] as tf.Tensor2D,
      g as tf.Tensor2D,
      mean[0] as tf.Tensor2D,
      mean[1] as tf.Tensor1D,
    );
  }

  kroneckerFactors(g: tf.Tensor, s: Saved): KroneckerFactors[] {
    return tf.tidy(() => {
      const a = s.inputs[0] as tf.Tensor2D;
      const n = a.shape[0];
      const aa = this.useBias ? (tf.concat([a, tf.ones([n, 1])], 1) as tf.Tensor2D) : a;
      const A = tf.matMul(aa, aa, true, false) as tf.Tensor2D;
      const G = tf.matMul(g as tf.Tensor2D, g as tf.Tensor2D, true, false) as tf.Tensor2D;
      return [{ weight: 0, A, G, count: n, positions: 1, biasFolded: this.useBias }];
    });
  }
}

export const DenseModule: LayerModule = {
  className: 'Dense',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    expectInputs(node, inputShapes, 1);
    const cfg = node.config as LayerConfigs['Dense'];
    if (inputShapes[0].length !== 1)
      throw layerError(
        node,
        `input has shape [${inputShapes[0].join(', ')}]`,
        'a rank-1 input per sample (put a Flatten or a global pooling layer before a Dense layer)',
      );
    if (!Number.isInteger(cfg.units) || cfg.units <= 0)
      throw layerError(node, `units = ${cfg.units}`, 'a positive integer');
    return new DenseLayer(node.name, inputShapes, cfg);
  },
};
