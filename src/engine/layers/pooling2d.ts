// MaxPooling2D and AveragePooling2D (Keras; NHWC, TF padding: padded cells are never a maximum and
// do not count in an average). No weights. Max pooling keeps, per output, where its maximum is
// (wasm backend), so any block of rows goes back through one scatter; its Jacobian selects one input
// per output, so J^T diag(D) J is diagonal and diagonal Hessian terms pass through exactly.
import * as tf from '@tensorflow/tfjs';
import type { LayerConfigs, NodeSpec, Shape } from '../graphSpec';
import type { ChannelRule, ForwardResult, Layer, LayerModule, Saved } from './layer';
import { expectInputs, memo } from './util';
import type { WindowSpec } from './conv/conv2d';
import { avgPoolBackward, avgPoolForward, maxPoolBackward, maxPoolForward, poolGeometry } from './conv/pooling';
import { validCounts } from './conv/patches';
import { windowSpec } from './conv/config';
import { outputSize } from './conv/geometry';

export class MaxPooling2DLayer implements Layer {
  readonly weights = [];
  readonly channels: ChannelRule = { kind: 'same' };
  readonly outputShape: Shape;

  constructor(
    readonly name: string,
    readonly className: 'MaxPooling2D' | 'GlobalMaxPooling2D',
    readonly inputShapes: Shape[],
    readonly spec: WindowSpec,
    /** The output shape as the layer reports it (global pooling drops the 1 x 1 grid unless keepdims). */
    outputShape?: Shape,
  ) {
    this.outputShape = outputShape ?? [...outputSize(inputShapes[0], spec), inputShapes[0][2]];
  }

  private grid(t: tf.Tensor): tf.Tensor4D {
    const [oh, ow] = outputSize(this.inputShapes[0], this.spec);
    return t.reshape([t.shape[0], oh, ow, this.inputShapes[0][2]]);
  }

  forward(inputs: tf.Tensor[]): ForwardResult {
    const { output, argmax } = maxPoolForward(inputs[0] as tf.Tensor4D, this.spec);
    const out = output.reshape([output.shape[0], ...this.outputShape]);
    if (out !== output) output.dispose();
    return { output: out, cache: argmax ? { rows: { argmax } } : {} };
  }

  /** The VJP of a block of rows (c per sample). */
  private back(g: tf.Tensor, s: Saved): tf.Tensor {
    const x = s.inputs[0] as tf.Tensor4D;
    return tf.tidy(() =>
      maxPoolBackward(
        this.grid(g),
        { x, output: this.grid(s.output), argmax: s.cache.rows?.argmax as tf.Tensor4D },
        this.spec,
      ),
    );
  }

  inputGrads(g: tf.Tensor, s: Saved, _w: tf.Tensor[], _c: number, need: boolean[]): (tf.Tensor | undefined)[] {
    return [need[0] ? this.back(g, s) : undefined];
  }

  diagonalThrough(D: tf.Tensor, s: Saved): tf.Tensor {
    return this.back(D, s);
  }

  squaredJacobianT(D: tf.Tensor, s: Saved): tf.Tensor {
    return this.back(D, s);
  }
}

export class AveragePooling2DLayer implements Layer {
  readonly weights = [];
  readonly channels: ChannelRule = { kind: 'same' };
  readonly outputShape: Shape;
  readonly className = 'AveragePooling2D' as const;

  constructor(
    readonly name: string,
    readonly inputShapes: Shape[],
    readonly spec: WindowSpec,
  ) {
    this.outputShape = [...outputSize(inputShapes[0], spec), inputShapes[0][2]];
  }

  forward(inputs: tf.Tensor[]): ForwardResult {
    return { output: avgPoolForward(inputs[0] as tf.Tensor4D, this.spec), cache: {} };
  }

  inputGrads(g: tf.Tensor, _s: Saved, _w: tf.Tensor[], _c: number, need: boolean[]): (tf.Tensor | undefined)[] {
    return [need[0] ? avgPoolBackward(g as tf.Tensor4D, this.inputShapes[0], this.spec) : undefined];
  }

  /** sum_o J_oi^2 D_o with J_oi = 1 / count_o: the VJP of D / count. */
  squaredJacobianT(D: tf.Tensor, s: Saved): tf.Tensor {
    const geo = poolGeometry([1, ...this.inputShapes[0]], this.spec);
    const counts = memo(s.memo, 'counts', () => tf.tensor(validCounts(geo), [1, geo.oh, geo.ow, 1]));
    return tf.tidy(() => avgPoolBackward(tf.div(D, counts) as tf.Tensor4D, this.inputShapes[0], this.spec));
  }
}

function poolSpec(node: NodeSpec, inputShapes: Shape[]): WindowSpec {
  expectInputs(node, inputShapes, 1);
  const cfg = node.config as LayerConfigs['MaxPooling2D'];
  return windowSpec(node, inputShapes[0], cfg.poolSize, cfg.strides, cfg.padding, [1, 1], 'pool_size');
}

export const MaxPooling2DModule: LayerModule = {
  className: 'MaxPooling2D',
  create: (node, inputShapes) =>
    new MaxPooling2DLayer(node.name, 'MaxPooling2D', inputShapes, poolSpec(node, inputShapes)),
};

export const AveragePooling2DModule: LayerModule = {
  className: 'AveragePooling2D',
  create: (node, inputShapes) => new AveragePooling2DLayer(node.name, inputShapes, poolSpec(node, inputShapes)),
};
