// `prunescope distill --teacher T (--student S | --widths 8,4) --data D --out DIR [--format F]`:
// distil a teacher into a smaller student and compare, over seeds on one split, against the same
// student trained on labels alone. With --widths the student is the teacher's neurons selected by
// relevance (the same flags and defaults as every ranking command) and shrunk; its weights are the
// "teacher init". With --structured channels|units --fraction P the student is the teacher's
// channel-pruned student (export-student's, for conv and residual teachers). With
// --teacher-features the teacher keeps those columns to itself (privileged information). The
// distilled student itself is written beside the report, in the teacher's format or --format's.
import * as path from 'path';
import { Command } from '../command';
import { ParsedArgs, bool, list, num, numList, oneOf, str } from '../args';
import { PruneScopeError, badInput } from '../../engine/errors';
import { initBackend } from '../../engine/backend';
import { loadModel, LoadedModel } from '../../engine/formats/modelFile';
import { Graph } from '../../engine/model/graph';
import { splitForModel } from '../../engine/data';
import { DATA_FILE_FLAGS, DATA_HELP, dataRequest, loadDataForModel } from '../modelData';
import { studentMask } from '../../engine/prune/studentExport';
import { shrinkToStudent } from '../../engine/prune/student';
import { applyMask } from '../../engine/prune/mask';
import { computeRelevance } from '../../engine/relevance/compute';
import { METHOD_FLAG, METHOD_OPTION_FLAGS, relevanceRequest } from '../relevanceOptions';
import { columnsByName } from '../../engine/data/columns';
import { withInputs } from '../../engine/distill/columns';
import type { Provenance } from '../../engine/provenance';
import { DistillInit, distillCsv, distillExperiment, distillFigure } from '../../engine/distill/experiment';
import { renderReport } from '../../engine/report/html';
import { writeFolderAtomic } from '../../engine/util/atomicWrite';
import * as fs from 'fs';
import { channelStudent } from '../../engine/prune/channelStudent';
import { CHANNEL_FLAGS, FOLD_BN_FLAG, channelOptions, foldBn } from '../structuredOptions';
import {
  DISTILL_DEFAULTS,
  DISTILL_INIT_CHOICES,
  DISTILL_RANGES,
  MODEL_FORMATS,
  SPLIT_DEFAULTS,
} from '../../engine/options';
import { modelFiles } from '../../engine/formats/outputFolder';
import { distilledMetadata } from '../../engine/distill/studentModel';

const D = DISTILL_DEFAULTS;
const R = DISTILL_RANGES;

