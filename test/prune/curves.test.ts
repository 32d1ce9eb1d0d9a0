import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { randomDense } from '../../src/engine/model/denseChain';
import { qualityCurves, shareGrid, Ranker } from '../../src/engine/prune/curves';
import { randomRelevance } from '../../src/engine/relevance/random';
import { obdRelevance } from '../../src/engine/relevance/obd';
import { loadDataset, splitDataset } from '../../src/engine/data';
import { train } from '../../src/engine/train/train';
import { evaluate } from '../../src/engine/train/metrics';

test('share grid: 51 points from 0 to 1 in steps of 0.02', () => {
  const g = shareGrid();
  assert.equal(g.length, 51);
  assert.equal(g[0], 0);
  assert.equal(g[50], 1);
  assert.equal(g[25], 0.5);
});

test('curves on Wine: share 0 equals the unpruned metric; share 1 (weights only) predicts from biases alone', async () => {
  await backend();
  const split = splitDataset(loadDataset('wine'), { seed: 1 });
  const net = randomDense(
    {
      inputSize: 13,
      layers: [
        { name: 'h', units: 6, activation: 'tanh' },
        { name: 'o', units: 3, activation: 'softmax' },
      ],
    },
    1,
  );
  await train(net, split, { epochs: 40, batchSize: 16, lr: 0.02, seed: 1, evalEvery: 0 });
  const rankers: Ranker[] = [
    { name: 'random', stochastic: true, rank: async (n, s) => randomRelevance(n, s) },
    { name: 'obd', rank: (n) => obdRelevance(n, split, { variant: 'ggn' }) },
  ];
  const before = net.toFlat();
  const r = await qualityCurves(net, split, rankers, { step: 0.25, seeds: [1, 2, 3] });
  assert.deepEqual(r.shares, [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(net.toFlat(), before, 'the analysed network is not modified');
  const unpruned = evaluate(net, split.test, 'classification', 3).accuracy!;
  assert.equal(r.baseline, unpruned);
  for (const c of Object.values(r.curves)) assert.equal(c.mean[0], unpruned);
  // Independent reference for share 1: with every kernel weight zero the hidden layer outputs
  // tanh(b1), so every test row gets the same class: argmax of softmax(tanh(b1) W2 + b2) = W2 is
  // zero too, so argmax(b2).
  const b2 = before.subarray(before.length - 3);
  const cls = b2.indexOf(Math.max(...b2));
  const y = split.test.y;
  const expected = Array.from(y).filter((v) => v === cls).length / y.length;
  for (const c of Object.values(r.curves))
    assert.ok(Math.abs(c.mean[4] - expected) < 1e-9, `${c.mean[4]} vs ${expected}`);
  assert.equal(r.curves.random.runs.length, 3);
  assert.equal(r.curves.obd.runs.length, 1);
  assert.ok(r.curves.random.sd.some((s) => s > 0));
  net.dispose();
  assert.ok(tf.memory().numTensors < 50);
});
