// studentAtBestShare: the chosen (method, share) is the largest grid share up to which the pruned
// teacher keeps VALIDATION accuracy within one point at every share (argmax accuracy recomputed here),
// the test part only reports it: scrambling the test labels leaves the choice unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { denseLayout, randomDense } from '../../src/engine/model/denseChain';
import { Graph } from '../../src/engine/model/graph';
import { loadDataset, splitDataset, DataSplit } from '../../src/engine/data';
import { train } from '../../src/engine/train/train';
import { holdOutValidation } from '../../src/engine/data/validation';
import type { SplitPart } from '../../src/engine/data/dataset';
import { studentAtBestShare } from '../../src/engine/prune/bestShare';
import type { RelevanceResult } from '../../src/engine/relevance/types';
import { makeProvenance } from '../../src/engine/provenance';
import { Rng } from '../../src/engine/util/random';

function ranking(scores: Float64Array, method: 'obd' | 'random'): RelevanceResult {
  const order = Int32Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b] || a - b);
  return { method, scores, order, provenance: makeProvenance({ job: 'relevance', method }) };
}

function accuracyWith(net: Graph, part: SplitPart, r: RelevanceResult, share: number): number {
  const kernel: number[] = [];
  for (const l of denseLayout(net)!) for (let j = l.kernelOffset; j < l.biasOffset; j++) kernel.push(j);
  kernel.sort((a, b) => r.scores[a] - r.scores[b] || a - b);
  const flat = net.toFlat();
  for (const j of kernel.slice(0, Math.round(share * kernel.length))) flat[j] = 0;
  const m = Graph.fromSpec(net.toSpec());
  m.setFlat(flat);
  const pred = tf.tidy(() => tf.argMax(m.predict(tf.tensor2d(part.x, [part.rows, 13])), 1).dataSync());
  m.dispose();
  return Array.from(pred).filter((p, i) => p === part.y[i]).length / part.rows;
}

test('studentAtBestShare chooses on the validation part (held out of training) and reports on test', async () => {
  await backend();
  const held = holdOutValidation(splitDataset(loadDataset('wine'), { seed: 0 }), 0.25, 0);
  const split: DataSplit = held.split;
  const val = held.validation;
  assert.equal(val.rows + split.train.rows, 142);
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
  const data = {
    validation: val,
    test: split.test,
    task: 'classification' as const,
    classes: 3,
    validationFraction: 0.25,
  };
  const best = studentAtBestShare(net, data, rankings, { maxDrop: 0.01, shares });
  const valBase = accuracyWith(net, val, rankings.obd, 0);
  // The rule, recomputed on validation: every share up to the chosen one qualifies; the next does not.
  const kept = (r: RelevanceResult) => {
    let k = -1;
    for (const s of shares) {
      if (accuracyWith(net, val, r, s) < valBase - 0.01 - 1e-12) break;
      k = s;
    }
    return k;
  };
  const expected = Object.entries(rankings)
    .map(([name, r]) => ({ name, s: kept(r), v: accuracyWith(net, val, r, kept(r)) }))
    .sort((a, b) => b.s - a.s || b.v - a.v || a.name.localeCompare(b.name))[0];
  assert.equal(best.method, expected.name);
  assert.equal(best.share, expected.s);
  assert.ok(best.share > 0, 'magnitude pruning keeps accuracy at some share > 0');
  assert.ok(Math.abs(best.validation.metric - expected.v) < 1e-9);
  assert.ok(Math.abs(best.validation.baseline - valBase) < 1e-9);
  assert.equal(best.validation.rows, val.rows);
  // Reported on test: the chosen mask's test accuracy, and the teacher's.
  assert.ok(Math.abs(best.metric - accuracyWith(net, split.test, rankings[best.method as 'obd'], best.share)) < 1e-9);
  assert.ok(Math.abs(best.baseline - accuracyWith(net, split.test, rankings.obd, 0)) < 1e-9);
  assert.equal(best.testRows, split.test.rows);
  assert.equal(
    best.mask.reduce((a, b) => a + b, 0),
    Math.round(best.share * (13 * 16 + 16 * 3)),
  );
  // The test labels play no part in the choice.
  const scrambled = { ...split.test, y: Float32Array.from(split.test.y, (y) => (y + 1) % 3) };
  const again = studentAtBestShare(net, { ...data, test: scrambled }, rankings, { maxDrop: 0.01, shares });
  assert.deepEqual([again.method, again.share], [best.method, best.share]);
  net.dispose();
});
