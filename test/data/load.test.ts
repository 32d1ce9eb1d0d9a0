// loadData, the one entry point: what a source is, flags that do not apply to it, built-in and
// CSV rows sampled and read in an NCHW model's order, and the pixel range a model implies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  dataKind,
  defaultMaxRows,
  loadData,
  loadDataset,
  impliedPixelScale,
  modelInputOf,
} from '../../src/engine/data';
import { sampleRows } from '../../src/engine/data/sample';
import { PruneScopeError } from '../../src/engine/errors';
import type { GraphSpec, NodeSpec } from '../../src/engine/graphSpec';
import { npyFixture } from './fixturePaths';

async function refused(p: Promise<unknown>, re: RegExp, code = 'bad-input'): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PruneScopeError, String(e));
    assert.match(e.message, re);
    assert.equal(e.code, code, e.message);
    return;
  }
  assert.fail('accepted');
}

test('dataKind: built-in names, folders, .csv/.npy/.npz; unknown names and files are refused', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-load-'));
  fs.writeFileSync(path.join(dir, 'a.txt'), 'x');
  assert.equal(dataKind('wine'), 'builtin');
  assert.equal(dataKind(dir), 'image-folder');
  assert.equal(dataKind(npyFixture('xy.npz')), 'npz');
  assert.equal(dataKind(npyFixture('x_img.npy')), 'npy');
  assert.equal(dataKind('missing.csv'), 'csv');
  assert.throws(() => dataKind('wines'), /unknown data set "wines" .*a folder of class folders of images/);
  assert.throws(() => dataKind(path.join(dir, 'a.txt')), /cannot tell what kind of data "a.txt" is/);
  assert.equal(defaultMaxRows('npz', 'analysis'), 5000);
  assert.equal(defaultMaxRows('image-folder', 'all'), undefined);
  assert.equal(defaultMaxRows('builtin', 'analysis'), undefined);
});

test('loadData: flags for another kind of data are refused, naming the flag', async () => {
  await refused(loadData('wine', undefined, { labels: 'y.npy' }), /--labels applies to an x \.npy file/);
  await refused(
    loadData('wine', undefined, { scale: 255 }),
    /^--scale: --scale applies to images, uint8 arrays and the built-in images \(mnist\)/,
  );
  await refused(loadData('wine', undefined, { resize: false }), /--no-resize applies to image folders/);
  await refused(loadData('wine', undefined, { xKey: 'a' }), /--x-key applies to an \.npz file/);
  await refused(
    loadData(npyFixture('x_img.npy'), undefined, { xKey: 'a', labels: npyFixture('y_img.npy') }),
    /--x-key and --y-key name arrays inside an \.npz/,
  );
});

test('loadData: a built-in read with maxRows is the seeded sample of its rows, in order', async () => {
  const all = loadDataset('iris');
  const d = await loadData('iris', undefined, { maxRows: 40, seed: 9 });
  const rows = sampleRows(150, 40, 9);
  assert.equal(d.rows, 40);
  rows.forEach((r, k) => {
    assert.deepEqual(Array.from(d.x.subarray(4 * k, 4 * k + 4)), Array.from(all.x.subarray(4 * r, 4 * r + 4)));
    assert.equal(d.y[k], all.y[r]);
  });
  assert.deepEqual(d.source, { kind: 'builtin', rowsAvailable: 150, rowsLoaded: 40, sampleSeed: 9, conversions: [] });
});

test('loadData: the built-in mnist holds 8-bit pixels, fed in the range the model or --scale asks', async () => {
  const d1 = await loadData('mnist', undefined, { maxRows: 50, seed: 2 });
  const d255 = await loadData('mnist', undefined, { maxRows: 50, seed: 2, scale: 255 });
  // Every value is an integer k in 0..255 and the [0, 1] row holds k / 255 as float32.
  assert.ok(d255.x.every((v, i) => Number.isInteger(v) && v >= 0 && v <= 255 && Math.fround(v / 255) === d1.x[i]));
  assert.equal(Math.max(...d255.x), 255);
  assert.deepEqual(d255.source!.pixelRange, { range: '[0, 255]', reason: '--scale' });
  assert.equal(d1.source!.pixelRange!.range, '[0, 1]');
  assert.match(d1.source!.pixelRange!.reason, /^the default/);
  assert.deepEqual(d1.source!.conversions, []);
  assert.deepEqual(d255.source!.conversions, ['pixels scaled to [0, 255] (--scale)']);
});

test('loadData: CSV rows of an NCHW model are read in C, H, W order and transposed to NHWC', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-load-'));
  const csv = path.join(dir, 'chw.csv');
  // 2 channels x 1 x 3: value 10 c + w; NHWC order is (w, c): 0, 10, 1, 11, 2, 12.
  fs.writeFileSync(csv, 'a,b,c,d,e,f,y\n0,1,2,10,11,12,0\n0,1,2,10,11,12,1\n');
  const model = {
    input: { shape: [1, 3, 2], layout: 'NCHW' as const },
    targets: { task: 'classification' as const, outputs: 2 },
  };
  const d = await loadData(csv, model);
  assert.deepEqual(Array.from(d.x.subarray(0, 6)), [0, 10, 1, 11, 2, 12]);
  assert.deepEqual(d.shape, [1, 3, 2]);
  assert.match(d.source!.conversions[0], /C, H, W order and transposed to NHWC/);
  const nhwc = await loadData(csv, { ...model, input: { shape: [1, 3, 2], layout: 'NHWC' } });
  assert.deepEqual(Array.from(nhwc.x.subarray(0, 6)), [0, 1, 2, 10, 11, 12]);
});

const node = (name: string, className: NodeSpec['className'], config: unknown, inputs: string[]): NodeSpec =>
  ({ name, className, config, inputs, weights: [] }) as unknown as NodeSpec;

test('impliedPixelScale: metadata first, then a leading Rescaling (past augmentation), else [0, 1]', () => {
  const graph = (first: NodeSpec[]): GraphSpec => ({
    inputs: [{ name: 'in', shape: [28, 28, 1] }],
    nodes: [...first, node('flat', 'Flatten', {}, [first.at(-1)?.name ?? 'in'])],
    outputs: ['flat'],
    inputLayout: 'NHWC',
  });
  const rescaled = graph([
    node('aug', 'Identity', { kind: 'RandomRotation' }, ['in']),
    node('rescale', 'Rescaling', { scale: 1 / 255, offset: 0 }, ['aug']),
  ]);
  assert.equal(impliedPixelScale(undefined, rescaled).scale, 255);
  assert.match(impliedPixelScale(undefined, rescaled).reason, /leading Rescaling layer "rescale" \(scale 0\.003922\)/);
  assert.equal(impliedPixelScale({ preprocessing: { pixelScale: 1 } }, rescaled).scale, 1);
  assert.equal(impliedPixelScale(undefined, graph([node('r', 'Rescaling', { scale: 2, offset: 0 }, ['in'])])).scale, 1);
  assert.equal(impliedPixelScale(undefined, graph([])).scale, 1);
  // The declared input shape is used when its size agrees with the network's input.
  const m = modelInputOf({ inputShape: [28, 28], inputSize: 784, task: 'classification', outputs: 10 });
  assert.deepEqual(m.input, { shape: [28, 28], layout: 'NHWC' });
  assert.deepEqual(
    modelInputOf({ inputShape: [5], inputSize: 784, task: 'classification', outputs: 10 }).input.shape,
    [784],
  );
});
