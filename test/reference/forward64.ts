// An independent float64 forward pass over a GraphSpec, written from the layers' definitions
// (Keras semantics, TF padding rules) with plain loops and no tfjs: the reference that engine
// results, file readers, students and finite differences are checked against. Slow by design;
// meant for tiny graphs and small batches.
import type { ActivationName, GraphSpec, NodeSpec, Pair, Shape } from '../../src/engine/graphSpec';

/** A batch of n examples, each of `shape` (no batch dimension), row-major (NHWC). */
export interface Batch64 {
  n: number;
  shape: Shape;
  data: Float64Array;
}

const size = (s: Shape) => s.reduce((a, b) => a * b, 1);

/** Trainable weights in the flat parameter order (graphSpec.ts), as float64. */
export function flatParams64(spec: GraphSpec): Float64Array {
  const parts: Float32Array[] = [];
  for (const node of spec.nodes) for (const w of node.weights) if (w.trainable) parts.push(w.values);
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Each node's weights by name as float64, with the trainable ones taken from `flat` when given. */
function nodeWeights(spec: GraphSpec, flat?: ArrayLike<number>): Map<string, Map<string, Float64Array>> {
  const all = new Map<string, Map<string, Float64Array>>();
  let o = 0;
  for (const node of spec.nodes) {
    const m = new Map<string, Float64Array>();
    for (const w of node.weights) {
      const v = new Float64Array(w.values.length);
      if (w.trainable && flat) {
        for (let i = 0; i < v.length; i++) v[i] = flat[o + i];
      } else v.set(w.values);
      if (w.trainable) o += v.length;
      m.set(w.name, v);
    }
    all.set(node.name, m);
  }
  if (flat && o !== flat.length) throw new Error(`forward64: flat has ${flat.length} values, the graph ${o}`);
  return all;
}

/**
 * Runs the graph on x (NHWC rows, the engine's layout) and returns every node's output by name
 * (the graph's output is `outputs.get(spec.outputs[0])`). `flat` overrides the trainable weights.
 */
export function forward64All(spec: GraphSpec, x: Batch64, flat?: ArrayLike<number>): Map<string, Batch64> {
  const weights = nodeWeights(spec, flat);
  const values = new Map<string, Batch64>();
  for (const input of spec.inputs) {
    if (size(input.shape) !== size(x.shape)) {
      throw new Error(`forward64: input ${input.name} has ${size(input.shape)} elements, x has ${size(x.shape)}`);
    }
    values.set(input.name, { n: x.n, shape: [...input.shape], data: x.data });
  }
  for (const node of spec.nodes) {
    const ins = node.inputs.map((name) => {
      const v = values.get(name);
      if (!v) throw new Error(`forward64: ${node.name} reads ${name}, which is not computed before it`);
      return v;
    });
    values.set(node.name, evalNode(node, ins, weights.get(node.name)!));
  }
  return values;
}

export function forward64(spec: GraphSpec, x: Batch64, flat?: ArrayLike<number>): Batch64 {
  return forward64All(spec, x, flat).get(spec.outputs[0])!;
}

function evalNode(node: NodeSpec, ins: Batch64[], w: Map<string, Float64Array>): Batch64 {
  const x = ins[0];
  const c = node.config as never as Record<string, unknown>;
  switch (node.className) {
    case 'Dense':
      return activate(dense(x, w, c.units as number, c.useBias as boolean), c.activation as ActivationName);
    case 'Conv2D':
      return activate(conv(x, w.get('kernel')!, c, false), c.activation as ActivationName, w.get('bias'));
    case 'DepthwiseConv2D':
      return activate(conv(x, w.get('depthwise_kernel')!, c, true), c.activation as ActivationName, w.get('bias'));
    case 'BatchNormalization':
      return batchNorm(x, w, c.epsilon as number);
    case 'MaxPooling2D':
    case 'AveragePooling2D':
      return pool(x, c.poolSize as Pair, c.strides as Pair, c.padding as string, node.className === 'MaxPooling2D');
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
      return globalPool(x, node.className === 'GlobalMaxPooling2D', c.keepdims as boolean);
    case 'ZeroPadding2D':
      return zeroPad(x, c.padding as [Pair, Pair]);
    case 'Rescaling':
      return channelAffine(x, c.scale as number | number[], c.offset as number | number[]);
    case 'Normalization': {
      const mean = w.get('mean')!;
      const variance = w.get('variance')!;
      const eps = c.epsilon as number;
      const scale = Array.from(variance, (v) => 1 / Math.max(Math.sqrt(v), eps));
      const offset = Array.from(mean, (m, i) => -m * scale[i]);
      return channelAffine(x, scale, offset);
    }
    case 'Flatten':
      return { n: x.n, shape: [size(x.shape)], data: x.data };
    case 'Reshape': {
      const target = [...(c.targetShape as number[])];
      const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      const shape = target.map((d) => (d === -1 ? size(x.shape) / known : d));
      if (size(shape) !== size(x.shape)) throw new Error(`forward64: cannot reshape ${x.shape} to ${target}`);
      return { n: x.n, shape, data: x.data };
    }
    case 'Activation':
      return activate(x, c.activation as ActivationName);
    case 'ReLU':
      return map(x, (v) => relu(v, c.maxValue as number | null, c.negativeSlope as number, c.threshold as number));
    case 'LeakyReLU':
      return map(x, (v) => (v >= 0 ? v : (c.alpha as number) * v));
    case 'Softmax':
      return activate(x, 'softmax');
    case 'Add': {
      const out = new Float64Array(x.data.length);
      for (const b of ins) for (let i = 0; i < out.length; i++) out[i] += b.data[i];
      return { n: x.n, shape: [...x.shape], data: out };
    }
    case 'Concatenate':
      return concatLast(ins, c.axis as number);
    case 'Identity':
      return x;
  }
  throw new Error(`forward64: no reference for ${String((node as NodeSpec).className)}`);
}

function map(x: Batch64, f: (v: number) => number): Batch64 {
  return { n: x.n, shape: [...x.shape], data: x.data.map(f) };
}

function relu(v: number, maxValue: number | null, slope: number, threshold: number): number {
  if (maxValue !== null && v >= maxValue) return maxValue;
  if (v >= threshold) return v;
  return slope * (v - threshold);
}

/** Element-wise activation, after adding a per-channel bias when one is given. */
export function activate(x: Batch64, act: ActivationName, bias?: Float64Array): Batch64 {
  const d = Float64Array.from(x.data);
  const C = x.shape[x.shape.length - 1];
  if (bias) for (let i = 0; i < d.length; i++) d[i] += bias[i % C];
  const f = scalarActivation(act);
  if (f) for (let i = 0; i < d.length; i++) d[i] = f(d[i]);
  else {
    // softmax over the last axis
    for (let r = 0; r < d.length; r += C) {
      let m = -Infinity;
      for (let j = 0; j < C; j++) m = Math.max(m, d[r + j]);
      let s = 0;
      for (let j = 0; j < C; j++) s += d[r + j] = Math.exp(d[r + j] - m);
      for (let j = 0; j < C; j++) d[r + j] /= s;
    }
  }
  return { n: x.n, shape: [...x.shape], data: d };
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

function scalarActivation(act: ActivationName): ((v: number) => number) | undefined {
  switch (act) {
    case 'linear':
      return (v) => v;
    case 'relu':
      return (v) => Math.max(v, 0);
    case 'tanh':
      return Math.tanh;
    case 'sigmoid':
      return (v) => 1 / (1 + Math.exp(-v));
    case 'elu':
      return (v) => (v > 0 ? v : Math.expm1(v));
    case 'selu':
      return (v) => SELU_SCALE * (v > 0 ? v : SELU_ALPHA * Math.expm1(v));
    case 'softplus':
      return (v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    case 'softsign':
      return (v) => v / (1 + Math.abs(v));
    case 'softmax':
      return undefined;
  }
}

/** Dense over the last axis: y[..., u] = sum_i x[..., i] W[i, u] (+ b[u]). */
function dense(x: Batch64, w: Map<string, Float64Array>, units: number, useBias: boolean): Batch64 {
  const inSize = x.shape[x.shape.length - 1];
  const rows = x.data.length / inSize;
  const W = w.get('kernel')!;
  const b = useBias ? w.get('bias')! : undefined;
  const out = new Float64Array(rows * units);
  for (let r = 0; r < rows; r++) {
    for (let u = 0; u < units; u++) {
      let s = b ? b[u] : 0;
      for (let i = 0; i < inSize; i++) s += x.data[r * inSize + i] * W[i * units + u];
      out[r * units + u] = s;
    }
  }
  return { n: x.n, shape: [...x.shape.slice(0, -1), units], data: out };
}

/** TF's padding rule: output size and the padding before (the extra pixel of `same` goes after). */
export function padding1d(inSize: number, k: number, stride: number, dilation: number, mode: string) {
  const kEff = (k - 1) * dilation + 1;
  if (mode === 'valid') return { out: Math.floor((inSize - kEff) / stride) + 1, before: 0 };
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + kEff - inSize, 0);
  return { out, before: Math.floor(total / 2) };
}

/** Conv2D (kernel [kh, kw, in, out]) or DepthwiseConv2D (kernel [kh, kw, in, mult]); no bias. */
function conv(x: Batch64, K: Float64Array, c: Record<string, unknown>, depthwise: boolean): Batch64 {
  const [H, W, Cin] = x.shape;
  const [kh, kw] = c.kernelSize as Pair;
  const [sh, sw] = c.strides as Pair;
  const [dh, dw] = (c.dilationRate as Pair | undefined) ?? [1, 1];
  const ph = padding1d(H, kh, sh, dh, c.padding as string);
  const pw = padding1d(W, kw, sw, dw, c.padding as string);
  const mult = depthwise ? (c.depthMultiplier as number) : 0;
  const Cout = depthwise ? Cin * mult : (c.filters as number);
  const out = new Float64Array(x.n * ph.out * pw.out * Cout);
  for (let n = 0; n < x.n; n++) {
    for (let oy = 0; oy < ph.out; oy++) {
      for (let ox = 0; ox < pw.out; ox++) {
        const o = ((n * ph.out + oy) * pw.out + ox) * Cout;
        for (let i = 0; i < kh; i++) {
          const y = oy * sh - ph.before + i * dh;
          if (y < 0 || y >= H) continue;
          for (let j = 0; j < kw; j++) {
            const xx = ox * sw - pw.before + j * dw;
            if (xx < 0 || xx >= W) continue;
            const xi = ((n * H + y) * W + xx) * Cin;
            for (let ci = 0; ci < Cin; ci++) {
              const v = x.data[xi + ci];
              if (depthwise) {
                for (let m = 0; m < mult; m++) out[o + ci * mult + m] += v * K[((i * kw + j) * Cin + ci) * mult + m];
              } else {
                const kb = ((i * kw + j) * Cin + ci) * Cout;
                for (let co = 0; co < Cout; co++) out[o + co] += v * K[kb + co];
              }
            }
          }
        }
      }
    }
  }
  return { n: x.n, shape: [ph.out, pw.out, Cout], data: out };
}

function batchNorm(x: Batch64, w: Map<string, Float64Array>, eps: number): Batch64 {
  const C = x.shape[x.shape.length - 1];
  const gamma = w.get('gamma');
  const beta = w.get('beta');
  const mean = w.get('moving_mean')!;
  const variance = w.get('moving_variance')!;
  const scale = Array.from({ length: C }, (_, j) => (gamma ? gamma[j] : 1) / Math.sqrt(variance[j] + eps));
  const offset = Array.from({ length: C }, (_, j) => (beta ? beta[j] : 0) - mean[j] * scale[j]);
  return channelAffine(x, scale, offset);
}

function channelAffine(x: Batch64, scale: number | number[], offset: number | number[]): Batch64 {
  const C = x.shape[x.shape.length - 1];
  const s = (j: number) => (typeof scale === 'number' ? scale : scale.length === 1 ? scale[0] : scale[j]);
  const b = (j: number) => (typeof offset === 'number' ? offset : offset.length === 1 ? offset[0] : offset[j]);
  const d = new Float64Array(x.data.length);
  for (let i = 0; i < d.length; i++) d[i] = x.data[i] * s(i % C) + b(i % C);
  return { n: x.n, shape: [...x.shape], data: d };
}

/** Max or average pooling; `same` padding leaves padded cells out of the max and the average. */
function pool(x: Batch64, poolSize: Pair, strides: Pair, padding: string, isMax: boolean): Batch64 {
  const [H, W, C] = x.shape;
  const ph = padding1d(H, poolSize[0], strides[0], 1, padding);
  const pw = padding1d(W, poolSize[1], strides[1], 1, padding);
  const out = new Float64Array(x.n * ph.out * pw.out * C);
  for (let n = 0; n < x.n; n++) {
    for (let oy = 0; oy < ph.out; oy++) {
      for (let ox = 0; ox < pw.out; ox++) {
        for (let ch = 0; ch < C; ch++) {
          let acc = isMax ? -Infinity : 0;
          let count = 0;
          for (let i = 0; i < poolSize[0]; i++) {
            const y = oy * strides[0] - ph.before + i;
            if (y < 0 || y >= H) continue;
            for (let j = 0; j < poolSize[1]; j++) {
              const xx = ox * strides[1] - pw.before + j;
              if (xx < 0 || xx >= W) continue;
              const v = x.data[((n * H + y) * W + xx) * C + ch];
              acc = isMax ? Math.max(acc, v) : acc + v;
              count++;
            }
          }
          out[((n * ph.out + oy) * pw.out + ox) * C + ch] = isMax ? acc : acc / count;
        }
      }
    }
  }
  return { n: x.n, shape: [ph.out, pw.out, C], data: out };
}

function globalPool(x: Batch64, isMax: boolean, keepdims: boolean): Batch64 {
  const [H, W, C] = x.shape;
  const out = new Float64Array(x.n * C);
  for (let n = 0; n < x.n; n++) {
    for (let ch = 0; ch < C; ch++) {
      let acc = isMax ? -Infinity : 0;
      for (let p = 0; p < H * W; p++) {
        const v = x.data[(n * H * W + p) * C + ch];
        acc = isMax ? Math.max(acc, v) : acc + v;
      }
      out[n * C + ch] = isMax ? acc : acc / (H * W);
    }
  }
  return { n: x.n, shape: keepdims ? [1, 1, C] : [C], data: out };
}

function zeroPad(x: Batch64, [[top, bottom], [left, right]]: [Pair, Pair]): Batch64 {
  const [H, W, C] = x.shape;
  const H2 = H + top + bottom;
  const W2 = W + left + right;
  const out = new Float64Array(x.n * H2 * W2 * C);
  for (let n = 0; n < x.n; n++) {
    for (let y = 0; y < H; y++) {
      for (let xx = 0; xx < W; xx++) {
        const src = ((n * H + y) * W + xx) * C;
        const dst = ((n * H2 + y + top) * W2 + xx + left) * C;
        for (let ch = 0; ch < C; ch++) out[dst + ch] = x.data[src + ch];
      }
    }
  }
  return { n: x.n, shape: [H2, W2, C], data: out };
}

function concatLast(ins: Batch64[], axis: number): Batch64 {
  const rank = ins[0].shape.length;
  if (axis !== -1 && axis !== rank) throw new Error(`forward64: Concatenate on axis ${axis} is not the last axis`);
  const widths = ins.map((b) => b.shape[rank - 1]);
  const total = widths.reduce((a, b) => a + b, 0);
  const cells = ins[0].data.length / widths[0];
  const out = new Float64Array(cells * total);
  for (let p = 0; p < cells; p++) {
    let o = p * total;
    ins.forEach((b, k) => {
      for (let j = 0; j < widths[k]; j++) out[o + j] = b.data[p * widths[k] + j];
      o += widths[k];
    });
  }
  return { n: ins[0].n, shape: [...ins[0].shape.slice(0, -1), total], data: out };
}

/**
 * Mean loss over the batch: softmax cross-entropy on probabilities (one-hot or soft targets), or
 * the MSE as the engine defines it (mean over outputs of the squared error, no 1/2).
 */
export function meanLoss64(kind: 'cross-entropy' | 'mse', out: Batch64, target: ArrayLike<number>): number {
  const K = out.data.length / out.n;
  let total = 0;
  for (let r = 0; r < out.n; r++) {
    for (let k = 0; k < K; k++) {
      const p = out.data[r * K + k];
      const t = target[r * K + k];
      total += kind === 'mse' ? (p - t) ** 2 / K : t === 0 ? 0 : -t * Math.log(p);
    }
  }
  return total / out.n;
}
