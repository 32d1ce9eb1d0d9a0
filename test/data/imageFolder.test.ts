// Class-folder trees of images (Keras's image_dataset_from_directory / torchvision's ImageFolder
// layout) built here with pngjs and the Pillow fixtures: order, labels matched to the model,
// shapes, resizing, channels, scaling, sampling and each refusal the issue lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import { loadImageFolder, type ImageFolderOptions } from '../../src/engine/data/image/folder';
import { sampleRows } from '../../src/engine/data/sample';
import { PruneScopeError } from '../../src/engine/errors';
import { DEFAULT_PIXEL_SCALE } from '../../src/engine/data/targetsForModel';
import { imageFixture } from './fixturePaths';

/** A gray w x h PNG whose pixel (r, c) is (seed + 3 r + c) % 256. */
function png(w: number, h: number, seed: number): Buffer {
  const p = new PNG({ width: w, height: h, colorType: 0, inputColorType: 0, inputHasAlpha: false } as never);
  const data = Buffer.alloc(w * h);
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) data[r * w + c] = (seed + 3 * r + c) % 256;
  p.data = data;
  return PNG.sync.write(p, { colorType: 0, inputColorType: 0, inputHasAlpha: false } as never);
}
const value = (seed: number, r: number, c: number) => (seed + 3 * r + c) % 256;

function tree(files: Record<string, Buffer | string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-folder-'));
  for (const [rel, bytes] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), bytes);
  }
  return root;
}

const opts = (o: Partial<ImageFolderOptions> = {}): ImageFolderOptions => ({ pixelScale: DEFAULT_PIXEL_SCALE, ...o });

async function refused(p: Promise<unknown>, file: string, re: RegExp): Promise<PruneScopeError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PruneScopeError, String(e));
    assert.ok(e.message.includes(file), `does not name ${file}: ${e.message}`);
    assert.match(e.message, re);
    return e;
  }
  assert.fail('accepted');
}

test('folder: classes in sorted name order, files in sorted path order (nested too), labels by class', async () => {
  const dir = tree({
    'zebra/b.png': png(4, 3, 50),
    'zebra/a.png': png(4, 3, 40),
    'ant/sub/x.png': png(4, 3, 30),
    'ant/c.png': png(4, 3, 10),
    'ant/notes.txt': 'not an image',
    'ant/.hidden.png': 'ignored',
    'mole/m.PNG': png(4, 3, 20),
  });
  const d = await loadImageFolder(dir, opts({ pixelScale: { scale: 255, reason: '--scale' } }));
  assert.deepEqual(d.source?.classes, ['ant', 'mole', 'zebra']);
  assert.deepEqual(d.labelNames, ['ant', 'mole', 'zebra']);
  assert.deepEqual(Array.from(d.y), [0, 0, 1, 2, 2]);
  assert.deepEqual(d.shape, [3, 4, 1]);
  const seeds = [10, 30, 20, 40, 50];
  seeds.forEach((s, k) => {
    for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) assert.equal(d.x[k * 12 + r * 4 + c], value(s, r, c));
  });
  assert.equal(d.source?.pixelRange?.range, '[0, 255]');
});

test("folder: classes map by name onto the model's classes; unknown names and count mismatches are refused", async () => {
  const dir = tree({ '7/a.png': png(2, 2, 1), '3/a.png': png(2, 2, 2) });
  const names = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
  const d = await loadImageFolder(dir, opts({ targets: { task: 'classification', outputs: 10, labelNames: names } }));
  assert.deepEqual(Array.from(d.y), [3, 7]);
  assert.deepEqual(d.labelNames, names);
  await refused(
    loadImageFolder(dir, opts({ targets: { task: 'classification', outputs: 2, labelNames: ['cat', '3'] } })),
    dir,
    /class folder "7" is not one of the model's classes .*"cat", "3"/,
  );
  await refused(
    loadImageFolder(dir, opts({ targets: { task: 'classification', outputs: 10 } })),
    dir,
    /2 class folders for a model with 10 outputs/,
  );
  await refused(loadImageFolder(dir, opts({ targets: { task: 'regression', outputs: 1 } })), dir, /regression model/);
});

