// The --structured flags on the command line: export-student dispatches to the channel student,
// and the refusals name the flag.
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
import { exportStudentCommand } from '../../src/cli/commands/export-student';
import { pruneCommand } from '../../src/cli/commands/prune';
import { relevanceCommand } from '../../src/cli/commands/relevance';
import { curvesCommand } from '../../src/cli/commands/curves';
import { readTfjs } from '../../src/engine/formats/tfjs';
import { runCommand } from '../cliRun';

async function denseTeacher(): Promise<string> {
  await backend();
  const ds = loadDataset('wine');
  const split = splitDataset(ds, { seed: 0, standardize: true });
  const net = randomDense(
    {
      inputSize: 13,
      layers: [
        { name: 'h1', units: 12, activation: 'tanh' },
        { name: 'h2', units: 8, activation: 'tanh' },
        { name: 'o', units: 3, activation: 'softmax' },
      ],
    },
    1,
  );
  await train(net, split, { epochs: 10, batchSize: 16, lr: 0.01, seed: 0, evalEvery: 0 });
  const saved = await saveModel(path.join(tmpDir('sc'), 'teacher'), net, {
    task: 'classification',
    featureNames: ds.featureNames,
    labelNames: ds.labelNames,
    preprocessing: { standardization: split.standardization! },
  });
  net.dispose();
  return saved.modelJson;
}

const run = runCommand;

test('export-student --structured units --fraction 0.5 --finetune 2: halves the hidden layers and reports fine-tuning', async () => {
  const t = await denseTeacher();
  const out = path.join(tmpDir('sc-out'), 'student');
  const r = JSON.parse(
    await run(exportStudentCommand, [
      t,
      '--data',
      'wine',
      '--method',
      'obd',
      '--structured',
      'units',
      '--fraction',
      '0.5',
      '--finetune',
      '2',
      '--out',
      out,
      '--json',
    ]),
  );
  assert.deepEqual(
    r.layers.map((l: { node: string; channelsAfter: number }) => `${l.node}:${l.channelsAfter}`),
    ['h1:6', 'h2:4', 'o:3'],
  );
  assert.equal(r.structured, 'units');
  assert.equal(r.metrics.finetuned.epochs, 2);
  assert.ok(fs.existsSync(path.join(out, 'model.json')) && fs.existsSync(path.join(out, 'student.json')));
  const text = await run(exportStudentCommand, [
    t,
    '--data',
    'wine',
    '--structured',
    'units',
    '--fraction',
    '0.25',
    '--out',
    path.join(tmpDir('sc-out2'), 'student'),
  ]);
  assert.match(text, /h1 +12 -> 9/);
  assert.match(text, /latency on \d+ rows \(\w+, median of 21\)/);
});

test('structured flags are refused where they do not apply, naming the flag', async () => {
  const t = await denseTeacher();
  const out = path.join(tmpDir('sc-bad'), 'student');
  const base = [t, '--data', 'wine', '--out', out];
  await assert.rejects(
    run(exportStudentCommand, [...base, '--structured', 'channels', '--widths', '4,2']),
    /--fraction/,
  );
  await assert.rejects(run(exportStudentCommand, [...base, '--fraction', '0.5', '--fold-bn']), /--fold-bn/);
  await assert.rejects(
    run(exportStudentCommand, [...base, '--structured', 'rows', '--fraction', '0.5']),
    /--structured/,
  );
  await assert.rejects(
    run(exportStudentCommand, [...base, '--structured', 'units', '--fraction', '0.5', '--aggregate', 'native']),
    /native channel relevance is Belsley's/,
  );
  assert.ok(!fs.existsSync(out));
});

test('prune --structured units --finetune 2: whole units are zero in the written file and stay zero', async () => {
  const t = await denseTeacher();
  const out = path.join(tmpDir('sc-prune'), 'pruned');
  const doc = JSON.parse(
    await run(pruneCommand, [
      t,
      '--data',
      'wine',
      '--structured',
      'units',
      '--fraction',
      '0.5',
      '--finetune',
      '2',
      '--out',
      out,
      '--json',
    ]),
  );
  assert.equal(doc.removedChannels, 6 + 4);
  assert.equal(doc.finetune.epochs, 2);
  const m = await readTfjs(path.join(out, 'model.json'));
  const w = (node: string, name: string) =>
    m.spec.nodes.find((n) => n.name === node)!.weights.find((x) => x.name === name)!.values;
  const h1 = doc.channels.find((c: { producers: string[] }) => c.producers[0] === 'h1').removed as number[];
  assert.equal(h1.length, 6);
  for (const u of h1) {
    for (let i = 0; i < 13; i++) assert.equal(w('h1', 'kernel')[i * 12 + u], 0);
    assert.equal(w('h1', 'bias')[u], 0);
    for (let j = 0; j < 8; j++) assert.equal(w('h2', 'kernel')[u * 8 + j], 0);
  }
  // The surviving weights moved during fine-tuning (the teacher's differ).
  const teacher = await readTfjs(t);
  const kept = [...Array(12).keys()].find((u) => !h1.includes(u))!;
  const before = teacher.spec.nodes.find((n) => n.name === 'h1')!.weights[1].values[kept];
  assert.ok(Math.abs(w('h1', 'bias')[kept] - before) > 1e-6);
  assert.equal(
    m.pruneMask!.reduce((a, b) => a + b, 0),
    doc.prunedTotal,
  );
});

