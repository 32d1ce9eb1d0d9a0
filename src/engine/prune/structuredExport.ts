// Export a channel-pruned student of any model (convolutional, residual, dense): rank the
// removable channels of its dependency groups (channelRanking.ts), remove a share of them, shrink
// to really narrower layers (graphStudent.ts), optionally fold BN (foldBatchNorm.ts) and fine-tune,
// and write a NEW folder with
//   model.json + group1-shard1of1.bin  the student as a TF.js LayersModel (metadata: what was kept),
//                                      or one .keras / .h5 / .onnx file (`format`; default: the teacher's);
//   keras-config.json                  its architecture as a Keras 2 model config;
//   student.json                       per layer channels, parameters, multiply-adds and weight bytes
//                                      before and after; file bytes; latency of teacher and student
//                                      on the same batch (median, backend named); test metrics of the
//                                      teacher, the channel-masked teacher, the student (before and
//                                      after fine-tuning); provenance.
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backendInfo } from '../backend';
import type { DataSplit } from '../data/dataset';
import { numClasses } from '../data/dataset';
import { PruneScopeError, badInput, throwIfCancelled } from '../errors';
import { kerasTopology } from '../formats/keras/configWrite';
import { modelFiles } from '../formats/outputFolder';
import { SHARD_NAME } from '../formats/modelFile';
import { Graph } from '../model/graph';
import type { LoadedModel } from '../formats/modelFile';
import type { PruneScopeMetadata } from '../model/metadata';
import { STRUCTURED_DEFAULTS, type ChannelAggregate, type ChannelScope, type ModelFormat } from '../options';
import { hashModel, makeProvenance, type Provenance } from '../provenance';
import type { RelevanceRequest } from '../relevance/compute';
import type { RelevanceResult } from '../relevance/types';
import { evaluate, type Metrics } from '../train/metrics';
import { writeFolderAtomic } from '../util/atomicWrite';
import type { ChannelRanking } from './channelRanking';
import { channelStudent } from './channelStudent';
import type { StructuredUnit } from './channelSelect';
import { finetuneWithMask } from './finetune';
import { applyMask, countOnes, zeroMask } from './mask';
import type { StudentLayerRow } from './structuredStudent';
import { measureLatency, modelFileBytes, type MetricSet } from './studentExport';

