// Knowledge distillation (Hinton, Vinyals, Dean 2015; METHODS.md 4) as a minibatch Adam loop that
// mirrors train() step for step: the same Rng(seed).permutation per epoch, the same batches, the
// same (1/N) a^T delta gradients, Trainer.apply for the update. Only the top delta differs: the KD
// delta of kdLoss.ts, so with alpha = 0 the run is plain training on the labels.
// Privileged information (Lopez-Paz et al. 2016): the teacher reads every column, the student only
// `studentFeatures`; the teacher's outputs are computed once for the training part, on the backend.
import * as tf from '@tensorflow/tfjs';
import type { DataSplit } from '../data/dataset';
import { numClasses, xTensor } from '../data/dataset';
import { batchTensors, copyRows } from '../train/batches';
import { PruneScopeError, badInput, throwIfCancelled } from '../errors';
import type { Graph } from '../model/graph';
import { disposePass } from '../model/graph';
import { weightGradients } from '../model/gradients';
import { checkFeatures } from '../data/forModel';
import { hashModel, makeProvenance, Provenance } from '../provenance';
import { Trainer, StepGradients } from '../train/trainer';
import { Metrics, checkHead, evaluate } from '../train/metrics';
import { Rng } from '../util/random';
import { checkNetworkFinite, parameterDiagnosis } from '../model/finiteParams';
import { selectColumns } from '../data/columns';
import { KdOptions, kdOutputDelta, kdSampleLosses, teacherLogits } from './kdLoss';
import { DISTILL_DEFAULTS } from '../options';
import { splitRecord } from '../data/split';

export interface DistillOptions {
  /** T > 0, classification only. Default 4. */
  temperature?: number;
  /** Weight of the teacher term in [0, 1]. Default 0.7. */
  alpha?: number;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Seeds the minibatch shuffling exactly as train() does (the student's initialisation is the caller's). */
  seed: number;
  /** Columns of split the student reads (the teacher reads all). Default: all. */
  studentFeatures?: number[];
  signal?: AbortSignal;
  onEpoch?(e: DistillEpoch): void;
}

export interface DistillEpoch {
  epoch: number;
  /** Mean KD loss over this epoch's minibatches (weighted by batch size). */
  trainLoss: number;
  /**
   * Distance of the student's outputs to the teacher's on the training part after this epoch:
   * mean KL(softmax(z_t/T) || softmax(z_s/T)) for classification, mean squared difference for regression.
   */
  teacherGap: number;
  seconds: number;
}

export interface DistillResult {
  history: DistillEpoch[];
  /** The student's label metrics (loss = CE or MSE to the labels, not the KD loss). */
  final: { train: Metrics; test: Metrics };
  steps: number;
  provenance: Provenance;
}

function checkOptions(
  teacher: Graph,
  student: Graph,
  split: DataSplit,
  o: DistillOptions,
): Required<Pick<DistillOptions, 'temperature' | 'alpha'>> & { cols?: number[] } {
  const int = (v: number, name: string, min: number) => {
    if (!Number.isInteger(v) || v < min)
      throw badInput(`${name} = ${v}`, { field: name, expected: `an integer >= ${min}` });
  };
  int(o.epochs, 'epochs', 0);
  int(o.batchSize, 'batchSize', 1);
  if (!Number.isFinite(o.seed)) throw badInput(`seed = ${o.seed}`, { field: 'seed', expected: 'a finite number' });
  const temperature = o.temperature ?? DISTILL_DEFAULTS.temperature;
  const alpha = o.alpha ?? DISTILL_DEFAULTS.alpha;
  if (!(temperature > 0 && Number.isFinite(temperature)))
    throw badInput(`temperature = ${temperature}`, { field: 'temperature', expected: 'a positive number' });
  if (!(alpha >= 0 && alpha <= 1))
    throw badInput(`alpha = ${alpha}`, { field: 'alpha', expected: 'a number in [0, 1]' });
  const d = split.dataset;
  const classes = numClasses(d);
  checkHead(teacher, d.task, classes);
  checkHead(student, d.task, classes);
  checkFeatures(teacher, d.features, { file: d.name, field: 'teacher', what: `data set ${d.name}` });
  const want = o.studentFeatures ? o.studentFeatures.length : d.features;
  if (student.inputSize !== want)
    throw badInput(`the student takes ${student.inputSize} inputs`, {
      file: d.name,
      field: 'studentFeatures',
      expected: `${want} (the columns the student sees)`,
    });
  if (split.train.rows === 0)
    throw badInput('the training part has no rows', {
      file: d.name,
      field: 'split.train',
      expected: 'at least one row',
    });
  return { temperature, alpha, cols: o.studentFeatures };
}

/** Mean distance of student outputs to teacher outputs (see DistillEpoch.teacherGap), on the backend. */
function gapTensor(student: Graph, xs: tf.Tensor2D, tOut: tf.Tensor2D, T: number): tf.Scalar {
  return tf.tidy(() => {
    const s = student.predict(xs);
    if (student.task === 'classification') {
      const pt = tf.softmax(tf.div(teacherLogits(tOut), T));
      const logPs = tf.logSoftmax(tf.div(teacherLogits(s), T));
      return tf.mean(tf.sum(tf.mul(pt, tf.sub(tf.log(tf.maximum(pt, 1e-30)), logPs)), 1)) as tf.Scalar;
    }
    return tf.mean(tf.square(tf.sub(s, tOut))) as tf.Scalar;
  });
}

