// NumPy data sets (.npy with --labels, .npz stored and compressed) against arrays NumPy wrote:
// values, labels, layouts matched to the model's input, sampling, and each refusal the issue
// lists (lengths, labels outside the model's classes, missing arrays, zip bombs and paths).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { deflateSync, zipSync } from 'fflate';
import { InflateStream, MemoryStream } from '../../src/engine/util/byteStream';
import { loadArrays, type ArrayOptions } from '../../src/engine/data/numpy/arrays';
import { sampleRows } from '../../src/engine/data/sample';
import { PruneScopeError } from '../../src/engine/errors';
import { DEFAULT_PIXEL_SCALE } from '../../src/engine/data/targetsForModel';
import { npyFixture } from './fixturePaths';
import { npyBytes } from './npyWrite';

const opts = (o: Partial<ArrayOptions> = {}): ArrayOptions => ({ pixelScale: DEFAULT_PIXEL_SCALE, ...o });

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

/** x_img: uint8 (6, 4, 4, 1), v = 40 n + 4 r + c; y_img = [0, 1, 2, 0, 1, 2]. */
function expectImgRows(x: Float32Array, scale: 1 | 255, rows = [0, 1, 2, 3, 4, 5]): void {
  const want: number[] = [];
  for (const n of rows)
    for (let r = 0; r < 4; r++)
      for (let c = 0; c < 4; c++) want.push(Math.fround(((40 * n + 4 * r + c) * scale) / 255));
  assert.deepEqual(Array.from(x), want);
}

test('arrays: .npz stored and compressed and .npy + --labels give the same data set', async () => {
  const a = await loadArrays(npyFixture('xy.npz'), opts());
  const b = await loadArrays(npyFixture('xy_compressed.npz'), opts());
  const c = await loadArrays(npyFixture('x_img.npy'), opts({ labels: npyFixture('y_img.npy') }));
  for (const d of [a, b, c]) {
    expectImgRows(d.x, 1);
    assert.deepEqual(Array.from(d.y), [0, 1, 2, 0, 1, 2]);
    assert.deepEqual(d.shape, [4, 4, 1]);
    assert.equal(d.task, 'classification');
    assert.deepEqual(d.labelNames, ['0', '1', '2']);
    assert.equal(d.features, 16);
    assert.deepEqual(d.source?.pixelRange?.range, '[0, 1]');
  }
  assert.equal(a.source?.kind, 'npz');
  assert.equal(c.source?.kind, 'npy');
});

test('arrays: an x .npy without --labels takes the labels beside it by name (x_img -> y_img)', async () => {
  const paired = await loadArrays(npyFixture('x_img.npy'), opts());
  const given = await loadArrays(npyFixture('x_img.npy'), opts({ labels: npyFixture('y_img.npy') }));
  assert.deepEqual(Array.from(paired.y), [0, 1, 2, 0, 1, 2]);
  assert.deepEqual(paired.x, given.x);
  assert.deepEqual(paired.source!.conversions, [
    'labels read from y_img.npy beside x_img.npy',
    ...given.source!.conversions,
  ]);
  // Where labels are not needed (predictions), nothing is paired: the rows stay unlabelled.
  assert.equal((await loadArrays(npyFixture('x_img.npy'), opts({ requireLabels: false }))).unlabelled, true);
});

test('arrays: uint8 pixels at --scale 255 stay 0..255; one-hot labels give class indices', async () => {
  const d = await loadArrays(
    npyFixture('x_img.npy'),
    opts({ labels: npyFixture('y_img_onehot.npy'), pixelScale: { scale: 255, reason: '--scale' } }),
  );
  expectImgRows(d.x, 255);
  assert.deepEqual(Array.from(d.y), [0, 1, 2, 0, 1, 2]);
  assert.match(d.source!.conversions.join('; '), /uint8 pixels scaled to \[0, 255\] \(--scale\)/);
});

test('arrays: x and y of different lengths, labels outside the model, missing labels are refused', async () => {
  const x = npyFixture('x_img.npy');
  await refused(
    loadArrays(x, opts({ labels: npyFixture('y_img_short.npy') })),
    'y_img_short.npy',
    /x has 6 rows but the labels have 5/,
  );
  await refused(
    loadArrays(x, opts({ labels: npyFixture('y_img_outside.npy'), targets: { task: 'classification', outputs: 3 } })),
    'y_img_outside.npy',
    /row 4: label 7 is outside the model's 3 classes .*integers in \[0, 3\)/,
  );
  // A lone x .npy (no labels beside it under the usual names) without --labels.
  const lone = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-lone-')), 'x_img.npy');
  fs.copyFileSync(x, lone);
  await refused(
    loadArrays(lone, opts()),
    'x_img.npy',
    /inputs only .*--labels y\.npy, or y_img\.npy or Y_img\.npy beside it/,
  );
  fs.rmSync(path.dirname(lone), { recursive: true, force: true });
  await refused(
    loadArrays(x, opts({ labels: npyFixture('y_img_onehot.npy'), targets: { task: 'classification', outputs: 4 } })),
    'y_img_onehot.npy',
    /one-hot labels with 3 columns .*4 columns/,
  );
  // Without labels where none are needed (predictions): rows only, marked unlabelled.
  const u = await loadArrays(x, opts({ requireLabels: false }));
  assert.equal(u.unlabelled, true);
  assert.ok(Number.isNaN(u.y[0]));
});

