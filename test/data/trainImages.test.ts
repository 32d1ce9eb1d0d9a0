// `train` on a class folder of images: the model records the folder's classes, pixel names and
// the pixel range it was trained in, and a later analysis of the same folder reads the pixels in
// that range because the model says so (not because the user repeats --scale).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import { backend } from '../helpers';
import { trainNewModel } from '../../src/engine/train/newModel';
import { loadModel } from '../../src/engine/formats/modelFile';
import { loadData, modelInputOfLoaded } from '../../src/engine/data';
import { Rng } from '../../src/engine/util/random';

/** A 6 x 6 gray PNG: bright (160..255) or dark (0..95) noise. */
function png(rng: Rng, bright: boolean): Buffer {
  const p = new PNG({ width: 6, height: 6 });
  for (let i = 0; i < 36; i++) {
    const v = (bright ? 160 : 0) + rng.int(96);
    p.data.set([v, v, v, 255], 4 * i);
  }
  return PNG.sync.write(p, { colorType: 0 });
}

test('train on an image folder records classes and pixel range; analyses read the folder the same way', async () => {
  await backend();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-train-images-'));
  const rng = new Rng(2);
  for (const cls of ['dark', 'bright']) {
    fs.mkdirSync(path.join(root, 'data', cls), { recursive: true });
    for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(root, 'data', cls, `${i}.png`), png(rng, cls === 'bright'));
  }
  const m = await trainNewModel({
    data: path.join(root, 'data'),
    dataOptions: { scale: 255 },
    layers: [4, 2],
    epochs: 30,
    lr: 0.01,
    standardize: true,
    out: path.join(root, 'model'),
  });
  assert.ok(m.result.final.test.accuracy! >= 0.9, `accuracy ${m.result.final.test.accuracy}`);
  const model = await loadModel(m.modelJson);
  const meta = model.metadata!;
  assert.deepEqual(meta.labelNames, ['bright', 'dark']);
  assert.equal(meta.preprocessing?.pixelScale, 255);
  assert.equal(meta.featureNames?.[7], 'pixel_1_1');
  const input = modelInputOfLoaded(model);
  model.network.dispose();
  assert.equal(input.pixelScale?.scale, 255);
  const ds = await loadData(path.join(root, 'data'), input);
  assert.match(ds.source!.pixelRange!.reason, /the model's metadata/);
  assert.ok(Math.max(...ds.x) > 1, 'pixels fed as 0..255');
  // The user can still ask for [0, 1]; the result says so.
  const asked = await loadData(path.join(root, 'data'), input, { scale: 1 });
  assert.ok(Math.max(...asked.x) <= 1);
  assert.equal(asked.source!.pixelRange!.reason, '--scale');
});
