// The `channel-relevance` job on a small conv network (digits 8x8x1, conv -> BN -> relu -> pool ->
// conv -> flatten -> dense), checked against the engine's building blocks called independently:
// the method's parameter relevance aggregated per channel, and the first convolution's kernel as
// the model file holds it.
import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { backend } from '../helpers';
import { tmpDir } from '../fixtures/models/tfjsFiles';
import { GraphBuilder } from '../prune/graphFixtures';
import { Graph } from '../../src/engine/model/graph';
import { writeTfjs } from '../../src/engine/formats/tfjs';
import { loadModel } from '../../src/engine/formats/modelFile';
import { loadDataset, splitForModel } from '../../src/engine/data';
import { computeRelevance } from '../../src/engine/relevance/compute';
import { channelGroups } from '../../src/engine/prune/groups';
import { channelScores } from '../../src/engine/prune/channelSelect';
import { h5Service } from '../../src/engine/formats/hdf5/h5Client';
import { jobRunner } from './runJob';
import { firstConvFilters } from '../../src/worker/jobs/channelRelevance';
import { makeEngineApi } from '../../src/worker/jobs/cellApi';
import { filterMosaic } from '../../src/protocol/channelView';

after(() => h5Service.stop());

const { ctx, run } = jobRunner();

async function convModel(): Promise<string> {
  await backend();
  const b = new GraphBuilder(5, [8, 8, 1]);
  b.conv('c1', 'input', 1, 6, 3);
  b.bn('bn1', 'c1', 6);
  b.relu('r1', 'bn1');
  b.maxPool('p1', 'r1');
  b.conv('c2', 'p1', 6, 4, 3, { padding: 'valid', activation: 'relu' });
  b.flatten('f', 'c2');
  b.dense('out', 'f', 16, 10, 'softmax');
  const g = Graph.random(b.output('out'), 2);
  const file = (await writeTfjs(path.join(tmpDir('cr'), 'm'), { spec: g.toSpec() })).path;
  g.dispose();
  return file;
}

test('channel-relevance = the parameter ranking summed per channel; first conv filters as in the file', async () => {
  const mp = await convModel();
  const m = await loadModel(mp);
  const spec = m.network.toSpec();
  const split = splitForModel(m.network, m.metadata, loadDataset('digits'), { seed: 0, file: mp });
  const groups = channelGroups(spec);
  for (const method of ['obd', 'random']) {
    const r = await run('channel-relevance', { modelPath: mp, data: 'digits', seed: 0, method });
    const rel = await computeRelevance(m.network, split, { method: method as 'obd', seed: 0 });
    const want = channelScores(spec, groups, rel.scores, 'sum', 'channels');
    assert.equal(r.method, method);
    assert.deepEqual(
      r.groups.map((g) => g.producers.join('+')),
      ['c1', 'c2'],
      'the prunable groups: c1 (with bn1) and c2 (with the Flatten->Dense rows)',
    );
    for (const g of r.groups) {
      const w = want.get(g.group)!;
      assert.equal(g.scores.length, w.length);
      g.scores.forEach((s, k) => assert.ok(s !== null && Math.abs(s - w[k]) <= 1e-9 * (1 + Math.abs(w[k])), `${k}`));
    }
    // c1's group sums its filter (9 weights), bias, BN gamma and beta and c2's 3x3x1x4 input slice.
    const fc = r.firstConv!;
    assert.equal(fc.layer, 'c1');
    assert.deepEqual([fc.kernelSize, fc.inChannels, fc.filters], [[3, 3], 1, 6]);
    const k = spec.nodes.find((n) => n.name === 'c1')!.weights.find((w) => w.name === 'kernel')!;
    assert.deepEqual(fc.kernel, Array.from(k.values));
    const c1 = r.groups.find((g) => g.producers[0] === 'c1')!;
    assert.deepEqual(fc.relevance, c1.scores);
  }
  m.network.dispose();
});

test('notebook API: channelRelevance, groups and the filter and bar figures of a conv model', async () => {
  const mp = await convModel();
  const api = makeEngineApi(ctx(), (p) => p);
  const r = await api.channelRelevance({ model: mp, data: 'digits', seed: 0, method: 'obd' });
  assert.deepEqual(r, await run('channel-relevance', { modelPath: mp, data: 'digits', seed: 0, method: 'obd' }));
  const g = await api.groups({ model: mp });
  assert.deepEqual(g, await run('groups', { modelPath: mp }));
  const bars = api.figures.channelBars(r);
  assert.equal(bars.length, r.groups.length);
  assert.deepEqual(
    bars[0].data[0].y,
    r.groups[0].scores.filter((s) => s !== null),
  );
  assert.deepEqual(api.figures.filters(r), filterMosaic(r.firstConv!));
  assert.throws(() => api.figures.filters({ ...r, firstConv: undefined }), /no Conv2D/);
});

test('a model without Conv2D has no filters; a bad aggregate is refused', async () => {
  const b = new GraphBuilder(1, [4]);
  b.dense('h', 'input', 4, 3, 'relu');
  b.dense('o', 'h', 3, 2, 'softmax');
  const spec = b.output('o');
  assert.equal(firstConvFilters(spec, channelGroups(spec), new Map()), undefined);
  const mp = await convModel();
  await assert.rejects(
    run('channel-relevance', { modelPath: mp, data: 'digits', seed: 0, method: 'obd', aggregate: 'median' }),
    /aggregate/,
  );
});
