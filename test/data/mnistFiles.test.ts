// The check: the MNIST subset written as a class-folder tree of PNGs and as an .npz gives
// the same curvature and relevance as the built-in data. 1,000 digits are written (a seeded
// sample, so the built-in read with --max-rows 1000 and the same seed holds the same rows in the
// same order); every value must be equal, bit for bit, since the pixels are the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import { backend } from '../helpers';
import { parseArgs } from '../../src/cli/args';
import type { Command } from '../../src/cli/command';
import { curvatureCommand } from '../../src/cli/commands/curvature';
import { relevanceCommand } from '../../src/cli/commands/relevance';
import { loadDataset } from '../../src/engine/data';
import { sampleRows } from '../../src/engine/data/sample';
import { saveModel } from '../../src/engine/formats/modelFile';
import { mlpSpec } from '../../src/engine/model/mlpSpec';
import { Graph } from '../../src/engine/model/graph';
import { denseSpec } from '../../src/engine/model/denseChain';
import { npyBytes, npzBytes } from './npyWrite';

const ROWS = 1000;
const SEED = 3;

interface Doc {
  loss: number;
  values: number[];
  scores: number[];
  order: number[];
  provenance: { data: { rows: number; source?: Record<string, unknown> } };
}

async function runJson(cmd: Command, argv: string[]): Promise<Doc> {
  let out = '';
  const ctx = { log: () => undefined, out: (t: string) => (out += t), signal: new AbortController().signal };
  await cmd.run(parseArgs(argv, cmd.flags, cmd.name), ctx);
  return JSON.parse(out);
}

async function setup(): Promise<{ model: string; folder: string; npz: string; npy: string; labels: string }> {
  await backend();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-mnist-files-'));
  const labelNames = Array.from({ length: 10 }, (_, i) => String(i));
  const net = Graph.random(denseSpec(mlpSpec(784, 10, 'classification', [12, 10], 'tanh')), 1);
  const { modelJson } = await saveModel(path.join(root, 'model'), net, { task: 'classification', labelNames });
  net.dispose();
  const mnist = loadDataset('mnist');
  const rows = sampleRows(mnist.rows, ROWS, SEED);
  const px = new Uint8Array(ROWS * 784);
  const y = new Int32Array(ROWS);
  rows.forEach((r, k) => {
    for (let j = 0; j < 784; j++) px[k * 784 + j] = Math.round(mnist.x[r * 784 + j] * 255);
    y[k] = mnist.y[r];
  });
  const folder = path.join(root, 'digits');
  rows.forEach((r, k) => {
    const dir = path.join(folder, String(y[k]));
    fs.mkdirSync(dir, { recursive: true });
    const png = new PNG({ width: 28, height: 28 });
    for (let j = 0; j < 784; j++) png.data.set([px[k * 784 + j], px[k * 784 + j], px[k * 784 + j], 255], 4 * j);
    // Zero-padded row numbers keep the built-in's order within each digit.
    fs.writeFileSync(path.join(dir, `${String(r).padStart(5, '0')}.png`), PNG.sync.write(png));
  });
  const x = npyBytes(px, [ROWS, 28, 28], '|u1');
  const labels = npyBytes(y, [ROWS], '<i4');
  const npz = path.join(root, 'mnist.npz');
  fs.writeFileSync(npz, npzBytes({ x, y: labels }, true));
  fs.writeFileSync(path.join(root, 'x.npy'), x);
  fs.writeFileSync(path.join(root, 'y.npy'), labels);
  return { model: modelJson, folder, npz, npy: path.join(root, 'x.npy'), labels: path.join(root, 'y.npy') };
}

test(
  "MNIST as PNG class folders, .npz and .npy give the built-in data's curvature and relevance",
  { timeout: 300_000 },
  async () => {
    const f = await setup();
    const sources: [string, string[]][] = [
      ['built-in', ['--data', 'mnist', '--max-rows', String(ROWS)]],
      ['png folder', ['--data', f.folder]],
      ['npz', ['--data', f.npz]],
      ['npy + labels', ['--data', f.npy, '--labels', f.labels]],
    ];
    const results = [];
    for (const [name, data] of sources) {
      const c = await runJson(curvatureCommand, [f.model, ...data, '--seed', String(SEED), '--kind', 'ggn', '--json']);
      const r = await runJson(relevanceCommand, [
        f.model,
        ...data,
        '--seed',
        String(SEED),
        '--method',
        'obd',
        '--json',
      ]);
      results.push({ name, c, r });
    }
    const [ref, ...others] = results;
    assert.equal(ref.c.provenance.data.rows, 800);
    for (const o of others) {
      assert.equal(o.c.provenance.data.rows, ref.c.provenance.data.rows, o.name);
      assert.equal(o.c.loss, ref.c.loss, `${o.name}: loss`);
      assert.deepEqual(o.c.values, ref.c.values, `${o.name}: GGN diagonal`);
      assert.deepEqual(o.r.scores, ref.r.scores, `${o.name}: OBD scores`);
      assert.deepEqual(o.r.order, ref.r.order, `${o.name}: OBD order`);
    }
    // Results record where the rows came from: the sample of the built-in, the folder's classes.
    const [builtin, folder, npz] = results.map((x) => x.r.provenance.data.source!);
    assert.deepEqual(builtin, {
      kind: 'builtin',
      rowsAvailable: 10000,
      rowsLoaded: ROWS,
      sampleSeed: SEED,
      conversions: [],
    });
    assert.equal(folder.kind, 'image-folder');
    assert.deepEqual(folder.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.equal(folder.rowsLoaded, ROWS);
    assert.deepEqual((folder.pixelRange as { range: string }).range, '[0, 1]');
    assert.equal(npz.kind, 'npz');
    assert.deepEqual(results[1].c.provenance.data.source, folder);
    // Not a vacuous equality: the diagonal is not all zeros.
    assert.ok(ref.c.values.some((v) => v > 0));
  },
);
