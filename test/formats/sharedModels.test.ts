// The nine real Keras files (../shared/models, written by Keras 2 and 3 themselves) read through
// readModel, run by the independent float64 reference forward on their 64 MNIST rows: outputs
// equal the reference outputs (two independent float64 implementations from the HDF5 weights) to
// 1e-4. Then each is written back in its own format and in the others, and read again: the
// weights are identical and the outputs the same.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { readModel, writeModel, ModelFormat } from '../../src/engine/formats';
import { h5Service } from '../../src/engine/formats/hdf5/h5Client';
import { forward64 } from '../reference/forward64';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { tfjsLoad, tmpDir } from '../fixtures/models/tfjsFiles';
import {
  SHARED_FILES,
  SHARED_MODELS,
  SKIP_MESSAGE,
  expectedOf,
  inputsOf,
  sharedModels,
} from '../fixtures/models/sharedModels';
import type { GraphSpec } from '../../src/engine/graphSpec';

after(() => h5Service.stop());

function outputs(spec: GraphSpec, rows: Float32Array[]): Float64Array {
  const data = new Float64Array(rows.length * rows[0].length);
  rows.forEach((r, i) => data.set(r, i * r.length));
  return forward64(spec, { n: rows.length, shape: spec.inputs[0].shape, data }).data;
}

function maxGap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let g = 0;
  for (let i = 0; i < a.length; i++) g = Math.max(g, Math.abs(a[i] - b[i]));
  return g;
}

/** Same graph and weights bit for bit; TF.js has no augmentation classes, written as rate-0 Dropout. */
function sameWeights(a: GraphSpec, b: GraphSpec, what: string, fmt: ModelFormat): void {
  assert.deepEqual(
    b.nodes.map((n) => n.name),
    a.nodes.map((n) => n.name),
    `${what}: node names`,
  );
  a.nodes.forEach((n, i) => {
    const m = b.nodes[i];
    if (fmt === 'tfjs' && n.className === 'Identity' && /^Random/.test((n.config as { kind: string }).kind))
      assert.deepEqual(m.config, { kind: 'Dropout' }, `${what}: config of ${n.name}`);
    else assert.deepEqual(m.config, n.config, `${what}: config of ${n.name}`);
    assert.deepEqual(
      m.weights.map((w) => [w.name, w.shape, w.trainable]),
      n.weights.map((w) => [w.name, w.shape, w.trainable]),
      `${what}: weights of ${n.name}`,
    );
    n.weights.forEach((w, k) =>
      assert.ok(
        Buffer.from(m.weights[k].values.buffer).equals(Buffer.from(w.values.buffer)),
        `${what}: ${n.name}/${w.name} values`,
      ),
    );
  });
}

const formatOf = (file: string): ModelFormat => (file.endsWith('.keras') ? 'keras' : 'h5');

for (const file of SHARED_FILES) {
  test(`${file}: read by readModel, outputs equal the float64 reference to 1e-4; write -> read in every format keeps weights`, async (t) => {
    if (!sharedModels()) return t.skip(SKIP_MESSAGE);
    const exp = expectedOf(file);
    const read = await readModel(path.join(SHARED_MODELS, file));
    assert.equal(read.format.type, formatOf(file));
    assert.equal(read.format.kerasVersion, exp.keras_version);
    const rows = inputsOf(file);
    const got = outputs(read.spec, rows);
    const gap = maxGap(got, exp.outputs.flat());
    assert.ok(gap < 1e-4, `${file}: max |ours - reference| = ${gap}`);
    for (const [fmt, name] of [
      ['keras', 'm.keras'],
      ['h5', 'm.h5'],
      ['tfjs', 'm'],
    ] as [ModelFormat, string][]) {
      const out = path.join(tmpDir(`shared-${fmt}`), name);
      const w = await writeModel(out, { spec: read.spec }, fmt, { input: read.path });
      const back = await readModel(w.path);
      assert.equal(back.format.type, fmt);
      sameWeights(read.spec, back.spec, `${file} -> ${fmt}`, fmt);
      if (fmt === 'tfjs') {
        // TF.js itself runs what was written: its outputs are the reference's too.
        await backend();
        const m = await tfjsLoad(w.path);
        const x = tf.tensor(Float32Array.from(rows.flatMap((r) => Array.from(r))), [
          rows.length,
          ...read.spec.inputs[0].shape,
        ]);
        const y = m.predict(x) as tf.Tensor;
        const tgap = maxGap(y.dataSync(), exp.outputs.flat());
        tf.dispose([x, y]);
        m.dispose();
        assert.ok(tgap < 1e-4, `${file} written as TF.js, run by tfjs: max gap ${tgap}`);
      }
      // The float64 reference is slow on these convolutions: four rows show the outputs agree.
      assert.equal(
        maxGap(outputs(back.spec, rows.slice(0, 4)), got.slice(0, 40)),
        0,
        `${file} -> ${fmt}: outputs differ`,
      );
    }
  });
}
