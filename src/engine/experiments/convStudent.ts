// The conv demo's last step (its `student` hook): a channel-pruned student of the analysed teacher.
// The share of channels is chosen on a validation part held out of the training part (never the
// test part): the largest candidate share whose student stays within `tolerance` of the teacher's
// validation accuracy. The student is exported (narrower convolutions, BN folded; size, FLOPs and
// latency against the teacher in student.json) and distilled against the labels-only student
// trained from the same initialisation (its own surviving weights) on the same seed.
import * as path from 'path';
import type { DataSplit } from '../data/dataset';
import { numClasses } from '../data/dataset';
import { holdOutValidation } from '../data/validation';
import { distillExperiment, type DistillReport } from '../distill/experiment';
import { throwIfCancelled } from '../errors';
import { loadModel, type LoadedModel } from '../formats/modelFile';
import { DISTILL_DEFAULTS, SELECTION_DEFAULTS } from '../options';
import type { ChannelRanking } from '../prune/channelRanking';
import { channelStudent } from '../prune/channelStudent';
import { exportStructuredStudent, type StructuredStudentReport } from '../prune/structuredExport';
import type { RelevanceResult } from '../relevance/types';
import type { ReportSection } from '../report/html';
import { evaluate } from '../train/metrics';

/** The part of the conv demo's hook context this step reads. */
export interface ConvStudentContext {
  teacher: Pick<LoadedModel, 'network' | 'path' | 'metadata' | 'pruneMask'>;
  split: DataSplit;
  rankings: Record<string, RelevanceResult>;
  /** A folder of the demo's output: the student goes into its `student` subfolder. */
  folder: string;
  seed: number;
  signal?: AbortSignal;
  log: (m: string) => void;
}

export interface ConvStudentOptions {
  /** The ranking whose channels are removed (one of ctx.rankings; default obd, else the first). */
  method?: string;
  /** Candidate shares of the removable channels (default 0.25, 0.5, 0.75). */
  shares?: number[];
  /** Largest drop of validation accuracy accepted (default 0.01). */
  tolerance?: number;
  validationFraction?: number;
  distillEpochs?: number;
  latencyRuns?: number;
}

export interface ConvStudentResult {
  method: string;
  validationRows: number;
  teacherValidation: number;
  candidates: { share: number; validation: number }[];
  share: number;
  /** True when some candidate stayed within the tolerance (else the smallest share is taken). */
  withinTolerance: boolean;
  student: StructuredStudentReport;
  distill: DistillReport;
  section: ReportSection;
}

export async function convDemoStudent(ctx: ConvStudentContext, o: ConvStudentOptions = {}): Promise<ConvStudentResult> {
  const method = o.method ?? (ctx.rankings.obd ? 'obd' : Object.keys(ctx.rankings)[0]);
  const relevance = ctx.rankings[method];
  const shares = (o.shares ?? [0.25, 0.5, 0.75]).slice().sort((a, b) => a - b);
  const tolerance = o.tolerance ?? 0.01;
  const held = holdOutValidation(ctx.split, o.validationFraction ?? SELECTION_DEFAULTS.validationFraction, ctx.seed);
  const d = ctx.split.dataset;
  const classes = numClasses(d);
  const acc = (net: Parameters<typeof evaluate>[0]) => evaluate(net, held.validation, d.task, classes).accuracy ?? NaN;
  const teacher = ctx.teacher.network;
  const teacherValidation = acc(teacher);
  let ranking: ChannelRanking | undefined;
  const candidates: ConvStudentResult['candidates'] = [];
  for (const share of shares) {
    throwIfCancelled(ctx.signal, 'student');
    // The student computes the channel-masked teacher's function: evaluating it is the masked teacher's metric.
    const built = await channelStudent(teacher, held.split, relevance, {
      share,
      ranking,
      alreadyPruned: ctx.teacher.pruneMask,
      signal: ctx.signal,
    });
    ranking = built.ranking;
    candidates.push({ share, validation: acc(built.student) });
    built.student.dispose();
    ctx.log(`student at ${share}: validation accuracy ${candidates[candidates.length - 1].validation.toFixed(4)}`);
  }
  const ok = candidates.filter((c) => c.validation >= teacherValidation - tolerance);
  const share = ok.length ? ok[ok.length - 1].share : shares[0];
  const student = await exportStructuredStudent(ctx.teacher, held.split, {
    method: relevance,
    ranking,
    share,
    foldBn: true,
    seed: ctx.seed,
    out: path.join(ctx.folder, 'student'),
    latencyRuns: o.latencyRuns,
    signal: ctx.signal,
  });
  const loaded = await loadModel(student.files.modelJson);
  let distill: DistillReport;
  try {
    distill = await distillExperiment(teacher, loaded.network, held.split, {
      temperature: DISTILL_DEFAULTS.temperature,
      alpha: DISTILL_DEFAULTS.alpha,
      epochs: o.distillEpochs ?? 1,
      batchSize: DISTILL_DEFAULTS.batchSize,
      lr: DISTILL_DEFAULTS.lr,
      seeds: [ctx.seed],
      inits: ['teacher'],
      signal: ctx.signal,
    });
  } finally {
    loaded.network.dispose();
  }
  const r = { method, validationRows: held.validation.rows, teacherValidation, candidates, share };
  return {
    ...r,
    withinTolerance: ok.length > 0,
    student,
    distill,
    section: section(r, ok.length > 0, tolerance, student, distill),
  };
}

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

