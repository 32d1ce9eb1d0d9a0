// Conv2D (Keras; NHWC, kernel [kh, kw, in, filters], TF padding, dilation 1) without its fused
// activation, which the graph appends. The calculus lives in conv/conv2d.ts (wasm kernels on the
// wasm backend): every weight touches many outputs, so per-row gradients sum over positions before
// they are squared (conv2dRowStats), and the curvature of a diagonal output term is the weight
// gradient with squared inputs. K-FAC is KFC (Grosse & Martens 2016) on the unfolded patches.
import * as tf from '@tensorflow/tfjs';
import type { LayerConfigs, NodeSpec, Shape } from '../model/graphSpec';
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
import { expectInputs, layerError, memo } from './util';
import { lrtOps } from './lrt';
import {
  conv2dForward,
  conv2dInputGrad,
  conv2dKernelGrad,
  conv2dKroneckerFactors,
  conv2dRowStats,
  WindowSpec,
} from './conv/conv2d';
import { kernelBiasList, sampleSum } from './conv/rowStats';
import { outputSize, windowSpec } from './conv/config';

export class Conv2DLayer implements Layer {
  readonly className = 'Conv2D' as const;
  readonly outputShape: Shape;
  readonly weights: WeightDecl[];
  readonly channels: ChannelRule = { kind: 'new' };
  readonly variational: VariationalOps;
  readonly useBias: boolean;

  constructor(
    readonly name: string,
    readonly inputShapes: Shape[],
    readonly filters: number,
    readonly spec: WindowSpec,
    useBias: boolean,
  ) {
    const c = inputShapes[0][2];
    this.useBias = useBias;
    this.outputShape = [...outputSize(inputShapes[0], spec), filters];
    const [kh, kw] = spec.kernelSize;
    this.weights = [
      {
        name: 'kernel',
        shape: [kh, kw, c, filters],
        trainable: true,
        init: 'glorot_uniform',
        outputAxis: 3,
        inputAxis: 2,
      },
    ];
    if (useBias)
      this.weights.push({
        name: 'bias',
        shape: [filters],
        trainable: true,
        init: 'zeros',
        outputAxis: 0,
        inputAxis: null,
      });
    const s = spec;
    this.variational = lrtOps(
      {
        apply: (x, k) => conv2dForward(x as tf.Tensor4D, k as tf.Tensor4D, undefined, s),
        inputVJP: (g, k) => conv2dInputGrad(g as tf.Tensor4D, k as tf.Tensor4D, inputShapes[0], s),
        kernelVJP: (x, g) => conv2dKernelGrad(x as tf.Tensor4D, g as tf.Tensor4D, s, false).kernel,
      },
      useBias,
    );
  }

  forward(inputs: tf.Tensor[], w: tf.Tensor[]): ForwardResult {
    const bias = this.useBias ? (w[1] as tf.Tensor1D) : undefined;
    return { output: conv2dForward(inputs[0] as tf.Tensor4D, w[0] as tf.Tensor4D, bias, this.spec), cache: {} };
  }

  inputGrads(g: tf.Tensor, _s: Saved, w: tf.Tensor[], _c: number, need: boolean[]): (tf.Tensor | undefined)[] {
    return [
      need[0] ? conv2dInputGrad(g as tf.Tensor4D, w[0] as tf.Tensor4D, this.inputShapes[0], this.spec) : undefined,
    ];
  }

  weightStats(g: tf.Tensor, s: Saved, _w: tf.Tensor[], c: number, want: WeightStatsRequest): WeightStats {
    const x = s.inputs[0] as tf.Tensor4D;
    if (!want.squares) {
      if (!want.sum) return {};
      // The sum of per-row gradients is the gradient of the per-sample sums of the rows: one product.
      const d = sampleSum(g, c) as tf.Tensor4D;
      const kb = conv2dKernelGrad(x, d, this.spec, this.useBias);
      if (d !== g) d.dispose();
      return { sum: kernelBiasList(kb) };
    }
    const st = conv2dRowStats(x, g as tf.Tensor4D, this.spec, this.useBias, {
      sum: want.sum,
      squares: true,
      signs: want.signs,
    });
    return { sum: st.sum && kernelBiasList(st.sum), squares: kernelBiasList(st.squares!) };
  }

  weightRows(g: tf.Tensor, s: Saved, _w: tf.Tensor[], _c: number): tf.Tensor2D {
    return conv2dRowStats(s.inputs[0] as tf.Tensor4D, g as tf.Tensor4D, this.spec, this.useBias, { rows: true }).rows!;
  }

  weightDiagFromDiagonal(D: tf.Tensor, s: Saved): tf.Tensor[] {
    const x2 = memo(s.memo, 'x2', () => tf.square(s.inputs[0])) as tf.Tensor4D;
    return kernelBiasList(conv2dKernelGrad(x2, D as tf.Tensor4D, this.spec, this.useBias));
  }

  squaredJacobianT(D: tf.Tensor, s: Saved, w: tf.Tensor[]): tf.Tensor {
    const w2 = memo(s.memo, 'W2', () => tf.square(w[0])) as tf.Tensor4D;
    return conv2dInputGrad(D as tf.Tensor4D, w2, this.inputShapes[0], this.spec);
  }

  kroneckerFactors(g: tf.Tensor, s: Saved): KroneckerFactors[] {
    const f = conv2dKroneckerFactors(s.inputs[0] as tf.Tensor4D, g as tf.Tensor4D, this.spec, this.useBias);
    return [{ weight: 0, A: f.A, G: f.G, count: f.samples * f.positions, biasFolded: f.biasFolded }];
  }
}

export const Conv2DModule: LayerModule = {
  className: 'Conv2D',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    expectInputs(node, inputShapes, 1);
    const cfg = node.config as LayerConfigs['Conv2D'];
    if (!Number.isInteger(cfg.filters) || cfg.filters <= 0)
      throw layerError(node, `filters = ${cfg.filters}`, 'a positive integer');
    const spec = windowSpec(node, inputShapes[0], cfg.kernelSize, cfg.strides, cfg.padding, cfg.dilationRate);
    return new Conv2DLayer(node.name, inputShapes, cfg.filters, spec, cfg.useBias);
  },
};
