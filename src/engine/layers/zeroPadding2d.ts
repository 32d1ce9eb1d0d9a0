// ZeroPadding2D (Keras; [[top, bottom], [left, right]] rows and columns of zeros around an NHWC
// image). Its Jacobian embeds the input in the output, so the VJP and every diagonal term are the
// interior of the output's.
import * as tf from '@tensorflow/tfjs';
import type { LayerConfigs, NodeSpec, Pair, Shape } from '../graphSpec';
import type { ChannelRule, ForwardResult, Layer, LayerModule, Saved } from './layer';
import { expectInputs, layerError } from './util';
import { zeroPaddingBackward } from './conv/pooling';

export class ZeroPadding2DLayer implements Layer {
  readonly className = 'ZeroPadding2D' as const;
  readonly weights = [];
  readonly channels: ChannelRule = { kind: 'same' };
  readonly outputShape: Shape;

  constructor(
    readonly name: string,
    readonly inputShapes: Shape[],
    readonly padding: [Pair, Pair],
  ) {
    const [h, w, c] = inputShapes[0];
    const [[t, b], [l, r]] = padding;
    this.outputShape = [h + t + b, w + l + r, c];
  }

  forward(inputs: tf.Tensor[]): ForwardResult {
    const [[t, b], [l, r]] = this.padding;
    return {
      output: tf.pad(inputs[0], [
        [0, 0],
        [t, b],
        [l, r],
        [0, 0],
      ]),
      cache: {},
    };
  }

  inputGrads(g: tf.Tensor, _s: Saved, _w: tf.Tensor[], _c: number, need: boolean[]): (tf.Tensor | undefined)[] {
    return [need[0] ? zeroPaddingBackward(g as tf.Tensor4D, this.padding) : undefined];
  }

  diagonalThrough(D: tf.Tensor): tf.Tensor {
    return zeroPaddingBackward(D as tf.Tensor4D, this.padding);
  }

  squaredJacobianT(D: tf.Tensor): tf.Tensor {
    return zeroPaddingBackward(D as tf.Tensor4D, this.padding);
  }
}

export const ZeroPadding2DModule: LayerModule = {
  className: 'ZeroPadding2D',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    expectInputs(node, inputShapes, 1);
    if (inputShapes[0].length !== 3)
      throw layerError(
        node,
        `input has shape [${inputShapes[0].join(', ')}]`,
        'an image input [height, width, channels]',
      );
    const p = (node.config as LayerConfigs['ZeroPadding2D']).padding;
    const ok =
      Array.isArray(p) &&
      p.length === 2 &&
      p.every((q) => Array.isArray(q) && q.length === 2 && q.every((v) => Number.isInteger(v) && v >= 0));
    if (!ok)
      throw layerError(
        node,
        `padding = ${JSON.stringify(p)}`,
        '[[top, bottom], [left, right]] of non-negative integers',
      );
    return new ZeroPadding2DLayer(node.name, inputShapes, p);
  },
};
