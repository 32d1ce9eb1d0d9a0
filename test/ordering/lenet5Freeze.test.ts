// Ordering and freezing on a LeNet-5 (relu, 28x28 MNIST digits): the order taken at the freeze
// covers every kernel weight of the convolutions and dense layers exactly once, the frozen weights
// are the least-variance ones by that order, they keep their values bit for bit through the rest of
// training, and the weights left open keep moving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { Graph } from '../../src/engine/model/graph';
import { lenet5Spec } from '../../src/engine/model/architectures';
import { loadDataset, splitDataset } from '../../src/engine/data';
import { trainWithFreezing } from '../../src/engine/ordering/freezeTrain';

test('LeNet-5: frozen kernel weights are the least-variance ones and keep their values; the rest move', async () => {
  await backend();
  const mnist = loadDataset('mnist');
  const rows = 160;
  const ds = { ...mnist, x: mnist.x.slice(0, rows * mnist.features), y: mnist.y.slice(0, rows), rows };
  const split = splitDataset(ds, { seed: 0, testFraction: 0.2 });
  const net = Graph.random(lenet5Spec([28, 28, 1], 10, 'relu', 'classification'), 7);
  const kernel = net.kernelMask();
  const kernels = kernel.reduce((a, b) => a + b, 0);
  assert.equal(net.nParams, 61706);
  const snapshots: Float32Array[] = [net.toFlat()];
  const before = tf.memory().numTensors;
  const t0 = 4;
  const r = await trainWithFreezing(net, split, {
    steps: 10,
    batchSize: 16,
    lr: 0.01,
    seed: 2,
    estimator: 'per-sample',
    weightsOnly: true,
    stages: [{ atStep: t0, share: 0.4 }],
    timing: false,
    onProgress: () => snapshots.push(net.toFlat()),
  });
  assert.equal(tf.memory().numTensors, before, 'leaked tensors');
  const target = Math.round(0.4 * kernels);
  assert.equal(r.events.length, 1);
  assert.equal(r.events[0].totalFrozen, target);

  // The order: every candidate (kernel weight) once, by increasing variance.
  const o = r.ordering!;
  assert.equal(o.step, t0);
  assert.equal(o.order.length, kernels);
  const seen = new Uint8Array(net.nParams);
  for (const j of o.order) {
    assert.equal(kernel[j], 1, `bias ${j} in the order of kernel weights`);
    assert.equal(seen[j], 0, `${j} twice in the order`);
    seen[j] = 1;
  }
  for (let i = 1; i < o.order.length; i++)
    assert.ok(o.variances[o.order[i - 1]] <= o.variances[o.order[i]], `order not by variance at ${i}`);
  // Every layer's kernel has some variance (its gradient was observed), conv layers included.
  for (const w of net.weights.filter((x) => x.isKernel)) {
    let s = 0;
    for (let j = w.offset; j < w.offset + w.size; j++) s += o.variances[j];
    assert.ok(s > 0, `${w.name}: no gradient variance`);
  }

  // Frozen = the first `target` of the order, frozen at t0 before its update, unchanged afterwards.
  const frozen = new Set(o.order.subarray(0, target));
  const end = net.toFlat();
  let moved = 0;
  let open = 0;
  for (let j = 0; j < net.nParams; j++) {
    if (r.freezeStep[j] > 0) {
      assert.ok(frozen.has(j), `${j} frozen but not among the ${target} least-variance weights`);
      assert.equal(r.freezeStep[j], t0);
      assert.ok(Object.is(end[j], snapshots[t0 - 1][j]), `param ${j} changed after freezing`);
    } else {
      open++;
      if (end[j] !== snapshots[t0 - 1][j]) moved++;
    }
  }
  assert.equal(net.nParams - open, target);
  // Adam moves every weight with a non-zero gradient; relu units dead on these 16-row batches do not.
  assert.ok(moved > 0.9 * open, `only ${moved} of ${open} open weights moved after the freeze`);
  net.dispose();
});
