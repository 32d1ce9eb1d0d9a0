// The minibatch ELBO step on a tiny convolutional graph with every weighted conv-family layer: a
// stride-2 `same` Conv2D (tanh), BatchNormalization (gamma, beta; non-trivial moving statistics), a
// DepthwiseConv2D (multiplier 2) on a residual Add, global average pooling and a Dense softmax head.
// The objective F = nll_batch / B + sum_l KL_l / N with the noise held fixed is written out in
// float64 from the local reparameterisation's definition (each weighted layer's output is Gaussian
// with mean f(x; mu) and variance f(x^2; sigma^2) for a map affine in its weights, and
// xhat^2 s_gamma^2 + s_beta^2 for BN) on top of the independent float64 forward (forward64.ts), and
// differentiated by central finite differences: against elboStep's gradients in mu and rho.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend, maxRelErr } from '../helpers';
import type { ActivationName, GraphSpec, NodeSpec, Shape } from '../../src/engine/graphSpec';
import { withDeclaredWeights } from '../../src/engine/model/graphPlan';
import { Rng } from '../../src/engine/util/random';
import {
  disposePosterior,
  elboStep,
  fillNormal,
  initPosterior,
  Likelihood,
} from '../../src/engine/relevance/variationalPosterior';
import { Batch64, activate, forward64 } from '../reference/forward64';
import { graphCase } from '../curvature/graphCases';

const node = (name: string, className: NodeSpec['className'], config: unknown, inputs: string[]): NodeSpec => ({
  name,
  className,
  config: config as never,
  inputs,
  weights: [],
});

const convNet = (): GraphSpec =>
  withDeclaredWeights({
    inputs: [{ name: 'x', shape: [5, 5, 2] }],
    nodes: [
      node(
        'c1',
        'Conv2D',
        {
          filters: 3,
          kernelSize: [3, 3],
          strides: [2, 2],
          padding: 'same',
          dilationRate: [1, 1],
          activation: 'tanh',
          useBias: true,
        },
        ['x'],
      ),
      node('bn', 'BatchNormalization', { epsilon: 1e-3, momentum: 0.99, center: true, scale: true }, ['c1']),
      node(
        'dw',
        'DepthwiseConv2D',
        {
          kernelSize: [2, 2],
          strides: [1, 1],
          padding: 'same',
          depthMultiplier: 2,
          dilationRate: [1, 1],
          activation: 'tanh',
          useBias: true,
        },
        ['bn'],
      ),
      node(
        'proj',
        'Conv2D',
        {
          filters: 6,
          kernelSize: [1, 1],
          strides: [1, 1],
          padding: 'valid',
          dilationRate: [1, 1],
          activation: 'linear',
          useBias: false,
        },
        ['bn'],
      ),
      node('add', 'Add', {}, ['dw', 'proj']),
      node('gap', 'GlobalAveragePooling2D', { keepdims: false }, ['add']),
      node('out', 'Dense', { units: 3, activation: 'softmax', useBias: true }, ['gap']),
    ],
    outputs: ['out'],
    inputLayout: 'NHWC',
  });

const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** One node alone as a graph, its input named 'in', its activation optionally replaced. */
function alone(n: NodeSpec, shape: Shape, activation?: ActivationName): GraphSpec {
  const config = activation ? { ...(n.config as object), activation } : n.config;
  return {
    inputs: [{ name: 'in', shape }],
    nodes: [{ ...n, config: config as never, inputs: ['in'] }],
    outputs: [n.name],
    inputLayout: 'NHWC',
  };
}

const mapData = (x: Batch64, f: (v: number, i: number) => number): Batch64 => ({
  n: x.n,
  shape: x.shape,
  data: x.data.map(f),
});

/** Posterior parameters of one node's trainable weights, in order, float64 copies. */
interface NodeQ {
  mu: number[][];
  rho: number[][];
}

/**
 * F in float64. `eps` by weighted node name: the noise of its output [B, ...out], row-major;
 * `prior` by node name (alpha_l^2).
 */
