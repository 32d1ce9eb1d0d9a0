import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { NetworkSpec, computeLayout, denseLayout, randomDense } from '../../src/engine/model/denseChain';
import { DataSplit } from '../../src/engine/data/dataset';
import { train } from '../../src/engine/train/train';
import { trainWithFreezing } from '../../src/engine/ordering/freezeTrain';
import { plateauReached } from '../../src/engine/ordering/schedule';
import { Rng } from '../../src/engine/util/random';

/** Regression split; features listed in `dead` are all zero, so their weights get exactly zero gradient. */
function regressionSplit(rows: number, features: number, dead: number[] = []): DataSplit {
  const rng = new Rng(21);
  const part = (n: number) => {
    const x = new Float32Array(n * features);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      for (let f = 0; f < features; f++) x[i * features + f] = dead.includes(f) ? 0 : rng.normal();
      y[i] = x[i * features] - 0.5 * x[i * features + 1] + 0.1 * rng.normal();
    }
    return { x, y, rows: n };
  };
  const dataset = {
    name: 'synthetic',
    task: 'regression' as const,
    featureNames: Array.from({ length: features }, (_, i) => `f${i}`),
    targetName: 'y',
    x: new Float32Array(0),
    y: new Float32Array(0),
    rows,
    features,
  };
  return { dataset, train: part(rows), test: part(20), seed: 1, testFraction: 0.2 };
}

const mlp = (inputs: number): NetworkSpec => ({
  inputSize: inputs,
  layers: [
    { name: 'h', units: 6, activation: 'tanh' },
    { name: 'out', units: 1, activation: 'linear' },
  ],
});

test('k = 0: training is bit-identical to plain Adam training (train(), same seed)', async () => {
  await backend();
  const split = regressionSplit(40, 5);
  const a = randomDense(mlp(5), 4);
  const b = randomDense(mlp(5), 4);
  // 3 epochs of 40 rows in batches of 16 = 3 x 3 steps; a share-0 stage must change nothing.
  await train(a, split, { epochs: 3, batchSize: 16, lr: 0.01, seed: 9, evalEvery: 0 });
  const r = await trainWithFreezing(b, split, {
    steps: 9,
    batchSize: 16,
    lr: 0.01,
    seed: 9,
    stages: [{ atStep: 2, share: 0 }],
  });
  assert.equal(r.events[0].totalFrozen, 0);
  assert.deepEqual(Array.from(b.toFlat()), Array.from(a.toFlat()));
  a.dispose();
  b.dispose();
});

test('frozen parameters keep their values bit for bit; the others move', async () => {
  await backend();
  const split = regressionSplit(64, 5);
  const net = randomDense(mlp(5), 2);
  const snapshots: Float32Array[] = [net.toFlat()];
  const before = tf.memory().numTensors;
  const r = await trainWithFreezing(net, split, {
    steps: 30,
    batchSize: 8,
    lr: 0.05,
    seed: 3,
    stages: [
      { atStep: 5, share: 0.3 },
      { atStep: 15, count: 20 },
    ],
    onProgress: () => snapshots.push(net.toFlat()),
  });
  assert.equal(tf.memory().numTensors, before, 'leaked tensors');
  assert.equal(r.events.length, 2);
  assert.equal(r.events[0].totalFrozen, Math.round(0.3 * net.nParams));
  assert.equal(r.events[1].totalFrozen, 20);
  const end = net.toFlat();
  let frozen = 0,
    moved = 0;
  for (let j = 0; j < net.nParams; j++) {
    const s = r.freezeStep[j];
    if (s > 0) {
      frozen++;
      // frozen at step s, before its update: the value after step s-1 is final.
      assert.ok(
        Object.is(end[j], snapshots[s - 1][j]),
        `param ${j} frozen at ${s} changed ${snapshots[s - 1][j]} -> ${end[j]}`,
      );
    } else if (end[j] !== snapshots[0][j]) moved++;
  }
  assert.equal(frozen, 20);
  assert.equal(moved, net.nParams - 20);
  net.dispose();
});

