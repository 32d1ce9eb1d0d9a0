// BatchNormalization at inference is a per-channel affine map y = s x + t with
// s = gamma / sqrt(moving_variance + eps), t = beta - moving_mean * s. When the layer before it is a
// linear-activation Dense, Conv2D or DepthwiseConv2D read by nothing else, the map folds into that
// layer's kernel (output channel j scaled by s_j) and bias (b_j s_j + t_j), and the BN disappears.
// A BN on an image that cannot fold (after an activation, an Add, the input) becomes a 1x1
// DepthwiseConv2D with kernel s and bias t: the same function, and no BN layer left.
import type { GraphSpec, LayerConfigs, NodeSpec, WeightSpec } from '../graphSpec';
import { inferShapes } from '../model/graphShapes';

export interface FoldBatchNormResult {
  spec: GraphSpec;
  /** BN layers folded into the layer before them. */
  folded: { batchNorm: string; into: string }[];
  /** BN layers replaced by a 1x1 depthwise convolution of the same name. */
  replaced: string[];
  /** BN layers left as they are (not on an image and nothing to fold into). */
  kept: string[];
}

const FOLDABLE = new Set(['Dense', 'Conv2D', 'DepthwiseConv2D']);

function affine(bn: NodeSpec): { s: Float64Array; t: Float64Array } {
  const eps = (bn.config as LayerConfigs['BatchNormalization']).epsilon;
  const get = (name: string) => bn.weights.find((w) => w.name === name)?.values;
  const mean = get('moving_mean')!;
  const variance = get('moving_variance')!;
  const gamma = get('gamma');
  const beta = get('beta');
  const C = mean.length;
  const s = new Float64Array(C);
  const t = new Float64Array(C);
  for (let j = 0; j < C; j++) {
    s[j] = (gamma ? gamma[j] : 1) / Math.sqrt(variance[j] + eps);
    t[j] = (beta ? beta[j] : 0) - mean[j] * s[j];
  }
  return { s, t };
}

function foldInto(p: NodeSpec, s: Float64Array, t: Float64Array): NodeSpec {
  const kernelName = p.className === 'DepthwiseConv2D' ? 'depthwise_kernel' : 'kernel';
  const kw = p.weights.find((w) => w.name === kernelName)!;
  const K = Float64Array.from(kw.values);
  const last = kw.shape[kw.shape.length - 1];
  if (p.className === 'DepthwiseConv2D') {
    // [kh, kw, C, mult]: output channel c * mult + m is entry (.., c, m).
    const C = kw.shape[2];
    for (let i = 0; i < K.length; i++) K[i] *= s[(Math.floor(i / last) % C) * last + (i % last)];
  } else {
    for (let i = 0; i < K.length; i++) K[i] *= s[i % last];
  }
  const old = p.weights.find((w) => w.name === 'bias')?.values;
  const b = Float32Array.from(s, (sj, j) => (old ? old[j] : 0) * sj + t[j]);
  const weights: WeightSpec[] = [];
  for (const w of p.weights) {
    if (w.name === kernelName) {
      weights.push({ ...w, shape: [...w.shape], values: Float32Array.from(K) });
      if (!old) weights.push({ name: 'bias', shape: [s.length], trainable: true, values: b });
    } else if (w.name === 'bias') weights.push({ ...w, shape: [...w.shape], values: b });
    else weights.push(w);
  }
  const out: NodeSpec = { ...p, config: { ...(p.config as object), useBias: true } as never, weights };
  delete out.source;
  return out;
}

function asDepthwise(bn: NodeSpec, s: Float64Array, t: Float64Array): NodeSpec {
  const config: LayerConfigs['DepthwiseConv2D'] = {
    kernelSize: [1, 1],
    strides: [1, 1],
    padding: 'valid',
    depthMultiplier: 1,
    dilationRate: [1, 1],
    activation: 'linear',
    useBias: true,
  };
  return {
    name: bn.name,
    className: 'DepthwiseConv2D',
    config,
    inputs: [...bn.inputs],
    weights: [
      { name: 'depthwise_kernel', shape: [1, 1, s.length, 1], trainable: true, values: Float32Array.from(s) },
      { name: 'bias', shape: [s.length], trainable: true, values: Float32Array.from(t) },
    ],
  };
}

export function foldBatchNorm(spec: GraphSpec): FoldBatchNormResult {
  const shapes = inferShapes(spec);
  const readers = new Map<string, number>();
  for (const n of spec.nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  for (const o of spec.outputs) readers.set(o, (readers.get(o) ?? 0) + 1);
  let nodes = spec.nodes.map((n) => n);
  const rename = new Map<string, string>();
  const res: FoldBatchNormResult = { spec, folded: [], replaced: [], kept: [] };
  for (const bn of spec.nodes) {
    if (bn.className !== 'BatchNormalization') continue;
    const { s, t } = affine(bn);
    const src = bn.inputs[0];
    const pi = nodes.findIndex((n) => n.name === src);
    const p = pi >= 0 ? nodes[pi] : undefined;
    if (
      p &&
      FOLDABLE.has(p.className) &&
      (p.config as { activation: string }).activation === 'linear' &&
      readers.get(src) === 1
    ) {
      nodes[pi] = foldInto(p, s, t);
      nodes = nodes.filter((n) => n !== bn);
      rename.set(bn.name, src);
      res.folded.push({ batchNorm: bn.name, into: src });
    } else if (shapes.get(src)!.length === 3) {
      nodes = nodes.map((n) => (n === bn ? asDepthwise(bn, s, t) : n));
      res.replaced.push(bn.name);
    } else res.kept.push(bn.name);
  }
  const resolve = (name: string) => {
    while (rename.has(name)) name = rename.get(name)!;
    return name;
  };
  res.spec = {
    ...spec,
    nodes: nodes.map((n) => ({ ...n, inputs: n.inputs.map(resolve) })),
    outputs: spec.outputs.map(resolve),
  };
  return res;
}
