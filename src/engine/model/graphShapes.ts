// Output shapes of every node of a GraphSpec (NHWC, no batch dimension), from the configs and the
// input shapes alone: what channel grouping, FLOP counts and the student's configs need without
// building tensors. TF's padding rule: `same` gives ceil(in / stride) with the odd pixel after.
import { PruneScopeError } from '../errors';
import type { GraphSpec, LayerConfigs, NodeSpec, Pair, Shape } from './graphSpec';

export const sizeOf = (s: Shape): number => s.reduce((a, b) => a * b, 1);

/** Output length and padding before / after of one spatial axis under TF's rules. */
export function padding1d(
  inSize: number,
  k: number,
  stride: number,
  dilation: number,
  mode: 'same' | 'valid',
): { out: number; before: number; after: number } {
  const kEff = (k - 1) * dilation + 1;
  if (mode === 'valid') return { out: Math.floor((inSize - kEff) / stride) + 1, before: 0, after: 0 };
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + kEff - inSize, 0);
  return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) };
}

/** Spatial geometry of a windowed layer (convolution or pooling) on an [H, W, C] input. */
export function windowGeometry(
  input: Shape,
  kernel: Pair,
  strides: Pair,
  dilation: Pair,
  padding: 'same' | 'valid',
): { outH: number; outW: number; padded: boolean } {
  const h = padding1d(input[0], kernel[0], strides[0], dilation[0], padding);
  const w = padding1d(input[1], kernel[1], strides[1], dilation[1], padding);
  return { outH: h.out, outW: w.out, padded: h.before + h.after + w.before + w.after > 0 };
}

function fail(node: NodeSpec, what: string, expected: string): PruneScopeError {
  return new PruneScopeError('bad-input', `${node.name} (${node.className}): ${what}`, {
    field: `layers.${node.name}`,
    expected,
  });
}

function image(node: NodeSpec, s: Shape): Shape {
  if (s.length !== 3) throw fail(node, `input shape [${s.join(', ')}]`, 'an [height, width, channels] input');
  return s;
}

function outputShape(node: NodeSpec, ins: Shape[]): Shape {
  const x = ins[0];
  const c = node.config as LayerConfigs[keyof LayerConfigs];
  switch (node.className) {
    case 'Dense':
      return [...x.slice(0, -1), (c as LayerConfigs['Dense']).units];
    case 'Conv2D': {
      const k = c as LayerConfigs['Conv2D'];
      const g = windowGeometry(image(node, x), k.kernelSize, k.strides, k.dilationRate, k.padding);
      return [g.outH, g.outW, k.filters];
    }
    case 'DepthwiseConv2D': {
      const k = c as LayerConfigs['DepthwiseConv2D'];
      const g = windowGeometry(image(node, x), k.kernelSize, k.strides, k.dilationRate, k.padding);
      return [g.outH, g.outW, x[2] * k.depthMultiplier];
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const k = c as LayerConfigs['MaxPooling2D'];
      const g = windowGeometry(image(node, x), k.poolSize, k.strides, [1, 1], k.padding);
      return [g.outH, g.outW, x[2]];
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
      image(node, x);
      return (c as LayerConfigs['GlobalMaxPooling2D']).keepdims ? [1, 1, x[2]] : [x[2]];
    case 'ZeroPadding2D': {
      const [[t, b], [l, r]] = (c as LayerConfigs['ZeroPadding2D']).padding;
      image(node, x);
      return [x[0] + t + b, x[1] + l + r, x[2]];
    }
    case 'Flatten':
      return [sizeOf(x)];
    case 'Reshape': {
      const target = (c as LayerConfigs['Reshape']).targetShape;
      const known = sizeOf(target.filter((d) => d !== -1));
      const out = target.map((d) => (d === -1 ? sizeOf(x) / known : d));
      if (sizeOf(out) !== sizeOf(x) || !out.every((d) => Number.isInteger(d) && d > 0))
        throw fail(node, `cannot reshape [${x.join(', ')}] to [${target.join(', ')}]`, 'the same number of elements');
      return out;
    }
    case 'Add':
      for (const s of ins)
        if (s.join() !== x.join())
          throw fail(node, `inputs of shapes ${ins.map((v) => `[${v.join(', ')}]`).join(', ')}`, 'equal shapes');
      return [...x];
    case 'Concatenate': {
      const rank = x.length;
      for (const s of ins)
        if (s.length !== rank || s.slice(0, -1).join() !== x.slice(0, -1).join())
          throw fail(node, 'inputs differ outside the channel axis', 'equal shapes but for the last axis');
      return [...x.slice(0, -1), ins.reduce((a, s) => a + s[rank - 1], 0)];
    }
    default:
      // Element-wise and per-channel maps: BatchNormalization, Normalization, Rescaling,
      // activations, Identity.
      return [...x];
  }
}

/** Shape of every graph input and node output, by name. */
export function graphShapes(spec: GraphSpec): Map<string, Shape> {
  const shapes = new Map<string, Shape>();
  for (const i of spec.inputs) shapes.set(i.name, [...i.shape]);
  for (const node of spec.nodes) {
    const ins = node.inputs.map((name) => {
      const s = shapes.get(name);
      if (!s) throw fail(node, `reads ${name}, which is not defined before it`, 'a topologically ordered graph');
      return s;
    });
    if (ins.length === 0) throw fail(node, 'has no inputs', 'at least one input');
    shapes.set(node.name, outputShape(node, ins));
  }
  return shapes;
}
