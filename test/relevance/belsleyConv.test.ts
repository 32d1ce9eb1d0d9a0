// Belsley's Kronecker route on convolutions (KFC, Grosse and Martens 2016), against references built
// here in float64 from the float64 forward pass (test/reference/forward64.ts): A from the unfolded
// input patches (TF padding, strides), G from the network tail's Jacobian by central differences and
// the softmax cross-entropy's Hessian diag(p) - p p^T, both normalised as KFC (A / N, G / (N T)).
// Then the whole relevance run on a conv layer small enough for both routes: its order and condition
// indices equal dense belsley() on the explicit Kronecker product of the float64 factors. DepthwiseConv2D
// gets one Kronecker block per input channel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import type { GraphSpec, Shape } from '../../src/engine/graphSpec';
import { Graph } from '../../src/engine/model/graph';
import { Dataset, DataSplit, xTensor, yTensor } from '../../src/engine/data/dataset';
import { ggnLayerBlock } from '../../src/engine/curvature';
import { belsley } from '../../src/engine/relevance/belsley';
import { belsleyRelevance } from '../../src/engine/relevance/belsleyNetwork';
import { graphKroneckerFactors } from '../../src/engine/relevance/covariance/kfacGraph';
import type { KroneckerFactors } from '../../src/engine/relevance/covariance/kronecker';
import { Rng } from '../../src/engine/util/random';
import { Batch64, forward64, forward64All, padding1d } from '../reference/forward64';
import { GraphBuilder } from '../prune/graphFixtures';
import { splitOf } from '../train/fixtures';
import { close, dampedPrecision, invert, kron } from './belsleyHelpers';

const K = 3; // classes

/** A seeded classification split of n images of `shape` (train = all rows). */
function imageSplit(shape: Shape, n: number, seed: number): DataSplit {
  const rng = new Rng(seed);
  const features = shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n * features }, () => rng.normal());
  const y = Float32Array.from({ length: n }, (_, i) => i % K);
  const ds: Dataset = {
    name: 'images',
    task: 'classification',
    featureNames: Array.from({ length: features }, (_, i) => `x${i}`),
    targetName: 'class',
    labelNames: ['a', 'b', 'c'],
    x,
    y,
    rows: n,
    features,
    shape: [...shape],
  };
  return splitOf(ds, { x, y, rows: n }, { x, y, rows: n });
}

/** conv (linear) -> tanh -> global average pooling -> dense softmax: the conv output is the pre-activation. */
function convNet(seed: number, shape: Shape, depthwise: { mult: number } | undefined): GraphSpec {
  const b = new GraphBuilder(seed, shape);
  const C = shape[2];
  let channels: number;
  if (depthwise) {
    b.depthwise('c', 'input', C, depthwise.mult, 3, { padding: 'same' });
    channels = C * depthwise.mult;
  } else {
    b.conv('c', 'input', C, 4, 3, { padding: 'same', strides: 2 });
    channels = 4;
  }
  b.act('t', 'c', 'tanh');
  b.gap('p', 't');
  b.dense('out', 'p', channels, K, 'softmax');
  return b.output('out');
}

