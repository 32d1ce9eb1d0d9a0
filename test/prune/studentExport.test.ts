// exportStudent: files checked with tfjs itself (loadLayersModel, modelFromJSON), counts recomputed
// from the saved weight shapes, the mask rebuilt in the test from a hand-made ranking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { tmpDir, tfjsLoad } from '../fixtures/models/tfjsFiles';
import { NetworkSpec, denseFromFlat, denseLayout, randomDense } from '../../src/engine/model/denseChain';
import { Graph } from '../../src/engine/model/graph';
import { saveModel } from '../../src/engine/formats/modelFile';
import { loadDataset, splitDataset, DataSplit } from '../../src/engine/data';
import { train } from '../../src/engine/train/train';
import { exportStudent, StudentReport } from '../../src/engine/prune/studentExport';
import { PruneScopeError } from '../../src/engine/errors';
import type { RelevanceResult } from '../../src/engine/relevance/types';
import { makeProvenance } from '../../src/engine/provenance';

const spec: NetworkSpec = {
  inputSize: 13,
  layers: [
    { name: 'h1', units: 16, activation: 'tanh' },
    { name: 'h2', units: 10, activation: 'relu' },
    { name: 'out', units: 3, activation: 'softmax' },
  ],
};

async function teacherFile(): Promise<{ file: string; split: DataSplit; net: Graph }> {
  await backend();
  const ds = loadDataset('wine');
  const split = splitDataset(ds, { seed: 0 });
  const net = randomDense(spec, 3);
  await train(net, split, { epochs: 15, batchSize: 16, lr: 0.01, seed: 1, evalEvery: 0 });
  const dir = path.join(tmpDir('teacher'), 'teacher');
  const saved = await saveModel(dir, net, {
    task: 'classification',
    featureNames: ds.featureNames,
    labelNames: ds.labelNames,
    targetName: ds.targetName,
    preprocessing: { standardization: split.standardization! },
  });
  return { file: saved.modelJson, split, net };
}

/** Magnitude ranking |w|, with the kernel row of input `weakInput` made least relevant of all. */
function magnitudeRanking(net: Graph, weakInput: number): RelevanceResult {
  const w = net.toFlat();
  const scores = Float64Array.from(w, (v) => Math.abs(v));
  const l0 = denseLayout(net)![0];
  for (let u = 0; u < l0.outSize; u++) scores[l0.kernelOffset + weakInput * l0.outSize + u] = -1;
  const order = Int32Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b] || a - b);
  return {
    method: 'obd',
    variant: 'test-magnitude',
    scores,
    order,
    provenance: makeProvenance({ job: 'relevance', method: 'magnitude' }),
  };
}