test('a pruned model: pruned weights stay exactly 0, are never frozen, and the share counts the unpruned weights', async () => {
  await backend();
  const split = regressionSplit(64, 5);
  const net = randomDense(mlp(5), 6);
  const prune = new Uint8Array(net.nParams);
  for (let j = 0; j < denseLayout(net)![0].kernelSize; j += 3) prune[j] = 1; // every third first-layer weight
  const flat = net.toFlat();
  prune.forEach((p, j) => {
    if (p) flat[j] = 0;
  });
  net.setFlat(flat);
  const weights = denseLayout(net)!.reduce((n, l) => n + l.kernelSize, 0);
  const pruned = prune.reduce((n, p) => n + p, 0);
  const r = await trainWithFreezing(net, split, {
    steps: 20,
    batchSize: 8,
    lr: 0.05,
    seed: 3,
    weightsOnly: true,
    pruneMask: prune,
    stages: [{ atStep: 5, share: 0.5 }],
  });
  assert.equal(r.events[0].totalFrozen, Math.round(0.5 * (weights - pruned)));
  const end = net.toFlat();
  let moved = 0;
  for (let j = 0; j < net.nParams; j++) {
    if (prune[j]) {
      assert.ok(Object.is(end[j], 0), `pruned ${j} is ${end[j]}`);
      assert.equal(r.freezeStep[j], 0, `pruned ${j} was frozen`);
    } else if (end[j] !== flat[j]) moved++;
  }
  assert.ok(moved > 0);
  net.dispose();
});

test('ordered freezing takes zero-gradient weights (dead input features) first; random does not', async () => {
  await backend();
  const dead = [2, 3];
  const split = regressionSplit(64, 5, dead);
  // weights from a dead input have gradient exactly 0 on every sample: variance 0, so rank first.
  const deadIdx = dead.flatMap((f) => Array.from({ length: 6 }, (_, u) => f * 6 + u));
  const net = randomDense(mlp(5), 5);
  const r = await trainWithFreezing(net, split, {
    steps: 10,
    batchSize: 16,
    lr: 0.01,
    seed: 1,
    stages: [{ atStep: 6, count: deadIdx.length }],
  });
  assert.deepEqual(
    [...r.events[0].frozen].sort((x, y) => x - y),
    deadIdx,
  );
  assert.deepEqual(Array.from(r.ordering!.order.subarray(0, deadIdx.length)), deadIdx, 'ties by lower flat index');
  for (const j of deadIdx) assert.equal(r.ordering!.variances[j], 0);
  assert.equal(r.ordering!.ranks[deadIdx[0]], 1);
  const net2 = randomDense(mlp(5), 5);
  const rr = await trainWithFreezing(net2, split, {
    steps: 10,
    batchSize: 16,
    lr: 0.01,
    seed: 1,
    policy: 'random',
    stages: [{ atStep: 6, count: deadIdx.length }],
  });
  assert.notDeepEqual(
    [...rr.events[0].frozen].sort((x, y) => x - y),
    deadIdx,
  );
  net.dispose();
  net2.dispose();
});

test('a wholly frozen layer: skipping its gradient changes nothing else; its values stay', async () => {
  await backend();
  const split = regressionSplit(64, 5);
  const h = computeLayout(mlp(5))[0];
  const layerH = Array.from({ length: h.kernelSize + h.biasSize }, (_, i) => h.kernelOffset + i);
  const run = async (trackToEnd: boolean) => {
    const net = randomDense(mlp(5), 6);
    const w0 = net.toFlat();
    const r = await trainWithFreezing(net, split, {
      steps: 12,
      batchSize: 16,
      lr: 0.05,
      seed: 2,
      trackToEnd,
      stages: [{ atStep: 1, indices: layerH }],
    });
    const w = net.toFlat();
    net.dispose();
    return { r, w0, w };
  };
  const skipped = await run(false); // tracker stops after the stage: layer h's gradient is skipped
  const full = await run(true); // tracker keeps every gradient
  assert.deepEqual(skipped.r.frozenLayers, ['h']);
  for (const j of layerH) assert.ok(Object.is(skipped.w[j], skipped.w0[j]));
  assert.deepEqual(Array.from(skipped.w), Array.from(full.w), 'skipping must not change the trained head');
  assert.notDeepEqual(
    Array.from(skipped.w.subarray(h.biasOffset + h.biasSize)),
    Array.from(skipped.w0.subarray(h.biasOffset + h.biasSize)),
  );
});

test('plateau rule: fires once the windowed mean loss changes by less than the tolerance', () => {
  const falling = [10, 9, 8, 7, 6, 5];
  assert.equal(plateauReached(falling, 6, 3, 0.05), false); // 9 -> 6: a third lower
  const flat = [10, 9, 8, 5.01, 5, 4.99, 5.0, 5.0, 5.0];
  assert.equal(plateauReached(flat, 9, 3, 0.01), true); // 5.0 -> 5.0
  assert.equal(plateauReached(flat, 3, 3, 0.01), false); // fewer than two windows
});
