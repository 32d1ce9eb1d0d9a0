// Softmax, allowed only as the model's head (a final Softmax layer, Activation('softmax'), or a
// Dense / Conv2D with activation softmax): the graph then hands the logits to the cross-entropy
// loss, whose gradient and curvature are taken with respect to the logits (model/loss.ts). Its
// forward is the plain softmax over the last axis, for predictions.
import * as tf from '@tensorflow/tfjs';
import type { LayerConfigs, NodeSpec, Shape } from '../graphSpec';
import { PruneScopeError } from '../errors';
import type { ChannelRule, ForwardResult, Layer, LayerModule } from './layer';
import { expectInputs, layerError } from './util';

export class SoftmaxLayer implements Layer {
  readonly className = 'Softmax' as const;
  readonly weights = [];
  /** Every output depends on every channel: no channel is removed through a softmax. */
  readonly channels: ChannelRule = { kind: 'opaque' };
  readonly outputShape: Shape;
  constructor(
    readonly name: string,
    readonly inputShapes: Shape[],
  ) {
    this.outputShape = inputShapes[0].slice();
  }

  forward(inputs: tf.Tensor[]): ForwardResult {
    return { output: tf.softmax(inputs[0]), cache: {} };
  }

  inputGrads(): (tf.Tensor | undefined)[] {
    throw new PruneScopeError('internal', `softmax ${this.name} is the head: the loss differentiates through it`);
  }
}

export const SoftmaxModule: LayerModule = {
  className: 'Softmax',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    expectInputs(node, inputShapes, 1);
    const axis = (node.config as LayerConfigs['Softmax']).axis;
    const rank = inputShapes[0].length;
    if (axis !== -1 && axis !== rank) throw layerError(node, `axis ${axis}`, `the last axis: -1 or ${rank}`);
    return new SoftmaxLayer(node.name, inputShapes);
  },
};