/** Test-side mask: the round(f * nWeights) least relevant kernel weights (biases never). */
function referenceMask(net: Graph, r: RelevanceResult, f: number): Uint8Array {
  const kernel: number[] = [];
  for (const l of denseLayout(net)!) for (let j = l.kernelOffset; j < l.biasOffset; j++) kernel.push(j);
  kernel.sort((a, b) => r.scores[a] - r.scores[b] || a - b);
  const m = new Uint8Array(net.nParams);
  for (const j of kernel.slice(0, Math.round(f * kernel.length))) m[j] = 1;
  return m;
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

function shapesOf(modelJson: string): number[][] {
  const j = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  return j.weightsManifest.flatMap((g: { weights: { shape: number[] }[] }) => g.weights.map((w) => w.shape));
}

test('export-student writes a smaller LayersModel that tfjs loads and that predicts like the masked teacher', async () => {
  const { file, split, net } = await teacherFile();
  const teacherBytes = fs.readFileSync(path.join(path.dirname(file), 'group1-shard1of1.bin'));
  const ranking = magnitudeRanking(net, 3);
  const f = 0.7;
  const out = path.join(tmpDir('student'), 'student');
  await exportStudent(file, split, {
    method: ranking,
    fraction: f,
    dropUnusedInputs: true,
    out,
    seed: 4,
    latencyRuns: 7,
  });
  const files = fs.readdirSync(out).sort();
  assert.deepEqual(files, ['group1-shard1of1.bin', 'keras-config.json', 'model.json', 'student.json']);
  // The teacher's files are untouched.
  assert.deepEqual(fs.readFileSync(path.join(path.dirname(file), 'group1-shard1of1.bin')), teacherBytes);

  // Physically smaller: 4 bytes per parameter of the saved shapes, fewer than the teacher's.
  const shapes = shapesOf(path.join(out, 'model.json'));
  const nStudent = shapes.reduce((a, s) => a + prod(s), 0);
  const nTeacher = shapesOf(file).reduce((a, s) => a + prod(s), 0);
  const shard = fs.statSync(path.join(out, 'group1-shard1of1.bin')).size;
  assert.equal(shard, 4 * nStudent);
  assert.ok(shard < teacherBytes.byteLength);
  const sj = JSON.parse(fs.readFileSync(path.join(out, 'student.json'), 'utf8')) as StudentReport;
  assert.equal(sj.paramsAfter, nStudent);
  assert.equal(sj.paramsBefore, nTeacher);
  assert.deepEqual(
    sj.widthsAfter,
    shapes.filter((s) => s.length === 2).map((s) => s[1]),
  );
  assert.deepEqual(sj.widthsBefore, [16, 10, 3]);
  assert.equal(sj.inputsAfter, shapes[0][0]);
  assert.equal(sj.bytes.studentWeights, shard);
  assert.equal(sj.bytes.studentTotal, shard + fs.statSync(path.join(out, 'model.json')).size);
  assert.equal(sj.bytes.teacherTotal, teacherBytes.byteLength + fs.statSync(file).size);
  assert.equal(sj.prunedParams, Math.round(f * (13 * 16 + 16 * 10 + 10 * 3)));
  assert.ok(sj.latency.teacherMs > 0 && sj.latency.studentMs > 0 && sj.latency.runs === 7);
  assert.equal(sj.provenance.job, 'export-student');
  assert.equal((sj.provenance.options as { fraction: number }).fraction, f);
  assert.equal(sj.provenance.data?.splitSeed, 0);

  // Input 3's weights ranked least relevant, so it is unused and dropped; names and standardisation follow.
  const names = split.dataset.featureNames;
  assert.ok(sj.unusedInputs.includes(names[3]));
  assert.ok(!sj.keptFeatures.includes(names[3]));
  const kept = sj.keptFeatures.map((n) => names.indexOf(n));
  const meta = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')).userDefinedMetadata.prunescope;
  assert.deepEqual(meta.featureNames, sj.keptFeatures);
  assert.deepEqual(
    meta.preprocessing.standardization.mean,
    kept.map((i) => split.standardization!.mean[i]),
  );
  assert.deepEqual(
    meta.preprocessing.standardization.std,
    kept.map((i) => split.standardization!.std[i]),
  );
  assert.deepEqual(meta.student.keptFeatures, sj.keptFeatures);

  // tfjs's own loader; predictions against the teacher masked by the test's reference mask.
  const model = await tfjsLoad(path.join(out, 'model.json'));
  assert.equal(model.countParams(), nStudent);
  const mask = referenceMask(net, ranking, f);
  const masked = denseFromFlat(
    spec,
    Float32Array.from(net.toFlat(), (v, j) => (mask[j] ? 0 : v)),
  );
  const x = tf.tensor2d(split.test.x, [split.test.rows, 13]);
  const xs = tf.gather(x, kept, 1) as tf.Tensor2D;
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(model.predict(xs) as tf.Tensor, masked.predict(x)))).dataSync()[0]);
  assert.ok(diff <= 1e-5, `max |student - masked teacher| = ${diff}`);
  // Student and masked teacher metrics agree (same function); the masked one is evaluated independently here.
  const acc = tf.tidy(
    () =>
      tf
        .mean(tf.cast(tf.equal(tf.argMax(masked.predict(x), 1), tf.tensor1d(split.test.y, 'int32')), 'float32'))
        .dataSync()[0],
  );
  assert.ok(Math.abs(sj.metrics.maskedTeacher.accuracy! - acc) < 1e-6);
  assert.ok(Math.abs(sj.metrics.student.accuracy! - acc) < 1e-6);
  assert.ok(
    Math.abs(sj.metrics.student.loss - sj.metrics.maskedTeacher.loss) <=
      1e-5 * Math.max(1, sj.metrics.maskedTeacher.loss),
  );
  tf.dispose([x, xs]);
  model.dispose();
  masked.dispose();
  net.dispose();
});

