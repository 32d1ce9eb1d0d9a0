// export-student --structured channels on a small trained conv network (digits, 8x8x1): the written
// student is really narrower, has no BN when folded, loads in tf.loadLayersModel and computes the
// channel-masked teacher's function (before fine-tuning); after fine-tuning the file holds the
// fine-tuned weights (its accuracy, measured by tfjs itself, is the one reported).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { loadDataset, splitDataset } from '../../src/engine/data';
import type { DataSplit } from '../../src/engine/data';
import { writeTfjs } from '../../src/engine/formats/tfjs';
import { Graph } from '../../src/engine/model/graph';
import { train } from '../../src/engine/train/train';
import { exportStructuredStudent } from '../../src/engine/prune/structuredExport';
import { digitsBnConv } from './graphFixtures';
import { tfjsLoad, tmpDir } from '../fixtures/models/tfjsFiles';
import { loadModel, saveModelAs } from '../../src/engine/formats/modelFile';
import { h5Service } from '../../src/engine/formats/hdf5/h5Client';

after(() => h5Service.stop());

async function teacher(): Promise<{ graph: Graph; file: string; split: DataSplit }> {
  await backend();
  const ds = loadDataset('digits');
  ds.x = ds.x.map((v) => v / 16);
  const split = splitDataset(ds, { seed: 0 });
  const graph = Graph.random(digitsBnConv(), 1);
  await train(graph, split, { epochs: 4, batchSize: 32, lr: 0.01, seed: 0, evalEvery: 0 });
  const file = (await writeTfjs(path.join(tmpDir('sx-teacher'), 't'), { spec: graph.toSpec() })).path;
  return { graph, file, split };
}

function accuracyOf(model: tf.LayersModel, split: DataSplit): number {
  return tf.tidy(() => {
    const x = tf.tensor4d(split.test.x, [split.test.rows, 8, 8, 1]);
    const pred = (model.predict(x) as tf.Tensor).argMax(1).dataSync();
    let ok = 0;
    pred.forEach((p, i) => (ok += p === split.test.y[i] ? 1 : 0));
    return ok / split.test.rows;
  });
}

test('structured export: narrower student, BN folded, loads in tfjs, equals the masked teacher', async () => {
  const { graph, file, split } = await teacher();
  const out = path.join(tmpDir('sx-out'), 'student');
  const r = await exportStructuredStudent({ network: graph, path: file }, split, {
    method: { method: 'obd', variant: 'ggn' },
    share: 0.5,
    foldBn: true,
    out,
    latencyRuns: 5,
  });
  const row = Object.fromEntries(r.layers.map((l) => [l.node, l]));
  assert.equal(row.c1.channelsAfter, 4);
  assert.equal(row.c2.channelsAfter, 6);
  assert.equal(row.bn1.channelsAfter, 0);
  assert.equal(row.bn1.foldedInto, 'c1');
  assert.equal(row.out.channelsAfter, 10);
  assert.ok(r.totals.macsAfter < r.totals.macsBefore / 2);
  assert.ok(r.bytes.studentWeights < r.bytes.teacherWeights);
  assert.equal(r.latency.backend, tf.getBackend());
  assert.ok(r.latency.teacherMs > 0 && r.latency.studentMs > 0);
  const onDisk = JSON.parse(fs.readFileSync(r.files.studentJson, 'utf8'));
  assert.deepEqual(onDisk.layers, JSON.parse(JSON.stringify(r.layers)));
  assert.ok(['Sequential', 'Functional'].includes(JSON.parse(fs.readFileSync(r.files.kerasConfig, 'utf8')).class_name));
  // The student as tfjs reads it: no BN, 4 filters, and the masked teacher's accuracy and loss.
  const m = await tfjsLoad(r.files.modelJson);
  assert.ok(m.layers.every((l) => l.getClassName() !== 'BatchNormalization'));
  assert.deepEqual(m.getLayer('c1').getWeights()[0].shape, [3, 3, 1, 4]);
  assert.equal(accuracyOf(m, split), r.metrics.maskedTeacher.accuracy);
  assert.equal(r.metrics.student.accuracy, r.metrics.maskedTeacher.accuracy);
  assert.ok(Math.abs(r.metrics.student.loss - r.metrics.maskedTeacher.loss) < 1e-5);
  m.dispose();
  graph.dispose();
});

test('structured export with --finetune: the file holds the fine-tuned student', async () => {
  const { graph, file, split } = await teacher();
  const out = path.join(tmpDir('sx-ft'), 'student');
  const r = await exportStructuredStudent({ network: graph, path: file }, split, {
    method: { method: 'random', seed: 2 },
    share: 0.75,
    finetune: 3,
    finetuneLr: 0.01,
    out,
    latencyRuns: 3,
  });
  assert.equal(r.metrics.finetuned!.epochs, 3);
  const m = await tfjsLoad(r.files.modelJson);
  assert.equal(accuracyOf(m, split), r.metrics.finetuned!.accuracy);
  assert.notEqual(r.metrics.finetuned!.accuracy, r.metrics.student.accuracy);
  // BN kept (not folded), with its channels cut to the student's.
  assert.deepEqual(m.getLayer('bn1').getWeights()[0].shape, [2]);
  m.dispose();
  graph.dispose();
});

test('structured export in the teacher format (or the one asked): the file reads back as the tfjs student', async () => {
  const { graph, file, split } = await teacher();
  const common = { method: { method: 'obd' as const, variant: 'ggn' as const }, share: 0.5, latencyRuns: 3 };
  const ref = await exportStructuredStudent({ network: graph, path: file }, split, {
    ...common,
    out: path.join(tmpDir('sx-fmt-tfjs'), 's'),
  });
  assert.equal(ref.format, 'tfjs');
  const tfjsStudent = await tfjsLoad(ref.files.modelJson);
  const x = tf.tensor4d(split.test.x, [split.test.rows, 8, 8, 1]);
  const want = tfjsStudent.predict(x) as tf.Tensor;
  // The teacher read from a .keras file gives a .keras student; --format onnx converts.
  const kerasTeacher = (await saveModelAs(path.join(tmpDir('sx-fmt-k'), 'conv.keras'), graph, undefined, 'keras')).path;
  for (const [input, asked, name] of [
    [kerasTeacher, undefined, 'conv.keras'],
    [kerasTeacher, 'onnx', 'conv.onnx'],
    [file, 'h5', 't.h5'],
  ] as const) {
    const teacherFile = await loadModel(input);
    const out = path.join(tmpDir(`sx-fmt-${asked ?? 'default'}`), 's');
    const r = await exportStructuredStudent(teacherFile, split, { ...common, out, format: asked });
    const fmt = asked ?? 'keras';
    assert.equal(r.format, fmt);
    assert.equal(r.files.modelJson, path.join(out, name));
    assert.deepEqual(fs.readdirSync(out).sort(), [name, 'keras-config.json', 'student.json'].sort());
    assert.equal(r.totals.paramsAfter, ref.totals.paramsAfter);
    const back = await loadModel(r.files.modelJson);
    assert.equal(back.format.type, fmt);
    assert.equal(back.network.nParams, ref.totals.paramsAfter);
    const got = back.network.predict(x);
    assert.ok(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0] < 1e-5, `${fmt}: outputs = the tfjs student's`);
    tf.dispose(got);
    back.network.dispose();
    teacherFile.network.dispose();
  }
  tf.dispose([x, want]);
  tfjsStudent.dispose();
  graph.dispose();
});
