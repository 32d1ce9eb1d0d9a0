// The conv-family modules inside the layer graph: LeNet-5 (relu and tanh) and resnet8 (BN in
// inference with non-trivial moving statistics, Add skips, strided and 1x1 projections, global
// average pooling) built by the architecture builders, forward against the float64 GraphSpec
// reference and the loss gradient against its central finite differences on a seeded subset of
// coordinates (every weight array represented).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { GraphSpec } from '../../src/engine/graphSpec';
import { Graph, flatten } from '../../src/engine/model/graph';
import { lenet5Spec, resnet8Spec } from '../../src/engine/model/architectures';
import { lossGradients } from '../../src/engine/model/gradients';
import { forward64, flatParams64, meanLoss64 } from '../reference/forward64';
import { Rng } from '../../src/engine/util/random';
import { backend, maxRelErr } from '../helpers';

/** A spec whose BN statistics and affine weights are random, so inference BN is not the identity. */
function randomiseBatchNorm(spec: GraphSpec, rng: Rng): GraphSpec {
  return {
    ...spec,
    nodes: spec.nodes.map((nd) =>
      nd.className !== 'BatchNormalization'
        ? nd
        : {
            ...nd,
            weights: nd.weights.map((w) => ({
              ...w,
              values: Float32Array.from(w.values, () =>
                w.name === 'moving_variance'
                  ? 0.5 + rng.uniform(0, 1)
                  : w.name === 'gamma'
                    ? 1 + 0.3 * rng.normal()
                    : 0.3 * rng.normal(),
              ),
            })),
          },
    ),
  };
}

function checkConvGraph(spec: GraphSpec, seed: number, coordinates: number): void {
  const rng = new Rng(seed);
  const g0 = Graph.random(spec, seed);
  const s64 = randomiseBatchNorm(g0.toSpec(), rng);
  g0.dispose();
  const g = Graph.fromSpec(s64);
  const n = 2;
  const k = g.outputSize;
  const x = Float32Array.from({ length: n * g.inputSize }, () => rng.normal());
  const y = new Float64Array(n * k);
  for (let i = 0; i < n; i++) y[i * k + rng.int(k)] = 1;
  const xb = { n, shape: g.inputShape, data: Float64Array.from(x) };
  const xt = tf.tensor(x, [n, ...g.inputShape]);
  const yt = tf.tensor2d(Float32Array.from(y), [n, k]);
  const out = g.predict(xt);
  assert.ok(maxRelErr(out.dataSync(), forward64(s64, xb).data) < 1e-5, 'forward vs float64');
  // Coordinates: a few from every weight array, the rest at random.
  const picks = new Set<number>();
  for (const w of g.weights) for (let j = 0; j < 2; j++) picks.add(w.offset + rng.int(w.size));
  while (picks.size < coordinates) picks.add(rng.int(g.nParams));
  const idx = [...picks].sort((a, b) => a - b);
  const w64 = flatParams64(s64);
  const h = 1e-6;
  const fd = idx.map((j) => {
    const v = w64[j];
    w64[j] = v + h;
    const lp = meanLoss64('cross-entropy', forward64(s64, xb, w64), y);
    w64[j] = v - h;
    const lm = meanLoss64('cross-entropy', forward64(s64, xb, w64), y);
    w64[j] = v;
    return (lp - lm) / (2 * h);
  });
  const before = tf.memory().numTensors;
  const { loss, grads } = lossGradients(g, xt, yt);
  const flat = flatten(g, grads);
  assert.equal(tf.memory().numTensors, before, 'no tensors left by the backward pass');
  assert.ok(Math.abs(loss - meanLoss64('cross-entropy', forward64(s64, xb), y)) < 1e-5, 'loss');
  const e = maxRelErr(
    idx.map((j) => flat[j]),
    fd,
  );
  assert.ok(e < 1e-3, `gradient relative error ${e}`);
  tf.dispose([xt, yt, out]);
  g.dispose();
}

test('LeNet-5 (relu, tanh) graph: forward and loss gradient against float64', async () => {
  await backend();
  checkConvGraph(lenet5Spec([12, 12, 1], 4, 'relu', 'classification'), 1, 60);
  checkConvGraph(lenet5Spec([13, 12, 2], 3, 'tanh', 'classification'), 2, 60);
});

test('resnet8 graph (BN inference, Add, strided 1x1 projections, global pooling) against float64', async () => {
  await backend();
  checkConvGraph(resnet8Spec([8, 8, 1], 3, 'classification'), 3, 60);
});
