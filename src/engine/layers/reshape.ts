// Flatten (row-major over H, W, C, as Keras on NHWC) and Reshape: a permutation-free relabelling of
// the same numbers, so every backward quantity is reshaped back, diagonal terms included.
import * as tf from '@tensorflow/tfjs';
import type { LayerConfigs, NodeSpec, Shape } from '../graphSpec';
import type { ChannelRule, ForwardResult, Layer, LayerModule, Saved } from './layer';
import { expectInputs, layerError, sizeOf } from './util';

export class ReshapeLayer implements Layer {
  readonly weights = [];
  constructor(
    readonly name: string,
    readonly className: 'Flatten' | 'Reshape',
    readonly inputShapes: Shape[],
    readonly outputShape: Shape,
    readonly channels: ChannelRule,
  ) {}

  forward(inputs: tf.Tensor[]): ForwardResult {
    const x = inputs[0];
    return { output: tf.reshape(x, [x.shape[0], ...this.outputShape]), cache: {} };
  }

  inputGrads(g: tf.Tensor, _s: Saved, _w: tf.Tensor[], _c: number, need: boolean[]): (tf.Tensor | undefined)[] {
    return [need[0] ? tf.reshape(g, [g.shape[0], ...this.inputShapes[0]]) : undefined];
  }

  diagonalThrough(D: tf.Tensor): tf.Tensor {
    return tf.reshape(D, [D.shape[0], ...this.inputShapes[0]]);
  }

  squaredJacobianT(D: tf.Tensor): tf.Tensor {
    return this.diagonalThrough(D);
  }
}

export const FlattenModule: LayerModule = {
  className: 'Flatten',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    expectInputs(node, inputShapes, 1);
    const s = inputShapes[0];
    const channels: ChannelRule =
      s.length >= 2
        ? { kind: 'flatten', channels: s[s.length - 1], positions: sizeOf(s) / s[s.length - 1] }
        : { kind: 'same' };
    return new ReshapeLayer(node.name, 'Flatten', inputShapes, [sizeOf(s)], channels);
  },
};

export const ReshapeModule: LayerModule = {
  className: 'Reshape',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    expectInputs(node, inputShapes, 1);
    const target = (node.config as LayerConfigs['Reshape']).targetShape;
    const size = sizeOf(inputShapes[0]);
    const free = target.filter((d) => d === -1).length;
    const known = target.filter((d) => d !== -1);
    const expected = `target_shape of positive sizes (at most one -1) with ${size} elements in all`;
    if (free > 1 || known.some((d) => !Number.isInteger(d) || d <= 0))
      throw layerError(node, `target_shape [${target.join(', ')}]`, expected);
    const rest = sizeOf(known);
    const out = target.map((d) => (d === -1 ? size / rest : d));
    if (!Number.isInteger(sizeOf(out)) || sizeOf(out) !== size || out.some((d) => !Number.isInteger(d)))
      throw layerError(node, `cannot reshape [${inputShapes[0].join(', ')}] into [${target.join(', ')}]`, expected);
    const inShape = inputShapes[0];
    const inChannels = inShape[inShape.length - 1];
    // Rank 1 from an image is a Flatten; keeping the last axis keeps the channels; anything else mixes them.
    const channels: ChannelRule =
      out.length === 1 && inShape.length > 1
        ? { kind: 'flatten', channels: inChannels, positions: size / inChannels }
        : out[out.length - 1] === inChannels && inShape.length > 1 && out.length > 1
          ? { kind: 'same' }
          : { kind: 'opaque' };
    return new ReshapeLayer(node.name, 'Reshape', inputShapes, out, channels);
  },
};
