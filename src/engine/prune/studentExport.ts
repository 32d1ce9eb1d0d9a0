// Export a physically smaller student (METHODS.md 4): rank the teacher's parameters by a relevance
// method, prune a share of weights (or select neurons to target widths by summed relevance), shrink
// to real, narrower layers (student.ts), and write a NEW folder with
//   model.json + group1-shard1of1.bin  the student as a TF.js LayersModel (its metadata records the
//                                      kept features, their names and standardisation, provenance),
//                                      or one .keras / .h5 / .onnx file (`format`; default: the teacher's);
//   keras-config.json                  the Sequential architecture as Keras' model_from_json reads it;
//   student.json                       widths, parameter counts, file bytes, latency, metrics, provenance.
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { DataSplit } from '../data/dataset';
import { numClasses } from '../data/dataset';
import { PruneScopeError, badInput, throwIfCancelled } from '../errors';
import { LoadedModel, SHARD_NAME, loadModel } from '../formats/modelFile';
import { modelFiles } from '../formats/outputFolder';
import type { ModelFormat } from '../options';
import type { PruneScopeMetadata } from '../model/metadata';
import { Graph } from '../model/graph';
import { NetworkSpec, networkSpecOf, requireDense } from '../model/denseChain';
import { checkFeatures } from '../data/forModel';
import { hashModel, makeProvenance, Provenance } from '../provenance';
import { computeRelevance, type RelevanceRequest } from '../relevance/compute';
import type { RelevanceResult } from '../relevance/types';
import { evaluate } from '../train/metrics';
import { writeFolderAtomic } from '../util/atomicWrite';
import { selectColumns } from '../data/columns';
import { applyMask, candidateMask, countOnes, pruneMaskAt } from './mask';
import { selectNeurons } from './neuronSelect';
import { shrinkToStudent, ShrinkResult } from './student';
import { splitRecord } from '../data/split';

