// The conv demo's student step on a small trained conv network with BN (digits, 8x8x1): the share
// is chosen on the validation part by the channel-masked teacher's accuracy (recomputed here from
// the groups, the aggregated ranking and the mask, independently of the student), the written
// student is narrower and loads back, and distillation runs against labels alone from the same start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { backend } from '../helpers';
import { tmpDir } from '../fixtures/models/tfjsFiles';
import { loadDataset, numClasses, splitDataset } from '../../src/engine/data';
import { holdOutValidation } from '../../src/engine/data/validation';
import { Graph } from '../../src/engine/model/graph';
import { loadModel, saveModel } from '../../src/engine/formats/modelFile';
import { train } from '../../src/engine/train/train';
import { evaluate } from '../../src/engine/train/metrics';
import { computeRelevance } from '../../src/engine/relevance/compute';
import { channelGroups } from '../../src/engine/prune/groups';
import { channelScores, selectChannels } from '../../src/engine/prune/channelSelect';
import { structuredMask } from '../../src/engine/prune/structuredMask';
import { applyMask } from '../../src/engine/prune/mask';
import { convDemoStudent } from '../../src/engine/experiments/convStudent';
import { digitsBnConv } from '../prune/graphFixtures';

test('conv demo student: share chosen on validation by the masked teacher, narrower student written, distilled', async () => {
  await backend();
  const ds = loadDataset('digits');
  ds.x = ds.x.map((v) => v / 16);
  const split = splitDataset(ds, { seed: 0 });
  const teacher = Graph.random(digitsBnConv(), 1);
  await train(teacher, split, { epochs: 4, batchSize: 32, lr: 0.01, seed: 0, evalEvery: 0 });
  const obd = await computeRelevance(teacher, split, { method: 'obd', variant: 'ggn', seed: 0 });
  const folder = tmpDir('conv-student');
  const saved = await saveModel(path.join(folder, 'teacher'), teacher, { task: 'classification' });
  const shares = [0.25, 0.5, 0.75];
  const r = await convDemoStudent(
    {
      teacher: { network: teacher, path: saved.modelJson },
      split,
      rankings: { obd },
      folder,
      seed: 3,
      log: () => undefined,
    },
    { shares, distillEpochs: 1, latencyRuns: 3 },
  );

  // Independently: the validation rows, the masked teacher at each share, the rule.
  const held = holdOutValidation(split, 0.2, 3);
  assert.equal(r.validationRows, held.validation.rows);
  const spec = teacher.toSpec();
  const groups = channelGroups(spec);
  const scores = channelScores(spec, groups, obd.scores, 'sum', 'channels');
  const acc = (net: Graph) => evaluate(net, held.validation, 'classification', numClasses(ds)).accuracy!;
  const base = acc(teacher);
  assert.equal(r.teacherValidation, base);
  const want = shares.map((share) => {
    const masked = teacher.clone();
    masked.setFlat(
      applyMask(teacher.toFlat(), structuredMask(spec, groups, selectChannels(scores, groups, share, 'per-group'))),
    );
    const a = acc(masked);
    masked.dispose();
    return a;
  });
  want.forEach((a, i) =>
    assert.ok(
      Math.abs(r.candidates[i].validation - a) < 1e-12,
      `share ${shares[i]}: ${r.candidates[i].validation} vs ${a}`,
    ),
  );
  const ok = shares.filter((_, i) => want[i] >= base - 0.01);
  assert.equal(r.share, ok.length ? ok[ok.length - 1] : shares[0]);
  assert.equal(r.withinTolerance, ok.length > 0);

  // The written student: fewer filters, no BN, the report's sizes.
  const s = await loadModel(r.student.files.modelJson);
  const c1 = r.student.layers.find((l) => l.node === 'c1')!;
  assert.ok(c1.channelsAfter < 8);
  assert.equal(s.network.toSpec().nodes.find((n) => n.name === 'c1')!.weights[0].shape[3], c1.channelsAfter);
  assert.ok(s.network.toSpec().nodes.every((n) => n.className !== 'BatchNormalization'));
  assert.equal(s.network.nParams, r.student.totals.paramsAfter);
  s.network.dispose();
  assert.ok(fs.existsSync(path.join(folder, 'student', 'student.json')));

  assert.deepEqual(
    r.distill.rows.map((x) => x.name),
    ['teacher', 'labels-only', 'labels-only-teacher-init', 'distilled-teacher-init'],
  );
  assert.equal(r.section.tables![0].rows.length, 3);
  assert.match(r.section.text![0], /validation rows held out of the training part, never the test part/);
  teacher.dispose();
});
