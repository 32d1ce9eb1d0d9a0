// Size and arithmetic cost of a GraphSpec per layer. FLOPs are counted as multiply-adds per
// example: the weighted linear maps (Dense: inputs x units per position; Conv2D: output positions x
// kh x kw x in x out; DepthwiseConv2D: output positions x kh x kw x in x multiplier) and the
// per-channel affine maps at inference (BatchNormalization, Normalization, Rescaling: one per
// output element). Bias additions, activations, pooling and Add are not multiply-adds and are not
// counted. Weight bytes are 4 per stored value (float32), trainable or not.
import type { GraphSpec, LayerConfigs, NodeSpec, Shape } from '../graphSpec';
import { inferShapes, sizeOf } from './graphShapes';

export interface LayerCost {
  node: string;
  className: string;
  outputShape: Shape;
  /** Trainable parameters (the flat index's share of the layer). */
  params: number;
  /** Non-trainable stored values (moving statistics, Normalization's mean and variance). */
  state: number;
  weightBytes: number;
  /** Multiply-adds per example. */
  macs: number;
}

export interface GraphCost {
  layers: LayerCost[];
  params: number;
  state: number;
  weightBytes: number;
  macs: number;
}

function macsOf(node: NodeSpec, ins: Shape[], out: Shape): number {
  const x = ins[0];
  switch (node.className) {
    case 'Dense':
      return sizeOf(x) * out[out.length - 1];
    case 'Conv2D': {
      const [kh, kw] = (node.config as LayerConfigs['Conv2D']).kernelSize;
      return out[0] * out[1] * kh * kw * x[2] * out[2];
    }
    case 'DepthwiseConv2D': {
      const [kh, kw] = (node.config as LayerConfigs['DepthwiseConv2D']).kernelSize;
      return out[0] * out[1] * kh * kw * out[2];
    }
    case 'BatchNormalization':
    case 'Normalization':
    case 'Rescaling':
      return sizeOf(out);
    default:
      return 0;
  }
}

export function graphCost(spec: GraphSpec): GraphCost {
  const shapes = inferShapes(spec);
  const layers = spec.nodes.map((node): LayerCost => {
    const ins = node.inputs.map((n) => shapes.get(n)!);
    const out = shapes.get(node.name)!;
    let params = 0;
    let state = 0;
    for (const w of node.weights) {
      if (w.trainable) params += sizeOf(w.shape);
      else state += sizeOf(w.shape);
    }
    return {
      node: node.name,
      className: node.className,
      outputShape: out,
      params,
      state,
      weightBytes: 4 * (params + state),
      macs: macsOf(node, ins, out),
    };
  });
  const sum = (f: (l: LayerCost) => number) => layers.reduce((a, l) => a + f(l), 0);
  return {
    layers,
    params: sum((l) => l.params),
    state: sum((l) => l.state),
    weightBytes: sum((l) => l.weightBytes),
    macs: sum((l) => l.macs),
  };
}
