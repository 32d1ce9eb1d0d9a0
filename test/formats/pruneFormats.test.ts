// prune writes the pruned model in the input's format (or --format's), into the new folder, never
// over the input: for every format the file read back holds the same weights as every other
// format's (bit for bit), exactly the expected entries are zero, the prune mask survives in the
// file's metadata, and the outputs equal the pruned network's.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { tmpDir } from '../fixtures/models/tfjsFiles';
import { randomDense } from '../../src/engine/model/denseChain';
import { loadModel, saveModelAs } from '../../src/engine/formats/modelFile';
import { h5Service } from '../../src/engine/formats/hdf5/h5Client';
import { loadDataset, splitDataset } from '../../src/engine/data';
import { pruneCommand } from '../../src/cli/commands/prune';
import { PruneScopeError } from '../../src/engine/errors';
import { MODEL_FORMATS, type ModelFormat } from '../../src/engine/options';
import { runCommand } from '../cliRun';

after(() => h5Service.stop());

async function prune(argv: string[]): Promise<{ modelFile: string; format: string; prunedNow: number }> {
  return JSON.parse(await runCommand(pruneCommand, argv));
}

const EXT: Record<ModelFormat, string> = { tfjs: 'model.json', keras: 'wine.keras', h5: 'wine.h5', onnx: 'wine.onnx' };

test('prune keeps the input format (or --format), and every format holds the same pruned weights', async () => {
  await backend();
  const ds = loadDataset('wine');
  const split = splitDataset(ds, { seed: 0 });
  const net = randomDense(
    {
      inputSize: 13,
      layers: [
        { name: 'h', units: 9, activation: 'tanh' },
        { name: 'o', units: 3, activation: 'softmax' },
      ],
    },
    5,
  );
  // Zero biases would count as pruned entries: every parameter starts non-zero.
  net.setFlat(net.toFlat().map((v, j) => (v === 0 ? 0.01 * ((j % 7) + 1) : v)));
  const dir = tmpDir('prune-formats');
  const meta = {
    task: 'classification' as const,
    featureNames: ds.featureNames,
    labelNames: ds.labelNames,
    preprocessing: { standardization: split.standardization! },
  };
  const flats: Float32Array[] = [];
  const x = tf.tensor2d(split.test.x, [split.test.rows, 13]);
  for (const fmt of MODEL_FORMATS) {
    const input = fmt === 'tfjs' ? path.join(dir, 'wine') : path.join(dir, `wine.${fmt === 'keras' ? 'keras' : fmt}`);
    const written = await saveModelAs(input, net, meta, fmt);
    const before = fs.readFileSync(written.path);
    const out = path.join(dir, `pruned-${fmt}`);
    const r = await prune([
      written.path,
      '--data',
      'wine',
      '--method',
      'random',
      '--fraction',
      '0.3',
      '--out',
      out,
      '--json',
    ]);
    assert.equal(r.format, fmt);
    assert.equal(r.modelFile, path.join(out, EXT[fmt]));
    assert.ok(fs.readFileSync(written.path).equals(before), `${fmt}: the input is untouched`);
    const back = await loadModel(r.modelFile);
    assert.equal(back.format.type, fmt);
    const flat = back.network.toFlat();
    const zeros = flat.reduce((a, v) => a + (v === 0 ? 1 : 0), 0);
    assert.equal(zeros, r.prunedNow, `${fmt}: zero entries`);
    assert.ok(back.pruneMask, `${fmt}: the prune mask is in the file's metadata`);
    back.pruneMask!.forEach((m, j) => assert.equal(m === 1, flat[j] === 0, `${fmt}: mask at ${j}`));
    const orig = net.toFlat();
    flat.forEach((v, j) => assert.ok(v === 0 || v === orig[j], `${fmt}: weight ${j} changed`));
    flats.push(flat);
    // Outputs of the file read back equal the pruned weights run by the engine.
    const ref = randomDense(
      {
        inputSize: 13,
        layers: [
          { name: 'h', units: 9, activation: 'tanh' },
          { name: 'o', units: 3, activation: 'softmax' },
        ],
      },
      5,
    );
    ref.setFlat(flat);
    const a = back.network.predict(x);
    const b = ref.predict(x);
    assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] < 1e-6, `${fmt}: outputs`);
    tf.dispose([a, b]);
    ref.dispose();
    back.network.dispose();
  }
  flats
    .slice(1)
    .forEach((f, i) =>
      assert.ok(Buffer.from(f.buffer).equals(Buffer.from(flats[0].buffer)), `${MODEL_FORMATS[i + 1]} = tfjs`),
    );

  // --format converts: a TF.js input pruned into ONNX.
  const r = await prune([
    path.join(dir, 'wine', 'model.json'),
    ...['--data', 'wine', '--method', 'random', '--fraction', '0.3', '--format', 'onnx'],
    ...['--out', path.join(dir, 'as-onnx'), '--json'],
  ]);
  assert.equal(r.modelFile, path.join(dir, 'as-onnx', 'wine.onnx'));
  const onnx = await loadModel(r.modelFile);
  assert.ok(Buffer.from(onnx.network.toFlat().buffer).equals(Buffer.from(flats[0].buffer)));
  onnx.network.dispose();
  await assert.rejects(
    prune([path.join(dir, 'wine.h5'), '--data', 'wine', '--fraction', '0.3', '--format', 'pt', '--out', dir + '-x']),
    PruneScopeError,
  );
  x.dispose();
  net.dispose();
});