test('keras-config.json is a Sequential config that tfjs deserialises to the same architecture', async () => {
  const { file, split, net } = await teacherFile();
  const out = path.join(tmpDir('student'), 'w');
  const r = await exportStudent(file, split, { method: magnitudeRanking(net, 0), widths: [6, 4], out, latencyRuns: 3 });
  assert.deepEqual(
    r.widthsAfter.slice(0, 2).map((w, i) => w <= [6, 4][i]),
    [true, true],
  );
  const k = JSON.parse(fs.readFileSync(path.join(out, 'keras-config.json'), 'utf8'));
  assert.equal(k.class_name, 'Sequential');
  const layers = k.config.layers as { class_name: string; config: Record<string, unknown> }[];
  assert.equal(layers[0].class_name, 'InputLayer');
  assert.deepEqual(layers[0].config.batch_input_shape, [null, 13]);
  assert.deepEqual(
    layers.slice(1).map((l) => [l.class_name, l.config.units, l.config.activation, l.config.use_bias]),
    [
      ['Dense', r.widthsAfter[0], 'tanh', true],
      ['Dense', r.widthsAfter[1], 'relu', true],
      ['Dense', 3, 'softmax', true],
    ],
  );
  assert.equal(new Set(layers.map((l) => l.config.name)).size, layers.length);
  // tfjs-layers implements Keras deserialisation: the config builds a model with the same shapes.
  const m = await tf.models.modelFromJSON({ modelTopology: k });
  const saved = shapesOf(path.join(out, 'model.json'));
  assert.deepEqual(
    m.getWeights().map((w) => w.shape),
    saved,
  );
  m.dispose();
  net.dispose();
});

test('export-student refuses an existing folder, fractions outside [0, 1] and bad widths, naming the field', async () => {
  const { file, split, net } = await teacherFile();
  const ranking = magnitudeRanking(net, 0);
  const busy = tmpDir('busy');
  fs.writeFileSync(path.join(busy, 'keep.txt'), 'user data');
  const field = (f: string) => (e: unknown) => e instanceof PruneScopeError && e.context.field === f;
  await assert.rejects(exportStudent(file, split, { method: ranking, fraction: 0.5, out: busy }), field('out'));
  assert.equal(fs.readFileSync(path.join(busy, 'keep.txt'), 'utf8'), 'user data');
  // The teacher's own folder is never a valid output.
  await assert.rejects(
    exportStudent(file, split, { method: ranking, fraction: 0.5, out: path.dirname(file) }),
    field('out'),
  );
  const out = path.join(tmpDir('x'), 'new');
  await assert.rejects(exportStudent(file, split, { method: ranking, fraction: 1.5, out }), field('fraction'));
  await assert.rejects(exportStudent(file, split, { method: ranking, fraction: -0.1, out }), field('fraction'));
  await assert.rejects(
    exportStudent(file, split, { method: ranking, fraction: 0.5, widths: [3, 3], out }),
    field('fraction'),
  );
  await assert.rejects(exportStudent(file, split, { method: ranking, widths: [17, 3], out }), field('widths'));
  await assert.rejects(exportStudent(file, split, { method: ranking, widths: [3], out }), field('widths'));
  await assert.rejects(exportStudent(file, split, { method: ranking, widths: [0, 3], out }), field('widths'));
  assert.equal(fs.existsSync(out), false);
  net.dispose();
});
