// Rescaling (Keras): y = x * scale + offset, scale and offset scalars or one value per channel (last
// axis). A fixed element-wise affine map: the Jacobian is diag(scale), so the VJP is g * scale and a
// diagonal term D passes through as D * scale^2. Normalization (normalization.ts) is the same map
// with scale and offset read from its mean and variance.
import * as tf from '@tensorflow/tfjs';
import type { LayerClass, LayerConfigs, NodeSpec, Shape } from '../graphSpec';
import type { ChannelRule, ForwardResult, Layer, LayerModule, Saved, WeightDecl } from './layer';
import { expectInputs, layerError, memo } from './util';

/** y = x * scale + offset with scale and offset derived from the weights (or fixed). */
export abstract class ChannelAffineLayer implements Layer {
  readonly channels: ChannelRule = { kind: 'same' };
  readonly outputShape: Shape;
  abstract readonly className: LayerClass;
  abstract readonly weights: WeightDecl[];

  constructor(
    readonly name: string,
    readonly inputShapes: Shape[],
  ) {
    this.outputShape = inputShapes[0].slice();
  }

  /** scale and offset, broadcasting against [n, ...shape] from the right. */
  protected abstract affine(w: tf.Tensor[]): { scale: tf.Tensor; offset: tf.Tensor };

  forward(inputs: tf.Tensor[], w: tf.Tensor[]): ForwardResult {
    return {
      output: tf.tidy(() => {
        const { scale, offset } = this.affine(w);
        return tf.add(tf.mul(inputs[0], scale), offset);
      }),
      cache: {},
    };
  }

  private scale(s: Saved, w: tf.Tensor[], square: boolean): tf.Tensor {
    return memo(s.memo, square ? 'scale2' : 'scale', () => {
      const { scale, offset } = this.affine(w);
      offset.dispose();
      if (!square) return scale;
      const s2 = tf.square(scale);
      scale.dispose();
      return s2;
    });
  }

  inputGrads(g: tf.Tensor, s: Saved, w: tf.Tensor[], _c: number, need: boolean[]): (tf.Tensor | undefined)[] {
    return [need[0] ? tf.mul(g, this.scale(s, w, false)) : undefined];
  }

  diagonalThrough(D: tf.Tensor, s: Saved, w: tf.Tensor[]): tf.Tensor {
    return tf.mul(D, this.scale(s, w, true));
  }

  squaredJacobianT(D: tf.Tensor, s: Saved, w: tf.Tensor[]): tf.Tensor {
    return this.diagonalThrough(D, s, w);
  }
}

function asTensor(v: number | number[]): tf.Tensor {
  return typeof v === 'number' ? tf.scalar(v) : v.length === 1 ? tf.scalar(v[0]) : tf.tensor1d(v);
}

export class RescalingLayer extends ChannelAffineLayer {
  readonly className = 'Rescaling' as const;
  readonly weights: WeightDecl[] = [];

  constructor(
    name: string,
    inputShapes: Shape[],
    readonly cfg: LayerConfigs['Rescaling'],
  ) {
    super(name, inputShapes);
  }

  protected affine(): { scale: tf.Tensor; offset: tf.Tensor } {
    return { scale: asTensor(this.cfg.scale), offset: asTensor(this.cfg.offset) };
  }
}

export const RescalingModule: LayerModule = {
  className: 'Rescaling',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    expectInputs(node, inputShapes, 1);
    const cfg = node.config as LayerConfigs['Rescaling'];
    const channels = inputShapes[0][inputShapes[0].length - 1];
    for (const key of ['scale', 'offset'] as const) {
      const v = cfg[key];
      const ok =
        typeof v === 'number'
          ? Number.isFinite(v)
          : Array.isArray(v) && (v.length === 1 || v.length === channels) && v.every(Number.isFinite);
      if (!ok)
        throw layerError(node, `${key} = ${JSON.stringify(v)}`, `a number or ${channels} numbers (one per channel)`);
    }
    return new RescalingLayer(node.name, inputShapes, cfg);
  },
};