export const distillCommand: Command = {
  name: 'distill',
  summary: 'Distil a teacher into a smaller student; compare with the student trained on labels alone, over seeds',
  usage:
    'prunescope distill --teacher T (--student S | --widths 8,4 | --structured channels|units --fraction P [--aggregate A] [--scope S] [--fold-bn]) --data D [--temperature T] [--alpha A] [--init scratch|teacher] [--epochs N] [--batch B] [--lr X] [--seeds K] [--teacher-features a,b] [--method M [--variant ...]] --out DIR [--format tfjs|keras|h5|onnx] [--json]',
  flags: [
    {
      name: 'standardize',
      value: false,
      help: 'z-score features on the training part (when the teacher does not record its own preprocessing)',
    },
    { name: 'teacher', value: true, help: 'the teacher model (model.json, .keras, .h5 or .onnx)' },
    { name: 'student', value: true, help: 'a student model file (its weights are the "teacher init")' },
    { name: 'widths', value: true, help: 'build the student by neuron selection from the teacher, e.g. 8,4' },
    ...CHANNEL_FLAGS,
    { name: 'fraction', value: true, help: 'with --structured: the share of removable channels (or units) removed' },
    FOLD_BN_FLAG,
    { ...METHOD_FLAG, help: `relevance that selects the neurons for --widths: ${METHOD_FLAG.help}` },
    ...METHOD_OPTION_FLAGS.filter((f) => f.name !== 'epochs'),
    { name: 'data', value: true, help: DATA_HELP },
    ...DATA_FILE_FLAGS,
    { name: 'target', value: true, help: 'CSV target column (default: the last column)' },
    {
      name: 'temperature',
      value: true,
      help: `softmax temperature T in (0, ${R.temperature.max}] (default ${D.temperature})`,
    },
    { name: 'alpha', value: true, help: `weight of the teacher term in [0, 1] (default ${D.alpha})` },
    {
      name: 'init',
      value: true,
      help: `distilled students to run: ${DISTILL_INIT_CHOICES.join(', ')} (default ${D.init}); the labels-only baseline always runs`,
    },
    { name: 'epochs', value: true, help: `epochs per run (default ${D.epochs})` },
    { name: 'batch', value: true, help: `minibatch size (default ${D.batchSize})` },
    { name: 'lr', value: true, help: `Adam learning rate (default ${D.lr})` },
    {
      name: 'seeds',
      value: true,
      help: `number of seeds S..S+K-1 from the split seed (init and shuffling; default ${D.seeds})`,
    },
    {
      name: 'split-seed',
      value: true,
      help: `seed of the train/test split and of the ranking (default ${SPLIT_DEFAULTS.seed}, as in train)`,
    },
    {
      name: 'teacher-features',
      value: true,
      help: 'columns only the teacher sees (privileged information), comma-separated names',
    },
    {
      name: 'out',
      value: true,
      help: 'new output folder for distill.json, distill.csv, report.html and the distilled student model',
    },
    {
      name: 'format',
      value: true,
      help: "format of the distilled student written into --out (the first seed's, distilled from the student's own weights, or from random ones with --init scratch): tfjs (model.json + shard), keras, h5 or onnx (one file named after the teacher); default: the teacher's format",
    },
    { name: 'json', value: false, help: 'print one JSON document' },
  ],
  async run(args: ParsedArgs, ctx) {
    if (args.positional.length)
      throw badInput(`unexpected argument ${args.positional[0]}`, { field: 'distill', expected: this.usage });
    const need = (name: string, what: string) => {
      const v = str(args, name);
      if (!v) throw badInput(`--${name} is required`, { field: `--${name}`, expected: what });
      return v;
    };
    const teacherFile = need('teacher', 'the teacher model.json');
    const { data, ...dataOptions } = dataRequest(args, 'analysis');
    const out = path.resolve(need('out', 'a new output folder'));
    if (fs.existsSync(out) && (!fs.statSync(out).isDirectory() || fs.readdirSync(out).length > 0)) {
      throw new PruneScopeError('bad-input', 'output folder exists and is not empty', {
        file: out,
        field: '--out',
        expected: 'a new or empty folder',
      });
    }
    const studentFile = str(args, 'student');
    const widths = numList(args, 'widths');
    const ch = channelOptions(args);
    const unit = ch.structured === 'none' ? undefined : ch.structured;
    const structured = unit !== undefined;
    if ([!!studentFile, !!widths, structured].filter(Boolean).length !== 1)
      throw badInput('give exactly one of --student, --widths and --structured', {
        field: '--student',
        expected: '--student S.json, --widths 8,4 or --structured channels --fraction P',
      });
    const fraction = structured ? num(args, 'fraction', NaN, { min: 0, max: 1 }) : undefined;
    if (fraction !== undefined && Number.isNaN(fraction))
      throw badInput('--structured takes --fraction', {
        field: '--fraction',
        expected: 'a share of removable channels in [0, 1]',
      });
    if (!structured && (str(args, 'fraction') !== undefined || foldBn(args)))
      throw badInput('--fraction and --fold-bn go with --structured', {
        field: foldBn(args) ? '--fold-bn' : '--fraction',
        expected: '--structured channels|units',
      });
    const temperature = num(args, 'temperature', D.temperature, { min: 1e-6, max: R.temperature.max });
    const alpha = num(args, 'alpha', D.alpha, { min: R.alpha.min, max: R.alpha.max });
    const init = oneOf(args, 'init', DISTILL_INIT_CHOICES, D.init);
    const inits: DistillInit[] = init === 'both' ? ['scratch', 'teacher'] : [init];
    const epochs = num(args, 'epochs', D.epochs, { integer: true, min: R.epochs.min, max: R.epochs.max });
    const batchSize = num(args, 'batch', D.batchSize, { integer: true, min: 1 });
    const lr = num(args, 'lr', D.lr, { min: 1e-12 });
    const k = num(args, 'seeds', D.seeds, { integer: true, min: R.seeds.min, max: R.seeds.max });
    const splitSeed = num(args, 'split-seed', SPLIT_DEFAULTS.seed, { integer: true, min: 0 });
    const request = relevanceRequest(args, splitSeed, null);
    const json = bool(args, 'json');
    if (str(args, 'format') !== undefined) oneOf(args, 'format', MODEL_FORMATS, 'tfjs');

    await initBackend();
    const teacherModel = await loadModel(teacherFile);
    const format = oneOf(args, 'format', MODEL_FORMATS, teacherModel.format.type);
    const teacher = teacherModel.network;
    const owned: Graph[] = [teacher];
    let studentModel: LoadedModel | undefined;
    let studentRanking: Provenance | undefined;
    try {
      const ds = await loadDataForModel(teacherModel, data, dataOptions, splitSeed, ctx);
      const split = splitForModel(teacher, teacherModel.metadata, ds, {
        seed: splitSeed,
        standardize: bool(args, 'standardize'),
        file: teacherFile,
      });
      const privileged = columnsByName(ds.featureNames, list(args, 'teacher-features') ?? [], '--teacher-features');
      const cols = ds.featureNames.map((_, i) => i).filter((i) => !privileged.includes(i));
      if (cols.length === 0)
        throw badInput('every column is reserved for the teacher', {
          field: '--teacher-features',
          expected: 'leave at least one column to the student',
        });
      let student: Graph;
      let structuredStudent:
        | {
            structured: string;
            fraction: number;
            shares: { channels: number; params: number; macs: number };
            params: { teacher: number; student: number };
            macs: { teacher: number; student: number };
          }
        | undefined;
      if (structured) {
        if (privileged.length)
          throw badInput('--teacher-features needs a Dense student (--student or --widths)', {
            field: '--teacher-features',
            expected: 'no --teacher-features with --structured',
          });
        const built = await channelStudent(
          teacher,
          split,
          { ...request, signal: ctx.signal },
          {
            share: fraction!,
            unit,
            aggregate: ch.aggregate,
            scope: ch.scope,
            foldBn: foldBn(args),
            alreadyPruned: teacherModel.pruneMask,
            signal: ctx.signal,
          },
        );
        student = built.student;
        studentRanking = built.ranking.provenance;
        const { plan } = built;
        structuredStudent = {
          structured: unit!,
          fraction: fraction!,
          shares: plan.shares,
          params: { teacher: plan.teacherCost.params, student: plan.studentCost.params },
          macs: { teacher: plan.teacherCost.macs, student: plan.studentCost.macs },
        };
      } else if (widths) {
        const ranking = await computeRelevance(teacher, split, { ...request, signal: ctx.signal });
        studentRanking = ranking.provenance;
        const mask = studentMask(teacher, ranking, { widths }, teacherModel.pruneMask);
        const masked = Graph.fromSpec(teacher.toSpec());
        masked.setFlat(applyMask(teacher.toFlat(), mask));
        const shrunk = shrinkToStudent(masked, { mask }).network;
        masked.dispose();
        student = privileged.length ? withInputs(shrunk, cols) : shrunk;
        if (student !== shrunk) shrunk.dispose();
      } else {
        studentModel = await loadModel(studentFile!);
        const names = studentModel.metadata?.featureNames;
        // A student saved with feature names reads those columns; else it must read the non-privileged ones.
        const sCols = names ? columnsByName(ds.featureNames, names, `${studentModel.path}: featureNames`) : cols;
        if (sCols.some((c) => privileged.includes(c)))
          throw badInput('the student reads a column reserved for the teacher', {
            file: studentModel.path,
            field: 'featureNames',
            expected: 'none of --teacher-features',
          });
        if (studentModel.network.inputSize !== sCols.length)
          throw badInput(`the student takes ${studentModel.network.inputSize} inputs`, {
            file: studentModel.path,
            field: 'inputs',
            expected: `${sCols.length} (the columns it sees)`,
          });
        student = studentModel.network;
        cols.splice(0, cols.length, ...sCols);
      }
      owned.push(student);
      const studentFeatures = cols.length === ds.features && cols.every((c, i) => c === i) ? undefined : cols;
      const { distilledStudent: kept, ...r } = await distillExperiment(teacher, student, split, {
        temperature,
        alpha,
        epochs,
        batchSize,
        lr,
        seeds: Array.from({ length: k }, (_, i) => splitSeed + i),
        inits,
        studentFeatures,
        keepStudent: true,
        signal: ctx.signal,
        onProgress: (d, n, what) => {
          if (!json) ctx.log(`${d}/${n} ${what}`);
        },
      });
      owned.push(kept!.network);
      const model = await modelFiles(
        kept!.network,
        distilledMetadata(teacherModel, split, kept!, studentFeatures),
        format,
        teacherModel.path,
      );
      const doc = {
        ...r,
        /** The distilled student written: model.json for TF.js, else the .keras / .h5 / .onnx file. */
        distilledModel: { file: path.join(out, model.main), format, run: kept!.row, seed: kept!.seed },
        teacher: teacherModel.path,
        student:
          studentModel?.path ??
          (structuredStudent ? { ...structuredStudent, ranking: studentRanking } : { widths, ranking: studentRanking }),
        privilegedFeatures: privileged.map((i) => ds.featureNames[i]),
      };
      const html = renderReport({
        title: `Distillation on ${ds.name}`,
        intro: [
          `Teacher ${r.teacherSpec.join('-')}, student ${r.studentSpec.join('-')}; T = ${temperature}, alpha = ${alpha}, ${epochs} epochs, batch ${batchSize}, lr ${lr}, seeds ${splitSeed}..${splitSeed + k - 1}, split seed ${splitSeed}.`,
          ...r.comparisons.map((c) => c.statement),
          ...(privileged.length
            ? [
                `Privileged information: the teacher also sees ${doc.privilegedFeatures.join(', ')}; the student does not.`,
              ]
            : []),
        ],
        sections: [{ heading: `Test ${r.metric}`, figures: [distillFigure(r)] }],
        provenance: r.provenance,
      });
      writeFolderAtomic(out, {
        'distill.json': JSON.stringify(doc, null, 2),
        'distill.csv': distillCsv(r),
        'report.html': html,
        ...model.files,
      });
      if (json) {
        ctx.out(JSON.stringify(doc));
        return;
      }
      const f = (v: number) => (r.metric === 'accuracy' ? v.toFixed(4) : v.toPrecision(4));
      ctx.out(
        [
          `teacher ${r.teacherSpec.join('-')} -> student ${r.studentSpec.join('-')}, test ${r.metric} (mean +- sd over ${k} seeds):`,
          ...r.rows.map(
            (x) =>
              `  ${x.name.padEnd(24)} ${f(x.metricMean)} +- ${f(x.metricSd)}   loss ${x.lossMean.toPrecision(4)} +- ${x.lossSd.toPrecision(3)}`,
          ),
          ...r.comparisons.map((c) => c.statement),
          `distilled student (${kept!.row}, seed ${kept!.seed}): ${doc.distilledModel.file} (${format})`,
          `wrote ${out}`,
        ].join('\n'),
      );
    } finally {
      for (const n of owned) n.dispose();
    }
  },
};
