// How each layer of a GraphSpec relates its output channels to its input channels, and which axis
// of which weight a channel indexes: the facts channel pruning is built on. Channels are the last
// axis (NHWC), or the units of a rank-1 tensor.
// (The same rules as the layer modules' ChannelRule in src/engine/layers; this GraphSpec-level
// table serves pruning until every layer class has a module.)
import type { GraphSpec, LayerConfigs, NodeSpec, Shape } from '../graphSpec';
import { inferShapes, sizeOf } from '../model/graphShapes';
import { windowGeometry } from '../model/windowGeometry';

/**
 * - new: the layer makes its own output channels (Dense, Conv2D);
 * - same: output channel c is input channel c, for every input (activations, BN, pooling, Add, padding);
 * - depthwise: output channels c * multiplier + j come from input channel c;
 * - concat: input i's channel c is output channel offsets[i] + c;
 * - flatten: input channel c becomes the outputs p * channels + c for every position p;
 * - opaque: no channel correspondence; channels on either side cannot be removed.
 */
export type ChannelRule =
  | { kind: 'new' }
  | { kind: 'same' }
  | { kind: 'depthwise'; multiplier: number }
  | { kind: 'concat'; offsets: number[] }
  | { kind: 'flatten'; channels: number; positions: number }
  | { kind: 'opaque' };

/** A weight axis indexed by the channels of the node's (first) input or of its output. */
export interface WeightAxis {
  weight: string;
  axis: number;
  side: 'input' | 'output';
}

export interface NodeChannels {
  node: NodeSpec;
  inputShapes: Shape[];
  outputShape: Shape;
  rule: ChannelRule;
  axes: WeightAxis[];
  /** The output's channels are coupled (softmax over them): none of them can be removed. */
  outputCoupled: boolean;
  /** A window of the layer (convolution) reaches into padding: a constant input is not constant at its output. */
  padded: boolean;
}

const lastDim = (s: Shape) => s[s.length - 1];

function ruleOf(node: NodeSpec, ins: Shape[], out: Shape): ChannelRule {
  const x = ins[0];
  switch (node.className) {
    case 'Dense':
    case 'Conv2D':
      return { kind: 'new' };
    case 'DepthwiseConv2D':
      return { kind: 'depthwise', multiplier: (node.config as LayerConfigs['DepthwiseConv2D']).depthMultiplier };
    case 'Flatten':
      return x.length >= 2
        ? { kind: 'flatten', channels: lastDim(x), positions: sizeOf(x) / lastDim(x) }
        : { kind: 'same' };
    case 'Reshape':
      if (x.length >= 2 && out.length >= 2 && lastDim(out) === lastDim(x)) return { kind: 'same' };
      if (out.length === 1)
        return x.length >= 2
          ? { kind: 'flatten', channels: lastDim(x), positions: sizeOf(x) / lastDim(x) }
          : { kind: 'same' };
      return { kind: 'opaque' };
    case 'Concatenate': {
      const axis = (node.config as LayerConfigs['Concatenate']).axis;
      if (axis !== -1 && axis !== x.length) return { kind: 'opaque' };
      const offsets: number[] = [];
      let o = 0;
      for (const s of ins) {
        offsets.push(o);
        o += lastDim(s);
      }
      return { kind: 'concat', offsets };
    }
    case 'Softmax': {
      const axis = (node.config as LayerConfigs['Softmax']).axis;
      return axis === -1 || axis === x.length ? { kind: 'opaque' } : { kind: 'same' };
    }
    case 'Normalization': {
      const C = lastDim(x);
      const ok = node.weights.every((w) => sizeOf(w.shape) === 1 || (sizeOf(w.shape) === C && lastDim(w.shape) === C));
      return ok ? { kind: 'same' } : { kind: 'opaque' };
    }
    case 'Rescaling': {
      const { scale, offset } = node.config as LayerConfigs['Rescaling'];
      const ok = [scale, offset].every((v) => typeof v === 'number' || v.length === 1 || v.length === lastDim(x));
      return ok ? { kind: 'same' } : { kind: 'opaque' };
    }
    default:
      return { kind: 'same' };
  }
}

function axesOf(node: NodeSpec, rule: ChannelRule): WeightAxis[] {
  const out: WeightAxis[] = [];
  for (const w of node.weights) {
    const r = w.shape.length;
    switch (node.className) {
      case 'Dense':
      case 'Conv2D':
        if (w.name === 'kernel')
          out.push({ weight: w.name, axis: r - 2, side: 'input' }, { weight: w.name, axis: r - 1, side: 'output' });
        else out.push({ weight: w.name, axis: 0, side: 'output' });
        break;
      case 'DepthwiseConv2D':
        // The multiplier axis is not sliced: output channel c * mult + j follows input channel c.
        out.push(
          w.name === 'depthwise_kernel'
            ? { weight: w.name, axis: 2, side: 'input' }
            : { weight: w.name, axis: 0, side: 'output' },
        );
        break;
      case 'BatchNormalization':
        out.push({ weight: w.name, axis: 0, side: 'output' });
        break;
      case 'Normalization':
        if (rule.kind === 'same' && sizeOf(w.shape) > 1) out.push({ weight: w.name, axis: r - 1, side: 'output' });
        break;
    }
  }
  return out;
}

function isPadded(node: NodeSpec, x: Shape): boolean {
  if (node.className !== 'Conv2D' && node.className !== 'DepthwiseConv2D') return false;
  const c = node.config as LayerConfigs['Conv2D'];
  return windowGeometry(x, c.kernelSize, c.strides, c.dilationRate, c.padding).padded;
}

/** The channel view of every node, in graph order. */
export function channelView(spec: GraphSpec): NodeChannels[] {
  const shapes = inferShapes(spec);
  return spec.nodes.map((node) => {
    const inputShapes = node.inputs.map((n) => shapes.get(n)!);
    const outputShape = shapes.get(node.name)!;
    const rule = ruleOf(node, inputShapes, outputShape);
    const act = (node.config as { activation?: string }).activation;
    return {
      node,
      inputShapes,
      outputShape,
      rule,
      axes: axesOf(node, rule),
      outputCoupled: act === 'softmax',
      padded: isPadded(node, inputShapes[0]),
    };
  });
}
