// DepthwiseConv2D (Keras; NHWC, depthwise_kernel [kh, kw, in, multiplier], output channel
// ci * multiplier + j, TF padding, dilation 1) without its fused activation. The calculus lives in
// conv/depthwise.ts (wasm kernels on the wasm backend: tfjs-wasm has no depthwise backward), the
// methods shared with Conv2D in conv/convLayer.ts.
import type { LayerConfigs, NodeSpec, Shape } from '../graphSpec';
import type * as tf from '@tensorflow/tfjs';
import type { ChannelRule, KroneckerFactors, Layer, LayerModule, Saved } from './layer';
import { expectInputs, layerError } from './util';
import {
  depthwiseForward,
  depthwiseInputGrad,
  depthwiseKernelGrad,
  depthwiseKroneckerFactors,
  depthwiseRowStats,
} from './conv/depthwise';
import type { WindowSpec } from './conv/conv2d';
import { ConvLayerBase } from './conv/convLayer';
import { windowSpec } from './conv/config';

const DEPTHWISE = {
  forward: depthwiseForward,
  inputGrad: depthwiseInputGrad,
  kernelGrad: depthwiseKernelGrad,
  rowStats: depthwiseRowStats,
};

export class DepthwiseConv2DLayer extends ConvLayerBase {
  readonly className = 'DepthwiseConv2D' as const;
  readonly channels: ChannelRule;

  constructor(name: string, inputShapes: Shape[], multiplier: number, spec: WindowSpec, useBias: boolean) {
    const [kh, kw] = spec.kernelSize;
    const c = inputShapes[0][2];
    const kernel = {
      name: 'depthwise_kernel',
      shape: [kh, kw, c, multiplier],
      trainable: true,
      init: 'glorot_uniform' as const,
      outputAxis: null,
      inputAxis: 2,
    };
    super(name, inputShapes, spec, useBias, kernel, c * multiplier, DEPTHWISE);
    this.channels = { kind: 'depthwise', multiplier };
  }

  /**
   * KFC per input channel (each is its own small convolution): A [c, kh*kw (+1), ...], G [c, m, m].
   * Block ci covers kernel entries [:, :, ci, :] (and bias entries ci*m..ci*m+m-1 when folded).
   */
  kroneckerFactors(g: tf.Tensor, s: Saved): KroneckerFactors[] {
    const f = depthwiseKroneckerFactors(s.inputs[0] as tf.Tensor4D, g as tf.Tensor4D, this.spec, this.useBias);
    return [
      {
        weight: 0,
        A: f.A,
        G: f.G,
        count: f.samples * f.positions,
        positions: f.positions,
        groups: this.inputShapes[0][2],
        biasFolded: f.biasFolded,
      },
    ];
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
