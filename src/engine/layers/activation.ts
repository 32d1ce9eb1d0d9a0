// Element-wise activation layers: Activation (any Keras activation name but softmax), ReLU (with
// max_value, negative_slope, threshold), LeakyReLU, and the activation the graph appends after a
// Dense / Conv2D / DepthwiseConv2D with a fused `activation`. y = f(x) element by element, so the
// Jacobian is diag(f'(x)) and the Hessian's extra term is f''(x) * dL/dy (BackPACK's
// elementwise derivatives). Softmax is not element-wise: only the model's head may be a softmax
// (layers/softmax.ts, handled by the loss).
import * as tf from '@tensorflow/tfjs';
import type { ActivationName, LayerConfigs, NodeSpec, Shape } from '../graphSpec';
import { apply, derivative, secondDerivative, HiddenActivation, HIDDEN_ACTIVATIONS } from './activationFunctions';
import type { ChannelRule, ForwardResult, Layer, LayerModule, Saved } from './layer';
import { expectInputs, layerError, memo, scaleRows } from './util';

/** f, f' and f'' of one element-wise function; f2 undefined where f'' vanishes almost everywhere. */
export interface Elementwise {
  f(x: tf.Tensor): tf.Tensor;
  /** f'(x) given x and y = f(x). */
  f1(x: tf.Tensor, y: tf.Tensor): tf.Tensor;
  f2?(x: tf.Tensor, y: tf.Tensor): tf.Tensor;
}

export function namedActivation(act: HiddenActivation): Elementwise {
  const curved = act !== 'linear' && act !== 'relu';
  return {
    f: (x) => apply(act, x),
    f1: (x, y) => derivative(act, x, y),
    f2: curved ? (x, y) => secondDerivative(act, x, y) : undefined,
  };
}

/** Keras ReLU: max_value if x >= max_value; x if threshold <= x < max_value; slope * (x - threshold) below. */
export function reluFamily(cfg: LayerConfigs['ReLU']): Elementwise {
  const { maxValue, negativeSlope: s, threshold: t } = cfg;
  return {
    f: (x) =>
      tf.tidy(() => {
        let y = s === 0 && t === 0 ? tf.relu(x) : tf.where(tf.greaterEqual(x, t), x, tf.mul(tf.sub(x, t), s));
        if (maxValue !== null) y = tf.minimum(y, maxValue);
        return y;
      }),
    f1: (x) =>
      tf.tidy(() => {
        let d = tf.where(tf.greaterEqual(x, t), tf.onesLike(x), tf.fill(x.shape, s));
        // Keras's relu has f'(threshold) = 0 with slope 0; at exact kinks any subgradient is a choice.
        if (s === 0) d = tf.cast(tf.greater(x, t), 'float32');
        if (maxValue !== null) d = tf.where(tf.greaterEqual(x, maxValue), tf.zerosLike(x), d);
        return d;
      }),
  };
}

export function leakyRelu(alpha: number): Elementwise {
  return {
    f: (x) => tf.leakyRelu(x, alpha),
    f1: (x) => tf.tidy(() => tf.where(tf.greater(x, 0), tf.onesLike(x), tf.fill(x.shape, alpha))),
  };
}

/** An element-wise layer instance over `fn`. */
export class ElementwiseLayer implements Layer {
  readonly weights = [];
  readonly channels: ChannelRule = { kind: 'same' };
  readonly outputShape: Shape;
  /** f''(x) * g; present only where f'' does not vanish (the graph skips the Hessian's residual pass otherwise). */
  readonly residual?: (g: tf.Tensor, s: Saved) => tf.Tensor;

  constructor(
    readonly name: string,
    readonly className: 'Activation' | 'ReLU' | 'LeakyReLU',
    readonly inputShapes: Shape[],
    readonly fn: Elementwise,
  ) {
    this.outputShape = inputShapes[0].slice();
    const f2 = fn.f2;
    if (f2) this.residual = (g, s) => tf.tidy(() => tf.mul(f2(s.inputs[0], s.output), g));
  }

  forward(inputs: tf.Tensor[]): ForwardResult {
    return { output: this.fn.f(inputs[0]), cache: {} };
  }

  private slope(s: Saved): tf.Tensor {
    return memo(s.memo, 'f1', () => this.fn.f1(s.inputs[0], s.output));
  }

  inputGrads(g: tf.Tensor, s: Saved, _w: tf.Tensor[], c: number, need: boolean[]): (tf.Tensor | undefined)[] {
    return [need[0] ? scaleRows(g, this.slope(s), c) : undefined];
  }

  diagonalThrough(D: tf.Tensor, s: Saved): tf.Tensor {
    return tf.tidy(() => tf.mul(D, tf.square(this.slope(s))));
  }

  squaredJacobianT(D: tf.Tensor, s: Saved): tf.Tensor {
    return this.diagonalThrough(D, s);
  }
}

/** The element-wise function of an activation name; softmax is refused here (head only). */
export function activationFor(node: Pick<NodeSpec, 'name' | 'className'>, act: ActivationName): Elementwise {
  if (act === 'softmax')
    throw layerError(
      node,
      'softmax inside the network',
      'softmax only as the last layer (the classification head); other layers may use ' + HIDDEN_ACTIVATIONS.join(', '),
    );
  if (!(HIDDEN_ACTIVATIONS as readonly string[]).includes(act))
    throw layerError(node, `unknown activation ${String(act)}`, HIDDEN_ACTIVATIONS.join(', '));
  return namedActivation(act as HiddenActivation);
}

export const ActivationModule: LayerModule = {
  className: 'Activation',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    expectInputs(node, inputShapes, 1);
    const cfg = node.config as LayerConfigs['Activation'];
    return new ElementwiseLayer(node.name, 'Activation', inputShapes, activationFor(node, cfg.activation));
  },
};

export const ReLUModule: LayerModule = {
  className: 'ReLU',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    expectInputs(node, inputShapes, 1);
    const cfg = node.config as LayerConfigs['ReLU'];
    if (cfg.maxValue !== null && !(cfg.maxValue > cfg.threshold))
      throw layerError(
        node,
        `max_value ${cfg.maxValue} is not above threshold ${cfg.threshold}`,
        'max_value > threshold',
      );
    return new ElementwiseLayer(node.name, 'ReLU', inputShapes, reluFamily(cfg));
  },
};

export const LeakyReLUModule: LayerModule = {
  className: 'LeakyReLU',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    expectInputs(node, inputShapes, 1);
    const cfg = node.config as LayerConfigs['LeakyReLU'];
    return new ElementwiseLayer(node.name, 'LeakyReLU', inputShapes, leakyRelu(cfg.alpha));
  },
};