function section(
  r: Pick<ConvStudentResult, 'method' | 'validationRows' | 'teacherValidation' | 'candidates' | 'share'>,
  within: boolean,
  tolerance: number,
  s: StructuredStudentReport,
  dist: DistillReport,
): ReportSection {
  const t = s.totals;
  const m = s.metrics;
  return {
    heading: 'A channel-pruned student',
    text: [
      `Channels ranked by ${r.method} (sum over each channel's parameters). The share removed is chosen on ${r.validationRows} validation rows held out of the training part, never the test part: ` +
        (within
          ? `the largest candidate within ${pct(tolerance)} of the teacher's validation accuracy (${pct(r.teacherValidation)}), ${pct(r.share)} of the removable channels.`
          : `no candidate stayed within ${pct(tolerance)} of the teacher's validation accuracy (${pct(r.teacherValidation)}); the smallest, ${pct(r.share)}, is shown.`),
      `The student has really narrower convolutions, BatchNormalization folded: ${t.paramsBefore} -> ${t.paramsAfter} parameters, ${t.macsBefore} -> ${t.macsAfter} multiply-adds per example, ${t.weightBytesBefore} -> ${t.weightBytesAfter} weight bytes.`,
      `Latency of one prediction of ${s.latency.batchRows} test rows (median of ${s.latency.runs}, ${s.latency.backend}): teacher ${s.latency.teacherMs.toFixed(1)} ms, student ${s.latency.studentMs.toFixed(1)} ms (x${s.latency.speedup.toFixed(2)}).`,
      `Test accuracy: teacher ${pct(m.teacher.accuracy ?? NaN)}, student ${pct(m.student.accuracy ?? NaN)} (= the channel-masked teacher, ${pct(m.maskedTeacher.accuracy ?? NaN)}).`,
      ...dist.comparisons.map((c) => c.statement),
    ],
    tables: [
      {
        caption: 'Validation accuracy of the student at each candidate share',
        columns: ['share of channels removed', 'validation accuracy'],
        rows: r.candidates.map((c) => [pct(c.share), pct(c.validation)]),
      },
      {
        caption: 'Per layer: channels, parameters and multiply-adds, teacher -> student',
        columns: ['layer', 'class', 'channels', 'parameters', 'multiply-adds'],
        rows: s.layers.map((l) => [
          l.node,
          l.className,
          `${l.channelsBefore} -> ${l.channelsAfter}${l.foldedInto ? ` (folded into ${l.foldedInto})` : ''}`,
          `${l.paramsBefore} -> ${l.paramsAfter}`,
          `${l.macsBefore} -> ${l.macsAfter}`,
        ]),
      },
      {
        caption: `Distillation (${dist.rows.find((x) => x.name === 'distilled-teacher-init')?.runs.length ?? 0} seed) from the student's own weights, against labels alone from the same start: test accuracy`,
        columns: ['run', 'test accuracy', 'test loss'],
        rows: dist.rows.map((x) => [x.name, pct(x.metricMean), x.lossMean.toPrecision(4)]),
      },
    ],
  };
}
