// DepthwiseConv2D (Keras; NHWC, depthwise_kernel [kh, kw, in, multiplier], output channel
// ci * multiplier + j, TF padding, dilation 1) without its fused activation. The calculus lives in
// conv/depthwise.ts (wasm kernels on the wasm backend: tfjs-wasm has no depthwise backward).
import * as tf from '@tensorflow/tfjs';
import type { LayerConfigs, NodeSpec, Shape } from '../model/graphSpec';
import type {
  ChannelRule,
  ForwardResult,
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
import { depthwiseForward, depthwiseInputGrad, depthwiseKernelGrad, depthwiseRowStats } from './conv/depthwise';
import type { WindowSpec } from './conv/conv2d';
import { kernelBiasList, sampleSum } from './conv/rowStats';
import { outputSize, windowSpec } from './conv/config';

export class DepthwiseConv2DLayer implements Layer {
  readonly className = 'DepthwiseConv2D' as const;
  readonly outputShape: Shape;
  readonly weights: WeightDecl[];
  readonly channels: ChannelRule;
  readonly variational: VariationalOps;

  constructor(
    readonly name: string,
    readonly inputShapes: Shape[],
    readonly multiplier: number,
    readonly spec: WindowSpec,
    readonly useBias: boolean,
  ) {
    const c = inputShapes[0][2];
    const co = c * multiplier;
    this.outputShape = [...outputSize(inputShapes[0], spec), co];
    this.channels = { kind: 'depthwise', multiplier };
    const [kh, kw] = spec.kernelSize;
    this.weights = [
      {
        name: 'depthwise_kernel',
        shape: [kh, kw, c, multiplier],
        trainable: true,
        init: 'glorot_uniform',
        outputAxis: null,
        inputAxis: 2,
      },
    ];
    if (useBias)
      this.weights.push({ name: 'bias', shape: [co], trainable: true, init: 'zeros', outputAxis: 0, inputAxis: null });
    this.variational = lrtOps(
      {
        apply: (x, k) => depthwiseForward(x as tf.Tensor4D, k as tf.Tensor4D, undefined, spec),
        inputVJP: (g, k) => depthwiseInputGrad(g as tf.Tensor4D, k as tf.Tensor4D, inputShapes[0], spec),
        kernelVJP: (x, g) => depthwiseKernelGrad(x as tf.Tensor4D, g as tf.Tensor4D, spec, false).kernel,
      },
      useBias,
    );
  }

  forward(inputs: tf.Tensor[], w: tf.Tensor[]): ForwardResult {
    const bias = this.useBias ? (w[1] as tf.Tensor1D) : undefined;
    return { output: depthwiseForward(inputs[0] as tf.Tensor4D, w[0] as tf.Tensor4D, bias, this.spec), cache: {} };
  }

  inputGrads(g: tf.Tensor, _s: Saved, w: tf.Tensor[], _c: number, need: boolean[]): (tf.Tensor | undefined)[] {
    return [
      need[0] ? depthwiseInputGrad(g as tf.Tensor4D, w[0] as tf.Tensor4D, this.inputShapes[0], this.spec) : undefined,
    ];
  }

  weightStats(g: tf.Tensor, s: Saved, _w: tf.Tensor[], c: number, want: WeightStatsRequest): WeightStats {
    const x = s.inputs[0] as tf.Tensor4D;
    if (!want.squares) {
      if (!want.sum) return {};
      const d = sampleSum(g, c) as tf.Tensor4D;
      const kb = depthwiseKernelGrad(x, d, this.spec, this.useBias);
      if (d !== g) d.dispose();
      return { sum: kernelBiasList(kb) };
    }
    const st = depthwiseRowStats(x, g as tf.Tensor4D, this.spec, this.useBias, {
      sum: want.sum,
      squares: true,
      signs: want.signs,
    });
    return { sum: st.sum && kernelBiasList(st.sum), squares: kernelBiasList(st.squares!) };
  }

  weightRows(g: tf.Tensor, s: Saved): tf.Tensor2D {
    return depthwiseRowStats(s.inputs[0] as tf.Tensor4D, g as tf.Tensor4D, this.spec, this.useBias, { rows: true })
      .rows!;
  }

  weightDiagFromDiagonal(D: tf.Tensor, s: Saved): tf.Tensor[] {
    const x2 = memo(s.memo, 'x2', () => tf.square(s.inputs[0])) as tf.Tensor4D;
    return kernelBiasList(depthwiseKernelGrad(x2, D as tf.Tensor4D, this.spec, this.useBias));
  }

  squaredJacobianT(D: tf.Tensor, s: Saved, w: tf.Tensor[]): tf.Tensor {
    const w2 = memo(s.memo, 'W2', () => tf.square(w[0])) as tf.Tensor4D;
    return depthwiseInputGrad(D as tf.Tensor4D, w2, this.inputShapes[0], this.spec);
  }
}

export const DepthwiseConv2DModule: LayerModule = {
  className: 'DepthwiseConv2D',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    expectInputs(node, inputShapes, 1);
    const cfg = node.config as LayerConfigs['DepthwiseConv2D'];
    if (!Number.isInteger(cfg.depthMultiplier) || cfg.depthMultiplier <= 0)
      throw layerError(node, `depth_multiplier = ${cfg.depthMultiplier}`, 'a positive integer');
    const spec = windowSpec(node, inputShapes[0], cfg.kernelSize, cfg.strides, cfg.padding, cfg.dilationRate);
    return new DepthwiseConv2DLayer(node.name, inputShapes, cfg.depthMultiplier, spec, cfg.useBias);
  },
};
