// Conv2D (Keras; NHWC, kernel [kh, kw, in, filters], TF padding, dilation 1) without its fused
// activation, which the graph appends. The calculus lives in conv/conv2d.ts (wasm kernels on the
// wasm backend), the methods shared with DepthwiseConv2D in conv/convLayer.ts. K-FAC is KFC
// (Grosse & Martens 2016) on the unfolded patches.
import * as tf from '@tensorflow/tfjs';
import type { LayerConfigs, NodeSpec, Shape } from '../graphSpec';
import type { ChannelRule, KroneckerFactors, Layer, LayerModule, Saved } from './layer';
import { expectInputs, layerError } from './util';
import {
  conv2dForward,
  conv2dInputGrad,
  conv2dKernelGrad,
  conv2dKroneckerFactors,
  conv2dRowStats,
  WindowSpec,
} from './conv/conv2d';
import { ConvLayerBase } from './conv/convLayer';
import { windowSpec } from './conv/config';

const CONV2D = {
  forward: conv2dForward,
  inputGrad: conv2dInputGrad,
  kernelGrad: conv2dKernelGrad,
  rowStats: conv2dRowStats,
};

export class Conv2DLayer extends ConvLayerBase {
  readonly className = 'Conv2D' as const;
  readonly channels: ChannelRule = { kind: 'new' };

  constructor(name: string, inputShapes: Shape[], filters: number, spec: WindowSpec, useBias: boolean) {
    const [kh, kw] = spec.kernelSize;
    const kernel = {
      name: 'kernel',
      shape: [kh, kw, inputShapes[0][2], filters],
      trainable: true,
      init: 'glorot_uniform' as const,
      outputAxis: 3,
      inputAxis: 2,
    };
    super(name, inputShapes, spec, useBias, kernel, filters, CONV2D);
  }

  /** KFC: A sums patches over samples and positions; `count` = samples x positions. */
  kroneckerFactors(g: tf.Tensor, s: Saved): KroneckerFactors[] {
    const f = conv2dKroneckerFactors(s.inputs[0] as tf.Tensor4D, g as tf.Tensor4D, this.spec, this.useBias);
    return [
      {
        weight: 0,
        A: f.A,
        G: f.G,
        count: f.samples * f.positions,
        positions: f.positions,
        biasFolded: f.biasFolded,
      },
    ];
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