test('arrays: without a model, labels past 10,000 classes are refused (a corrupt label, not a class)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-npy-'));
  const y = path.join(dir, 'y.npy');
  fs.writeFileSync(y, npyBytes(Int32Array.from([0, 1, 2, 0, 1, 2 ** 30]), [6], '<i4'));
  await refused(
    loadArrays(npyFixture('x_img.npy'), opts({ labels: y })),
    y,
    /the largest label is 1073741824 .*below 10000/,
  );
});

test('arrays: a 0-d x and an x without rows are refused', async () => {
  await refused(
    loadArrays(npyFixture('scalar.npy'), opts({ requireLabels: false })),
    'scalar.npy',
    /a single number \(a 0-d array\)/,
  );
  await refused(
    loadArrays(npyFixture('empty_rows.npy'), opts({ requireLabels: false })),
    'empty_rows.npy',
    /x has no rows \(shape \(0, 3\)\)/,
  );
});

test('arrays: .npz array names: x/y by default, others by --x-key/--y-key, listed when missing', async () => {
  const f = npyFixture('xy_keys.npz');
  await refused(loadArrays(f, opts()), 'xy_keys.npz', /no array "x" .*"x_test", "y_test" \(choose with --x-key\)/);
  const d = await loadArrays(f, opts({ xKey: 'x_test', yKey: 'y_test' }));
  expectImgRows(d.x, 1);
  assert.equal(d.targetName, 'y_test');
});

test('arrays: NCHW rows are transposed to NHWC for either model layout; the note says which', async () => {
  // Stored v[n, ch, h, w] = 1000 n + 100 ch + 10 h + w, shape (4, 3, 2, 5).
  const want: number[] = [];
  for (let n = 0; n < 4; n++)
    for (let h = 0; h < 2; h++)
      for (let w = 0; w < 5; w++) for (let ch = 0; ch < 3; ch++) want.push(1000 * n + 100 * ch + 10 * h + w);
  for (const layout of ['NHWC', 'NCHW'] as const) {
    const d = await loadArrays(npyFixture('nchw.npz'), opts({ input: { shape: [2, 5, 3], layout } }));
    assert.deepEqual(Array.from(d.x), want, layout);
    assert.deepEqual(d.shape, [2, 5, 3]);
    assert.match(d.source!.conversions.join(), /transposed to (the model's )?NHWC/);
  }
  await refused(
    loadArrays(npyFixture('nchw.npz'), opts({ input: { shape: [5, 5, 3], layout: 'NHWC' } })),
    'nchw.npz',
    /x has rows of shape \(3, 2, 5\) \(30 values\) .*\(5, 5, 3\) \(NHWC\) = 75 values/,
  );
  await refused(
    loadArrays(
      npyFixture('nchw.npz'),
      opts({ pixelScale: { scale: 255, reason: '--scale' }, pixelScaleExplicit: true }),
    ),
    'nchw.npz',
    /--scale applies to images and uint8 pixel arrays; x holds <f4 values/,
  );
});

test('arrays: a flat model input takes image rows row-major, as Keras flattens; singleton axes are free', async () => {
  const d = await loadArrays(npyFixture('xy.npz'), opts({ input: { shape: [16], layout: 'NHWC' } }));
  expectImgRows(d.x, 1);
  assert.deepEqual(d.shape, [16]);
  // (4, 4, 1) rows for a model declaring (4, 4) before its Flatten, and for an NCHW (1, 4, 4) input.
  for (const input of [
    { shape: [4, 4], layout: 'NHWC' as const },
    { shape: [4, 4, 1], layout: 'NCHW' as const },
  ]) {
    const e = await loadArrays(npyFixture('xy.npz'), opts({ input }));
    expectImgRows(e.x, 1);
    assert.deepEqual(e.shape, input.shape);
  }
});

test('arrays: Fortran-order x and one-hot y read in C order', async () => {
  const d = await loadArrays(npyFixture('fortran_f4.npy'), opts({ labels: npyFixture('fortran_y.npy') }));
  const want: number[] = [];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 2; k++) want.push(100 * i + 10 * j + k);
  assert.deepEqual(Array.from(d.x), want);
  assert.deepEqual(Array.from(d.y), [0, 1, 2, 1]);
});

test('arrays: --max-rows reads a seeded sample of a compressed array, inflating only up to it', async () => {
  const rows = sampleRows(3000, 100, 3);
  const d = await loadArrays(npyFixture('big_compressed.npz'), opts({ maxRows: 100, seed: 3 }));
  assert.equal(d.rows, 100);
  assert.equal(d.source?.rowsAvailable, 3000);
  assert.equal(d.source?.sampleSeed, 3);
  let worst = 0;
  rows.forEach((n, k) => {
    for (let j = 0; j < 64; j++) worst = Math.max(worst, Math.abs(d.x[k * 64 + j] - Math.sin(n + j / 7)));
    assert.equal(d.y[k], n % 4);
  });
  assert.ok(worst < 1e-7, `max error ${worst}`);
  assert.equal(d.task, 'classification');
  assert.deepEqual(d.labelNames, ['0', '1', '2', '3']);
});

test('sampleRows: all rows when enough, else a seeded sorted subset, uniform over the rows', () => {
  assert.deepEqual(Array.from(sampleRows(5, 9, 0)), [0, 1, 2, 3, 4]);
  const a = sampleRows(1000, 100, 7);
  assert.deepEqual(a, sampleRows(1000, 100, 7));
  assert.notDeepEqual(a, sampleRows(1000, 100, 8));
  assert.equal(new Set(a).size, 100);
  for (let i = 1; i < a.length; i++) assert.ok(a[i] > a[i - 1]);
  // Each of 10 blocks of 100 rows holds 10 in expectation: over 200 seeds the block means are close.
  const counts = new Array(10).fill(0);
  for (let s = 0; s < 200; s++) for (const r of sampleRows(1000, 100, s)) counts[Math.floor(r / 100)]++;
  for (const c of counts) assert.ok(Math.abs(c / 200 - 10) < 1, `block mean ${c / 200}`);
});

// ---------- hostile archives ----------

function tmp(name: string, bytes: Uint8Array): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-npz-'));
  const f = path.join(dir, name);
  fs.writeFileSync(f, bytes);
  return f;
}