test('folder: the model input decides size and channels: resized bilinearly, or refused with --no-resize', async () => {
  const dir = tree({
    'a/1.png': png(4, 4, 0),
    'a/2.png': png(8, 6, 9),
    'b/1.bmp': fs.readFileSync(imageFixture('rgb.bmp')),
  });
  const d = await loadImageFolder(dir, opts({ input: { shape: [4, 4, 3], layout: 'NHWC' } }));
  assert.deepEqual(d.shape, [4, 4, 3]);
  assert.equal(d.rows, 3);
  const notes = d.source!.conversions.join('; ');
  assert.match(notes, /2 images resized to 4 x 4 \(bilinear, half-pixel centres/);
  assert.match(notes, /2 grayscale images converted to RGB/);
  // The 4 x 4 gray image is copied to three channels, scaled to [0, 1].
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++)
      for (let ch = 0; ch < 3; ch++) assert.equal(d.x[(r * 4 + c) * 3 + ch], Math.fround(value(0, r, c) / 255));
  const e = await refused(
    loadImageFolder(dir, opts({ input: { shape: [4, 4, 3], layout: 'NHWC' }, resize: false })),
    path.join(dir, 'a', '2.png'),
    /the image is 8 x 6 pixels .*4 x 4 pixels like the rest \(--no-resize is set\)/,
  );
  assert.equal(e.code, 'bad-input');
});

test('folder: a flat model input reads 28 x 28 gray images as they are (784 values)', async () => {
  const dir = tree({ 'x/1.png': png(28, 28, 5), 'y/1.png': png(28, 28, 6) });
  const d = await loadImageFolder(dir, opts({ input: { shape: [784], layout: 'NHWC' } }));
  assert.deepEqual(d.shape, [28, 28, 1]);
  assert.equal(d.features, 784);
  assert.equal(d.x[784 + 28 * 2 + 3], Math.fround(value(6, 2, 3) / 255));
  assert.match(d.source!.conversions.join(), /read as \(28, 28, 1\) for the model's flat input of 784 values/);
  await refused(
    loadImageFolder(dir, opts({ input: { shape: [1000], layout: 'NHWC' } })),
    dir,
    /1000 values are neither 28 x 28/,
  );
});

test('folder: --max-rows decodes only a seeded sample (the unsampled files may be broken)', async () => {
  const files: Record<string, Buffer | string> = {};
  for (let i = 0; i < 40; i++) files[`${i % 2 ? 'odd' : 'even'}/${String(i).padStart(3, '0')}.png`] = png(3, 3, i);
  const rows = sampleRows(40, 5, 11);
  // Listing order: even/000, even/002, ..., odd/001, ...: file k of the listing.
  const listed = [...Array.from({ length: 20 }, (_, j) => 2 * j), ...Array.from({ length: 20 }, (_, j) => 2 * j + 1)];
  for (let k = 0; k < 40; k++)
    if (!rows.includes(k))
      files[`${listed[k] % 2 ? 'odd' : 'even'}/${String(listed[k]).padStart(3, '0')}.png`] = 'broken';
  const dir = tree(files);
  const progress: number[] = [];
  const d = await loadImageFolder(dir, opts({ maxRows: 5, seed: 11, onProgress: (done) => progress.push(done) }));
  assert.equal(d.rows, 5);
  assert.equal(d.source?.rowsAvailable, 40);
  rows.forEach((k, i) => assert.equal(d.x[i * 9], Math.fround(value(listed[k], 0, 0) / 255)));
  assert.deepEqual(progress.at(-1), 5);
});

test('folder: one class, no images, loose images, unreadable and truncated images are refused', async () => {
  const one = tree({ 'only/a.png': png(2, 2, 0) });
  await refused(loadImageFolder(one, opts()), one, /one class folder \("only"\) .*at least 2 class folders/);
  const none = tree({ 'a/x.txt': 'x', 'b/y.txt': 'y' });
  await refused(loadImageFolder(none, opts()), none, /the 2 class folders hold no images/);
  const loose = tree({ 'a.png': png(2, 2, 0), 'b.png': png(2, 2, 1) });
  await refused(loadImageFolder(loose, opts()), loose, /not sorted into class folders/);
  const u = await loadImageFolder(loose, opts({ requireLabels: false }));
  assert.equal(u.unlabelled, true);
  assert.equal(u.rows, 2);
  const good = png(5, 5, 0);
  const cut = tree({ 'a/ok.png': good, 'b/cut.png': good.subarray(0, good.length - 15) });
  await refused(
    loadImageFolder(cut, opts()),
    path.join(cut, 'b', 'cut.png'),
    /cannot decode the PNG .*truncated or corrupt/,
  );
  const fake = tree({ 'a/ok.png': good, 'b/fake.jpg': 'hello' });
  await refused(loadImageFolder(fake, opts()), path.join(fake, 'b', 'fake.jpg'), /not a PNG, JPEG or BMP image/);
});
