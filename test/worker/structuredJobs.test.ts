// The structured side of the worker's jobs (what-if slider, prune, export-student, groups) on a
// Wine MLP by units, each number checked against an independent recomputation from the engine's
// building blocks (channel ranking, selection, mask, evaluate, the student's own graph cost).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { tmpDir } from '../fixtures/models/tfjsFiles';
import { randomDense } from '../../src/engine/model/denseChain';
import { loadModel, saveModel } from '../../src/engine/formats/modelFile';
import { loadDataset, splitDataset, splitForModel, numClasses } from '../../src/engine/data';
import { train } from '../../src/engine/train/train';
import { evaluate } from '../../src/engine/train/metrics';
import { computeRelevance } from '../../src/engine/relevance/compute';
import { channelGroups } from '../../src/engine/prune/groups';
import { channelScores, selectChannels } from '../../src/engine/prune/channelSelect';
import { structuredMask } from '../../src/engine/prune/structuredMask';
import { studentForChannels } from '../../src/engine/prune/structuredStudent';
import { applyMask } from '../../src/engine/prune/mask';
import { jobRunner } from './runJob';
import { handlers } from '../../src/worker/registry';

const { run, ctx } = jobRunner();

let modelPath: string | undefined;
async function model(): Promise<string> {
  if (modelPath) return modelPath;
  await backend();
  const ds = loadDataset('wine');
  const split = splitDataset(ds, { seed: 0, standardize: true });
  const net = randomDense(
    {
      inputSize: 13,
      layers: [
        { name: 'h1', units: 10, activation: 'tanh' },
        { name: 'h2', units: 6, activation: 'tanh' },
        { name: 'o', units: 3, activation: 'softmax' },
      ],
    },
    4,
  );
  await train(net, split, { epochs: 10, batchSize: 16, lr: 0.01, seed: 0, evalEvery: 0 });
  modelPath = (
    await saveModel(path.join(tmpDir('sj'), 'm'), net, {
      task: 'classification',
      featureNames: ds.featureNames,
      labelNames: ds.labelNames,
      preprocessing: { standardization: split.standardization! },
    })
  ).modelJson;
  net.dispose();
  return modelPath;
}

test('structured what-if = the channel-masked model evaluated independently; parameters left = the student', async () => {
  const mp = await model();
  const m = await loadModel(mp);
  const split = splitForModel(m.network, m.metadata, loadDataset('wine'), { seed: 0, file: mp });
  const spec = m.network.toSpec();
  const groups = channelGroups(spec);
  const rel = await computeRelevance(m.network, split, { method: 'obd', seed: 0 });
  const cs = channelScores(spec, groups, rel.scores, 'sum', 'units');
  for (const share of [0, 0.3, 0.5, 0.9]) {
    const r = await run('whatif', { modelPath: mp, data: 'wine', seed: 0, method: 'obd', share, structured: 'units' });
    const removed = selectChannels(cs, groups, share, 'per-group');
    const masked = m.network.clone();
    masked.setFlat(applyMask(m.network.toFlat(), structuredMask(spec, groups, removed)));
    const want = evaluate(masked, split.test, 'classification', numClasses(split.dataset)).accuracy!;
    masked.dispose();
    assert.equal(r.value, want, `share ${share}`);
    const st = studentForChannels(spec, groups, removed);
    assert.equal(r.structured!.paramsLeft, st.studentCost.params);
    assert.equal(r.structured!.paramsTotal, st.teacherCost.params);
    assert.equal(r.structured!.removableChannels, 16);
  }
  m.network.dispose();
});

test('structured prune and export-student jobs; the groups job lists the units', async () => {
  const mp = await model();
  const out = path.join(tmpDir('sj-p'), 'p');
  const p = await run('prune', {
    modelPath: mp,
    data: 'wine',
    seed: 0,
    method: 'obd',
    fraction: 0.5,
    structured: 'units',
    finetune: 1,
    out,
  });
  assert.equal(p.removedChannels, 8);
  assert.equal(typeof p.testFinetuned, 'number');
  const w = await run('whatif', {
    modelPath: mp,
    data: 'wine',
    seed: 0,
    method: 'obd',
    share: 0.5,
    structured: 'units',
  });
  assert.equal(p.testAfter, w.value);
  const e = await run('export-student', {
    modelPath: mp,
    data: 'wine',
    seed: 0,
    method: 'obd',
    fraction: 0.5,
    structured: 'units',
    out: path.join(tmpDir('sj-e'), 's'),
  });
  assert.deepEqual(e.widthsAfter, [5, 3, 3]);
  assert.ok(fs.existsSync(e.studentJson));
  assert.equal(e.paramsAfter, 13 * 5 + 5 + 5 * 3 + 3 + 3 * 3 + 3);
  const g = await run('groups', { modelPath: mp });
  assert.deepEqual(
    g.groups.map((x) => `${x.producers.join('+')}:${x.channels}/${x.removable}`),
    ['h1:10/10', 'h2:6/6', 'o:3/0'],
  );
  await assert.rejects(
    run('whatif', { modelPath: mp, data: 'wine', seed: 0, method: 'obd', share: 0.5, structured: 'rows' }),
    /structured/,
  );
});

test('evicting a model frees its structured what-if state, the cached stem included', async () => {
  const mp = await model();
  const own = new Map<string, unknown>();
  const whatif = async (modelPath: string) => {
    const h = handlers.whatif;
    const p = { modelPath, data: 'wine', seed: 0, method: 'obd', share: 0.5, structured: 'units' };
    await h.run(h.parse(p), { ...ctx(), cache: own });
  };
  // Five copies of the model: the worker keeps four, so the fifth evicts the first.
  const copies = Array.from({ length: 5 }, (_, i) => {
    const dir = tmpDir(`sj-evict${i}`);
    fs.cpSync(path.dirname(mp), dir, { recursive: true });
    return path.join(dir, path.basename(mp));
  });
  const before = tf.memory().numTensors;
  await whatif(copies[0]);
  const perModel = tf.memory().numTensors - before;
  for (const c of copies.slice(1)) await whatif(c);
  assert.equal(tf.memory().numTensors, before + 4 * perModel);
  for (const k of own.keys()) assert.ok(!k.includes(copies[0]), `${k} evicted`);
});
