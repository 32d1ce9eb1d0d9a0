// The engine's layer graph on the nine real Keras files (../shared/models): readModel, then
// Graph.fromSpec runs them through the conv-family modules (Conv2D same / valid / stride 2,
// depthwise with multipliers 1 and 2, BatchNormalization, pooling, Rescaling, residual Adds). Its
// outputs on the 64 reference rows equal the reference (two independent float64 forwards from the
// HDF5 weights) to 1e-4, and on the depthwise + BN model the loss gradient equals float64 central
// differences of forward64 on a subset of coordinates.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { readModel } from '../../src/engine/formats';
import { h5Service } from '../../src/engine/formats/hdf5/h5Client';
import { Graph, flatten } from '../../src/engine/model/graph';
import { lossGradients } from '../../src/engine/model/gradients';
import { forward64, flatParams64, meanLoss64 } from '../reference/forward64';
import { Rng } from '../../src/engine/util/random';
import { backend, maxRelErr } from '../helpers';
import * as path from 'path';
import {
  SHARED_FILES,
  SHARED_MODELS,
  SKIP_MESSAGE,
  expectedOf,
  inputsOf,
  sharedModels,
} from '../fixtures/models/sharedModels';

after(() => h5Service.stop());

function batch(rows: Float32Array[]): Float32Array {
  const x = new Float32Array(rows.length * rows[0].length);
  rows.forEach((r, i) => x.set(r, i * r.length));
  return x;
}

for (const file of SHARED_FILES)
  test(`${file}: the layer graph's outputs equal the float64 reference to 1e-4`, async (t) => {
    if (!sharedModels()) return t.skip(SKIP_MESSAGE);
    await backend();
    const m = await readModel(path.join(SHARED_MODELS, file));
    const g = Graph.fromSpec(m.spec);
    const rows = inputsOf(file);
    const x = tf.tensor(batch(rows), [rows.length, ...g.inputShape]);
    const p = g.predict(x);
    const want = expectedOf(file).outputs.flat();
    const got = p.dataSync();
    let gap = 0;
    for (let i = 0; i < want.length; i++) gap = Math.max(gap, Math.abs(got[i] - want[i]));
    assert.ok(gap < 1e-4, `largest gap ${gap}`);
    tf.dispose([x, p]);
    g.dispose();
  });

test('k2_dw_bn_tinymaix.h5 (depthwise x2, BN): loss gradient against float64 differences', async (t) => {
  if (!sharedModels()) return t.skip(SKIP_MESSAGE);
  await backend();
  const file = 'k2_dw_bn_tinymaix.h5';
  const m = await readModel(path.join(SHARED_MODELS, file));
  const g = Graph.fromSpec(m.spec);
  const rows = inputsOf(file).slice(0, 4);
  const labels = expectedOf(file).labels.slice(0, 4);
  const k = g.outputSize;
  const y = new Float64Array(rows.length * k);
  labels.forEach((l, i) => (y[i * k + l] = 1));
  const xb = { n: rows.length, shape: g.inputShape, data: Float64Array.from(batch(rows)) };
  const w64 = flatParams64(m.spec);
  const rng = new Rng(4);
  const picks = new Set<number>();
  for (const w of g.weights) for (let j = 0; j < 3; j++) picks.add(w.offset + rng.int(w.size));
  const idx = [...picks].sort((a, b) => a - b);
  const h = 1e-6;
  const fd = idx.map((j) => {
    const v = w64[j];
    w64[j] = v + h;
    const lp = meanLoss64('cross-entropy', forward64(m.spec, xb, w64), y);
    w64[j] = v - h;
    const lm = meanLoss64('cross-entropy', forward64(m.spec, xb, w64), y);
    w64[j] = v;
    return (lp - lm) / (2 * h);
  });
  const x = tf.tensor(batch(rows), [rows.length, ...g.inputShape]);
  const yt = tf.tensor2d(Float32Array.from(y), [rows.length, k]);
  const { grads } = lossGradients(g, x, yt);
  const flat = flatten(g, grads);
  const e = maxRelErr(
    idx.map((j) => flat[j]),
    fd,
  );
  assert.ok(e < 1e-3, `gradient relative error ${e}`);
  tf.dispose([x, yt]);
  g.dispose();
});
