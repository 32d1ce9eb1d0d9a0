// Channel relevance = a method's parameter relevance aggregated over the entries a channel removes
// (sums, means and maxima computed here from coordinates), and the selection at a share.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flatLayout } from '../../src/engine/model/graphFlat';
import { channelGroups, prunableGroups } from '../../src/engine/prune/groups';
import { channelScores, removableChannels, selectChannels } from '../../src/engine/prune/channelSelect';
import { GraphBuilder, entries } from './graphFixtures';

function net() {
  const b = new GraphBuilder(1, [4, 4, 2]);
  b.conv('c1', 'input', 2, 3, 3, { activation: 'relu' });
  b.bn('bn', 'c1', 3);
  b.conv('c2', 'bn', 3, 4, 1, { activation: 'relu' });
  b.gap('gap', 'c2');
  b.dense('out', 'gap', 4, 2);
  return b.output('out');
}

test('channel relevance: sum, mean and max over every trainable entry the channel removes', () => {
  const spec = net();
  const n = flatLayout(spec).total;
  const scores = Float64Array.from({ length: n }, (_, i) => Math.sin(i) + 1.5);
  const g = channelGroups(spec);
  const c1 = prunableGroups(g).find((x) => x.producers[0] === 'c1')!;
  const sum = channelScores(spec, g, scores, 'sum').get(c1.id)!;
  const mean = channelScores(spec, g, scores, 'mean').get(c1.id)!;
  const max = channelScores(spec, g, scores, 'max').get(c1.id)!;
  for (let k = 0; k < 3; k++) {
    const idx = [
      ...entries(spec, 'c1', 'kernel', (c) => c[3] === k),
      ...entries(spec, 'c1', 'bias', (c) => c[0] === k),
      ...entries(spec, 'bn', 'gamma', (c) => c[0] === k),
      ...entries(spec, 'bn', 'beta', (c) => c[0] === k),
      ...entries(spec, 'c2', 'kernel', (c) => c[2] === k),
    ];
    assert.equal(idx.length, 18 + 1 + 1 + 1 + 4);
    const v = idx.map((i) => scores[i]);
    const s = v.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum[k] - s) < 1e-12);
    assert.ok(Math.abs(mean[k] - s / v.length) < 1e-12);
    assert.equal(max[k], Math.max(...v));
  }
});

test('selection: per group the least relevant share; globally the least relevant channels; one channel always stays', () => {
  const spec = net();
  const g = channelGroups(spec);
  const [c1, c2] = prunableGroups(g);
  assert.equal(removableChannels(g), 3 + 4);
  const scores = new Map([
    [c1.id, Float64Array.from([5, 1, 3])],
    [c2.id, Float64Array.from([10, 20, 0.5, 30])],
  ]);
  const half = selectChannels(scores, g, 0.5, 'per-group');
  assert.deepEqual(half.get(c1.id), [1, 2]); // round(1.5) = 2 of 3: the two least relevant
  assert.deepEqual(half.get(c2.id), [2, 0]);
  const glob = selectChannels(scores, g, 3 / 7, 'global');
  assert.deepEqual(glob.get(c2.id), [2]);
  assert.deepEqual(glob.get(c1.id), [1, 2]);
  const all = selectChannels(scores, g, 1, 'global');
  assert.deepEqual(all.get(c1.id)!.length, 2);
  assert.deepEqual(all.get(c2.id)!.length, 3);
  assert.deepEqual(all.get(c2.id), [2, 0, 1]);
  assert.equal(selectChannels(scores, g, 0).size, 0);
});
