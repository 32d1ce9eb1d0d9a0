// prunescope distill --structured channels: a conv teacher with BN (digits, 8x8x1) distils into its
// channel-pruned student. The student is really narrower (its filters counted from the teacher's),
// its sizes are the graph cost of that narrower network, and both students learn the digits (the
// conv backward and the distillation loss work through Conv2D, BN, pooling and Flatten).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { backend } from '../helpers';
import { tmpDir } from '../fixtures/models/tfjsFiles';
import { Graph } from '../../src/engine/model/graph';
import { writeTfjs } from '../../src/engine/formats/tfjs';
import { loadDataset, splitDataset } from '../../src/engine/data';
import { train } from '../../src/engine/train/train';
import { distillCommand } from '../../src/cli/commands/distill';
import { PruneScopeError } from '../../src/engine/errors';
import { digitsBnConv } from '../prune/graphFixtures';
import { runCommand } from '../cliRun';

async function convTeacher(): Promise<string> {
  await backend();
  const ds = loadDataset('digits');
  const split = splitDataset(ds, { seed: 0 });
  const graph = Graph.random(digitsBnConv(), 1);
  await train(graph, split, { epochs: 4, batchSize: 32, lr: 0.01, seed: 0, evalEvery: 0 });
  const written = await writeTfjs(path.join(tmpDir('dconv'), 'teacher'), {
    spec: graph.toSpec(),
    metadata: { task: 'classification', labelNames: ds.labelNames },
  });
  graph.dispose();
  return written.path;
}

async function run(argv: string[]): Promise<string> {
  return await runCommand(distillCommand, argv);
}

test('distill --structured channels --fraction 0.5 --fold-bn: a narrower conv student, distilled and labels-only', async () => {
  const t = await convTeacher();
  const out = path.join(tmpDir('dconv-out'), 'd');
  const doc = JSON.parse(
    await run([
      '--teacher',
      t,
      '--data',
      'digits',
      '--structured',
      'channels',
      '--fraction',
      '0.5',
      '--fold-bn',
      '--method',
      'obd',
      '--epochs',
      '3',
      '--seeds',
      '1',
      '--lr',
      '0.01',
      '--out',
      out,
      '--json',
    ]),
  );
  // Per layer half of c1's 8 and of c2's 12 filters; the BN folded into c1; the Dense reads 2x2x6.
  assert.deepEqual(doc.teacherSpec, ['8x8x1', 'Conv2D 8', 'BatchNormalization', 'Conv2D 12', 'Dense 10']);
  assert.deepEqual(doc.studentSpec, ['8x8x1', 'Conv2D 4', 'Conv2D 6', 'Dense 10']);
  // Trainable parameters counted by hand: teacher 72 + 2*8 (BN gamma, beta) + 8*9*12 + 12 + 48*10 + 10;
  // student (the folded BN gives c1 a bias) 36 + 4 + 4*9*6 + 6 + 24*10 + 10.
  assert.equal(doc.student.params.teacher, 72 + 16 + 864 + 12 + 480 + 10);
  assert.equal(doc.student.params.student, 36 + 4 + 216 + 6 + 240 + 10);
  assert.equal(doc.student.ranking.method, 'obd');
  const names = doc.rows.map((r: { name: string }) => r.name);
  assert.deepEqual(names, [
    'teacher',
    'labels-only',
    'distilled-scratch',
    'labels-only-teacher-init',
    'distilled-teacher-init',
  ]);
  // 3 epochs on 1,437 digits: every student is far above the 0.1 of chance.
  for (const r of doc.rows) assert.ok(r.metricMean > 0.6, `${r.name}: accuracy ${r.metricMean}`);
  assert.ok(fs.existsSync(path.join(out, 'distill.json')) && fs.existsSync(path.join(out, 'report.html')));
});

test('distill --structured refuses a missing --fraction and --fraction without --structured, naming the flag', async () => {
  const t = await convTeacher();
  const base = [
    '--teacher',
    t,
    '--data',
    'digits',
    '--seeds',
    '1',
    '--epochs',
    '1',
    '--out',
    path.join(tmpDir('dconv-bad'), 'd'),
  ];
  for (const [argv, field] of [
    [['--structured', 'channels'], '--fraction'],
    [['--widths', '4', '--fraction', '0.5'], '--fraction'],
    [['--widths', '4', '--structured', 'channels', '--fraction', '0.5'], '--student'],
  ] as const)
    await assert.rejects(
      run([...base, ...argv]),
      (e: unknown) => e instanceof PruneScopeError && e.context.field === field,
    );
});
