// The layer graph on dense graphs (chains, a residual Add, a Concatenate, a regression head): its
// forward against the float64 GraphSpec reference (test/reference/forward64.ts), its gradient
// (the one backward pass) against float64 central finite differences of the mean loss, the flat
// parameter index, and the refusals (unknown class, shared layer, softmax mid-graph, two outputs).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { GraphSpec, NodeSpec } from '../../src/engine/graphSpec';
import { Graph, flatten } from '../../src/engine/model/graph';
import { mlpSpec } from '../../src/engine/model/mlpSpec';
import { denseSpec } from '../../src/engine/model/denseChain';
import { residualSpec } from './graphFixtures';
import { lossGradients } from '../../src/engine/model/gradients';
import { PruneScopeError } from '../../src/engine/errors';
import { forward64, flatParams64, meanLoss64 } from '../reference/forward64';
import { Rng } from '../../src/engine/util/random';
import { backend, maxRelErr } from '../helpers';

function data(seed: number, n: number, m: number, k: number, classification: boolean) {
  const rng = new Rng(seed);
  const x = Float64Array.from({ length: n * m }, () => rng.normal());
  const y = new Float64Array(n * k);
  for (let i = 0; i < n; i++)
    if (classification) y[i * k + rng.int(k)] = 1;
    else for (let j = 0; j < k; j++) y[i * k + j] = rng.normal();
  return { x, y };
}

function checkGraph(spec: GraphSpec, classification: boolean, seed: number): void {
  const g = Graph.random(spec, seed);
  const s64 = g.toSpec();
  const m = g.inputSize;
  const k = g.outputSize;
  const n = 4;
  const { x, y } = data(seed + 1, n, m, k, classification);
  const xb = { n, shape: g.inputShape, data: Float64Array.from(Float32Array.from(x)) };
  const kind = classification ? 'cross-entropy' : 'mse';
  // Forward.
  const xt = tf.tensor2d(Float32Array.from(x), [n, m]);
  const yt = tf.tensor2d(Float32Array.from(y), [n, k]);
  const out = g.predict(xt);
  assert.ok(maxRelErr(out.dataSync(), forward64(s64, xb).data) < 1e-5, 'forward vs float64');
  // Gradient vs central differences of the float64 mean loss.
  const w = flatParams64(s64);
  const fd = new Float64Array(w.length);
  const h = 1e-6;
  for (let j = 0; j < w.length; j++) {
    const v = w[j];
    w[j] = v + h;
    const lp = meanLoss64(kind, forward64(s64, xb, w), y);
    w[j] = v - h;
    const lm = meanLoss64(kind, forward64(s64, xb, w), y);
    w[j] = v;
    fd[j] = (lp - lm) / (2 * h);
  }
  const before = tf.memory().numTensors;
  const { loss, grads } = lossGradients(g, xt, yt);
  const flat = flatten(g, grads);
  assert.equal(tf.memory().numTensors, before, 'no tensors left by the backward pass');
  assert.ok(Math.abs(loss - meanLoss64(kind, forward64(s64, xb), y)) < 1e-5, 'loss');
  const e = maxRelErr(flat, fd);
  assert.ok(e < 1e-4, `gradient relative error ${e}`);
  tf.dispose([xt, yt, out]);
  g.dispose();
}

test('MLP graph: forward and gradient against float64', async () => {
  await backend();
  checkGraph(denseSpec(mlpSpec(5, 3, 'classification', [4, 3], 'tanh')), true, 1);
  checkGraph(denseSpec(mlpSpec(5, 1, 'regression', [6, 4, 1], 'sigmoid')), false, 2);
});

test('residual Add and Concatenate: fan-out sums, merges route', async () => {
  await backend();
  checkGraph(residualSpec(true), true, 3);
  checkGraph(residualSpec(false), false, 4);
});

test('flat index: nodes in order, trainable weights in order, row-major', async () => {
  await backend();
  const g = Graph.random(residualSpec(true), 0);
  assert.deepEqual(
    g.weights.map((w) => [w.name, w.offset, w.shape.join('x'), w.isKernel]),
    [
      ['a/kernel', 0, '6x5', true],
      ['a/bias', 30, '5', false],
      ['b/kernel', 35, '5x5', true],
      ['b/bias', 60, '5', false],
      ['out/kernel', 65, '10x3', true],
      ['out/bias', 95, '3', false],
    ],
  );
  assert.equal(g.nParams, 98);
  assert.equal(g.task, 'classification');
  // Glorot-uniform kernels within sqrt(6 / (fan_in + fan_out)), zero biases, and setFlat round-trips.
  const flat = g.toFlat();
  for (const w of g.weights) {
    const lim = w.isKernel ? Math.sqrt(6 / (w.shape[0] + w.shape[1])) : 0;
    for (let i = 0; i < w.size; i++) assert.ok(Math.abs(flat[w.offset + i]) <= lim);
  }
  const f2 = flat.map((v, i) => v + i);
  g.setFlat(f2);
  assert.deepEqual(g.toFlat(), f2);
  g.dispose();
});

test('refusals name the layer, its class and what is supported', async () => {
  await backend();
  const base = residualSpec(true);
  const withNode = (i: number, patch: Partial<NodeSpec>): GraphSpec => ({
    ...base,
    nodes: base.nodes.map((n, k) => (k === i ? { ...n, ...patch } : n)),
  });
  const refused = (s: GraphSpec, re: RegExp) =>
    assert.throws(
      () => Graph.fromSpec(s),
      (e: unknown) => e instanceof PruneScopeError && re.test(e.message),
    );
  refused(withNode(1, { className: 'LSTM' as never }), /layer b \(LSTM\).*not supported.*Dense/);
  refused(
    { ...base, nodes: [...base.nodes.slice(0, 2), { ...base.nodes[1], inputs: ['b'] }, ...base.nodes.slice(2)] },
    /b.*more than once.*shared/,
  );
  refused(withNode(0, { config: { units: 5, activation: 'softmax', useBias: true } }), /layer a \(Dense\).*softmax/);
  refused(
    {
      ...base,
      nodes: [
        base.nodes[0],
        { name: 'sm', className: 'Softmax', config: { axis: -1 }, inputs: ['a'], weights: [] },
        ...base.nodes.slice(1).map((n) => (n.name === 'b' ? { ...n, inputs: ['sm'] } : n)),
      ],
    },
    /layer sm \(Softmax\).*softmax inside/,
  );
  refused({ ...base, outputs: ['out', 'a'] }, /2 outputs/);
  refused(withNode(4, { weights: [] }), /layer out \(Dense\) has no weight kernel/);
});
