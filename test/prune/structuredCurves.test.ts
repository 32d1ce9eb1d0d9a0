// Structured curves: every point's metric is the evaluator's on the channel-masked teacher, and its
// shares of parameters and multiply-adds removed match the physically shrunk student's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flatLayout, graphToFlat, graphWithFlat } from '../../src/engine/model/graphFlat';
import { applyMask } from '../../src/engine/prune/mask';
import { channelGroups } from '../../src/engine/prune/groups';
import { channelScores, selectChannels } from '../../src/engine/prune/channelSelect';
import { structuredCurves } from '../../src/engine/prune/structuredCurves';
import { studentForChannels } from '../../src/engine/prune/structuredStudent';
import { Rng } from '../../src/engine/util/random';
import { forward64 } from '../reference/forward64';
import { GraphBuilder, randomBatch } from './graphFixtures';

function net() {
  const b = new GraphBuilder(12, [6, 6, 1]);
  b.conv('c1', 'input', 1, 4, 3, { activation: 'relu' });
  b.maxPool('p', 'c1');
  b.conv('c2', 'p', 4, 6, 3, { padding: 'valid', activation: 'relu' });
  b.flatten('f', 'c2');
  b.dense('d', 'f', 6, 8, 'tanh');
  b.dense('out', 'd', 8, 3, 'softmax');
  return b.output('out');
}

test('structured curves: metric of the masked teacher, shares of parameters and MACs of the student', async () => {
  const spec = net();
  const x = randomBatch(3, 40, [6, 6, 1]);
  const flat = graphToFlat(spec);
  const labels = (s = spec) => {
    const y = forward64(s, x).data;
    return Array.from({ length: x.n }, (_, i) => [0, 1, 2].reduce((a, k) => (y[i * 3 + k] > y[i * 3 + a] ? k : a), 0));
  };
  const truth = labels();
  const agreement = async (mask: Uint8Array) => {
    const l = labels(graphWithFlat(spec, applyMask(flat, mask)));
    return l.filter((v, i) => v === truth[i]).length / x.n;
  };
  const magnitude = Float64Array.from(flat, Math.abs);
  const shares = [0, 0.25, 0.5, 0.75];
  const r = await structuredCurves(spec, [{ name: 'magnitude', scores: async () => magnitude }], agreement, { shares });
  const c = r.curves.magnitude;
  assert.equal(c.mean[0], 1);
  assert.equal(r.removableChannels, 4 + 6 + 8);
  const g = channelGroups(spec);
  const cs = channelScores(spec, g, magnitude);
  shares.forEach((s, i) => {
    const st = studentForChannels(spec, g, selectChannels(cs, g, s));
    assert.ok(Math.abs(c.paramsRemoved[i] - (1 - st.studentCost.params / st.teacherCost.params)) < 1e-12);
    assert.ok(Math.abs(c.macsRemoved[i] - (1 - st.studentCost.macs / st.teacherCost.macs)) < 1e-12);
  });
  // per group: round(0.5 * 4) + round(0.5 * 6) + round(0.5 * 8) = 9 of 18
  assert.equal(c.channelsRemoved[2], 9 / 18);
  assert.ok(c.paramsRemoved[3] > c.paramsRemoved[1] && c.macsRemoved[3] > c.macsRemoved[1]);
});

test('a stochastic ranker is repeated over seeds: mean and sample sd of the runs', async () => {
  const spec = net();
  const n = flatLayout(spec).total;
  const seen: number[] = [];
  const r = await structuredCurves(
    spec,
    [
      {
        name: 'random',
        stochastic: true,
        scores: async (seed) => {
          const rng = new Rng(seed);
          return Float64Array.from({ length: n }, () => rng.uniform(0, 1));
        },
      },
    ],
    async (mask, info) => {
      seen.push(info.seed);
      return mask.reduce((a, b) => a + b, 0) + info.seed;
    },
    { shares: [0, 0.5], seeds: [1, 2, 3] },
  );
  assert.deepEqual(seen, [1, 1, 2, 2, 3, 3]);
  const c = r.curves.random;
  assert.equal(c.runs.length, 3);
  assert.deepEqual(
    c.mean.map((m, i) => m - c.runs.reduce((a, run) => a + run[i], 0) / 3),
    [0, 0],
  );
  assert.equal(c.sd[0], 1); // masks empty: values 1, 2, 3
});
