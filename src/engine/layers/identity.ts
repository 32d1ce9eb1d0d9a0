// Layers that are the identity at inference, which is how analysis sees them: Dropout,
// SpatialDropout2D, GaussianNoise, GaussianDropout and Keras's random augmentation layers (the
// GraphSpec calls them all Identity and keeps the original class in `kind`). Training here is
// deterministic too: PruneScope's own training applies no dropout or augmentation.
import * as tf from '@tensorflow/tfjs';
import type { NodeSpec, Shape } from '../graphSpec';
import type { ChannelRule, ForwardResult, Layer, LayerModule, Saved } from './layer';
import { expectInputs } from './util';

export class IdentityLayer implements Layer {
  readonly className = 'Identity' as const;
  readonly weights = [];
  readonly channels: ChannelRule = { kind: 'same' };
  readonly outputShape: Shape;
  constructor(
    readonly name: string,
    readonly inputShapes: Shape[],
  ) {
    this.outputShape = inputShapes[0].slice();
  }

  forward(inputs: tf.Tensor[]): ForwardResult {
    return { output: inputs[0].clone(), cache: {} };
  }

  inputGrads(g: tf.Tensor, _s: Saved, _w: tf.Tensor[], _c: number, need: boolean[]): (tf.Tensor | undefined)[] {
    return [need[0] ? g.clone() : undefined];
  }

  diagonalThrough(D: tf.Tensor): tf.Tensor {
    return D.clone();
  }

  squaredJacobianT(D: tf.Tensor): tf.Tensor {
    return D.clone();
  }
}

export const IdentityModule: LayerModule = {
  className: 'Identity',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    expectInputs(node, inputShapes, 1);
    return new IdentityLayer(node.name, inputShapes);
  },
};
