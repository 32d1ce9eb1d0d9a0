// Shapes through a GraphSpec (batch dimension excluded, NHWC) and the Keras-layout weights each
// node must carry. Readers use them to check a file's weights before reading any, writers to
// describe tensors, and both refuse a graph whose shapes do not fit with the node named.
import { PruneScopeError } from '../errors';
import type { GraphSpec, LayerClass, LayerConfigs, NodeSpec, Shape } from '../graphSpec';

export const nodeField = (n: { name: string; className: string; source?: unknown }): string =>
  `layer ${n.name} (${sourceClass(n)})`;

/** The class the file named (an Identity node remembers it as `kind`). */
export function sourceClass(n: { className: string; config?: unknown }): string {
  if (n.className === 'Identity') {
    const k = (n.config as { kind?: unknown } | undefined)?.kind;
    if (typeof k === 'string') return k;
  }
  return n.className;
}

export const shapeText = (s: Shape): string => `[${s.join(', ')}]`;
export const sizeOf = (s: Shape): number => s.reduce((a, b) => a * b, 1);

function fail(file: string | undefined, n: NodeSpec, msg: string, expected?: string): PruneScopeError {
  return new PruneScopeError('bad-input', msg, { file, field: nodeField(n), expected });
}

/** Output length of a windowed op along one axis, as TensorFlow defines 'same' and 'valid'. */
export function windowOut(len: number, k: number, s: number, padding: 'same' | 'valid'): number {
  return padding === 'same' ? Math.ceil(len / s) : Math.floor((len - k) / s) + 1;
}

function spatial(
  n: NodeSpec,
  inp: Shape,
  k: [number, number],
  s: [number, number],
  padding: 'same' | 'valid',
  channels: number,
  file?: string,
): Shape {
  if (inp.length !== 3)
    throw fail(file, n, `gets an input of shape ${shapeText(inp)}`, 'an image input [height, width, channels]');
  const h = windowOut(inp[0], k[0], s[0], padding);
  const w = windowOut(inp[1], k[1], s[1], padding);
  if (h < 1 || w < 1)
    throw fail(
      file,
      n,
      `a ${k[0]}x${k[1]} window with '${padding}' padding does not fit its ${inp[0]}x${inp[1]} input`,
      'an input at least as large as the window',
    );
  return [h, w, channels];
}

/** The output shape of one node from its input shapes. */
export function outputShape(n: NodeSpec, ins: Shape[], file?: string): Shape {
  const one = (): Shape => {
    if (ins.length !== 1) throw fail(file, n, `has ${ins.length} inputs`, 'exactly one input');
    return ins[0];
  };
  const last = (s: Shape) => s[s.length - 1];
  switch (n.className as LayerClass) {
    case 'Dense': {
      const c = n.config as LayerConfigs['Dense'];
      const s = one();
      if (s.length < 1) throw fail(file, n, 'gets a scalar input', 'an input with at least one axis');
      return [...s.slice(0, -1), c.units];
    }
    case 'Conv2D': {
      const c = n.config as LayerConfigs['Conv2D'];
      return spatial(n, one(), c.kernelSize, c.strides, c.padding, c.filters, file);
    }
    case 'DepthwiseConv2D': {
      const c = n.config as LayerConfigs['DepthwiseConv2D'];
      const s = one();
      return spatial(n, s, c.kernelSize, c.strides, c.padding, last(s) * c.depthMultiplier, file);
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const c = n.config as LayerConfigs['MaxPooling2D'];
      const s = one();
      return spatial(n, s, c.poolSize, c.strides, c.padding, last(s), file);
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D': {
      const c = n.config as LayerConfigs['GlobalMaxPooling2D'];
      const s = one();
      if (s.length !== 3) throw fail(file, n, `gets an input of shape ${shapeText(s)}`, 'an image input [h, w, c]');
      return c.keepdims ? [1, 1, s[2]] : [s[2]];
    }
    case 'ZeroPadding2D': {
      const c = n.config as LayerConfigs['ZeroPadding2D'];
      const s = one();
      if (s.length !== 3) throw fail(file, n, `gets an input of shape ${shapeText(s)}`, 'an image input [h, w, c]');
      const [[t, b], [l, r]] = c.padding;
      return [s[0] + t + b, s[1] + l + r, s[2]];
    }
    case 'Flatten':
      return [sizeOf(one())];
    case 'Reshape': {
      const c = n.config as LayerConfigs['Reshape'];
      const s = one();
      const total = sizeOf(s);
      const free = c.targetShape.filter((d) => d === -1).length;
      const known = sizeOf(c.targetShape.filter((d) => d !== -1));
      const out = c.targetShape.map((d) => (d === -1 ? total / known : d));
      if (free > 1 || !out.every((d) => Number.isInteger(d) && d > 0) || sizeOf(out) !== total)
        throw fail(
          file,
          n,
          `cannot reshape ${shapeText(s)} (${total} values) to ${shapeText(c.targetShape)}`,
          `a target shape of ${total} values`,
        );
      return out;
    }
    case 'Add': {
      if (ins.length < 2) throw fail(file, n, `has ${ins.length} input(s)`, 'at least two inputs');
      const s = ins[0];
      const odd = ins.findIndex((x) => shapeText(x) !== shapeText(s));
      if (odd >= 0)
        throw fail(
          file,
          n,
          `adds inputs of shapes ${ins.map(shapeText).join(' and ')}`,
          'inputs of one shape (no broadcasting)',
        );
      return s;
    }
    case 'Concatenate': {
      if (ins.length < 2) throw fail(file, n, `has ${ins.length} input(s)`, 'at least two inputs');
      const s = ins[0];
      const head = (x: Shape) => shapeText(x.slice(0, -1));
      if (ins.some((x) => x.length !== s.length || head(x) !== head(s)))
        throw fail(
          file,
          n,
          `concatenates inputs of shapes ${ins.map(shapeText).join(' and ')}`,
          'inputs equal in every axis but the last',
        );
      return [...s.slice(0, -1), ins.reduce((a, x) => a + last(x), 0)];
    }
    case 'BatchNormalization':
    case 'Normalization':
    case 'Rescaling':
    case 'Activation':
    case 'ReLU':
    case 'LeakyReLU':
    case 'Softmax':
    case 'Identity':
      return one();
    default:
      throw new PruneScopeError('unsupported', `layer class ${String(n.className)} has no shape rule`, {
        file,
        field: nodeField(n),
      });
  }
}