export interface ExportStudentOptions {
  /**
   * The ranking: a request computed here (options left out default as for every other command),
   * or a precomputed ranking of the teacher's parameters.
   */
  method: RelevanceRequest | RelevanceResult;
  /** Share of the active weights to prune, then shrink structurally. Exactly one of fraction / widths. */
  fraction?: number;
  /** Target width of every hidden layer (neuron selection by summed relevance). */
  widths?: number[];
  dropUnusedInputs?: boolean;
  seed?: number;
  /** A new (or empty) folder. */
  out: string;
  /** The student's file format (default: the teacher's). */
  format?: ModelFormat;
  /** Timed repetitions of each prediction (default 21). */
  latencyRuns?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface MetricSet {
  loss: number;
  accuracy?: number;
  mse?: number;
}

export interface StudentReport {
  out: string;
  /** modelJson: the student's model file (model.json for TF.js, else the .keras / .h5 / .onnx file). */
  files: { modelJson: string; kerasConfig: string; studentJson: string };
  format: ModelFormat;
  widthsBefore: number[];
  widthsAfter: number[];
  inputsBefore: number;
  inputsAfter: number;
  paramsBefore: number;
  paramsAfter: number;
  /** Parameters the mask pruned in the teacher (before the shrink). */
  prunedParams: number;
  bytes: {
    /** Teacher's model.json + its weight shards, as on disk. */
    teacherTotal: number;
    teacherWeights: number;
    studentTotal: number;
    studentWeights: number;
  };
  /** Median ms of one prediction on the same batch, repeated; teacher and student interleaved. */
  latency: { batchRows: number; runs: number; teacherMs: number; studentMs: number; speedup: number };
  /** Test-part metrics. The masked teacher and the student compute the same function. */
  metrics: { metric: 'accuracy' | 'mse'; teacher: MetricSet; maskedTeacher: MetricSet; student: MetricSet };
  unusedInputs: string[];
  keptFeatures: string[];
  removedDead: number;
  removedConstant: number;
  provenance: Provenance;
}

function checkOptions(o: ExportStudentOptions): void {
  if ((o.fraction === undefined) === (o.widths === undefined)) {
    throw badInput('give exactly one of fraction and widths', {
      field: 'fraction',
      expected: 'a pruning share in [0, 1] or target widths, not both',
    });
  }
  if (o.fraction !== undefined && !(o.fraction >= 0 && o.fraction <= 1))
    throw badInput(`fraction ${o.fraction}`, { field: 'fraction', expected: 'a number in [0, 1]' });
  if (o.widths !== undefined && (!Array.isArray(o.widths) || o.widths.some((w) => !Number.isInteger(w) || w < 1))) {
    throw badInput(`widths ${String(o.widths)}`, {
      field: 'widths',
      expected: 'positive integer widths, one per hidden layer',
    });
  }
  if (!o.out) throw badInput('no output folder', { field: 'out', expected: 'a new folder' });
  const out = path.resolve(o.out);
  if (fs.existsSync(out) && (!fs.statSync(out).isDirectory() || fs.readdirSync(out).length > 0)) {
    throw new PruneScopeError('bad-input', 'output folder exists and is not empty', {
      file: out,
      field: 'out',
      expected: 'a new or empty folder (the teacher is never overwritten)',
    });
  }
}

async function rank(net: Graph, split: DataSplit, o: ExportStudentOptions): Promise<RelevanceResult> {
  const m = o.method;
  if ('scores' in m) {
    if (!(m.scores instanceof Float64Array) || m.scores.length !== net.nParams || m.order.length !== net.nParams) {
      throw badInput(`ranking covers ${m.scores?.length} parameters`, {
        field: 'method',
        expected: `a RelevanceResult over the teacher's ${net.nParams} parameters`,
      });
    }
    return m;
  }
  return computeRelevance(net, split, { ...m, seed: m.seed ?? o.seed, signal: o.signal });
}

/**
 * Total bytes of a model.json and the shards its manifest lists; for a .keras / .h5 / .onnx file
 * its size, and `nParams` float32 values as its weights.
 */
export function modelFileBytes(modelJson: string, nParams = 0): { total: number; weights: number } {
  if (!modelJson.toLowerCase().endsWith('.json')) return { total: fs.statSync(modelJson).size, weights: 4 * nParams };
  const json = JSON.parse(fs.readFileSync(modelJson, 'utf8')) as { weightsManifest?: { paths: string[] }[] };
  let weights = 0;
  for (const g of json.weightsManifest ?? [])
    for (const p of g.paths) weights += fs.statSync(path.join(path.dirname(modelJson), p)).size;
  return { total: fs.statSync(modelJson).size + weights, weights };
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Median milliseconds of predict + download for two networks on the same batch, interleaved so load noise hits both.
 */
export function measureLatency(
  teacher: Graph,
  student: Graph,
  x: tf.Tensor2D,
  keptInputs: number[] | undefined,
  runs: number,
): { teacherMs: number; studentMs: number } {
  const xs = keptInputs ? (tf.gather(x, keptInputs, 1) as tf.Tensor2D) : x;
  const time = (net: Graph, input: tf.Tensor2D) => {
    const t0 = performance.now();
    const y = net.predict(input);
    y.dataSync();
    const ms = performance.now() - t0;
    y.dispose();
    return ms;
  };
  try {
    for (let i = 0; i < 3; i++) {
      time(teacher, x);
      time(student, xs);
    } // warm-up: kernel setup, caches
    const t: number[] = [],
      s: number[] = [];
    for (let i = 0; i < runs; i++) {
      if (i % 2) {
        t.push(time(teacher, x));
        s.push(time(student, xs));
      } else {
        s.push(time(student, xs));
        t.push(time(teacher, x));
      }
    }
    return { teacherMs: median(t), studentMs: median(s) };
  } finally {
    if (xs !== x) xs.dispose();
  }
}

function metricSet(m: { loss: number; accuracy?: number; mse?: number }): MetricSet {
  return {
    loss: m.loss,
    ...(m.accuracy !== undefined ? { accuracy: m.accuracy } : {}),
    ...(m.mse !== undefined ? { mse: m.mse } : {}),
  };
}

/** The Sequential config Keras' model_from_json accepts (InputLayer + Dense layers). */
export function kerasConfig(spec: NetworkSpec, name = 'student'): Record<string, unknown> {
  return {
    class_name: 'Sequential',
    config: {
      name,
      layers: [
        {
          class_name: 'InputLayer',
          config: {
            batch_input_shape: [null, spec.inputSize],
            dtype: 'float32',
            sparse: false,
            ragged: false,
            name: 'input',
          },
        },
        ...spec.layers.map((l) => ({
          class_name: 'Dense',
          config: {
            name: l.name,
            trainable: true,
            dtype: 'float32',
            units: l.units,
            activation: l.activation,
            use_bias: true,
            kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
            bias_initializer: { class_name: 'Zeros', config: {} },
            kernel_regularizer: null,
            bias_regularizer: null,
            activity_regularizer: null,
            kernel_constraint: null,
            bias_constraint: null,
          },
        })),
      ],
    },
    keras_version: '2.15.0',
    backend: 'tensorflow',
  };
}

/** The student's mask and shrink from a teacher and a ranking (shared by the CLI, the demo and tests). */
export function studentMask(
  teacher: Graph,
  ranking: RelevanceResult,
  target: { fraction: number } | { widths: number[] },
  alreadyPruned?: Uint8Array,
): Uint8Array {
  if ('fraction' in target) {
    const cand = candidateMask(teacher, { alreadyPruned });
    return pruneMaskAt(ranking.order, cand, target.fraction, alreadyPruned);
  }
  const sel = selectNeurons(teacher, ranking.scores, { widths: target.widths });
  if (alreadyPruned) for (let j = 0; j < sel.mask.length; j++) sel.mask[j] |= alreadyPruned[j];
  return sel.mask;
}

export async function exportStudent(
  model: string | LoadedModel,
  split: DataSplit,
  opts: ExportStudentOptions,
): Promise<StudentReport> {
  checkOptions(opts);
  const out = path.resolve(opts.out);
  const total = 6;
  let done = 0;
  const step = (what: string) => {
    throwIfCancelled(opts.signal, 'export-student');
    opts.onProgress?.(++done, total, what);
  };
  const loaded = typeof model === 'string' ? await loadModel(model) : model;
  const teacher = loaded.network;
  const d = split.dataset;
  checkFeatures(teacher, d.features, { file: d.name, field: 'features' });
  requireDense(teacher, 'export-student (a dense student; channel students come from structured pruning)');
  const classes = numClasses(d);
  const teacherBytes = modelFileBytes(loaded.path, teacher.nParams);
  const format = opts.format ?? loaded.format.type;
  step('load');
  const ranking = await rank(teacher, split, opts);
  step('relevance');
  const mask = studentMask(
    teacher,
    ranking,
    opts.widths ? { widths: opts.widths } : { fraction: opts.fraction! },
    loaded.pruneMask,
  );
  const masked = Graph.fromSpec(teacher.toSpec());
  masked.setFlat(applyMask(teacher.toFlat(), mask));
  let shrink: ShrinkResult | undefined;
  try {
    shrink = shrinkToStudent(masked, { mask, dropUnusedInputs: !!opts.dropUnusedInputs });
    const student = shrink.network;
    step('shrink');
    const sSplit = opts.dropUnusedInputs ? selectColumns(split, shrink.keptInputs, 'keptInputs') : split;
    const mt = evaluate(teacher, split.test, d.task, classes);
    const mm = evaluate(masked, split.test, d.task, classes);
    const ms = evaluate(student, sSplit.test, d.task, classes);
    step('evaluate');
    const runs = opts.latencyRuns ?? 21;
    const batchRows = Math.min(split.test.rows, 1024);
    const xb = tf.tensor2d(split.test.x.subarray(0, batchRows * d.features), [batchRows, d.features]);
    let lat: { teacherMs: number; studentMs: number };
    try {
      lat = measureLatency(teacher, student, xb, opts.dropUnusedInputs ? shrink.keptInputs : undefined, runs);
    } finally {
      xb.dispose();
    }
    step('latency');

    const names = loaded.metadata?.featureNames ?? d.featureNames;
    const keptFeatures = shrink.keptInputs.map((i) => names[i]);
    const st = loaded.metadata?.preprocessing?.standardization ?? split.standardization;
    const target = opts.widths ? { widths: opts.widths } : { fraction: opts.fraction };
    const provenance = makeProvenance({
      job: 'export-student',
      method: ranking.method,
      variant: ranking.variant,
      seed: opts.seed,
      modelHash: hashModel(teacher.structure(), teacher.toFlat()),
      data: splitRecord(split, 'test', split.test.rows),
      options: {
        ...target,
        dropUnusedInputs: !!opts.dropUnusedInputs,
        teacher: loaded.path,
        studentHash: hashModel(student.structure(), student.toFlat()),
        rankingProvenance: ranking.provenance,
      },
    });
    // Only what still describes the student is inherited (not the teacher's mask or training record).
    const tm = loaded.metadata ?? {};
    const metadata: PruneScopeMetadata = {
      task: d.task,
      targetName: tm.targetName ?? d.targetName,
      featureNames: keptFeatures,
      ...((loaded.metadata?.labelNames ?? d.labelNames)
        ? { labelNames: loaded.metadata?.labelNames ?? d.labelNames }
        : {}),
      ...(st
        ? {
            preprocessing: {
              ...(loaded.metadata?.preprocessing ?? {}),
              standardization: {
                mean: shrink.keptInputs.map((i) => st.mean[i]),
                std: shrink.keptInputs.map((i) => st.std[i]),
              },
            },
          }
        : {}),
      provenance,
      student: {
        keptFeatures,
        keptInputs: shrink.keptInputs,
        unusedInputs: shrink.unusedInputs.map((i) => names[i]),
        keptUnits: shrink.keptUnits,
        teacherProvenance: tm.provenance,
      },
    };
    // The model's files are made first; the whole output folder then appears in one rename.
    const model = await modelFiles(student, metadata, format, loaded.path);
    const modelName = model.main;
    const modelText = model.files[modelName];
    const shard = format === 'tfjs' ? model.files[SHARD_NAME] : undefined;
    const report: StudentReport = {
      out,
      files: {
        modelJson: path.join(out, modelName),
        kerasConfig: path.join(out, 'keras-config.json'),
        studentJson: path.join(out, 'student.json'),
      },
      format,
      widthsBefore: shrink.widthsBefore,
      widthsAfter: shrink.widthsAfter,
      inputsBefore: teacher.inputSize,
      inputsAfter: student.inputSize,
      paramsBefore: shrink.paramsBefore,
      paramsAfter: shrink.paramsAfter,
      prunedParams: countOnes(mask),
      bytes: {
        teacherTotal: teacherBytes.total,
        teacherWeights: teacherBytes.weights,
        studentTotal: modelText.byteLength + (shard?.byteLength ?? 0),
        studentWeights: shard ? shard.byteLength : 4 * student.nParams,
      },
      latency: {
        batchRows,
        runs,
        teacherMs: lat.teacherMs,
        studentMs: lat.studentMs,
        speedup: lat.teacherMs / lat.studentMs,
      },
      metrics: {
        metric: d.task === 'classification' ? 'accuracy' : 'mse',
        teacher: metricSet(mt),
        maskedTeacher: metricSet(mm),
        student: metricSet(ms),
      },
      unusedInputs: shrink.unusedInputs.map((i) => names[i]),
      keptFeatures,
      removedDead: shrink.removedDead,
      removedConstant: shrink.removedConstant,
      provenance,
    };
    throwIfCancelled(opts.signal, 'export-student');
    writeFolderAtomic(out, {
      ...model.files,
      'keras-config.json': JSON.stringify(kerasConfig(networkSpecOf(student)!), null, 2),
      'student.json': JSON.stringify(report, null, 2),
    });
    step('write');
    return report;
  } finally {
    masked.dispose();
    shrink?.network.dispose();
    if (typeof model === 'string') teacher.dispose();
  }
}