test('relevance --structured units: a unit scores the sum of its incoming column, bias and outgoing row', async () => {
  const t = await denseTeacher();
  const base = [t, '--data', 'wine', '--method', 'obd', '--variant', 'ggn', '--json'];
  const params = JSON.parse(await run(relevanceCommand, base));
  const units = JSON.parse(await run(relevanceCommand, [...base, '--structured', 'units']));
  const h1 = units.groups.find((g: { producers: string[] }) => g.producers[0] === 'h1');
  // Flat layout of 13-12-8-3: h1 kernel [13, 12] at 0, bias at 156; h2 kernel [12, 8] at 168.
  for (let u = 0; u < 12; u++) {
    let s = params.scores[156 + u];
    for (let i = 0; i < 13; i++) s += params.scores[i * 12 + u];
    for (let j = 0; j < 8; j++) s += params.scores[168 + u * 8 + j];
    assert.ok(Math.abs(h1.scores[u] - s) <= 1e-9 * Math.max(1, Math.abs(s)));
  }
  const sorted = [...h1.order].map((u: number) => h1.scores[u]);
  assert.deepEqual(
    sorted,
    [...sorted].sort((a, b) => a - b),
  );
});

test('curves --structured units: x = share of units; parameters removed as counted by hand', async () => {
  const t = await denseTeacher();
  const out = path.join(tmpDir('sc-curves'), 'curves');
  const doc = JSON.parse(
    await run(curvesCommand, [
      t,
      '--data',
      'wine',
      '--methods',
      'random,obd',
      '--seeds',
      '2',
      '--structured',
      'units',
      '--step',
      '0.5',
      '--out',
      out,
      '--json',
    ]),
  );
  assert.deepEqual(doc.shares, [0, 0.5, 1]);
  assert.equal(doc.structured, 'units');
  assert.equal(doc.removableChannels, 20);
  for (const m of ['random', 'obd']) {
    assert.equal(doc.curves[m].mean[0], doc.baseline);
    // 13-12-8-3 (299 parameters) -> 13-6-4-3 (127) at half; one unit per layer stays at 1.
    assert.ok(Math.abs(doc.curves[m].paramsRemoved[1] - (1 - 127 / 299)) < 1e-12);
    assert.equal(doc.curves[m].channelsRemoved[2], 18 / 20);
  }
  assert.equal(doc.curves.random.sd.length, 3);
  const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
  assert.match(html, /units removed, %/);
  assert.match(
    fs.readFileSync(path.join(out, 'curves.csv'), 'utf8'),
    /^share,random_mean,random_sd,random_params_removed,random_macs_removed/,
  );
});

test('curves --structured --finetune 1: each point is the pruned model fine-tuned from the teacher (= prune --finetune 1)', async () => {
  const t = await denseTeacher();
  const common = ['--data', 'wine', '--method', 'obd', '--structured', 'units'];
  const doc = JSON.parse(
    await run(curvesCommand, [
      t,
      ...common.filter((a) => a !== '--method' && a !== 'obd'),
      '--methods',
      'obd',
      '--step',
      '0.5',
      '--finetune',
      '1',
      '--out',
      path.join(tmpDir('sc-cft'), 'c'),
      '--json',
    ]),
  );
  const pr = JSON.parse(
    await run(pruneCommand, [
      t,
      ...common,
      '--fraction',
      '0.5',
      '--finetune',
      '1',
      '--out',
      path.join(tmpDir('sc-pft'), 'p'),
      '--json',
    ]),
  );
  assert.equal(doc.curves.obd.mean[0], doc.baseline);
  assert.equal(doc.curves.obd.mean[1], pr.finetune.testAfter.accuracy);
});
