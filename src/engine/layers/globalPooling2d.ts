// GlobalAveragePooling2D and GlobalMaxPooling2D (Keras; NHWC -> [c], or [1, 1, c] with keepdims).
// The max form is MaxPooling2D with one window over the whole image (pooling2d.ts).
import * as tf from '@tensorflow/tfjs';
import type { LayerConfigs, NodeSpec, Shape } from '../graphSpec';
import type { ChannelRule, ForwardResult, Layer, LayerModule, Saved } from './layer';
import { expectInputs, layerError } from './util';
import { globalAvgPoolBackward, globalSpec } from './conv/pooling';
import { MaxPooling2DLayer } from './pooling2d';

function imageInput(node: NodeSpec, inputShapes: Shape[]): void {
  expectInputs(node, inputShapes, 1);
  if (inputShapes[0].length !== 3)
    throw layerError(
      node,
      `input has shape [${inputShapes[0].join(', ')}]`,
      'an image input [height, width, channels]',
    );
}

export class GlobalAveragePooling2DLayer implements Layer {
  readonly className = 'GlobalAveragePooling2D' as const;
  readonly weights = [];
  readonly channels: ChannelRule = { kind: 'same' };
  readonly outputShape: Shape;

  constructor(
    readonly name: string,
    readonly inputShapes: Shape[],
    keepdims: boolean,
  ) {
    const c = inputShapes[0][2];
    this.outputShape = keepdims ? [1, 1, c] : [c];
  }

  forward(inputs: tf.Tensor[]): ForwardResult {
    return {
      output: tf.tidy(() => tf.mean(inputs[0], [1, 2]).reshape([inputs[0].shape[0], ...this.outputShape])),
      cache: {},
    };
  }

  private back(g: tf.Tensor, scale: number): tf.Tensor {
    const c = this.inputShapes[0][2];
    return tf.tidy(() =>
      globalAvgPoolBackward(tf.mul(g, scale).reshape([g.shape[0], c]) as tf.Tensor2D, this.inputShapes[0]),
    );
  }

  inputGrads(g: tf.Tensor, _s: Saved, _w: tf.Tensor[], _c: number, need: boolean[]): (tf.Tensor | undefined)[] {
    return [need[0] ? this.back(g, 1) : undefined];
  }

  /** sum_o J_oi^2 D_o with J_oi = 1 / (h w). */
  squaredJacobianT(D: tf.Tensor): tf.Tensor {
    const [h, w] = this.inputShapes[0];
    return this.back(D, 1 / (h * w));
  }
}

export const GlobalAveragePooling2DModule: LayerModule = {
  className: 'GlobalAveragePooling2D',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    imageInput(node, inputShapes);
    const cfg = node.config as LayerConfigs['GlobalAveragePooling2D'];
    return new GlobalAveragePooling2DLayer(node.name, inputShapes, cfg.keepdims);
  },
};

export const GlobalMaxPooling2DModule: LayerModule = {
  className: 'GlobalMaxPooling2D',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    imageInput(node, inputShapes);
    const cfg = node.config as LayerConfigs['GlobalMaxPooling2D'];
    const c = inputShapes[0][2];
    return new MaxPooling2DLayer(
      node.name,
      'GlobalMaxPooling2D',
      inputShapes,
      globalSpec(inputShapes[0]),
      cfg.keepdims ? [1, 1, c] : [c],
    );
  },
};
