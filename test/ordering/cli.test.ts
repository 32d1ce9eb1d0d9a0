// `prunescope order` and `prunescope experiment freeze` run as separate processes, the way a user
// runs them: exit codes, the JSON document, the files written, and refusals that name the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backend } from '../helpers';
import { randomDense } from '../../src/engine/model/denseChain';
import { saveModel } from '../../src/engine/formats/modelFile';

const MAIN = path.join(__dirname, '..', '..', 'src', 'cli', 'run.js');

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A 13-4-3 tanh/softmax model for wine (13 features, 3 classes): 13*4 + 4 + 4*3 + 3 = 71 parameters. */
async function wineModel(): Promise<{ dir: string; file: string }> {
  await backend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-order-'));
  const net = randomDense(
    {
      inputSize: 13,
      layers: [
        { name: 'h', units: 4, activation: 'tanh' },
        { name: 'out', units: 3, activation: 'softmax' },
      ],
    },
    11,
  );
  const { modelJson } = await saveModel(path.join(dir, 'm'), net);
  net.dispose();
  return { dir, file: modelJson };
}

test('order --json: exit 0, n variances, an order and ranks that are inverse permutations of 1..n', async () => {
  const { dir, file } = await wineModel();
  const bytes = fs.readdirSync(path.dirname(file)).map((f) => fs.readFileSync(path.join(path.dirname(file), f)));
  const r = cli([
    'order',
    file,
    '--data',
    'wine',
    '--steps',
    '6',
    '--batch',
    '16',
    '--estimator',
    'per-sample',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const n = 71;
  assert.equal(doc.estimator, 'per-sample');
  assert.equal(doc.mode, 'diag');
  assert.equal(doc.steps, 6);
  assert.equal(doc.variances.length, n);
  assert.equal(doc.order.length, n);
  assert.equal(doc.ranks.length, n);
  assert.deepEqual(
    [...doc.ranks].sort((a: number, b: number) => a - b),
    Array.from({ length: n }, (_, i) => i + 1),
  );
  doc.order.forEach((j: number, i: number) => assert.equal(doc.ranks[j], i + 1));
  for (let i = 1; i < n; i++) {
    const [a, b] = [doc.order[i - 1], doc.order[i]];
    assert.ok(
      doc.variances[a] < doc.variances[b] || (doc.variances[a] === doc.variances[b] && a < b),
      `order not by variance at ${i}`,
    );
  }
  assert.ok(doc.variances.every((v: number) => v >= 0));
  assert.ok(doc.variances.some((v: number) => v > 0));
  assert.equal(doc.provenance.job, 'ordering');
  // The user's model is read, never written.
  const after = fs.readdirSync(path.dirname(file)).map((f) => fs.readFileSync(path.join(path.dirname(file), f)));
  assert.deepEqual(after, bytes);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('order: bad flags exit non-zero and name the flag', async () => {
  const { dir, file } = await wineModel();
  const cases: [string[], string][] = [
    [['--data', 'wine', '--estimator', 'median'], '--estimator'],
    [['--data', 'wine', '--mode', 'sparse'], '--mode'],
    [['--data', 'wine', '--steps', '0'], '--steps'],
    [['--data', 'wine', '--batch', '2.5'], '--batch'],
    [['--data', 'wine', '--bogus', '1'], '--bogus'],
    [[], '--data'],
  ];
  for (const [flags, name] of cases) {
    const r = cli(['order', file, ...flags]);
    assert.notEqual(r.code, 0, `${flags.join(' ')} exited 0`);
    assert.ok(r.stderr.includes(name), `${flags.join(' ')}: stderr does not name ${name}: ${r.stderr}`);
    assert.equal(r.stdout, '');
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('experiment freeze --json on boston linear: exit 0, rows per share x policy, files written', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-exp-'));
  const out = path.join(dir, 'out');
  const r = cli([
    'experiment',
    'freeze',
    '--data',
    'boston',
    '--model',
    'linear',
    '--t0',
    '3',
    '--steps',
    '6',
    '--shares',
    '0,0.5',
    '--seeds',
    '2',
    '--out',
    out,
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(
    doc.rows.map((x: { share: number; policy: string }) => `${x.share}/${x.policy}`),
    ['0/ordered', '0/random', '0.5/ordered', '0.5/random'],
  );
  // Linear on 13 features: 13 weights, 1 bias; weights only by default: round(0.5 * 13) = 7.
  assert.equal(doc.rows[2].frozen, 7);
  assert.equal(doc.variances.length, 14);
  assert.equal(doc.order.length, 13);
  assert.ok(!doc.order.includes(13), 'the bias was a candidate');
  assert.equal(typeof doc.conclusion, 'string');
  assert.deepEqual(fs.readdirSync(out).sort(), ['report.html', 'results.csv', 'results.json']);
  assert.equal(fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trimEnd().split('\n').length, 5);
  // --weights-only off: the bias joins, round(0.5 * 14) = 7 still, and the order covers 14.
  const r2 = cli([
    'experiment',
    'freeze',
    '--data',
    'boston',
    '--model',
    'linear',
    '--t0',
    '3',
    '--steps',
    '4',
    '--shares',
    '0.5',
    '--seeds',
    '1',
    '--weights-only',
    'off',
    '--out',
    path.join(dir, 'out2'),
    '--json',
  ]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(JSON.parse(r2.stdout).order.length, 14);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('experiment freeze: bad flags exit non-zero and name the flag', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-exp-'));
  const base = [
    'experiment',
    'freeze',
    '--data',
    'boston',
    '--model',
    'linear',
    '--t0',
    '2',
    '--steps',
    '4',
    '--seeds',
    '1',
  ];
  const cases: [string[], string][] = [
    [[...base, '--weights-only', 'maybe', '--out', path.join(dir, 'a')], '--weights-only'],
    [[...base, '--estimator', 'x', '--out', path.join(dir, 'b')], '--estimator'],
    [[...base, '--shares', '0,abc', '--out', path.join(dir, 'c')], '--shares'],
    [[...base, '--model', 'cnn', '--out', path.join(dir, 'd')], '--model'],
    [base, '--out'],
  ];
  for (const [args, name] of cases) {
    const r = cli(args);
    assert.notEqual(r.code, 0, `${args.join(' ')} exited 0`);
    assert.ok(r.stderr.includes(name), `stderr does not name ${name}: ${r.stderr}`);
  }
  assert.deepEqual(fs.readdirSync(dir), [], 'a refused run wrote output');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('experiment freeze --model lenet5 on MNIST digits: conv kernels are candidates, biases are not', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-exp-'));
  const out = path.join(dir, 'out');
  const base = ['experiment', 'freeze', '--data', 'mnist', '--max-rows', '160', '--t0', '2', '--steps', '4'];
  const r = cli([
    ...base,
    '--model',
    'lenet5',
    '--shares',
    '0,0.5',
    '--seeds',
    '1',
    '--batch',
    '16',
    '--out',
    out,
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  // LeNet-5 on 28x28x1, 10 classes: 61,706 parameters, of which 6 + 16 + 120 + 84 + 10 = 236 biases.
  const n = 61706;
  const kernels = n - 236;
  assert.equal(doc.variances.length, n);
  assert.equal(doc.order.length, kernels);
  assert.equal(new Set(doc.order).size, kernels);
  // conv1: kernel [5, 5, 1, 6] at 0..149, its bias at 150..155; conv2's kernel follows.
  assert.ok(!doc.order.some((j: number) => j >= 150 && j < 156), 'a conv1 bias was a candidate');
  assert.ok(doc.order.some((j: number) => j < 150) && doc.order.some((j: number) => j >= 156 && j < 156 + 2400));
  assert.deepEqual(
    doc.rows.map((x: { share: number; policy: string; frozen: number }) => `${x.share}/${x.policy}/${x.frozen}`),
    ['0/ordered/0', '0/random/0', `0.5/ordered/${kernels / 2}`, `0.5/random/${kernels / 2}`],
  );
  assert.ok(doc.provenance.options.architecture.includes('Conv2D 6'));
  assert.equal(doc.provenance.data.standardized, false, 'images were standardised');
  // Refusals name the flag: layer widths for a fixed architecture, an image shape for a dense model.
  const refusals: [string[], string][] = [
    [['--model', 'lenet5', '--layers', '8'], '--layers'],
    [['--model', 'mlp', '--input-shape', '28,28,1'], '--input-shape'],
    [['--model', 'lenet5', '--input-shape', '28,14,1'], '--input-shape'],
  ];
  for (const [args, flag] of refusals) {
    const bad = cli([...base, ...args, '--out', path.join(dir, 'refused')]);
    assert.notEqual(bad.code, 0, `${args.join(' ')} exited 0`);
    assert.ok(bad.stderr.includes(flag), `stderr does not name ${flag}: ${bad.stderr}`);
  }
  assert.ok(!fs.existsSync(path.join(dir, 'refused')), 'a refused run wrote output');
  fs.rmSync(dir, { recursive: true, force: true });
});
