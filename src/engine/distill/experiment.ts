// The distillation comparison the CLI reports: on one data split and the same seeds, the test
// metric and loss (mean and sd over seeds) of the teacher; the student trained on labels alone from
// random weights (labels-only) and from its given weights, the teacher's surviving ones
// (labels-only-teacher-init); the student distilled from random weights (distilled-scratch) and from
// its given weights (distilled-teacher-init). Like is compared with like: each distilled student
// against the labels-only student with the same start and seed (`comparisons`, paired by seed), so a
// gain is credited to distillation only against the baseline that started where it started.
import type { DataSplit } from '../data/dataset';
import { numClasses } from '../data/dataset';
import { badInput, throwIfCancelled } from '../errors';
import { Graph } from '../model/graph';
import { architectureOf } from '../model/summary';
import { hashModel, makeProvenance, Provenance } from '../provenance';
import { evaluate } from '../train/metrics';
import type { Figure } from '../report/figure';
import { distill } from './distill';
import { mean, sampleSd } from '../util/stats';
import { splitRecord } from '../data/split';

export type DistillInit = 'scratch' | 'teacher';
export type DistillRowName =
  'teacher' | 'labels-only' | 'distilled-scratch' | 'labels-only-teacher-init' | 'distilled-teacher-init';

/** A distilled student against the labels-only student with the same start, paired by seed. */
export interface DistillComparison {
  init: DistillInit;
  distilled: DistillRowName;
  baseline: DistillRowName;
  /**
   * Per-seed improvement of the distilled student (accuracy: distilled - baseline; MSE: baseline - distilled): mean and
   * sample sd.
   */
  improvementMean: number;
  improvementSd: number;
  /** The mean improvement exceeds the spread of the paired improvements (with one seed: any improvement). */
  beats: boolean;
  statement: string;
}

export interface DistillExperimentOptions {
  temperature: number;
  alpha: number;
  epochs: number;
  batchSize: number;
  lr: number;
  seeds: number[];
  /** Which distilled students to run (default both); each with its labels-only baseline from the same start. */
  inits?: DistillInit[];
  studentFeatures?: number[];
  /** Keep one distilled student (see keptRun) instead of disposing it: the caller writes and disposes it. */
  keepStudent?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, what: string) => void;
}

/** One distilled student kept from the experiment, with the run it came from. */
export interface DistilledStudent {
  network: Graph;
  row: DistillRowName;
  seed: number;
  provenance: Provenance;
}

/**
 * The run whose student the experiment keeps: the first seed's distilled student, started from the
 * given student's weights when that run was asked for (it starts where the user's student is), else
 * from random weights.
 */
export function keptRun(inits: DistillInit[], seeds: number[]): { row: DistillRowName; seed: number } {
  return { row: inits.includes('teacher') ? 'distilled-teacher-init' : 'distilled-scratch', seed: seeds[0] };
}

export interface DistillRow {
  name: DistillRowName;
  runs: { seed: number; metric: number; loss: number }[];
  metricMean: number;
  metricSd: number;
  lossMean: number;
  lossSd: number;
}

export interface DistillReport {
  metric: 'accuracy' | 'mse';
  rows: DistillRow[];
  /** Each distilled student against its like-for-like labels-only baseline. */
  comparisons: DistillComparison[];
  teacherSpec: (number | string)[];
  studentSpec: (number | string)[];
  studentFeatures: string[];
  provenance: Provenance;
}

function stats(v: number[]): [number, number] {
  return [mean(v), sampleSd(v)];
}

function row(name: DistillRowName, runs: DistillRow['runs']): DistillRow {
  const [metricMean, metricSd] = stats(runs.map((r) => r.metric));
  const [lossMean, lossSd] = stats(runs.map((r) => r.loss));
  return { name, runs, metricMean, metricSd, lossMean, lossSd };
}

