// The check: the MNIST subset written as a class-folder tree of PNGs and as an .npz gives
// the same curvature, relevance and predictions as the built-in data. 1,000 digits are written (a
// seeded sample, so the built-in read with --max-rows 1000 and the same seed holds the same rows
// in the same order); every value must be equal, bit for bit, since the pixels are the same.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backend } from '../helpers';
import type { Command } from '../../src/cli/command';
import { curvatureCommand } from '../../src/cli/commands/curvature';
import { relevanceCommand } from '../../src/cli/commands/relevance';
import { predictCommand } from '../../src/cli/commands/predict';
import { writeModel } from '../../src/engine/formats';
import { lenet5Spec } from '../../src/engine/model/architectures';
import type { GraphSpec } from '../../src/engine/graphSpec';
import { mlpSpec } from '../../src/engine/model/mlpSpec';
import { Graph } from '../../src/engine/model/graph';
import { denseSpec } from '../../src/engine/model/denseChain';
import { writeMnistFiles, type MnistFiles } from './mnistWrite';
import { runCommand } from '../cliRun';

const ROWS = 1000;
const SEED = 3;

interface Doc {
  loss: number;
  outputs: number[][];
  values: number[];
  scores: number[];
  order: number[];
  provenance: { data: { rows: number; source?: Record<string, unknown> } };
}

async function runJson(cmd: Command, argv: string[]): Promise<Doc> {
  return JSON.parse(await runCommand(cmd, argv));
}

/** LeNet-5's curvature costs far more per row: it reads a smaller subset. */
const CONV_ROWS = 100;
let root: string;
let files: MnistFiles;
let convFiles: MnistFiles;

before(async () => {
  await backend();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-mnist-files-'));
  files = writeMnistFiles(root, ROWS, SEED);
  fs.mkdirSync(path.join(root, 'conv'));
  convFiles = writeMnistFiles(path.join(root, 'conv'), CONV_ROWS, SEED);
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** A random model of `spec`, written as a TF.js LayersModel with the digits as its classes. */
async function writeRandomModel(name: string, spec: GraphSpec): Promise<string> {
  const net = Graph.random(spec, 1);
  const labelNames = Array.from({ length: 10 }, (_, i) => String(i));
  try {
    const out = path.join(root, name);
    await writeModel(out, { spec: net.toSpec(), metadata: { task: 'classification', labelNames } }, 'tfjs');
    return path.join(out, 'model.json');
  } finally {
    net.dispose();
  }
}

/** curvature, relevance and predict from the built-in, the PNG folder, the .npz and x/y .npy agree. */
async function sameFromEverySource(model: string, f: MnistFiles, rows: number): Promise<void> {
  const sources: [string, string[]][] = [
    ['built-in', ['--data', 'mnist', '--max-rows', String(rows)]],
    ['png folder', ['--data', f.folder]],
    ['npz', ['--data', f.npz]],
    ['npy + labels', ['--data', f.npy, '--labels', f.labels]],
  ];
  const results = [];
  for (const [name, data] of sources) {
    const seed = ['--seed', String(SEED)];
    const c = await runJson(curvatureCommand, [model, ...data, ...seed, '--kind', 'ggn', '--json']);
    const r = await runJson(relevanceCommand, [
      model,
      ...data,
      ...seed,
      '--method',
      'obd',
      '--variant',
      'ggn',
      '--json',
    ]);
    const p = await runJson(predictCommand, [model, ...data, ...seed, '--json']);
    results.push({ name, c, r, p });
  }
  const [ref, ...others] = results;
  assert.equal(ref.c.provenance.data.rows, rows * 0.8);
  // predict reads every row, in order.
  assert.equal(ref.p.outputs.length, rows);
  for (const o of others) {
    assert.equal(o.c.provenance.data.rows, ref.c.provenance.data.rows, o.name);
    assert.equal(o.c.loss, ref.c.loss, `${o.name}: loss`);
    assert.deepEqual(o.c.values, ref.c.values, `${o.name}: GGN diagonal`);
    assert.deepEqual(o.r.scores, ref.r.scores, `${o.name}: OBD scores`);
    assert.deepEqual(o.r.order, ref.r.order, `${o.name}: OBD order`);
    assert.deepEqual(o.p.outputs, ref.p.outputs, `${o.name}: predictions`);
  }
  // Results record where the rows came from: the sample of the built-in, the folder's classes.
  const [builtin, folder, npz] = results.map((x) => x.r.provenance.data.source!);
  assert.deepEqual(builtin.pixelRange, folder.pixelRange);
  assert.deepEqual(
    [builtin.kind, builtin.rowsAvailable, builtin.rowsLoaded, builtin.sampleSeed],
    ['builtin', 10000, rows, SEED],
  );
  assert.equal(folder.kind, 'image-folder');
  assert.deepEqual(folder.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.equal(folder.rowsLoaded, rows);
  assert.deepEqual((folder.pixelRange as { range: string }).range, '[0, 1]');
  assert.equal(npz.kind, 'npz');
  assert.deepEqual(results[1].c.provenance.data.source, folder);
  // Not a vacuous equality: the diagonal is not all zeros.
  assert.ok(ref.c.values.some((v) => v > 0));
}

test(
  "an MLP on MNIST as PNG class folders, .npz and .npy: the built-in data's results",
  { timeout: 300_000 },
  async () => {
    await sameFromEverySource(
      await writeRandomModel('mlp', denseSpec(mlpSpec(784, 10, 'classification', [12, 10], 'tanh'))),
      files,
      ROWS,
    );
  },
);

test(
  "LeNet-5 on MNIST as PNG class folders, .npz and .npy: the built-in data's results",
  { timeout: 600_000 },
  async () => {
    await sameFromEverySource(
      await writeRandomModel('lenet5', lenet5Spec([28, 28, 1], 10, 'tanh', 'classification')),
      convFiles,
      CONV_ROWS,
    );
  },
);
