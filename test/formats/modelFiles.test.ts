// readModel / writeModel as one entry point: the format is found from the file's content (and
// its name where the content does not say), PruneScope's metadata and prune mask travel in every
// format, and no writer ever replaces the model it was read from.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { detectFormat, readModel, writeModel, ModelFormat, MODEL_FORMATS } from '../../src/engine/formats';
import { h5Service } from '../../src/engine/formats/hdf5/h5Client';
import { encodePruneMask, PruneScopeMetadata } from '../../src/engine/model/metadata';
import type { GraphSpec } from '../../src/engine/graphSpec';
import { PruneScopeError } from '../../src/engine/errors';
import { makeProvenance } from '../../src/engine/provenance';
import { forward64 } from '../reference/forward64';
import { tmpDir } from '../fixtures/models/tfjsFiles';

after(() => h5Service.stop());

/** A small conv net: Conv2D (same, stride 2), BN, GAP, Dense softmax. 4 * 4 * 2 input. */
function spec(): GraphSpec {
  const v = (n: number, s: number, pos = false) =>
    Float32Array.from({ length: n }, (_, i) => (pos ? 1 + 0.5 * Math.abs(Math.sin(i * s)) : Math.sin(i * s + 1)));
  return {
    inputs: [{ name: 'x', shape: [4, 4, 2] }],
    inputLayout: 'NHWC',
    outputs: ['out'],
    nodes: [
      {
        name: 'conv',
        className: 'Conv2D',
        config: {
          filters: 3,
          kernelSize: [3, 3],
          strides: [2, 2],
          padding: 'same',
          dilationRate: [1, 1],
          activation: 'relu',
          useBias: true,
        },
        inputs: ['x'],
        weights: [
          { name: 'kernel', shape: [3, 3, 2, 3], trainable: true, values: v(54, 0.37) },
          { name: 'bias', shape: [3], trainable: true, values: v(3, 1.1) },
        ],
      },
      {
        name: 'bn',
        className: 'BatchNormalization',
        config: { epsilon: 0.001, momentum: 0.99, center: true, scale: true },
        inputs: ['conv'],
        weights: [
          { name: 'gamma', shape: [3], trainable: true, values: v(3, 0.5) },
          { name: 'beta', shape: [3], trainable: true, values: v(3, 0.9) },
          { name: 'moving_mean', shape: [3], trainable: false, values: v(3, 2.1) },
          { name: 'moving_variance', shape: [3], trainable: false, values: v(3, 0.7, true) },
        ],
      },
      { name: 'gap', className: 'GlobalAveragePooling2D', config: { keepdims: false }, inputs: ['bn'], weights: [] },
      {
        name: 'out',
        className: 'Dense',
        config: { units: 2, activation: 'softmax', useBias: true },
        inputs: ['gap'],
        weights: [
          { name: 'kernel', shape: [3, 2], trainable: true, values: v(6, 0.21) },
          { name: 'bias', shape: [2], trainable: true, values: v(2, 3.3) },
        ],
      },
    ],
  };
}

const nameFor: Record<ModelFormat, string> = {
  tfjs: 'model',
  keras: 'model.keras',
  h5: 'model.h5',
  onnx: 'model.onnx',
};

test('metadata and the prune mask round-trip in every format; pruned weights read as exactly zero', async () => {
  const s = spec();
  const nParams = 54 + 3 + 3 + 3 + 6 + 2;
  const pruned = new Uint8Array(nParams);
  for (const j of [0, 7, 53, 56, 60, 70]) pruned[j] = 1;
  const metadata: PruneScopeMetadata = {
    task: 'classification',
    labelNames: ['no', 'yes'],
    pruneMask: encodePruneMask(pruned, { method: 'obd', fraction: 6 / nParams }),
    provenance: makeProvenance({ job: 'prune', method: 'obd', seed: 2 }),
  };
  // Pruned weights are zero in the graph written; one is not, and the reader forces it.
  const flat: { w: Float32Array; i: number }[] = [];
  for (const n of s.nodes)
    for (const w of n.weights) if (w.trainable) for (let i = 0; i < w.values.length; i++) flat.push({ w: w.values, i });
  for (const j of [0, 7, 53, 56, 60]) flat[j].w[flat[j].i] = 0;
  for (const fmt of MODEL_FORMATS) {
    const out = path.join(tmpDir(`meta-${fmt}`), nameFor[fmt]);
    const w = await writeModel(out, { spec: s, metadata }, fmt);
    const back = await readModel(w.path);
    assert.equal(back.format.type, fmt);
    assert.deepEqual(back.metadata, JSON.parse(JSON.stringify(metadata)), `${fmt}: metadata`);
    assert.deepEqual(Array.from(back.pruneMask!), Array.from(pruned), `${fmt}: mask`);
    const got: number[] = [];
    for (const n of back.spec.nodes) for (const x of n.weights) if (x.trainable) got.push(...x.values);
    for (const j of [0, 7, 53, 56, 60, 70]) assert.equal(got[j], 0, `${fmt}: parameter ${j}`);
    assert.ok(
      back.warnings.some((x) => /set to zero/.test(x)),
      `${fmt}: ${back.warnings.join('; ')}`,
    );
  }
});

