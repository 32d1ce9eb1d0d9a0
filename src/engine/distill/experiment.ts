// The distillation comparison the CLI reports: on one data split and the same seeds, the test
// metric and loss (mean and sd over seeds) of the teacher; the student trained on labels alone
// (random init, the baseline without distillation); the student distilled from scratch (random
// init); the student distilled from its given weights (the teacher's surviving weights).
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

export type DistillInit = 'scratch' | 'teacher';
export type DistillRowName = 'teacher' | 'labels-only' | 'distilled-scratch' | 'distilled-teacher-init';

export interface DistillExperimentOptions {
  temperature: number;
  alpha: number;
  epochs: number;
  batchSize: number;
  lr: number;
  seeds: number[];
  /** Which distilled students to run (default both). The labels-only baseline always runs. */
  inits?: DistillInit[];
  studentFeatures?: number[];
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, what: string) => void;
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
): Promise<DistillReport> {
  if (o.seeds.length === 0 || o.seeds.some((s) => !Number.isInteger(s)))
    throw badInput(`seeds ${o.seeds.join(',')}`, { field: 'seeds', expected: 'at least one integer seed' });
  const inits = o.inits ?? ['scratch', 'teacher'];
  const d = split.dataset;
  const task = d.task;
  const cls = task === 'classification';
  const pick = (m: { accuracy?: number; mse?: number }) => (cls ? m.accuracy! : m.mse!);
  const tm = evaluate(teacher, split.test, task, numClasses(d));
  const total = o.seeds.length * (1 + inits.length);
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
    'distilled-teacher-init': [],
  };
  const one = async (name: string, start: Graph, alpha: number, seed: number) => {
    throwIfCancelled(o.signal, 'distill');
    try {
      const r = await distill(teacher, start, split, { ...base, alpha, seed });
      runs[name].push({ seed, metric: pick(r.final.test), loss: r.final.test.loss });
    } finally {
      start.dispose();
    }
    o.onProgress?.(++done, total, `${name} seed ${seed}`);
  };
  for (const seed of o.seeds) {
    // Random init from the seed: the same starting point for the baseline and the scratch student.
    await one('labels-only', Graph.random(student.spec, seed), 0, seed);
    if (inits.includes('scratch')) await one('distilled-scratch', Graph.random(student.spec, seed), o.alpha, seed);
    if (inits.includes('teacher')) await one('distilled-teacher-init', student.clone(), o.alpha, seed);
  }
  const rows: DistillRow[] = [
    row(
      'teacher',
      o.seeds.map((seed) => ({ seed, metric: pick(tm), loss: tm.loss })),
    ),
    row('labels-only', runs['labels-only']),
    ...(inits.includes('scratch') ? [row('distilled-scratch', runs['distilled-scratch'])] : []),
    ...(inits.includes('teacher') ? [row('distilled-teacher-init', runs['distilled-teacher-init'])] : []),
  ];
  const cols = o.studentFeatures ?? d.featureNames.map((_, i) => i);
  return {
    metric: cls ? 'accuracy' : 'mse',
    rows,
    teacherSpec: architectureOf(teacher),
    studentSpec: architectureOf(student),
    studentFeatures: cols.map((c) => d.featureNames[c]),
    provenance: makeProvenance({
      job: 'distill',
      seed: o.seeds[0],
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
  };
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
