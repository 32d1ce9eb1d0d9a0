// `distill`: distil the teacher into a student (a model file, or the teacher's neurons selected to
// target `widths` by the cached ranking of `method`, default obd) against the labels-only
// baseline (engine distillExperiment), and write distill.json, distill.csv, report.html and the
// distilled student (in the teacher's format or `format`) into the NEW folder `out` in one rename:
// a cancelled or failed run leaves nothing.
import { PruneScopeError, badInput, throwIfCancelled } from '../../engine/errors';
import { columnsByName } from '../../engine/data/columns';
import { distillCsv, distillExperiment, distillFigure } from '../../engine/distill/experiment';
import { loadModel, type LoadedModel } from '../../engine/formats/modelFile';
import { Graph } from '../../engine/model/graph';
import { applyMask } from '../../engine/prune/mask';
import { shrinkToStudent } from '../../engine/prune/student';
import { studentMask } from '../../engine/prune/studentExport';
import { renderReport } from '../../engine/report/html';
import { writeFolderAtomic } from '../../engine/util/atomicWrite';
import * as path from 'path';
import type { ProvenanceRecord } from '../../protocol';
import type { JobHandler } from '../jobTypes';
import { cachedRanking, checkOut, checkOutEmpty, modelAndSplit, modelMtime } from './modelCache';
import { dataOptions, obj, oneOf, optStr, optWidths, ranged, rankingRequest, requestOf, seed, str } from './params';
import { DISTILL_DEFAULTS, DISTILL_RANGES, MODEL_FORMATS } from '../../engine/options';
import { modelFiles } from '../../engine/formats/outputFolder';
import { distilledMetadata } from '../../engine/distill/studentModel';

const D = DISTILL_DEFAULTS;
const R = DISTILL_RANGES;

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
      ...rankingRequest({ ...o, method: o.method ?? D.method }, job),
      data: str(o, 'data', job),
      ...(o.dataOptions !== undefined ? { dataOptions: dataOptions(o, job) } : {}),
      seed: seed(o, job),
      temperature: ranged(o, 'temperature', job, R.temperature, D.temperature),
      alpha: ranged(o, 'alpha', job, R.alpha, D.alpha),
      epochs: ranged(o, 'epochs', job, R.epochs, D.epochs),
      seeds: ranged(o, 'seeds', job, R.seeds, D.seeds),
      out: checkOut(str(o, 'out', job), [teacherPath, ...(studentPath ? [studentPath] : [])], job),
      format: o.format === undefined ? undefined : oneOf(o, 'format', job, MODEL_FORMATS),
    };
  },
  async run(p, ctx) {
    const entry = await modelAndSplit(
      { modelPath: p.teacherPath, data: p.data, dataOptions: p.dataOptions, seed: p.seed },
      ctx,
    );
    checkOutEmpty(p.out, 'distill');
    const teacher = entry.model.network;
    const split = entry.split;
    const ds = split.dataset;
    let student: Graph;
    let studentModel: LoadedModel | undefined;
    let cols: number[] | undefined;
    let studentRanking: ProvenanceRecord | undefined;
    if (p.widths) {
      const ranking = await cachedRanking(entry, requestOf(p), ctx);
      studentRanking = ranking.provenance as unknown as ProvenanceRecord;
      const mask = studentMask(teacher, ranking, { widths: p.widths }, entry.model.pruneMask);
      const masked = Graph.fromSpec(teacher.toSpec());
      masked.setFlat(applyMask(teacher.toFlat(), mask));
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
      if (student.inputSize !== inputs) {
        student.dispose();
        throw new PruneScopeError('bad-input', `the student takes ${student.inputSize} inputs`, {
          file: studentModel.path,
          field: 'studentPath',
          expected: `${inputs} inputs (the columns it reads)`,
        });
      }
    }
    let distilled: Graph | undefined;
    try {
      const identity = !cols || (cols.length === ds.features && cols.every((c, i) => c === i));
      const seeds = Array.from({ length: p.seeds }, (_, i) => p.seed + i);
      const { distilledStudent: kept, ...r } = await distillExperiment(teacher, student, split, {
        temperature: p.temperature,
        alpha: p.alpha,
        epochs: p.epochs,
        batchSize: D.batchSize,
        lr: D.lr,
        seeds,
        studentFeatures: identity ? undefined : cols,
        keepStudent: true,
        signal: ctx.signal,
        onProgress: (done, total, what) => ctx.progress(done / total, what),
      });
      distilled = kept!.network;
      throwIfCancelled(ctx.signal, 'distill');
      const format = p.format ?? entry.model.format.type;
      const model = await modelFiles(
        kept!.network,
        distilledMetadata(entry.model, split, kept!, identity ? undefined : cols),
        format,
        entry.model.path,
      );
      const modelFile = path.join(p.out, model.main);
      const doc = {
        ...r,
        distilledModel: { file: modelFile, format, run: kept!.row, seed: kept!.seed },
        teacher: entry.model.path,
        student: studentModel?.path ?? { widths: p.widths, ranking: studentRanking },
      };
      const html = renderReport({
        title: `Distillation on ${ds.name}`,
        intro: [
          `Teacher ${r.teacherSpec.join('-')}, student ${r.studentSpec.join('-')}; T = ${p.temperature}, alpha = ${p.alpha}, ${p.epochs} epochs, batch ${D.batchSize}, lr ${D.lr}, seeds ${seeds.join(', ')}, split seed ${p.seed}.`,
          ...r.comparisons.map((c) => c.statement),
        ],
        sections: [{ heading: `Test ${r.metric}`, figures: [distillFigure(r)] }],
        provenance: r.provenance,
      });
      writeFolderAtomic(p.out, {
        'distill.json': JSON.stringify(doc, null, 2),
        'distill.csv': distillCsv(r),
        'report.html': html,
        ...model.files,
      });
      return {
        result: {
          out: p.out,
          report: path.join(p.out, 'report.html'),
          modelFile,
          format,
          metric: r.metric,
          rows: r.rows.map((x) => ({ name: x.name, mean: x.metricMean, sd: x.metricSd })),
        },
        provenance: r.provenance as unknown as ProvenanceRecord,
      };
    } finally {
      student.dispose();
      distilled?.dispose();
    }
  },
};