function softmax(z: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < z.length; i++) m = Math.max(m, z[i]);
  const e = Float64Array.from(z, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/**
 * Float64 KFC factors of node 'c' (a Conv2D, or a DepthwiseConv2D with one pair per input channel).
 * Cell (i, j): i the patch entry (kh, kw, cin) (depthwise: (kh, kw)) with the bias' 1 last, j the output
 * channel (depthwise: the multiplier index); the flat index from the Keras kernel layout.
 */
function referenceFactors(
  spec: GraphSpec,
  split: DataSplit,
  offsets: { kernel: number; bias: number },
): KroneckerFactors[] {
  const node = spec.nodes.find((n) => n.name === 'c')!;
  const cfg = node.config as { kernelSize: [number, number]; strides: [number, number]; padding: string };
  const depthwise = node.className === 'DepthwiseConv2D';
  const [H, W, C] = spec.inputs[0].shape;
  const [kh, kw] = cfg.kernelSize;
  const [sh, sw] = cfg.strides;
  const ph = padding1d(H, kh, sh, 1, cfg.padding);
  const pw = padding1d(W, kw, sw, 1, cfg.padding);
  const T = ph.out * pw.out;
  const N = split.train.rows;
  const x: Batch64 = { n: N, shape: [H, W, C], data: Float64Array.from(split.train.x) };
  const z = forward64All(spec, x).get('c')!;
  const F = z.shape[2];
  // The tail: z -> logits, differentiated entry by entry (every sample at once: samples are independent).
  const tail: GraphSpec = {
    ...spec,
    inputs: [{ name: 'c', shape: z.shape }],
    nodes: spec.nodes
      .filter((n) => n.name !== 'c')
      .map((n) => (n.name === 'out' ? ({ ...n, config: { ...n.config, activation: 'linear' } } as typeof n) : n)),
  };
  const logits = forward64(tail, z);
  const per = T * F;
  const J = new Float64Array(N * K * per); // [n][k][e]
  const h = 1e-6;
  for (let e = 0; e < per; e++) {
    const zp = Float64Array.from(z.data);
    const zm = Float64Array.from(z.data);
    for (let n = 0; n < N; n++) {
      zp[n * per + e] += h;
      zm[n * per + e] -= h;
    }
    const lp = forward64(tail, { ...z, data: zp });
    const lm = forward64(tail, { ...z, data: zm });
    for (let n = 0; n < N; n++)
      for (let k = 0; k < K; k++) J[(n * K + k) * per + e] = (lp.data[n * K + k] - lm.data[n * K + k]) / (2 * h);
  }
  const groups = depthwise ? C : 1;
  const inC = depthwise ? 1 : C; // input channels per patch
  const nOut = F / groups;
  const nA = kh * kw * inC + 1;
  const out: KroneckerFactors[] = [];
  for (let c = 0; c < groups; c++) {
    const a = new Float64Array(nA * nA);
    const g = new Float64Array(nOut * nOut);
    for (let n = 0; n < N; n++) {
      const p = softmax(logits.data.subarray(n * K, (n + 1) * K));
      for (let oy = 0; oy < ph.out; oy++)
        for (let ox = 0; ox < pw.out; ox++) {
          const u = new Float64Array(nA);
          for (let dy = 0; dy < kh; dy++)
            for (let dx = 0; dx < kw; dx++)
              for (let ci = 0; ci < inC; ci++) {
                const yy = oy * sh + dy - ph.before;
                const xx = ox * sw + dx - pw.before;
                const ch = depthwise ? c : ci;
                if (yy >= 0 && yy < H && xx >= 0 && xx < W)
                  u[(dy * kw + dx) * inC + ci] = x.data[((n * H + yy) * W + xx) * C + ch];
              }
          u[nA - 1] = 1;
          for (let i = 0; i < nA; i++) for (let k = 0; k < nA; k++) a[i * nA + k] += (u[i] * u[k]) / N;
          // J_t: the K x nOut Jacobian of the logits in this group's output channels at position t.
          const t = oy * pw.out + ox;
          const Jt = (k: number, j: number) => J[(n * K + k) * per + t * F + c * nOut + j];
          for (let j = 0; j < nOut; j++)
            for (let l = 0; l < nOut; l++) {
              // J_t^T (diag(p) - p p^T) J_t
              let s = 0,
                pj = 0,
                pl = 0;
              for (let k = 0; k < K; k++) {
                s += p[k] * Jt(k, j) * Jt(k, l);
                pj += p[k] * Jt(k, j);
                pl += p[k] * Jt(k, l);
              }
              g[j * nOut + l] += (s - pj * pl) / (N * T);
            }
        }
    }
    const paramIndex = new Int32Array(nA * nOut);
    for (let i = 0; i < nA; i++)
      for (let j = 0; j < nOut; j++)
        paramIndex[i * nOut + j] =
          i < nA - 1 ? offsets.kernel + (i * groups + c) * nOut + j : offsets.bias + c * nOut + j;
    out.push({ layer: `c${c}`, a, nA, g, nG: nOut, paramIndex });
  }
  return out;
}

function relClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs(got[i] - want[i]) <= tol * scale, `${what}[${i}]: ${got[i]} vs ${want[i]}`);
}

/**
 * Dense belsley() on the block-diagonal S of the whole network: the conv layer's Kronecker blocks
 * (explicit products of the float64 factors, damped, inverted) and the dense layer's full block.
 */
async function referenceBelsley(graph: Graph, split: DataSplit, refs: KroneckerFactors[]) {
  const w = graph.toFlat();
  const [conv, dense] = graph.layers();
  const P = w.length;
  const N = split.train.rows;
  const tauOf = (off: number, size: number) =>
    size / Array.from(w.subarray(off, off + size)).reduce((s, v) => s + v * v, 0);
  const S = new Float64Array(P * P);
  const tauC = tauOf(conv.offset, conv.size);
  for (const f of refs) {
    const n = f.nA * f.nG;
    const s = invert(dampedPrecision(f, tauC, N), n);
    for (let c = 0; c < n; c++) for (let d = 0; d < n; d++) S[f.paramIndex[c] * P + f.paramIndex[d]] = s[c * n + d];
  }
  const x = xTensor(split.train, split.dataset.features);
  const y = yTensor(split.train, 'classification', K);
  const ggn = await ggnLayerBlock(graph, x, y, 1);
  tf.dispose([x, y]);
  const m = dense.size;
  const tauD = tauOf(dense.offset, m);
  const hd = Float64Array.from(ggn.values, (v) => N * v);
  for (let i = 0; i < m; i++) hd[i * m + i] += tauD;
  const sd = invert(hd, m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) S[(dense.offset + i) * P + dense.offset + j] = sd[i * m + j];
  return belsley(S, P, { ordering: 'fast' });
}

