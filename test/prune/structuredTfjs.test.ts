// Channel pruning on a real TF.js file built by tfjs-layers: `prunescope groups --json` lists its
// groups, and the channel-pruned student (with and without BN folding), written by PruneScope,
// loads in tf.loadLayersModel, has fewer filters and predicts like the channel-masked teacher as
// tfjs itself computes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { groupsCommand } from '../../src/cli/commands/groups';
import { parseArgs } from '../../src/cli/args';
import { readTfjs, writeTfjs } from '../../src/engine/formats/tfjs';
import { graphToFlat, graphWithFlat } from '../../src/engine/model/graphFlat';
import { applyMask } from '../../src/engine/prune/mask';
import { structuredStudent } from '../../src/engine/prune/structuredStudent';
import { Rng } from '../../src/engine/util/random';
import { tfjsLoad, tmpDir, writeTfjsModel } from '../fixtures/models/tfjsFiles';

async function teacherFile(): Promise<string> {
  await backend();
  const input = tf.input({ shape: [12, 12, 1] });
  const c1 = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', useBias: false, name: 'c1' }).apply(input);
  const b1 = tf.layers.batchNormalization({ name: 'bn1' }).apply(c1);
  const r1 = tf.layers.reLU({ name: 'r1' }).apply(b1);
  const c2 = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'c2' }).apply(r1);
  const b2 = tf.layers.batchNormalization({ name: 'bn2' }).apply(c2);
  const add = tf.layers.add({ name: 'add' }).apply([r1, b2] as tf.SymbolicTensor[]);
  const p = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(add);
  const c3 = tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', name: 'c3' }).apply(p);
  const f = tf.layers.flatten({ name: 'flat' }).apply(c3);
  const d = tf.layers.dense({ units: 12, activation: 'tanh', name: 'fc' }).apply(f);
  const out = tf.layers.dense({ units: 4, activation: 'softmax', name: 'out' }).apply(d) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  // Non-trivial BN statistics and gammas (fresh ones are 0 / 1).
  const rng = new Rng(5);
  for (const l of [model.getLayer('bn1'), model.getLayer('bn2')]) {
    l.setWeights(
      l.getWeights().map((w, i) =>
        tf.tensor(
          Float32Array.from({ length: w.size }, () =>
            i === 3 ? rng.uniform(0.5, 2) : rng.uniform(-0.8, 0.8) + (i === 0 ? 1 : 0),
          ),
          w.shape,
        ),
      ),
    );
  }
  return writeTfjsModel(model, tmpDir('structured-teacher'));
}

test('prunescope groups --json on a tfjs-built residual conv model', async () => {
  const file = await teacherFile();
  let out = '';
  await groupsCommand.run(parseArgs([file, '--json'], groupsCommand.flags, 'groups'), {
    log: () => undefined,
    out: (t: string) => (out += t),
    signal: new AbortController().signal,
  });
  const doc = JSON.parse(out);
  assert.equal(doc.path, file);
  const g = doc.groups.map(
    (x: { producers: string[]; channels: number; removable: number }) =>
      `${x.producers.join('+')}:${x.channels}/${x.removable}`,
  );
  assert.deepEqual(g, ['c1+c2:6/6', 'c3:8/8', 'fc:12/12', 'out:4/0']);
  const c3 = doc.groups[1];
  // c3's channel: its 3 x 3 x 6 filter and bias, and fc's rows p * 8 + c for the 4 x 4 positions.
  assert.equal(c3.paramsPerChannel[0], 54 + 1 + 16 * 12);
  const fcRows = c3.members.find((m: { node: string }) => m.node === 'fc');
  assert.deepEqual(
    fcRows.indices[3],
    Array.from({ length: 16 }, (_, p) => p * 8 + 3),
  );
  assert.equal(doc.removableChannels, 26);
});

for (const foldBn of [false, true]) {
  test(`the channel-pruned student${foldBn ? ' with BN folded' : ''} loads in tf.loadLayersModel and predicts like the masked teacher`, async () => {
    const file = await teacherFile();
    const teacher = await readTfjs(file);
    const scores = Float64Array.from(graphToFlat(teacher.spec), Math.abs);
    const s = structuredStudent(teacher.spec, scores, { share: 0.5, foldBn });
    const sDir = path.join(tmpDir('structured-student'), 'student');
    const mDir = path.join(tmpDir('structured-masked'), 'masked');
    const written = await writeTfjs(sDir, { spec: s.student });
    await writeTfjs(mDir, { spec: graphWithFlat(teacher.spec, applyMask(graphToFlat(teacher.spec), s.mask)) });
    const student = await tfjsLoad(written.path);
    const masked = await tfjsLoad(path.join(mDir, 'model.json'));
    const c1 = student.getLayer('c1').getWeights()[0];
    assert.deepEqual(c1.shape, [3, 3, 1, 3]);
    assert.deepEqual(student.getLayer('c3').getWeights()[0].shape, [3, 3, 3, 4]);
    assert.deepEqual(student.getLayer('fc').getWeights()[0].shape, [64, 6]);
    assert.equal(
      student.layers.some((l) => l.getClassName() === 'BatchNormalization'),
      !foldBn,
    );
    const x = tf.randomUniform([16, 12, 12, 1], -1, 1, 'float32', 7);
    const ys = student.predict(x) as tf.Tensor;
    const ym = masked.predict(x) as tf.Tensor;
    const diff = tf.max(tf.abs(tf.sub(ys, ym))).dataSync()[0];
    assert.ok(diff <= 1e-5, `max diff ${diff}`);
    tf.dispose([x, ys, ym]);
    student.dispose();
    masked.dispose();
  });
}
