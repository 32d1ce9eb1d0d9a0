// studentAtBestShare: the chosen (method, share) keeps test accuracy within one point of the teacher
// and no larger grid share of either method does; checked with test-side masks and argmax accuracy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { denseFromFlat, denseLayout, randomDense } from '../../src/engine/model/denseChain';
import { Graph } from '../../src/engine/model/graph';
import { loadDataset, splitDataset, DataSplit } from '../../src/engine/data';
import { train } from '../../src/engine/train/train';
import { qualityCurves } from '../../src/engine/prune/curves';
import { studentAtBestShare } from '../../src/engine/prune/bestShare';
import type { RelevanceResult } from '../../src/engine/relevance/types';
import { makeProvenance } from '../../src/engine/provenance';
import { Rng } from '../../src/engine/util/random';

function ranking(scores: Float64Array, method: 'obd' | 'random'): RelevanceResult {
  const order = Int32Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b] || a - b);
  return { method, scores, order, provenance: makeProvenance({ job: 'relevance', method }) };
}

function accuracyWith(net: Graph, split: DataSplit, r: RelevanceResult, share: number): number {
  const kernel: number[] = [];
  for (const l of denseLayout(net)!) for (let j = l.kernelOffset; j < l.biasOffset; j++) kernel.push(j);
  kernel.sort((a, b) => r.scores[a] - r.scores[b] || a - b);
  const flat = net.toFlat();
  for (const j of kernel.slice(0, Math.round(share * kernel.length))) flat[j] = 0;
  const m = Graph.fromSpec(net.toSpec());
  m.setFlat(flat);
  const pred = tf.tidy(() => tf.argMax(m.predict(tf.tensor2d(split.test.x, [split.test.rows, 13])), 1).dataSync());
  m.dispose();
  return Array.from(pred).filter((p, i) => p === split.test.y[i]).length / split.test.rows;
}

test('studentAtBestShare picks the largest share within one accuracy point of the teacher', async () => {
  await backend();
  const split = splitDataset(loadDataset('wine'), { seed: 0 });
  const net = randomDense(
    {
      inputSize: 13,
      layers: [
        { name: 'h', units: 16, activation: 'tanh' },
        { name: 'o', units: 3, activation: 'softmax' },
      ],
    },
    2,
  );
  await train(net, split, { epochs: 30, batchSize: 16, lr: 0.01, seed: 0, evalEvery: 0 });
  const rng = new Rng(5);
  const rankings = {
    obd: ranking(
      Float64Array.from(net.toFlat(), (w) => Math.abs(w)),
      'obd',
    ),
    random: ranking(
      Float64Array.from({ length: net.nParams }, () => rng.next()),
      'random',
    ),
  };
  const shares = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
  const curves = await qualityCurves(
    net,
    split,
    Object.entries(rankings).map(([name, r]) => ({ name, rank: async () => r })),
    { shares },
  );
  const best = studentAtBestShare(net, split, curves, rankings, { maxDrop: 0.01 });
  const base = accuracyWith(net, split, rankings.obd, 0);
  assert.ok(Math.abs(best.baseline - base) < 1e-9);
  assert.ok(Math.abs(accuracyWith(net, split, rankings[best.method as 'obd'], best.share) - best.metric) < 1e-9);
  assert.ok(best.metric >= base - 0.01 - 1e-12);
  for (const [name, r] of Object.entries(rankings)) {
    for (const s of shares.filter((s) => s > best.share))
      assert.ok(accuracyWith(net, split, r, s) < base - 0.01, `${name} at ${s} also qualifies`);
  }
  assert.ok(best.share > 0, 'magnitude pruning keeps accuracy at some share > 0');
  assert.equal(
    best.mask.reduce((a, b) => a + b, 0),
    Math.round(best.share * (13 * 16 + 16 * 3)),
  );
  net.dispose();
});
