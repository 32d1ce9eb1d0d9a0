// prunescope distill / export-student end to end on wine: files, the baseline row, privileged
// columns, statistics recomputed from the per-seed runs, and refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { backend } from '../helpers';
import { tmpDir } from '../fixtures/models/tfjsFiles';
import { randomDense } from '../../src/engine/model/denseChain';
import { saveModel } from '../../src/engine/formats/modelFile';
import { loadDataset, splitDataset } from '../../src/engine/data';
import { train } from '../../src/engine/train/train';
import { distillCommand } from '../../src/cli/commands/distill';
import { exportStudentCommand } from '../../src/cli/commands/export-student';
import { PruneScopeError } from '../../src/engine/errors';
import { runCommand } from '../cliRun';

async function teacher(): Promise<string> {
  await backend();
  const ds = loadDataset('wine');
  const split = splitDataset(ds, { seed: 0 });
  const net = randomDense(
    {
      inputSize: 13,
      layers: [
        { name: 'h', units: 12, activation: 'tanh' },
        { name: 'o', units: 3, activation: 'softmax' },
      ],
    },
    1,
  );
  await train(net, split, { epochs: 15, batchSize: 16, lr: 0.01, seed: 0, evalEvery: 0 });
  const saved = await saveModel(path.join(tmpDir('t'), 'teacher'), net, {
    task: 'classification',
    featureNames: ds.featureNames,
    labelNames: ds.labelNames,
    preprocessing: { standardization: split.standardization! },
  });
  net.dispose();
  return saved.modelJson;
}

const run = runCommand;

test('distill --widths with privileged features: baseline row, narrower student input, consistent statistics and files', async () => {
  const t = await teacher();
  const out = path.join(tmpDir('d'), 'run');
  const doc = JSON.parse(
    await run(distillCommand, [
      '--teacher',
      t,
      '--widths',
      '5',
      '--data',
      'wine',
      '--epochs',
      '3',
      '--lr',
      '0.01',
      '--seeds',
      '2',
      '--teacher-features',
      'proline,flavanoids',
      '--out',
      out,
      '--json',
    ]),
  );
  assert.deepEqual(
    doc.rows.map((r: { name: string }) => r.name),
    ['teacher', 'labels-only', 'distilled-scratch', 'labels-only-teacher-init', 'distilled-teacher-init'],
  );
  assert.deepEqual(doc.studentSpec, [11, 5, 3]);
  assert.ok(!doc.studentFeatures.includes('proline') && !doc.studentFeatures.includes('flavanoids'));
  for (const r of doc.rows as { runs: { metric: number; loss: number }[]; metricMean: number; metricSd: number }[]) {
    const v = r.runs.map((x) => x.metric);
    const m = (v[0] + v[1]) / 2;
    assert.ok(Math.abs(r.metricMean - m) < 1e-12);
    assert.ok(Math.abs(r.metricSd - Math.abs(v[0] - v[1]) / Math.SQRT2) < 1e-12); // sample sd of two values
  }
  assert.deepEqual(fs.readdirSync(out).sort(), [
    'distill.csv',
    'distill.json',
    'group1-shard1of1.bin',
    'model.json',
    'report.html',
  ]);
  const csv = fs.readFileSync(path.join(out, 'distill.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 1 + 5 * 2);
  assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), /error_y/);
  await assert.rejects(
    run(distillCommand, ['--teacher', t, '--widths', '5', '--data', 'wine', '--out', out]),
    (e: unknown) => e instanceof PruneScopeError && e.context.field === '--out',
  );
  await assert.rejects(
    run(distillCommand, [
      '--teacher',
      t,
      '--widths',
      '50',
      '--data',
      'wine',
      '--epochs',
      '1',
      '--out',
      path.join(out, '..', 'w'),
    ]),
    (e: unknown) => e instanceof PruneScopeError && e.context.field === 'widths',
  );
  await assert.rejects(
    run(distillCommand, [
      '--teacher',
      t,
      '--widths',
      '5',
      '--data',
      'wine',
      '--teacher-features',
      'nope',
      '--out',
      path.join(out, '..', 'w'),
    ]),
    (e: unknown) => e instanceof PruneScopeError && e.context.field === '--teacher-features',
  );
});

test("export-student CLI refuses the teacher's own folder and a fraction outside [0, 1]", async () => {
  const t = await teacher();
  const before = fs.readFileSync(t, 'utf8');
  await assert.rejects(
    run(exportStudentCommand, [
      t,
      '--data',
      'wine',
      '--method',
      'random',
      '--fraction',
      '0.5',
      '--out',
      path.dirname(t),
    ]),
    (e: unknown) => e instanceof PruneScopeError && e.context.field === 'out',
  );
  await assert.rejects(
    run(exportStudentCommand, [
      t,
      '--data',
      'wine',
      '--method',
      'random',
      '--fraction',
      '1.2',
      '--out',
      path.join(tmpDir('e'), 'x'),
    ]),
    (e: unknown) => e instanceof PruneScopeError && e.context.field === '--fraction',
  );
  assert.equal(fs.readFileSync(t, 'utf8'), before);
  const out = path.join(tmpDir('e'), 's');
  const r = JSON.parse(
    await run(exportStudentCommand, [t, '--data', 'wine', '--method', 'obd', '--widths', '4', '--out', out, '--json']),
  );
  assert.deepEqual(r.widthsAfter, [4, 3]);
  assert.equal(fs.statSync(path.join(out, 'group1-shard1of1.bin')).size, 4 * (13 * 4 + 4 + 4 * 3 + 3));
  // --test-fraction reaches the split through the shared model-and-data loader: Wine has 178 rows.
  const r3 = JSON.parse(
    await run(exportStudentCommand, [
      t,
      '--data',
      'wine',
      '--method',
      'random',
      '--fraction',
      '0.5',
      '--test-fraction',
      '0.3',
      '--out',
      path.join(tmpDir('e'), 's3'),
      '--json',
    ]),
  );
  assert.equal(r3.provenance.data.testFraction, 0.3);
  assert.equal(r3.provenance.data.rows, Math.round(178 * 0.3));
  await assert.rejects(
    run(exportStudentCommand, [
      t,
      '--data',
      'wine',
      '--method',
      'random',
      '--fraction',
      '0.5',
      '--test-fraction',
      '1',
      '--out',
      path.join(tmpDir('e'), 's4'),
    ]),
    (e: unknown) => e instanceof PruneScopeError && e.context.field === '--test-fraction',
  );
});
