// Normalization (Keras preprocessing): y = (x - mean) / max(sqrt(variance), epsilon), with mean and
// variance non-trainable weights shaped to broadcast from the right ([c] per channel, [] for one
// value). A fixed element-wise affine map (rescaling.ts).
import * as tf from '@tensorflow/tfjs';
import type { LayerConfigs, NodeSpec, Shape } from '../graphSpec';
import type { Layer, LayerModule, WeightDecl } from './layer';
import { expectInputs, layerError } from './util';
import { ChannelAffineLayer } from './rescaling';

export class NormalizationLayer extends ChannelAffineLayer {
  readonly className = 'Normalization' as const;
  readonly weights: WeightDecl[];

  constructor(
    name: string,
    inputShapes: Shape[],
    statShape: Shape,
    readonly epsilon: number,
  ) {
    super(name, inputShapes);
    // A per-channel statistic follows the channel when channels are pruned.
    const axis = statShape.length === 1 && statShape[0] > 1 ? 0 : null;
    this.weights = [
      { name: 'mean', shape: statShape, trainable: false, init: 'zeros', outputAxis: axis, inputAxis: axis },
      { name: 'variance', shape: statShape, trainable: false, init: 'ones', outputAxis: axis, inputAxis: axis },
    ];
  }

  protected affine(w: tf.Tensor[]): { scale: tf.Tensor; offset: tf.Tensor } {
    return tf.tidy(() => {
      const scale = tf.div(1, tf.maximum(tf.sqrt(w[1]), this.epsilon));
      return { scale, offset: tf.neg(tf.mul(w[0], scale)) };
    });
  }
}

export const NormalizationModule: LayerModule = {
  className: 'Normalization',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    expectInputs(node, inputShapes, 1);
    const cfg = node.config as LayerConfigs['Normalization'];
    const inShape = inputShapes[0];
    const stat = node.weights.find((d) => d.name === 'mean')?.shape ?? [inShape[inShape.length - 1]];
    // Broadcasting from the right: each stat dimension is 1 or the input's matching dimension.
    const fits =
      stat.length <= inShape.length && stat.every((d, i) => d === 1 || d === inShape[inShape.length - stat.length + i]);
    if (!fits)
      throw layerError(
        node,
        `mean has shape [${stat.join(', ')}]`,
        `a shape broadcasting against [${inShape.join(', ')}]`,
      );
    if (!(cfg.epsilon >= 0)) throw layerError(node, `epsilon = ${cfg.epsilon}`, 'a non-negative number');
    return new NormalizationLayer(node.name, inputShapes, stat, cfg.epsilon);
  },
};
