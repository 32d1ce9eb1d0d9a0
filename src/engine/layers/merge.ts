// Merges: Add (same shapes; the gradient goes to every input unchanged) and Concatenate along the
// channel (last) axis (the gradient is split back). Neither has a diagonal Jacobian from one input,
// so diagonal Hessian terms crossing them are expanded into factors by the graph (exact).
import * as tf from '@tensorflow/tfjs';
import type { LayerConfigs, NodeSpec, Shape } from '../graphSpec';
import type { ChannelRule, ForwardResult, Layer, LayerModule, Saved } from './layer';
import { expectInputs, layerError, sameShape } from './util';

export class AddLayer implements Layer {
  readonly className = 'Add' as const;
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
    return { output: inputs.length === 2 ? tf.add(inputs[0], inputs[1]) : tf.addN(inputs), cache: {} };
  }

  inputGrads(g: tf.Tensor, _s: Saved, _w: tf.Tensor[], _c: number, need: boolean[]): (tf.Tensor | undefined)[] {
    return need.map((n) => (n ? g.clone() : undefined));
  }
}

export class ConcatenateLayer implements Layer {
  readonly className = 'Concatenate' as const;
  readonly weights = [];
  readonly channels: ChannelRule;
  readonly outputShape: Shape;
  private readonly widths: number[];
  constructor(
    readonly name: string,
    readonly inputShapes: Shape[],
  ) {
    this.widths = inputShapes.map((s) => s[s.length - 1]);
    const first = inputShapes[0];
    this.outputShape = [...first.slice(0, -1), this.widths.reduce((a, b) => a + b, 0)];
    const offsets: number[] = [];
    this.widths.reduce((o, w) => (offsets.push(o), o + w), 0);
    this.channels = { kind: 'concat', offsets };
  }

  forward(inputs: tf.Tensor[]): ForwardResult {
    return { output: tf.concat(inputs, -1), cache: {} };
  }

  inputGrads(g: tf.Tensor, _s: Saved, _w: tf.Tensor[], _c: number, need: boolean[]): (tf.Tensor | undefined)[] {
    if (!need.some(Boolean)) return need.map(() => undefined);
    const parts = tf.split(g, this.widths, -1);
    return parts.map((p, i) => {
      if (need[i]) return p;
      p.dispose();
      return undefined;
    });
  }
}

export const AddModule: LayerModule = {
  className: 'Add',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    expectInputs(node, inputShapes, 'many');
    const bad = inputShapes.findIndex((s) => !sameShape(s, inputShapes[0]));
    if (bad >= 0)
      throw layerError(
        node,
        `input ${bad} has shape [${inputShapes[bad].join(', ')}], input 0 [${inputShapes[0].join(', ')}]`,
        'inputs of one shape (no broadcasting)',
      );
    return new AddLayer(node.name, inputShapes);
  },
};

export const ConcatenateModule: LayerModule = {
  className: 'Concatenate',
  create(node: NodeSpec, inputShapes: Shape[]): Layer {
    expectInputs(node, inputShapes, 'many');
    const rank = inputShapes[0].length;
    const axis = (node.config as LayerConfigs['Concatenate']).axis;
    // Keras counts the batch axis: the channel axis of a rank-r sample is r (or -1).
    if (axis !== -1 && axis !== rank) throw layerError(node, `axis ${axis}`, `the channel (last) axis: -1 or ${rank}`);
    const bad = inputShapes.findIndex(
      (s) => s.length !== rank || !sameShape(s.slice(0, -1), inputShapes[0].slice(0, -1)),
    );
    if (bad >= 0)
      throw layerError(
        node,
        `input ${bad} has shape [${inputShapes[bad].join(', ')}], input 0 [${inputShapes[0].join(', ')}]`,
        'inputs that differ only in the channel (last) axis',
      );
    return new ConcatenateLayer(node.name, inputShapes);
  },
};
