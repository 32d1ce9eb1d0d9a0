// The relevance methods and the order on a LeNet-5 file (relu, 28x28x1, 61,706 parameters), run as
// separate processes the way a user runs them, on 160 MNIST digits (128 in the training part). Each
// checks an outcome against something the method did not compute itself: OBD against the
// `curvature` command's diagonal and the weights read from the file's shard; variational against
// its own posterior and the step count the data implies; Belsley and the order as permutations of
// the file's flat index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { backend, type JsonDoc } from '../helpers';
import { saveModel } from '../../src/engine/formats/modelFile';
import { Graph } from '../../src/engine/model/graph';
import { lenet5Spec } from '../../src/engine/model/architectures';
import { tmpDir } from '../fixtures/models/tfjsFiles';

const MAIN = path.join(__dirname, '..', '..', 'src', 'cli', 'run.js');
const N = 61706;
const DATA = ['--data', 'mnist', '--max-rows', '160'];

function cli(args: string[]): JsonDoc {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 300_000, maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

let file: Promise<string> | undefined;
/** One LeNet-5 file for the whole suite, written by the product's writer. */
function lenetFile(): Promise<string> {
  file ??= (async () => {
    await backend();
    const net = Graph.random(lenet5Spec([28, 28, 1], 10, 'relu', 'classification'), 5);
    const { modelJson } = await saveModel(path.join(tmpDir('lenet-cli'), 'm'), net);
    net.dispose();
    return modelJson;
  })();
  return file;
}

/** The weights as stored: the shard's float32 values in manifest order (the flat order). */
function storedWeights(modelJson: string): Float32Array {
  const doc = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  const group = doc.weightsManifest[0];
  assert.equal(group.paths.length, 1);
  const bytes = fs.readFileSync(path.join(path.dirname(modelJson), group.paths[0]));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function assertPermutation(order: number[], n: number): void {
  assert.equal(order.length, n);
  const seen = new Uint8Array(n);
  for (const j of order) {
    assert.ok(Number.isInteger(j) && j >= 0 && j < n && !seen[j], `order has ${j} twice or out of range`);
    seen[j] = 1;
  }
}

test('relevance --method obd on LeNet-5: s = 1/2 h w^2 with h from `curvature` and w from the file', async () => {
  const m = await lenetFile();
  const curv = cli(['curvature', m, ...DATA, '--kind', 'hessian', '--split', 'train', '--json']);
  const obd = cli(['relevance', m, ...DATA, '--method', 'obd', '--variant', 'hessian', '--json']);
  assert.equal(curv.values.length, N);
  assert.deepEqual(curv.provenance.data, obd.provenance.data, 'both read the same training rows');
  const w = storedWeights(m);
  assert.equal(w.length, N);
  let worst = 0;
  for (let j = 0; j < N; j++) {
    const expected = 0.5 * curv.values[j] * w[j] * w[j];
    worst = Math.max(worst, Math.abs(obd.scores[j] - expected) / Math.max(Math.abs(expected), 1e-12));
  }
  assert.ok(worst < 1e-5, `OBD saliency vs 1/2 h w^2: rel err ${worst}`);
  // Conv kernels are curved (relu net: h = GGN >= 0); biases of a fresh model are 0, so their saliency is 0.
  assert.ok(
    curv.values.slice(0, 150).some((h: number) => h > 0),
    'conv1 kernel has no curvature',
  );
  assert.ok(
    curv.values.every((h: number) => h >= -1e-9),
    'relu + max pooling: the Hessian diagonal is the GGN',
  );
  assertPermutation(obd.order, N);
  for (let i = 1; i < N; i++) assert.ok(obd.scores[obd.order[i - 1]] <= obd.scores[obd.order[i]]);
});

test('relevance --method variational on LeNet-5: |mu| / sigma of the fitted posterior, 2 epochs of 4 steps', async () => {
  const m = await lenetFile();
  const doc = cli(['relevance', m, ...DATA, '--method', 'variational', '--epochs', '2', '--seed', '1', '--json']);
  const { mu, sigma } = doc.extra;
  assert.equal(mu.length, N);
  assert.equal(sigma.length, N);
  for (let j = 0; j < N; j++) {
    assert.ok(sigma[j] > 0, `sigma ${j} = ${sigma[j]}`);
    const s = Math.abs(mu[j]) / sigma[j];
    assert.ok(Math.abs(doc.scores[j] - s) <= 1e-5 * Math.max(s, 1e-6), `score ${j}: ${doc.scores[j]} vs ${s}`);
  }
  // 128 training rows in batches of 32: 4 steps per epoch.
  assert.equal(doc.extra.steps, 8);
  assert.equal(doc.provenance.options.reparameterisation, 'local');
  // The fit moved the means away from the file's weights in every layer, conv layers included.
  const w = storedWeights(m);
  for (const x of doc.weights.filter((e: { name: string }) => /kernel$/.test(e.name))) {
    const size = x.shape.reduce((a: number, b: number) => a * b, 1);
    let moved = 0;
    for (let j = x.offset; j < x.offset + size; j++) if (mu[j] !== w[j]) moved++;
    assert.ok(moved > size / 2, `${x.name}: only ${moved} of ${size} means moved`);
  }
  assertPermutation(doc.order, N);
});

test('relevance --method belsley on LeNet-5: a full block for conv1, Kronecker (KFC) for conv2, every parameter ordered', async () => {
  const m = await lenetFile();
  const doc = cli(['relevance', m, ...DATA, '--method', 'belsley', '--json']);
  assert.equal(doc.covariance, 'laplace');
  assert.equal(doc.extra.blockKinds.conv1, 'dense');
  assert.equal(doc.extra.blockKinds.conv2, 'kron');
  assertPermutation(doc.order, N);
  doc.order.forEach((j: number, i: number) => assert.equal(doc.scores[j], i));
  // The fresh model's zero biases are the pruned (inactive) parameters: removed first.
  const w = storedWeights(m);
  const zeros = Array.from(w.keys()).filter((j) => w[j] === 0);
  assert.deepEqual(
    [...doc.extra.pruned].sort((a: number, b: number) => a - b),
    zeros,
  );
  assert.deepEqual(
    doc.order.slice(0, zeros.length).sort((a: number, b: number) => a - b),
    zeros,
  );
});

test('order on LeNet-5: every parameter once, by increasing per-sample gradient variance', async () => {
  const m = await lenetFile();
  const doc = cli(['order', m, ...DATA, '--steps', '4', '--batch', '16', '--estimator', 'per-sample', '--json']);
  assert.equal(doc.variances.length, N);
  assertPermutation(doc.order, N);
  doc.order.forEach((j: number, i: number) => assert.equal(doc.ranks[j], i + 1));
  for (let i = 1; i < N; i++) {
    const [a, b] = [doc.order[i - 1], doc.order[i]];
    assert.ok(doc.variances[a] < doc.variances[b] || (doc.variances[a] === doc.variances[b] && a < b));
  }
  // Every layer's kernel varies across samples (conv layers included).
  const w = JSON.parse(fs.readFileSync(m, 'utf8')).weightsManifest[0].weights as { name: string; shape: number[] }[];
  let offset = 0;
  for (const x of w) {
    const size = x.shape.reduce((a, b) => a * b, 1);
    if (/kernel$/.test(x.name))
      assert.ok(
        doc.variances.slice(offset, offset + size).some((v: number) => v > 0),
        `${x.name}: no variance`,
      );
    offset += size;
  }
});