for (const c of [
  { name: 'Conv2D 3x3, 4 filters, stride 2, same padding (9 positions)', shape: [5, 5, 2], depthwise: undefined },
  {
    // Multiplier 3: a 2 x 2 G factor's correlation always has eigenvectors (1, +-1) / sqrt(2), an exact
    // tie between its two outputs that the explicit product's decomposition breaks by rounding.
    name: 'DepthwiseConv2D 3x3, multiplier 3, same padding (16 positions, one block per input channel)',
    shape: [4, 4, 2],
    depthwise: { mult: 3 },
  },
] as const) {
  test(`KFC Belsley on ${c.name}: factors equal the float64 reference; the Kronecker route's order and condition indices equal dense belsley() on the explicit Kronecker product`, async () => {
    await backend();
    const spec = convNet(7, [...c.shape], c.depthwise);
    const graph = Graph.fromSpec(spec);
    const split = imageSplit([...c.shape], 6, 4);
    const conv = graph.layers()[0];
    const kernel = graph.weights[conv.weights[0]];
    const bias = graph.weights[conv.weights[1]];
    const refs = referenceFactors(graph.toSpec(), split, { kernel: kernel.offset, bias: bias.offset });
    assert.equal(refs.length, c.depthwise ? c.shape[2] : 1);

    const x = xTensor(split.train, split.dataset.features);
    const y = yTensor(split.train, 'classification', K);
    const [groups] = await graphKroneckerFactors(graph, x, y, [0], { chunkSize: 4 }); // two chunks
    tf.dispose([x, y]);
    assert.equal(groups.length, refs.length);
    for (const [i, f] of groups.entries()) {
      const r = refs[i];
      assert.deepEqual([f.nA, f.nG], [r.nA, r.nG]);
      assert.deepEqual(Array.from(f.paramIndex), Array.from(r.paramIndex), `group ${i}: cell -> flat index`);
      relClose(f.a, r.a, 1e-5, `group ${i} A`);
      relClose(f.g, r.g, 1e-4, `group ${i} G`);
    }
    // The groups cover the layer's parameters once each.
    const cells = groups.flatMap((f) => Array.from(f.paramIndex)).sort((p, q) => p - q);
    assert.deepEqual(
      cells,
      Array.from({ length: conv.size }, (_, j) => conv.offset + j),
    );

    const ref = await referenceBelsley(graph, split, refs);
    const before = tf.memory().numTensors;
    // blockLimit between the dense layer's size and the conv layer's: conv Kronecker, dense full.
    const limit = Math.floor((conv.size + graph.layers()[1].size) / 2);
    const res = await belsleyRelevance(graph, split, { blockLimit: limit });
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    const layers = (res.extra!.construction as { layers: { kind: string; kron?: unknown[] }[] }).layers;
    assert.deepEqual(
      layers.map((l) => l.kind),
      ['kron', 'full'],
    );
    assert.equal(layers[0].kron!.length, refs.length);
    close((res.extra as { conditionIndices: number[] }).conditionIndices, ref.conditionIndices, 1e-4, 'eta');
    assert.deepEqual(Array.from(res.order), Array.from(ref.order));
    graph.dispose();
  });
}

test('DepthwiseConv2D through the graph: with one sample and one output position each channel pair A_c (x) G_c is the exact GGN block over that channel, at the cells its paramIndex names', async () => {
  await backend();
  const b = new GraphBuilder(3, [3, 3, 2]);
  b.depthwise('c', 'input', 2, 2, 3, { padding: 'valid', activation: 'tanh' });
  b.flatten('f', 'c');
  b.dense('out', 'f', 4, K, 'softmax');
  const graph = Graph.fromSpec(b.output('out'));
  const rng = new Rng(9);
  const x = tf.tensor2d([Array.from({ length: 18 }, () => rng.normal())]);
  const y = tf.tensor2d([[0, 1, 0]]);
  const [groups] = await graphKroneckerFactors(graph, x, y, [0]);
  const ggn = await ggnLayerBlock(graph, x, y, 0);
  const off = graph.layers()[0].offset;
  const P = ggn.size;
  let scale = 0;
  for (const v of ggn.values) scale = Math.max(scale, Math.abs(v));
  assert.equal(groups.length, 2);
  for (const f of groups) {
    const prod = kron(f.a, f.nA, f.g, f.nG);
    const n = f.nA * f.nG;
    for (let c = 0; c < n; c++)
      for (let d = 0; d < n; d++) {
        const want = ggn.values[(f.paramIndex[c] - off) * P + f.paramIndex[d] - off];
        assert.ok(
          Math.abs(prod[c * n + d] - want) <= 1e-5 * scale,
          `${f.layer} (${c}, ${d}): ${prod[c * n + d]} vs ${want}`,
        );
      }
  }
  tf.dispose([x, y]);
  graph.dispose();
});
