import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { NetworkSpec, randomDense } from '../../src/engine/model/denseChain';
import { Graph } from '../../src/engine/model/graph';
import { loadDataset, splitDataset, DataSplit } from '../../src/engine/data';
import { train } from '../../src/engine/train/train';
import { distill } from '../../src/engine/distill/distill';
import { distillExperiment } from '../../src/engine/distill/experiment';
import { PruneScopeError } from '../../src/engine/errors';

const wine = () => splitDataset(loadDataset('wine'), { seed: 0 });
const spec = (inputs: number, hidden: number, out: number, head: 'softmax' | 'linear'): NetworkSpec => ({
  inputSize: inputs,
  layers: [
    { name: 'h', units: hidden, activation: 'tanh' },
    { name: 'o', units: out, activation: head },
  ],
});

function maxAbs(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** float64 mean KL(softmax(log pt / T) || softmax(log ps / T)) over rows, from two probability tables. */
function klRef(pt: Float32Array, ps: Float32Array, K: number, T: number): number {
  const soft = (p: Float32Array, r: number) => {
    const z = Array.from(p.subarray(r * K, (r + 1) * K), (v) => Math.log(Math.max(v, 1e-30)) / T);
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };
  const rows = pt.length / K;
  let kl = 0;
  for (let r = 0; r < rows; r++) {
    const a = soft(pt, r),
      b = soft(ps, r);
    for (let k = 0; k < K; k++) kl += a[k] * (Math.log(a[k]) - Math.log(b[k]));
  }
  return kl / rows;
}

function predictFlat(net: Graph, split: DataSplit, cols?: number[]): Float32Array {
  const f = split.dataset.features;
  return tf.tidy(() => {
    let x = tf.tensor2d(split.train.x, [split.train.rows, f]);
    if (cols) x = tf.gather(x, cols, 1) as tf.Tensor2D;
    return net.predict(x).dataSync() as Float32Array;
  });
}

async function trainedTeacher(split: DataSplit): Promise<Graph> {
  const t = randomDense(spec(split.dataset.features, 16, 3, 'softmax'), 42);
  await train(t, split, { epochs: 40, batchSize: 16, lr: 0.01, seed: 3, evalEvery: 0 });
  return t;
}

test('distill with alpha = 0 reproduces train() with the same seed, batch and lr (classification and regression)', async () => {
  await backend();
  const cases: [DataSplit, NetworkSpec][] = [
    [wine(), spec(13, 6, 3, 'softmax')],
    [splitDataset(loadDataset('diabetes'), { seed: 1 }), spec(10, 5, 1, 'linear')],
  ];
  for (const [split, s] of cases) {
    const teacher = randomDense(
      { ...s, layers: s.layers.map((l) => ({ ...l, units: l.name === 'h' ? 9 : l.units })) },
      5,
    );
    const a = randomDense(s, 1);
    const b = a.clone();
    const before = tf.memory().numTensors;
    const opts = { epochs: 3, batchSize: 16, lr: 0.01, seed: 7 };
    const rt = await train(a, split, { ...opts, evalEvery: 0 });
    const rd = await distill(teacher, b, split, { ...opts, alpha: 0, temperature: 4 });
    assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
    assert.equal(rd.steps, rt.steps);
    const d = maxAbs(a.toFlat(), b.toFlat());
    assert.ok(d <= 1e-6, `parameters differ by ${d}`);
    assert.ok(Math.abs(rd.final.test.loss - rt.final.test.loss) <= 1e-6 * Math.max(1, rt.final.test.loss));
    [teacher, a, b].forEach((n) => n.dispose());
  }
});

test('with alpha = 1 the student moves toward the teacher: KL at T, recomputed in float64, falls over epochs', async () => {
  await backend();
  const split = wine();
  const teacher = await trainedTeacher(split);
  const student = randomDense(spec(13, 4, 3, 'softmax'), 9);
  const T = 2;
  const pt = predictFlat(teacher, split);
  const kl0 = klRef(pt, predictFlat(student, split), 3, T);
  const gaps: number[] = [];
  const r = await distill(teacher, student, split, {
    alpha: 1,
    temperature: T,
    epochs: 15,
    batchSize: 16,
    lr: 0.01,
    seed: 2,
    onEpoch: (e) => gaps.push(e.teacherGap),
  });
  const kl1 = klRef(pt, predictFlat(student, split), 3, T);
  assert.ok(kl1 < 0.3 * kl0, `KL ${kl0} -> ${kl1}`);
  // The reported gap is the same quantity as the independent float64 reference.
  assert.ok(
    Math.abs(r.history[r.history.length - 1].teacherGap - kl1) <= 1e-3 * kl1 + 1e-6,
    `${r.history[r.history.length - 1].teacherGap} vs ${kl1}`,
  );
  assert.ok(gaps[gaps.length - 1] < gaps[0]);
  assert.equal(gaps.length, 15);
  teacher.dispose();
  student.dispose();
});

test('privileged information: the student reads fewer columns than the teacher and still learns', async () => {
  await backend();
  const split = wine();
  const teacher = await trainedTeacher(split);
  const cols = [0, 1, 2, 3, 4, 5, 6]; // the student never sees columns 7..12
  const student = randomDense(spec(cols.length, 8, 3, 'softmax'), 4);
  const r = await distill(teacher, student, split, {
    alpha: 0.5,
    temperature: 2,
    epochs: 30,
    batchSize: 16,
    lr: 0.01,
    seed: 1,
    studentFeatures: cols,
  });
  assert.equal(student.inputSize, 7);
  assert.ok(teacher.inputSize > student.inputSize);
  // Independent check of the reported test accuracy: argmax of the student's outputs on the test columns.
  const x = tf.tidy(() => tf.gather(tf.tensor2d(split.test.x, [split.test.rows, 13]), cols, 1) as tf.Tensor2D);
  const pred = tf.tidy(() => tf.argMax(student.predict(x), 1).dataSync());
  x.dispose();
  const acc = Array.from(pred).filter((p, i) => p === split.test.y[i]).length / split.test.rows;
  assert.ok(Math.abs(acc - r.final.test.accuracy!) < 1e-9);
  assert.ok(acc > 0.75, `accuracy ${acc}`); // chance is about 0.4
  // A student that reads every column does not fit this setup: the error names the option.
  const wide = randomDense(spec(13, 8, 3, 'softmax'), 4);
  await assert.rejects(
    distill(teacher, wide, split, { epochs: 1, batchSize: 16, lr: 0.01, seed: 1, studentFeatures: cols }),
    (e: unknown) => e instanceof PruneScopeError && e.context.field === 'studentFeatures' && /7/.test(e.message),
  );
  await assert.rejects(
    distill(teacher, student, split, {
      epochs: 1,
      batchSize: 16,
      lr: 0.01,
      seed: 1,
      studentFeatures: [0, 0, 1, 2, 3, 4, 99],
    }),
    (e: unknown) => e instanceof PruneScopeError && e.context.field === 'studentFeatures',
  );
  [teacher, student, wide].forEach((n) => n.dispose());
});

test('distill refuses bad alpha, temperature and epochs, naming the field', async () => {
  await backend();
  const split = wine();
  const t = randomDense(spec(13, 5, 3, 'softmax'), 1);
  const s = randomDense(spec(13, 3, 3, 'softmax'), 1);
  const base = { epochs: 1, batchSize: 8, lr: 0.01, seed: 0 };
  for (const [o, field] of [
    [{ alpha: 1.5 }, 'alpha'],
    [{ alpha: -0.1 }, 'alpha'],
    [{ temperature: 0 }, 'temperature'],
    [{ epochs: 1.5 }, 'epochs'],
  ] as const) {
    await assert.rejects(
      distill(t, s, split, { ...base, ...o }),
      (e: unknown) => e instanceof PruneScopeError && e.context.field === field,
    );
  }
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(
    distill(t, s, split, { ...base, signal: ac.signal }),
    (e: unknown) => e instanceof PruneScopeError && e.code === 'cancelled',
  );
  t.dispose();
  s.dispose();
});

test("distillExperiment compares like with like: a labels-only student from the teacher's weights (= train() from them), paired by seed with the distilled one", async () => {
  await backend();
  const split = wine();
  const teacher = await trainedTeacher(split);
  // The student starts from the teacher's weights (a physically smaller one is the same idea).
  const student = teacher.clone();
  const opts = { temperature: 4, alpha: 0.7, epochs: 4, batchSize: 16, lr: 0.01, seeds: [3, 4] };
  const r = await distillExperiment(teacher, student, split, opts);
  assert.deepEqual(
    r.rows.map((x) => x.name),
    ['teacher', 'labels-only', 'distilled-scratch', 'labels-only-teacher-init', 'distilled-teacher-init'],
  );
  const lt = r.rows.find((x) => x.name === 'labels-only-teacher-init')!;
  for (const run of lt.runs) {
    const n = student.clone();
    const t = await train(n, split, { epochs: 4, batchSize: 16, lr: 0.01, seed: run.seed, evalEvery: 0 });
    assert.ok(Math.abs(run.metric - t.final.test.accuracy!) < 1e-9, `seed ${run.seed}`);
    n.dispose();
  }
  const dt = r.rows.find((x) => x.name === 'distilled-teacher-init')!;
  const gains = dt.runs.map((x) => x.metric - lt.runs.find((y) => y.seed === x.seed)!.metric);
  const c = r.comparisons.find((x) => x.init === 'teacher')!;
  assert.equal(c.baseline, 'labels-only-teacher-init');
  assert.equal(c.distilled, 'distilled-teacher-init');
  assert.ok(Math.abs(c.improvementMean - (gains[0] + gains[1]) / 2) < 1e-12);
  assert.ok(Math.abs(c.improvementSd - Math.abs(gains[0] - gains[1]) / Math.SQRT2) < 1e-12);
  assert.equal(c.beats, c.improvementMean > c.improvementSd);
  assert.match(c.statement, /teacher's surviving weights/);
  const s = r.comparisons.find((x) => x.init === 'scratch')!;
  assert.deepEqual([s.baseline, s.distilled], ['labels-only', 'distilled-scratch']);
  [teacher, student].forEach((n) => n.dispose());
});