/** A central directory entry's field, found by the entry name. */
function patchCentral(zip: Uint8Array, name: string, offset: number, value: number): Uint8Array {
  const b = Buffer.from(zip);
  for (let p = b.length - 22; p >= 0; p--) {
    if (b.readUInt32LE(p) === 0x02014b50 && b.toString('latin1', p + 46, p + 46 + b.readUInt16LE(p + 28)) === name) {
      b.writeUInt32LE(value, p + offset);
      return b;
    }
  }
  throw new Error('entry not found');
}

test('npz: an entry that inflates past its declared size (a zip bomb) is refused', async () => {
  const x = fs.readFileSync(npyFixture('x_img.npy'));
  const y = fs.readFileSync(npyFixture('y_img.npy'));
  const zip = zipSync({ 'x.npy': [x, { level: 9 }], 'y.npy': [y, { level: 9 }] });
  // Declare 40 bytes fewer than the entry holds (the npy header is patched to agree, so only inflation can tell).
  const declared = x.length - 40;
  const f = tmp('bomb.npz', patchCentral(zip, 'x.npy', 24, declared));
  await refused(loadArrays(f, opts()), 'bomb.npz', /truncated|inflates past its declared/);
});

test('InflateStream: never inflates past the declared size, in bounded steps', () => {
  // 64 MiB of zeros deflate to ~64 KiB: a 1000:1 bomb; its first 4 KiB step already overflows.
  const bomb = deflateSync(new Uint8Array(64 * 2 ** 20), { level: 9 });
  const s = new InflateStream(new MemoryStream(bomb, 'bomb'), bomb.length, 10_000, 'bomb.npz: x.npy');
  assert.throws(() => s.read(5000, 'rows'), /bomb\.npz: x\.npy: the entry inflates past its declared 10000 bytes/);
  // A stream cut short names what was being read.
  const cut = deflateSync(new Uint8Array(1000).fill(7));
  const t = new InflateStream(new MemoryStream(cut.subarray(0, 5), 'c'), 5, 1000, 'c.npz: y.npy');
  assert.throws(
    () => t.read(1000, 'the labels'),
    /c\.npz: y\.npy: (the data ends after \d+ of the 1000 bytes of the labels|corrupt compressed data)/,
  );
});

test('npz: entry names that leave the folder, a cut archive and a non-zip are refused', async () => {
  const x = fs.readFileSync(npyFixture('x_img.npy'));
  const evil = tmp('evil.npz', zipSync({ '../x.npy': x, 'y.npy': x }));
  await refused(loadArrays(evil, opts()), 'evil.npz', /entry name "\.\.\/x\.npy" would leave the archive's folder/);
  const good = fs.readFileSync(npyFixture('xy.npz'));
  const cut = tmp('cut.npz', good.subarray(0, good.length - 30));
  await refused(loadArrays(cut, opts()), 'cut.npz', /no zip end-of-directory record|outside/);
  await refused(loadArrays(tmp('not.npz', x), opts()), 'not.npz', /no zip end-of-directory record/);
  const stored = tmp(
    'method.npz',
    patchCentral(zipSync({ 'x.npy': [x, { level: 0 }], 'y.npy': [x, { level: 0 }] }), 'x.npy', 10, 14),
  );
  await refused(loadArrays(stored, opts()), 'method.npz', /compression method 14/);
});