/** `student` supplies the architecture and, for init 'teacher', the starting weights (it is not modified). */
export async function distillExperiment(
  teacher: Graph,
  student: Graph,
  split: DataSplit,
  o: DistillExperimentOptions,
): Promise<DistillReport & { distilledStudent?: DistilledStudent }> {
  if (o.seeds.length === 0 || o.seeds.some((s) => !Number.isInteger(s)))
    throw badInput(`seeds ${o.seeds.join(',')}`, { field: 'seeds', expected: 'at least one integer seed' });
  const inits = o.inits ?? ['scratch', 'teacher'];
  const d = split.dataset;
  const task = d.task;
  const cls = task === 'classification';
  const pick = (m: { accuracy?: number; mse?: number }) => (cls ? m.accuracy! : m.mse!);
  const tm = evaluate(teacher, split.test, task, numClasses(d));
  const total = o.seeds.length * 2 * inits.length + (inits.includes('scratch') ? 0 : o.seeds.length);
  let done = 0;
  const base = {
    temperature: o.temperature,
    epochs: o.epochs,
    batchSize: o.batchSize,
    lr: o.lr,
    studentFeatures: o.studentFeatures,
    signal: o.signal,
  };
  const runs: Record<string, DistillRow['runs']> = {
    'labels-only': [],
    'distilled-scratch': [],
    'labels-only-teacher-init': [],
    'distilled-teacher-init': [],
  };
  const keep = o.keepStudent ? keptRun(inits, o.seeds) : undefined;
  let kept: DistilledStudent | undefined;
  const one = async (name: DistillRowName, start: Graph, alpha: number, seed: number) => {
    throwIfCancelled(o.signal, 'distill');
    let keepThis = false;
    try {
      const r = await distill(teacher, start, split, { ...base, alpha, seed });
      runs[name].push({ seed, metric: pick(r.final.test), loss: r.final.test.loss });
      keepThis = !kept && keep?.row === name && keep.seed === seed;
      if (keepThis) kept = { network: start, row: name, seed, provenance: r.provenance };
    } finally {
      if (!keepThis) start.dispose();
    }
    o.onProgress?.(++done, total, `${name} seed ${seed}`);
  };
  try {
    for (const seed of o.seeds) {
      // Random init from the seed: the same starting point for the baseline and the scratch student.
      await one('labels-only', Graph.random(student.spec, seed), 0, seed);
      if (inits.includes('scratch')) await one('distilled-scratch', Graph.random(student.spec, seed), o.alpha, seed);
      if (inits.includes('teacher')) {
        await one('labels-only-teacher-init', student.clone(), 0, seed);
        await one('distilled-teacher-init', student.clone(), o.alpha, seed);
      }
    }
  } catch (e) {
    kept?.network.dispose();
    throw e;
  }
  const rows: DistillRow[] = [
    row(
      'teacher',
      o.seeds.map((seed) => ({ seed, metric: pick(tm), loss: tm.loss })),
    ),
    row('labels-only', runs['labels-only']),
    ...(inits.includes('scratch') ? [row('distilled-scratch', runs['distilled-scratch'])] : []),
    ...(inits.includes('teacher')
      ? [
          row('labels-only-teacher-init', runs['labels-only-teacher-init']),
          row('distilled-teacher-init', runs['distilled-teacher-init']),
        ]
      : []),
  ];
  const comparisons = inits.map((init) =>
    compare(
      init,
      init === 'scratch' ? 'distilled-scratch' : 'distilled-teacher-init',
      init === 'scratch' ? 'labels-only' : 'labels-only-teacher-init',
      runs,
      cls,
    ),
  );
  const cols = o.studentFeatures ?? d.featureNames.map((_, i) => i);
  return {
    metric: cls ? 'accuracy' : 'mse',
    rows,
    comparisons,
    teacherSpec: architectureOf(teacher),
    studentSpec: architectureOf(student),
    studentFeatures: cols.map((c) => d.featureNames[c]),
    provenance: makeProvenance({
      job: 'distill',
      seed: o.seeds[0],
      modelHash: hashModel(teacher.structure(), teacher.toFlat()),
      data: splitRecord(split, 'test', split.test.rows),
      options: {
        temperature: o.temperature,
        alpha: o.alpha,
        epochs: o.epochs,
        batchSize: o.batchSize,
        lr: o.lr,
        seeds: o.seeds,
        inits,
        studentHash: hashModel(student.structure(), student.toFlat()),
        optimizer: 'adam(0.9, 0.999, 1e-7)',
      },
    }),
    ...(kept ? { distilledStudent: kept } : {}),
  };
}

function compare(
  init: DistillInit,
  distilled: DistillRowName,
  baseline: DistillRowName,
  runs: Record<string, DistillRow['runs']>,
  cls: boolean,
): DistillComparison {
  const b = new Map(runs[baseline].map((r) => [r.seed, r.metric]));
  const gains = runs[distilled].map((r) => (cls ? r.metric - b.get(r.seed)! : b.get(r.seed)! - r.metric));
  const [m, sd] = stats(gains);
  const beats = gains.length > 1 ? m > sd : m > 0;
  const start = init === 'scratch' ? 'random weights' : "the teacher's surviving weights";
  const what = cls ? 'accuracy' : 'MSE';
  const statement = beats
    ? `From ${start}, distillation beats training on labels alone by ${m.toPrecision(3)} test ${what} (paired over ${gains.length} seeds, sd ${sd.toPrecision(2)}): ${distilled} vs ${baseline}.`
    : `From ${start}, distillation does not beat training on labels alone by more than the spread (${m.toPrecision(3)} test ${what}, sd ${sd.toPrecision(2)} over ${gains.length} seeds): ${distilled} vs ${baseline}.`;
  return { init, distilled, baseline, improvementMean: m, improvementSd: sd, beats, statement };
}

export function distillCsv(r: DistillReport): string {
  const lines = ['row,seed,' + r.metric + ',loss'];
  for (const row of r.rows) for (const run of row.runs) lines.push(`${row.name},${run.seed},${run.metric},${run.loss}`);
  return lines.join('\n') + '\n';
}

export function distillFigure(r: DistillReport): Figure {
  return {
    id: 'distill',
    title: `Test ${r.metric} (mean and sd over ${r.rows[0].runs.length} seeds)`,
    data: [
      {
        type: 'bar',
        name: r.metric,
        x: r.rows.map((x) => x.name),
        y: r.rows.map((x) => x.metricMean),
        error_y: { type: 'data', array: r.rows.map((x) => x.metricSd), visible: true },
      },
    ],
    layout: { yaxis: { title: r.metric }, xaxis: { title: 'model' } },
    table: {
      columns: ['model', `${r.metric} mean`, `${r.metric} sd`, 'loss mean', 'loss sd'],
      rows: r.rows.map((x) => [x.name, x.metricMean, x.metricSd, x.lossMean, x.lossSd]),
    },
  };
}
