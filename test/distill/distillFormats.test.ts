// distill writes the distilled student into --out in the teacher's format (or --format's): the file
// read back holds the student the engine distils from the same start, seed and split (outputs to
// 1e-5), with metadata that describes the student, and a bad --format is refused before any work.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { tmpDir } from '../fixtures/models/tfjsFiles';
import { randomDense } from '../../src/engine/model/denseChain';
import { Graph } from '../../src/engine/model/graph';
import { loadModel, saveModelAs } from '../../src/engine/formats/modelFile';
import { h5Service } from '../../src/engine/formats/hdf5/h5Client';
import { loadDataset, splitDataset, splitForModel } from '../../src/engine/data';
import { train } from '../../src/engine/train/train';
import { distill } from '../../src/engine/distill/distill';
import { distillCommand } from '../../src/cli/commands/distill';
import { PruneScopeError } from '../../src/engine/errors';
import type { ModelFormat } from '../../src/engine/options';
import { runCommand } from '../cliRun';

after(() => h5Service.stop());

const KD = { temperature: 3, alpha: 0.6, epochs: 3, batchSize: 16, lr: 0.01 };
const KD_FLAGS = ['--temperature', '3', '--alpha', '0.6', '--epochs', '3', '--batch', '16', '--lr', '0.01'];

interface DistillDoc {
  distilledModel: { file: string; format: string; run: string; seed: number };
}

async function runDistill(argv: string[]): Promise<DistillDoc> {
  return JSON.parse(await runCommand(distillCommand, argv));
}

const dense = (hidden: number, seed: number) =>
  randomDense(
    {
      inputSize: 13,
      layers: [
        { name: 'h', units: hidden, activation: 'tanh' },
        { name: 'o', units: 3, activation: 'softmax' },
      ],
    },
    seed,
  );

test('distill writes the distilled student in the teacher format or --format, equal to the engine student', async () => {
  await backend();
  const ds = loadDataset('wine');
  const std = splitDataset(ds, { seed: 0 });
  const dir = tmpDir('distill-formats');
  const net = dense(12, 1);
  await train(net, std, { epochs: 15, batchSize: 16, lr: 0.01, seed: 0, evalEvery: 0 });
  const meta = {
    task: 'classification' as const,
    featureNames: ds.featureNames,
    labelNames: ds.labelNames,
    preprocessing: { standardization: std.standardization! },
  };
  const keras = (await saveModelAs(path.join(dir, 'wine.keras'), net, meta, 'keras')).path;
  const onnx = (await saveModelAs(path.join(dir, 'wine.onnx'), net, meta, 'onnx')).path;
  net.dispose();
  // A TF.js student: the output follows the teacher's format, not the student's.
  const studentNet = dense(5, 7);
  const studentFile = (await saveModelAs(path.join(dir, 'student'), studentNet, undefined, 'tfjs')).path;
  studentNet.dispose();

  // The engine's distilled student, from the same start, seed and split as the CLI's kept run.
  const teacher = await loadModel(keras);
  const split = splitForModel(teacher.network, teacher.metadata, ds, { seed: 0 });
  const x = tf.tensor2d(split.test.x, [split.test.rows, 13]);
  const reference = async (init: 'teacher' | 'scratch'): Promise<Float32Array> => {
    const given = (await loadModel(studentFile)).network;
    const start = init === 'teacher' ? given : Graph.random(given.spec, 0);
    if (start !== given) given.dispose();
    await distill(teacher.network, start, split, { ...KD, seed: 0 });
    const y = start.predict(x);
    const v = y.dataSync() as Float32Array;
    y.dispose();
    start.dispose();
    return v;
  };
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
  const cases: { teacher: string; flags: string[]; format: ModelFormat; file: string; init: 'teacher' | 'scratch' }[] =
    [
      { teacher: keras, flags: [], format: 'keras', file: 'wine.keras', init: 'teacher' },
      { teacher: onnx, flags: ['--init', 'scratch'], format: 'onnx', file: 'wine.onnx', init: 'scratch' },
      { teacher: keras, flags: ['--format', 'onnx'], format: 'onnx', file: 'wine.onnx', init: 'teacher' },
    ];
  const refs = { teacher: await reference('teacher'), scratch: await reference('scratch') };
  assert.ok(maxDiff(refs.teacher, refs.scratch) > 1e-3, 'the two starts give different students');
  for (const [i, c] of cases.entries()) {
    const out = path.join(dir, `out-${i}`);
    const before = fs.readFileSync(c.teacher);
    const doc = await runDistill([
      ...['--teacher', c.teacher, '--student', studentFile, '--data', 'wine', '--seeds', '2'],
      ...KD_FLAGS,
      ...c.flags,
      ...['--out', out, '--json'],
    ]);
    const what = `${path.basename(c.teacher)} ${c.flags.join(' ')}`;
    assert.deepEqual(doc.distilledModel, {
      file: path.join(out, c.file),
      format: c.format,
      run: c.init === 'teacher' ? 'distilled-teacher-init' : 'distilled-scratch',
      seed: 0,
    });
    assert.deepEqual(fs.readdirSync(out).sort(), ['distill.csv', 'distill.json', 'report.html', c.file].sort());
    assert.ok(fs.readFileSync(c.teacher).equals(before), `${what}: the teacher is untouched`);
    const back = await loadModel(doc.distilledModel.file);
    assert.equal(back.format.type, c.format, what);
    assert.equal(back.network.nParams, 13 * 5 + 5 + 5 * 3 + 3, what);
    assert.deepEqual(back.metadata?.featureNames, ds.featureNames, what);
    assert.deepEqual(back.metadata?.labelNames, ds.labelNames, what);
    const st = back.metadata?.preprocessing?.standardization;
    st!.mean.forEach((m, j) => assert.ok(Math.abs(m - std.standardization!.mean[j]) < 1e-6, `${what}: mean ${j}`));
    assert.equal(back.pruneMask, undefined, `${what}: no prune mask`);
    const y = back.network.predict(x);
    const d = maxDiff(y.dataSync() as Float32Array, refs[c.init]);
    y.dispose();
    back.network.dispose();
    assert.ok(d < 1e-5, `${what}: outputs differ from the engine's distilled student by ${d}`);
  }

  const bad = path.join(dir, 'bad');
  await assert.rejects(
    runDistill(['--teacher', keras, '--student', studentFile, '--data', 'wine', '--format', 'pt', '--out', bad]),
    (e: unknown) =>
      e instanceof PruneScopeError &&
      e.context.field === '--format' &&
      /tfjs, keras, h5, onnx/.test(String(e.context.expected)),
  );
  assert.ok(!fs.existsSync(bad), 'nothing written for a bad --format');
  x.dispose();
  teacher.network.dispose();
});