function objective(
  spec: GraphSpec,
  q: Map<string, NodeQ>,
  x: Batch64,
  y: Float64Array,
  eps: Map<string, Float64Array>,
  prior: Map<string, number>,
  N: number,
): number {
  const values = new Map<string, Batch64>([['x', x]]);
  let logits: Batch64 | undefined;
  for (const n of spec.nodes) {
    const ins = n.inputs.map((name) => values.get(name)!);
    const a = ins[0];
    const p = q.get(n.name);
    let out: Batch64;
    if (n.className === 'Add') {
      out = mapData(a, (v, i) => v + ins[1].data[i]);
    } else if (!p) {
      out = forward64(alone(n, a.shape), a);
    } else if (n.className === 'BatchNormalization') {
      // xhat from the moving statistics (gamma 1, beta 0); y ~ N(mu_g xhat + mu_b, s_g^2 xhat^2 + s_b^2).
      const C = a.shape[a.shape.length - 1];
      const xhat = forward64(alone(n, a.shape), a, [...new Array(C).fill(1), ...new Array(C).fill(0)]);
      const [g, b] = [0, 1].map((k) => ({ m: p.mu[k], s2: p.rho[k].map((r) => softplus(r) ** 2) }));
      const e = eps.get(n.name)!;
      out = mapData(xhat, (v, i) => {
        const c = i % C;
        return g.m[c] * v + b.m[c] + Math.sqrt(g.s2[c] * v * v + b.s2[c]) * e[i];
      });
    } else {
      // A map affine in its weights: mean f(x; mu), variance f(x^2; sigma^2) (bias variance added),
      // then the activation.
      const one = alone(n, a.shape, 'linear');
      const mean = forward64(one, a, p.mu.flat());
      const variance = forward64(
        one,
        mapData(a, (v) => v * v),
        p.rho.flat().map((r) => softplus(r) ** 2),
      );
      const e = eps.get(n.name)!;
      const z = mapData(mean, (m, i) => m + Math.sqrt(variance.data[i]) * e[i]);
      const act = (n.config as { activation: ActivationName }).activation;
      if (act === 'softmax') logits = z;
      out = act === 'softmax' ? z : activate(z, act);
    }
    values.set(n.name, out);
  }
  const z = logits!;
  const K = z.shape[0];
  let nll = 0;
  for (let i = 0; i < z.n; i++) {
    const row = z.data.subarray(i * K, (i + 1) * K);
    const mx = Math.max(...row);
    const lse = mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
    for (let k = 0; k < K; k++) nll -= y[i * K + k] * (row[k] - lse);
  }
  let kl = 0;
  for (const [name, p] of q) {
    const a2 = prior.get(name)!;
    p.mu.forEach((mus, k) =>
      mus.forEach((m, j) => {
        const s2 = softplus(p.rho[k][j]) ** 2;
        kl += 0.5 * ((s2 + m * m) / a2 - 1 - Math.log(s2 / a2));
      }),
    );
  }
  return nll / z.n + kl / N;
}

test('float64 finite differences of the minibatch ELBO on a conv graph (Conv2D, BN, depthwise, residual Add)', async () => {
  await backend();
  const B = 4;
  const N = 30;
  const c = graphCase(convNet(), true, B, 21);
  const graph = c.graph;
  const layers = graph.layers();
  assert.deepEqual(
    layers.map((l) => l.className),
    ['Conv2D', 'BatchNormalization', 'DepthwiseConv2D', 'Conv2D', 'Dense'],
  );
  const q = initPosterior(graph, [0.2, 0.2, 0.2, 0.2, 0.2]);
  try {
    // rho from -3 to 1 (sigma 0.05 to 1.3): both branches of softplus, entries distinguishable.
    tf.tidy(() =>
      q.rho.forEach((r, k) =>
        r.assign(tf.add(-1, tf.mul(2, (k % 2 ? tf.cos : tf.sin)(tf.reshape(tf.range(0, r.size), r.shape))))),
      ),
    );
    const rng = new Rng(5);
    const epsF = layers.map((l) => {
      const shape = graph.ops[l.op].layer.outputShape;
      return fillNormal(rng, new Float32Array(B * shape.reduce((s, d) => s * d, 1)));
    });
    const prior = layers.map((_, i) => 0.4 + 0.3 * i);
    const lik: Likelihood = { kind: 'categorical' };

    const before = tf.memory().numTensors;
    const gradTensors = tf.tidy(() => {
      const et = layers.map((l, i) => tf.tensor(epsF[i], [B, ...graph.ops[l.op].layer.outputShape]));
      return elboStep(graph, q, c.x, c.y, et, lik, prior, N).grads;
    });
    const grads = gradTensors.map((g) => Float64Array.from(g.dataSync()));
    tf.dispose(gradTensors);
    assert.equal(tf.memory().numTensors, before, 'elboStep leaks no tensor');

    // The float64 copy of exactly the float32 posterior elboStep saw.
    const q64 = new Map<string, NodeQ>(
      layers.map((l) => [
        l.name,
        {
          mu: l.weights.map((k) => Array.from(q.mu[k].dataSync())),
          rho: l.weights.map((k) => Array.from(q.rho[k].dataSync())),
        },
      ]),
    );
    const eps64 = new Map(layers.map((l, i) => [l.name, Float64Array.from(epsF[i])]));
    const prior64 = new Map(layers.map((l, i) => [l.name, prior[i]]));
    const F = () => objective(c.p.spec, q64, c.p.x, c.p.y, eps64, prior64, N);
    const W = graph.weights.length;
    layers.forEach((l) =>
      l.weights.forEach((k, j) => {
        for (const [part, off] of [
          ['mu', 0],
          ['rho', W],
        ] as const) {
          const arr = q64.get(l.name)![part][j];
          const fd = arr.map((v0, i) => {
            const h = 1e-5 * Math.max(1, Math.abs(v0));
            arr[i] = v0 + h;
            const up = F();
            arr[i] = v0 - h;
            const down = F();
            arr[i] = v0;
            return (up - down) / (2 * h);
          });
          const e = maxRelErr(grads[off + k], fd, 1e-6);
          assert.ok(
            e < 2e-4,
            `${graph.weights[k].name} d/d${part}: rel err ${e} (elboStep ${grads[off + k].slice(0, 3)} vs fd ${fd.slice(0, 3)})`,
          );
        }
      }),
    );
  } finally {
    disposePosterior(q);
    c.dispose();
  }
});
