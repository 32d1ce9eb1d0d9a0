// `distill`: distil the teacher into a student (a model file, or the teacher's neurons selected to
// target `widths` by the cached ranking of `method`, default obd) against the labels-only
// baseline (engine distillExperiment), and write distill.json, distill.csv and report.html into
// the NEW folder `out` in one rename: a cancelled or failed run leaves nothing.
import { PruneScopeError, badInput, throwIfCancelled } from '../../engine/errors';
import { columnsByName } from '../../engine/distill/columns';
import { distillCsv, distillExperiment, distillFigure } from '../../engine/distill/experiment';
import { loadModel, type LoadedModel } from '../../engine/model/layersModel';
import { Network } from '../../engine/model/network';
import { applyMask } from '../../engine/prune/mask';
import { shrinkToStudent } from '../../engine/prune/student';
import { studentMask } from '../../engine/prune/studentExport';
import { RELEVANCE_METHODS, type RelevanceMethod } from '../../engine/relevance/types';
import { renderReport } from '../../engine/report/html';
import { writeFolderAtomic } from '../../engine/util/atomicWrite';
import * as path from 'path';
import type { ProvenanceRecord } from '../../protocol';
import type { JobHandler } from '../jobTypes';
import { cachedRanking, checkOut, checkOutEmpty, modelAndSplit, modelMtime } from './modelCache';
import { int, num, obj, oneOf, optStr, optWidths, str } from './params';
import { DISTILL_DEFAULTS } from '../../engine/distill/defaults';

export const distillJob: JobHandler<'distill'> = {
  kind: 'distill',
  parse(raw) {
    const job = 'distill';
    const o = obj(raw, job);
    const teacherPath = str(o, 'teacherPath', job);
    const studentPath = optStr(o, 'studentPath', job);
    const widths = optWidths(o, 'widths', job);
    if ((studentPath === undefined) === (widths === undefined))
      throw badInput(`${job}: give exactly one of studentPath and widths`, {
        field: 'studentPath',
        expected: 'a student model.json or target widths, not both',
      });
    return {
      teacherPath,
      studentPath,
      widths,
      method: o.method === undefined ? undefined : oneOf(o, 'method', job, RELEVANCE_METHODS),
      data: str(o, 'data', job),
      seed: int(o, 'seed', job, 0, 2 ** 31 - 1, 0),
      temperature: num(o, 'temperature', job, 1e-6, 1e6, DISTILL_DEFAULTS.temperature),
      alpha: num(o, 'alpha', job, 0, 1, DISTILL_DEFAULTS.alpha),
      epochs: int(o, 'epochs', job, 1, 100_000, DISTILL_DEFAULTS.epochs),
      seeds: int(o, 'seeds', job, 1, 100, 3),
      out: checkOut(str(o, 'out', job), [teacherPath, ...(studentPath ? [studentPath] : [])], job),
    };
  },
  async run(p, ctx) {
    const entry = await modelAndSplit({ modelPath: p.teacherPath, data: p.data, seed: p.seed }, ctx);
    checkOutEmpty(p.out, 'distill');
    const teacher = entry.model.network;
    const split = entry.split;
    const ds = split.dataset;
    let student: Network;
    let studentModel: LoadedModel | undefined;
    let cols: number[] | undefined;
    const method = (p.method ?? 'obd') as RelevanceMethod;
    if (p.widths) {
      const ranking = await cachedRanking(entry, method, p.seed, ctx);
      const mask = studentMask(teacher, ranking, { widths: p.widths }, entry.model.pruneMask);
      const masked = Network.fromFlat(structuredClone(teacher.spec), applyMask(teacher.toFlat(), mask));
      try {
        student = shrinkToStudent(masked, { mask }).network;
      } finally {
        masked.dispose();
      }
    } else {
      modelMtime(p.studentPath!, 'studentPath');
      studentModel = await loadModel(p.studentPath!);
      student = studentModel.network;
      const names = studentModel.metadata?.featureNames;
      // A student saved with feature names (export-student with dropUnusedInputs) reads those columns.
      if (names) cols = columnsByName(ds.featureNames, names, `${studentModel.path}: featureNames`);
      const inputs = cols?.length ?? ds.features;
      if (student.spec.inputSize !== inputs) {
        student.dispose();
        throw new PruneScopeError('bad-input', `the student takes ${student.spec.inputSize} inputs`, {
          file: studentModel.path,
          field: 'studentPath',
          expected: `${inputs} inputs (the columns it reads)`,
        });
      }
    }
    try {
      const identity = !cols || (cols.length === ds.features && cols.every((c, i) => c === i));
      const seeds = Array.from({ length: p.seeds }, (_, i) => p.seed + i);
      const r = await distillExperiment(teacher, student, split, {
        temperature: p.temperature,
        alpha: p.alpha,
        epochs: p.epochs,
        batchSize: 32,
        lr: 1e-3,
        seeds,
        studentFeatures: identity ? undefined : cols,
        signal: ctx.signal,
        onProgress: (done, total, what) => ctx.progress(done / total, what),
      });
      throwIfCancelled(ctx.signal, 'distill');
      const doc = { ...r, teacher: entry.model.path, student: studentModel?.path ?? { widths: p.widths, method } };
      const html = renderReport({
        title: `Distillation on ${ds.name}`,
        intro: [
          `Teacher ${r.teacherSpec.join('-')}, student ${r.studentSpec.join('-')}; T = ${p.temperature}, alpha = ${p.alpha}, ${p.epochs} epochs, batch 32, lr 0.001, seeds ${seeds.join(', ')}, split seed ${p.seed}.`,
        ],
        sections: [{ heading: `Test ${r.metric}`, figures: [distillFigure(r)] }],
        provenance: r.provenance,
      });
      writeFolderAtomic(p.out, {
        'distill.json': JSON.stringify(doc, null, 2),
        'distill.csv': distillCsv(r),
        'report.html': html,
      });
      return {
        result: {
          out: p.out,
          report: path.join(p.out, 'report.html'),
          metric: r.metric,
          rows: r.rows.map((x) => ({ name: x.name, mean: x.metricMean, sd: x.metricSd })),
        },
        provenance: r.provenance as unknown as ProvenanceRecord,
      };
    } finally {
      student.dispose();
    }
  },
};