test('the format comes from the content: a folder, model.json, a zip or an HDF5 file under any name', async () => {
  const dir = tmpDir('detect');
  const s = spec();
  const tf = await writeModel(path.join(dir, 'tfjs'), { spec: s }, 'tfjs');
  assert.deepEqual(detectFormat(path.join(dir, 'tfjs')), { format: 'tfjs', file: tf.path });
  assert.equal(detectFormat(tf.path).format, 'tfjs');
  const k = await writeModel(path.join(dir, 'a.keras'), { spec: s }, 'keras');
  const h = await writeModel(path.join(dir, 'a.h5'), { spec: s }, 'h5');
  const o = await writeModel(path.join(dir, 'a.onnx'), { spec: s }, 'onnx');
  fs.copyFileSync(k.path, path.join(dir, 'zip.h5'));
  fs.copyFileSync(h.path, path.join(dir, 'hdf5.keras'));
  assert.equal(detectFormat(path.join(dir, 'zip.h5')).format, 'keras');
  assert.equal(detectFormat(path.join(dir, 'hdf5.keras')).format, 'h5');
  assert.equal(detectFormat(o.path).format, 'onnx');
  // All four read into the same function of the input (the engine's rows are NHWC whatever the
  // file's own layout: an ONNX model's NCHW is the data loader's business).
  const x = Float64Array.from({ length: 3 * 32 }, (_, i) => Math.cos(i));
  const ref = forward64(s, { n: 3, shape: [4, 4, 2], data: x }).data;
  for (const f of [tf.path, path.join(dir, 'zip.h5'), path.join(dir, 'hdf5.keras'), o.path]) {
    const m = await readModel(f);
    assert.equal(m.spec.inputLayout, f === o.path ? 'NCHW' : 'NHWC');
    const y = forward64(m.spec, { n: 3, shape: m.spec.inputs[0].shape, data: x }).data;
    for (let i = 0; i < y.length; i++) assert.ok(Math.abs(y[i] - ref[i]) < 1e-6, `${f}: output ${i}`);
  }
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello');
  assert.throws(
    () => detectFormat(path.join(dir, 'notes.txt')),
    (e: unknown) => e instanceof PruneScopeError && /not a model file PruneScope recognises/.test(e.message),
  );
  assert.throws(
    () => detectFormat(path.join(dir, 'missing.onnx')),
    (e: unknown) => e instanceof PruneScopeError && e.code === 'not-found',
  );
});

test('no writer replaces the model it read, nor an existing file unless asked', async () => {
  const dir = tmpDir('guard-all');
  const s = spec();
  for (const fmt of MODEL_FORMATS) {
    const first = await writeModel(path.join(dir, `in-${nameFor[fmt]}`), { spec: s }, fmt);
    const before = fs.readFileSync(first.path);
    const target = fmt === 'tfjs' ? path.dirname(first.path) : first.path;
    await assert.rejects(
      writeModel(target, { spec: s }, fmt, { input: first.path, replace: true }),
      (e: unknown) => e instanceof PruneScopeError && /would overwrite the input model/.test(e.message),
      fmt,
    );
    await assert.rejects(
      writeModel(target, { spec: s }, fmt),
      (e: unknown) => e instanceof PruneScopeError && /exists/.test(e.message),
      fmt,
    );
    assert.ok(fs.readFileSync(first.path).equals(before), `${fmt}: input untouched`);
    const again = await writeModel(target, { spec: s }, fmt, { replace: true });
    assert.equal(again.format, fmt);
  }
});