export interface StructuredExportOptions {
  /** The ranking: a request computed here, or a precomputed ranking of the teacher's parameters. */
  method: RelevanceRequest | RelevanceResult;
  /** A channel ranking already computed for `method` (a cache's): used as is. */
  ranking?: ChannelRanking;
  /** Share of the removable channels to remove, in [0, 1]. */
  share: number;
  unit?: StructuredUnit;
  aggregate?: ChannelAggregate;
  scope?: ChannelScope;
  foldBn?: boolean;
  /** Fine-tune the student this many epochs (its surviving weights; 0 = none). */
  finetune?: number;
  finetuneLr?: number;
  finetuneBatchSize?: number;
  seed?: number;
  /** A new (or empty) folder. */
  out: string;
  /** The student's file format (default: the teacher's). */
  format?: ModelFormat;
  /** Timed repetitions of each prediction (default 21). */
  latencyRuns?: number;
  /** Rows of the test part in the timed batch (default 512). */
  latencyRows?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface StructuredStudentReport {
  out: string;
  /** files.modelJson is the student's model file in `format` (model.json for TF.js). */
  files: { modelJson: string; kerasConfig: string; studentJson: string };
  format: ModelFormat;
  structured: StructuredUnit;
  share: number;
  aggregate: ChannelAggregate;
  scope: ChannelScope;
  foldBn: boolean;
  /** Per teacher layer: channels, parameters, multiply-adds, weight bytes before and after. */
  layers: StudentLayerRow[];
  /** Per dependency group: the layers making it, channels before and after, the channels removed. */
  groups: { producers: string[]; channelsBefore: number; channelsAfter: number; removed: number[] }[];
  totals: {
    paramsBefore: number;
    paramsAfter: number;
    macsBefore: number;
    macsAfter: number;
    weightBytesBefore: number;
    weightBytesAfter: number;
  };
  /** Shares removed by pruning (before BN folding): of the removable channels, parameters, multiply-adds. */
  shares: { channels: number; params: number; macs: number };
  /** Parameters the channel mask zeroes in the teacher. */
  prunedParams: number;
  bytes: { teacherTotal: number; teacherWeights: number; studentTotal: number; studentWeights: number };
  /** Median ms of one prediction of the same batch, teacher and student interleaved. */
  latency: { backend: string; batchRows: number; runs: number; teacherMs: number; studentMs: number; speedup: number };
  /** Test-part metrics. The channel-masked teacher and the student (before fine-tuning) compute the same function. */
  metrics: {
    metric: 'accuracy' | 'mse';
    teacher: MetricSet;
    maskedTeacher: MetricSet;
    student: MetricSet;
    /** After fine-tuning (when asked); the written student is this one. */
    finetuned?: MetricSet & { epochs: number; seconds: number };
  };
  fold?: { folded: { batchNorm: string; into: string }[]; replaced: string[]; kept: string[] };
  removedDead: number;
  removedConstant: number;
  provenance: Provenance;
}

function metricSet(m: Metrics): MetricSet {
  return {
    loss: m.loss,
    ...(m.accuracy !== undefined ? { accuracy: m.accuracy } : {}),
    ...(m.mse !== undefined ? { mse: m.mse } : {}),
  };
}

function checkOptions(o: StructuredExportOptions): void {
  if (!(o.share >= 0 && o.share <= 1))
    throw badInput(`share ${o.share}`, { field: 'fraction', expected: 'a share of channels in [0, 1]' });
  if (o.finetune !== undefined && !(Number.isInteger(o.finetune) && o.finetune >= 0))
    throw badInput(`finetune ${o.finetune}`, { field: 'finetune', expected: 'a whole number of epochs >= 0' });
  if (!o.out) throw badInput('no output folder', { field: 'out', expected: 'a new folder' });
  const out = path.resolve(o.out);
  if (fs.existsSync(out) && (!fs.statSync(out).isDirectory() || fs.readdirSync(out).length > 0))
    throw new PruneScopeError('bad-input', 'output folder exists and is not empty', {
      file: out,
      field: 'out',
      expected: 'a new or empty folder (the teacher is never overwritten)',
    });
}

export async function exportStructuredStudent(
  model: Pick<LoadedModel, 'network' | 'path' | 'metadata' | 'pruneMask'> & { format?: LoadedModel['format'] },
  split: DataSplit,
  opts: StructuredExportOptions,
): Promise<StructuredStudentReport> {
  checkOptions(opts);
  const out = path.resolve(opts.out);
  const unit = opts.unit ?? 'channels';
  const aggregate = opts.aggregate ?? STRUCTURED_DEFAULTS.aggregate;
  const scope = opts.scope ?? STRUCTURED_DEFAULTS.scope;
  const foldBn = opts.foldBn ?? STRUCTURED_DEFAULTS.foldBn;
  const epochs = opts.finetune ?? STRUCTURED_DEFAULTS.finetuneEpochs;
  const format: ModelFormat = opts.format ?? model.format?.type ?? 'tfjs';
  const total = 6;
  let done = 0;
  const step = (what: string) => {
    throwIfCancelled(opts.signal, 'export-student');
    opts.onProgress?.(++done, total, what);
  };
  const teacher = model.network;
  const d = split.dataset;
  const classes = numClasses(d);
  const teacherBytes = modelFileBytes(model.path);
  step('load');
  const method = 'scores' in opts.method ? opts.method : { ...opts.method, seed: opts.method.seed ?? opts.seed };
  const built = await channelStudent(teacher, split, method, {
    share: opts.share,
    unit,
    aggregate,
    scope,
    foldBn,
    alreadyPruned: model.pruneMask,
    ranking: opts.ranking,
    signal: opts.signal,
  });
  const { student, plan, ranking } = built;
  const groups = plan.groups;
  const removed = plan.removed;
  let masked: Graph | undefined;
  try {
    step('relevance and shrink');
    masked = Graph.fromSpec(teacher.toSpec());
    masked.setFlat(applyMask(teacher.toFlat(), plan.mask));
    const mt = evaluate(teacher, split.test, d.task, classes);
    const mm = evaluate(masked, split.test, d.task, classes);
    const ft = await finetuneWithMask(student, split, model.pruneMask ? zeroMask(student.toFlat()) : undefined, {
      epochs,
      lr: opts.finetuneLr,
      batchSize: opts.finetuneBatchSize,
      seed: opts.seed,
      signal: opts.signal,
    });
    step(epochs ? `fine-tune ${epochs} epochs` : 'evaluate');
    const runs = opts.latencyRuns ?? 21;
    const batchRows = Math.min(split.test.rows, opts.latencyRows ?? 512);
    const xb = tf.tensor2d(split.test.x.subarray(0, batchRows * d.features), [batchRows, d.features]);
    let lat: { teacherMs: number; studentMs: number };
    try {
      lat = measureLatency(teacher, student, xb, undefined, runs);
    } finally {
      xb.dispose();
    }
    step('latency');

    const finalSpec = student.toSpec();
    const provenance = makeProvenance({
      job: 'export-student',
      method: ranking.method,
      variant: ranking.parameters?.variant ?? (aggregate === 'native' ? 'channel-gates' : undefined),
      covariance: ranking.parameters?.covariance,
      seed: opts.seed,
      modelHash: hashModel(teacher.structure(), teacher.toFlat()),
      data: {
        name: d.name,
        split: 'test',
        rows: split.test.rows,
        splitSeed: split.seed,
        testFraction: split.testFraction,
        standardized: !!split.standardization,
      },
      options: {
        structured: unit,
        share: opts.share,
        aggregate,
        scope,
        foldBn,
        finetune: epochs,
        teacher: model.path,
        studentHash: hashModel(student.structure(), student.toFlat()),
        rankingProvenance: ranking.provenance,
      },
    });
    const groupRows = [...ranking.scores.keys()].map((id) => {
      const g = groups.groups[id];
      const gone = removed.get(id) ?? [];
      return {
        producers: g.producers,
        channelsBefore: g.channels,
        channelsAfter: plan.shrink.kept[id].length,
        removed: [...gone].sort((a, b) => a - b),
      };
    });
    // Only what still describes the student is inherited (not the teacher's mask or training record).
    const tm = model.metadata ?? {};
    const metadata: PruneScopeMetadata = {
      task: d.task,
      ...(tm.featureNames ? { featureNames: tm.featureNames } : {}),
      ...(tm.targetName ? { targetName: tm.targetName } : {}),
      ...((tm.labelNames ?? d.labelNames) ? { labelNames: tm.labelNames ?? d.labelNames } : {}),
      ...(tm.preprocessing ? { preprocessing: tm.preprocessing } : {}),
      provenance,
      student: {
        structured: unit,
        groups: groupRows.map((g) => ({ producers: g.producers, removed: g.removed })),
        foldBn,
        teacherProvenance: tm.provenance,
      },
    };
    // The model's files are made first; the whole output folder then appears in one rename.
    const written = await modelFiles(student, metadata, format, model.path);
    const modelName = written.main;
    const modelText = written.files[modelName];
    const shard = format === 'tfjs' ? written.files[SHARD_NAME] : undefined;
    const keras = kerasTopology(finalSpec, 'keras2');
    const report: StructuredStudentReport = {
      out,
      files: {
        modelJson: path.join(out, modelName),
        kerasConfig: path.join(out, 'keras-config.json'),
        studentJson: path.join(out, 'student.json'),
      },
      format,
      structured: unit,
      share: opts.share,
      aggregate,
      scope,
      foldBn,
      layers: plan.layers,
      groups: groupRows,
      totals: {
        paramsBefore: plan.teacherCost.params,
        paramsAfter: plan.studentCost.params,
        macsBefore: plan.teacherCost.macs,
        macsAfter: plan.studentCost.macs,
        weightBytesBefore: plan.teacherCost.weightBytes,
        weightBytesAfter: plan.studentCost.weightBytes,
      },
      shares: plan.shares,
      prunedParams: countOnes(plan.mask),
      bytes: {
        teacherTotal: teacherBytes.total,
        teacherWeights: teacherBytes.weights,
        studentTotal: modelText.byteLength + (shard?.byteLength ?? 0),
        studentWeights: shard ? shard.byteLength : plan.studentCost.weightBytes,
      },
      latency: {
        backend: backendInfo().name,
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
        student: metricSet(ft.before),
        ...(epochs ? { finetuned: { ...metricSet(ft.after), epochs, seconds: ft.seconds } } : {}),
      },
      ...(plan.fold ? { fold: { folded: plan.fold.folded, replaced: plan.fold.replaced, kept: plan.fold.kept } } : {}),
      removedDead: plan.shrink.removedDead,
      removedConstant: plan.shrink.removedConstant,
      provenance,
    };
    throwIfCancelled(opts.signal, 'export-student');
    writeFolderAtomic(out, {
      ...written.files,
      'keras-config.json': JSON.stringify(keras.topology, null, 2),
      'student.json': JSON.stringify(report, null, 2),
    });
    step('write');
    return report;
  } finally {
    masked?.dispose();
    student.dispose();
  }
}