/** Distils `teacher` into `student` in place; returns per-epoch history and the student's final label metrics. */
export async function distill(
  teacher: Graph,
  student: Graph,
  split: DataSplit,
  opts: DistillOptions,
): Promise<DistillResult> {
  const { temperature, alpha, cols } = checkOptions(teacher, student, split, opts);
  const kd: KdOptions = { temperature, alpha };
  const d = split.dataset;
  const classes = numClasses(d);
  const sSplit = cols ? selectColumns(split, cols, 'studentFeatures') : split;
  const rows = split.train.rows;
  const trainer = new Trainer(student, { lr: opts.lr });
  const xTeacher = xTensor(split.train, d.features);
  // Once: the teacher does not change. Batches are assembled in JS (train/batches.ts; a wasm
  // Gather copies element by element), the teacher's outputs row by row beside them.
  const tOut = tf.tidy(() => teacher.predict(xTeacher));
  xTeacher.dispose();
  const tCols = tOut.shape[1];
  const tAll = tOut.dataSync() as Float32Array;
  const sFeatures = sSplit.dataset.features;
  const xAll = xTensor(sSplit.train, sFeatures); // for the per-epoch teacher gap
  const rng = new Rng(opts.seed);
  const history: DistillEpoch[] = [];
  let steps = 0;
  let seconds = 0;
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      const t0 = performance.now();
      const perm = rng.permutation(rows);
      const stepLosses: tf.Scalar[] = [];
      const sizes: number[] = [];
      try {
        for (let start = 0; start < rows; start += opts.batchSize) {
          await new Promise<void>((r) => setImmediate(r));
          throwIfCancelled(opts.signal, 'distillation');
          const n = Math.min(opts.batchSize, rows - start);
          const g: StepGradients = tf.tidy(() => {
            const [x, y] = batchTensors(sSplit.train, sFeatures, d.task, classes, perm, start, n);
            const t = tf.tensor2d(copyRows(tAll, tCols, perm, start, n), [n, tCols]);
            const pass = student.forward(x, 'train');
            try {
              const zs = pass.top as tf.Tensor2D;
              const out = pass.output as tf.Tensor2D;
              const top = kdOutputDelta(student, zs, out, t, y, kd);
              const grads = weightGradients(student, pass, top, { scale: 1 / n }) as tf.Tensor[];
              const loss = tf.mean(kdSampleLosses(student, zs, out, t, y, kd)) as tf.Scalar;
              return { grads, loss, batchSize: n };
            } finally {
              disposePass(pass);
            }
          });
          try {
            trainer.apply(g);
          } finally {
            tf.dispose(g.grads);
          }
          stepLosses.push(g.loss);
          sizes.push(n);
          steps++;
        }
        const stacked = tf.stack(stepLosses);
        const losses = stacked.dataSync();
        stacked.dispose();
        const bad = losses.findIndex((l) => !Number.isFinite(l));
        if (bad >= 0)
          throw new PruneScopeError(
            'numerical',
            `distillation loss became ${losses[bad]} at step ${steps - losses.length + bad + 1} (epoch ${epoch}); student ${parameterDiagnosis(student)}; try a smaller lr`,
            { field: 'loss', expected: 'a finite value' },
          );
        checkNetworkFinite(student, `by step ${steps} (epoch ${epoch}) of distillation`, 'try a smaller lr');
        let sum = 0;
        losses.forEach((l, i) => (sum += l * sizes[i]));
        seconds += (performance.now() - t0) / 1000;
        const gap = gapTensor(student, xAll, tOut, temperature);
        const e: DistillEpoch = { epoch, trainLoss: sum / rows, teacherGap: gap.dataSync()[0], seconds };
        gap.dispose();
        history.push(e);
        opts.onEpoch?.(e);
      } finally {
        tf.dispose(stepLosses);
      }
    }
  } finally {
    trainer.dispose();
    tf.dispose([xAll, tOut]);
  }
  const final = {
    train: evaluate(student, sSplit.train, d.task, classes),
    test: evaluate(student, sSplit.test, d.task, classes),
  };
  return {
    history,
    final,
    steps,
    provenance: makeProvenance({
      job: 'distill',
      seed: opts.seed,
      modelHash: hashModel(student.structure(), student.toFlat()),
      data: splitRecord(split, 'train', rows),
      options: {
        temperature,
        alpha,
        epochs: opts.epochs,
        batchSize: opts.batchSize,
        lr: opts.lr,
        optimizer: 'adam(0.9, 0.999, 1e-7)',
        teacherHash: hashModel(teacher.structure(), teacher.toFlat()),
        studentFeatures: cols ? cols.map((c) => d.featureNames[c]) : 'all',
      },
    }),
  };
}