/** Output shape of every graph input and node, by name; checks that every input name exists and comes first. */
export function inferShapes(spec: GraphSpec, file?: string): Map<string, Shape> {
  const shapes = new Map<string, Shape>();
  for (const i of spec.inputs) shapes.set(i.name, i.shape);
  for (const n of spec.nodes) {
    const ins = n.inputs.map((name) => {
      const s = shapes.get(name);
      if (!s)
        throw new PruneScopeError('bad-input', `takes input ${name}, which is not defined before it`, {
          file,
          field: nodeField(n),
          expected: 'inputs that are graph inputs or earlier layers',
        });
      return s;
    });
    shapes.set(n.name, outputShape(n, ins, file));
  }
  return shapes;
}

export interface WeightSlot {
  name: string;
  shape: Shape;
  trainable: boolean;
}

/**
 * The weights a node carries, in the order Keras lists them, with their Keras shapes.
 * Normalization's mean and variance keep the shape of the axes it normalises over (trailing-aligned
 * with its input, e.g. [channels]).
 */
export function weightSlots(n: NodeSpec, inShape: Shape, normShape?: Shape): WeightSlot[] {
  const t = (name: string, shape: Shape): WeightSlot => ({ name, shape, trainable: true });
  const f = (name: string, shape: Shape): WeightSlot => ({ name, shape, trainable: false });
  const cin = inShape[inShape.length - 1];
  switch (n.className as LayerClass) {
    case 'Dense': {
      const c = n.config as LayerConfigs['Dense'];
      return [t('kernel', [cin, c.units]), ...(c.useBias ? [t('bias', [c.units])] : [])];
    }
    case 'Conv2D': {
      const c = n.config as LayerConfigs['Conv2D'];
      return [t('kernel', [...c.kernelSize, cin, c.filters]), ...(c.useBias ? [t('bias', [c.filters])] : [])];
    }
    case 'DepthwiseConv2D': {
      const c = n.config as LayerConfigs['DepthwiseConv2D'];
      return [
        t('depthwise_kernel', [...c.kernelSize, cin, c.depthMultiplier]),
        ...(c.useBias ? [t('bias', [cin * c.depthMultiplier])] : []),
      ];
    }
    case 'BatchNormalization': {
      const c = n.config as LayerConfigs['BatchNormalization'];
      return [
        ...(c.scale ? [t('gamma', [cin])] : []),
        ...(c.center ? [t('beta', [cin])] : []),
        f('moving_mean', [cin]),
        f('moving_variance', [cin]),
      ];
    }
    case 'Normalization': {
      const s = normShape ?? [cin];
      return [f('mean', s), f('variance', s)];
    }
    default:
      return [];
  }
}

/** Number of parameters in the flat index (trainable weights of every node). */
export function flatSize(spec: GraphSpec): number {
  let n = 0;
  for (const node of spec.nodes) for (const w of node.weights) if (w.trainable) n += w.values.length;
  return n;
}
