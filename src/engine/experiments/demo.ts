// The main job (`npm run demo`): the seed's full analysis on Wine. Teachers trained over seeds,
// relevance by the four methods, the quality-against-share curves, the gradient-variance order,
// the student exported by the best method at the largest share that keeps accuracy within one
// point of the teacher ON A VALIDATION PART held out of the teacher's training (reported on test),
// distillation into it against labels-only baselines from the same start, and one report.
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { saveModel, loadModel } from '../formats/modelFile';
import { paramNames } from '../model/summary';
import { makeProvenance } from '../provenance';
import { renderReport, ReportSection } from '../report/html';
import {
  relevanceHeatmap,
  variationalFigure,
  belsleyConditionFigure,
  belsleyProportionsFigure,
  BelsleyView,
} from '../report/relevanceFigures';
import { orderParameters } from '../ordering/orderModel';
import { orderedVarianceFigure } from '../ordering/figures';
import { studentAtBestShare } from '../prune/bestShare';
import { exportStudent, StudentReport } from '../prune/studentExport';
import { distillExperiment, distillFigure, DistillReport } from '../distill/experiment';
import { runPaper1, Paper1Result, DEFAULT_METHODS } from './paper1';
import { paper1Sections } from './paper1Report';
import { DISTILL_DEFAULTS, SELECTION_DEFAULTS, type RelevanceMethod } from '../options';
import { numClasses } from '../data/dataset';
import { posteriorMeanNetwork } from '../relevance/variational';

export interface DemoOptions {
  out: string;
  seeds?: number[];
  methods?: RelevanceMethod[];
  /** Smaller budgets for a quick run (tests). */
  quick?: boolean;
  /** Share of the training part held out to choose the student on (default SELECTION_DEFAULTS). */
  validationFraction?: number;
  signal?: AbortSignal;
  log?: (m: string) => void;
}

export interface DemoResult {
  out: string;
  report: string;
  paper1: Paper1Result;
  best: DemoChoice;
  student: StudentReport;
  distill: DistillReport;
}

/** The student's choice: made on the validation part, reported on test. */
export interface DemoChoice {
  method: string;
  share: number;
  /** The weights the student keeps: the teacher's, or the variational posterior mean mu. */
  weights: 'network' | 'mu';
  rule: string;
  validation: { rows: number; fraction: number; metric: number; teacher: number };
  test: { rows: number; metric: number; teacher: number };
  /** Kept for readers of the earlier summary: the test metrics. */
  metric: number;
  baseline: number;
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const log = o.log ?? (() => undefined);
  const seeds = o.seeds ?? [0, 1, 2];
  const methods = o.methods ?? DEFAULT_METHODS;
  const validationFraction = o.validationFraction ?? SELECTION_DEFAULTS.validationFraction;
  // Build everything in a staging folder next to `out`, then swap it in: a cancelled or failed
  // demo leaves the previous results untouched.
  const out = path.resolve(o.out);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const stage = path.join(path.dirname(out), `.${path.basename(out)}.${randomBytes(4).toString('hex')}.tmp`);
  fs.mkdirSync(stage);
  try {
    log(`paper1 experiment on Wine: ${seeds.length} teacher seeds, methods ${methods.join(', ')}`);
    const p1 = await runPaper1('wine', {
      seeds,
      methods,
      step: o.quick ? 0.1 : 0.02,
      epochs: o.quick ? 60 : undefined,
      variationalEpochs: o.quick ? 20 : undefined,
      randomSeeds: o.quick ? 2 : 5,
      validationFraction,
      signal: o.signal,
      onProgress: log,
    });
    const run = p1.runs[0];
    const teacher = run.network;
    const split = run.split;
    const ds = split.dataset;
    await saveModel(path.join(stage, 'teacher'), teacher, {
      task: ds.task,
      featureNames: ds.featureNames,
      targetName: ds.targetName,
      labelNames: ds.labelNames,
      preprocessing: split.standardization ? { standardization: split.standardization } : undefined,
      provenance: makeProvenance({
        job: 'train',
        seed: run.seed,
        data: {
          name: ds.name,
          split: 'train',
          rows: split.train.rows,
          splitSeed: split.seed,
          testFraction: split.testFraction,
          standardized: true,
        },
        options: {
          network: p1.setup.description,
          epochs: p1.setup.epochs,
          lr: p1.setup.lr,
          validationFraction,
          validationRows: run.validation?.rows ?? 0,
        },
      }),
    });

    log('gradient-variance ordering of the teacher (essay estimator, 300 Adam steps)');
    const ordering = await orderParameters(teacher, split, {
      steps: o.quick ? 60 : 300,
      seed: run.seed,
      signal: o.signal,
    });

    const rankings = Object.fromEntries(Object.entries(run.rankings).filter(([k]) => !k.includes(':')));
    const randomKey = Object.keys(run.rankings).find((k) => k.startsWith('random'));
    if (randomKey) rankings.random ??= run.rankings[randomKey];
    const best = studentAtBestShare(
      teacher,
      {
        validation: run.validation!,
        test: split.test,
        task: ds.task,
        classes: numClasses(ds),
        validationFraction,
      },
      rankings,
      { maxDrop: 0.01, shares: p1.shares },
    );
    log(`student: ${best.method} at ${(100 * best.share).toFixed(0)} % of weights removed (${best.rule})`);
    // A variational choice keeps the posterior mean mu (as its curve and the choice did): the student
    // is cut from mu, saved beside the teacher.
    let studentSource = path.join(stage, 'teacher', 'model.json');
    if (best.weights === 'mu') {
      const mu = posteriorMeanNetwork(teacher, rankings.variational as unknown as { mu: Float32Array });
      const saved = await loadModel(studentSource);
      saved.network.dispose();
      const teacherMeta = saved.metadata;
      await saveModel(path.join(stage, 'posterior-mean'), mu, {
        ...teacherMeta,
        provenance: { ...rankings.variational.provenance, job: 'variational posterior mean' },
      });
      mu.dispose();
      studentSource = path.join(stage, 'posterior-mean', 'model.json');
    }
    const teacherModel = await loadModel(studentSource);
    const student = await exportStudent(teacherModel, split, {
      method: rankings[best.method],
      fraction: best.share,
      out: path.join(stage, 'student'),
      seed: run.seed,
      signal: o.signal,
    });
    teacherModel.network.dispose();

    log(
      "distillation into the student (3 seeds; from random weights and from the teacher's, each against labels only from the same start)",
    );
    const studentModel = await loadModel(student.files.modelJson);
    const dist = await distillExperiment(teacher, studentModel.network, split, {
      temperature: DISTILL_DEFAULTS.temperature,
      alpha: DISTILL_DEFAULTS.alpha,
      epochs: o.quick ? 20 : 150,
      batchSize: 16,
      lr: 0.01,
      seeds,
      signal: o.signal,
    });
    studentModel.network.dispose();

    const names = paramNames(teacher, ds.featureNames);
    const sections: ReportSection[] = [...paper1Sections(p1)];
    const relevanceFigures = methods
      .filter((m) => rankings[m])
      .map((m) => relevanceHeatmap(teacher, rankings[m].scores, 0, m, ds.featureNames));
    const varRes = rankings.variational as unknown as { mu?: Float32Array; sigma?: Float32Array } | undefined;
    if (varRes?.mu && varRes.sigma) relevanceFigures.push(variationalFigure(varRes.mu, varRes.sigma));
    sections.push({
      heading: 'Relevance of the first layer, by method (teacher of seed ' + run.seed + ')',
      figures: relevanceFigures,
    });
    const bel = rankings.belsley?.extra as
      { conditionIndices?: number[]; proportions?: number[][]; proportionParameters?: number[] } | undefined;
    if (bel?.conditionIndices && bel.proportions) {
      const view: BelsleyView = {
        conditionIndices: bel.conditionIndices,
        proportions: bel.proportions,
        names: (bel.proportionParameters ?? bel.proportions.map((_, i) => i)).map((j) => names[j]),
      };
      sections.push({
        heading: `Belsley diagnostic (${rankings.belsley.covariance ?? 'laplace'} covariance)`,
        figures: [belsleyConditionFigure(view), belsleyProportionsFigure(view)],
      });
    }
    sections.push({
      heading: 'Gradient-variance order (essay section 3)',
      text: [
        `${ordering.estimator} estimator, ${ordering.mode} mode, ${ordering.steps} Adam steps from the teacher's weights. Least-varying parameters: ${Array.from(
          ordering.order.subarray(0, 8),
        )
          .map((j) => names[j])
          .join(', ')}.`,
      ],
      figures: [orderedVarianceFigure(Array.from(ordering.variances), Array.from(ordering.order))],
    });
    const m = (x: { accuracy?: number; mse?: number }) => x.accuracy ?? x.mse ?? NaN;
    sections.push({
      heading: 'The student: physically smaller',
      text: [
        `Chosen on a validation part (${best.validation.rows} rows, ${100 * validationFraction} % of the training part, held out of the teacher's training): ${best.method} at ${(100 * best.share).toFixed(0)} % of weights removed, the largest share that keeps validation accuracy within 1 point of the teacher at every grid share up to it (${best.rule}; validation: student ${best.validation.metric.toFixed(4)} vs teacher ${best.validation.baseline.toFixed(4)}; one validation row is ${(100 / best.validation.rows).toFixed(1)} points).`,
        `Reported on the test part (${best.testRows} rows, one row = ${(100 / best.testRows).toFixed(1)} points), which the choice never saw: student ${best.metric.toFixed(4)} vs teacher ${best.baseline.toFixed(4)}.${best.weights === 'mu' ? ' The student keeps the variational posterior mean mu (posterior-mean/model.json), as the variational curve does; "teacher" in the line below is that posterior mean.' : ''}`,
        `Widths ${student.widthsBefore.join('-')} -> ${student.widthsAfter.join('-')}; parameters ${student.paramsBefore} -> ${student.paramsAfter}; weight file ${student.bytes.teacherWeights} -> ${student.bytes.studentWeights} bytes; inference on ${student.latency.batchRows} rows ${student.latency.teacherMs.toFixed(3)} ms -> ${student.latency.studentMs.toFixed(3)} ms (median of ${student.latency.runs}).`,
        `Test ${student.metrics.metric}: teacher ${m(student.metrics.teacher).toFixed(4)}, masked teacher ${m(student.metrics.maskedTeacher).toFixed(4)}, student ${m(student.metrics.student).toFixed(4)} (the student computes the masked teacher's function).${student.unusedInputs.length ? ` Unused inputs: ${student.unusedInputs.join(', ')}.` : ''}`,
      ],
    });
    const rowText = dist.rows.map((r) => `${r.name} ${r.metricMean.toFixed(4)} ± ${r.metricSd.toFixed(4)}`).join('; ');
    sections.push({
      heading: 'Distillation into the student',
      text: [
        `Test ${dist.metric}, mean ± sd over seeds ${seeds.join(', ')}: ${rowText}.`,
        'Each claim below compares like with like: a distilled student against the student trained on labels alone from the same starting weights and seed (paired differences).',
        ...dist.comparisons.map((c) => c.statement),
      ],
      figures: [distillFigure(dist)],
    });
    const html = renderReport({
      title: 'PruneScope demo: which parameters of a Wine classifier matter',
      intro: [
        "The seed's full analysis on the Wine data set (178 wines, 13 features, 3 cultivars): relevance by four methods, pruning curves, gradient-variance order, a physically smaller student and distillation into it. Every number below is recomputed on each run.",
      ],
      sections,
      provenance: {
        paper1: p1.provenance,
        ordering: ordering.provenance,
        student: student.provenance,
        selection: {
          choseOn: {
            part: 'validation',
            rows: best.validation.rows,
            fraction: validationFraction,
            heldOutOfTraining: true,
          },
          reportedOn: { part: 'test', rows: best.testRows },
          rule: best.rule,
          weights: best.weights,
        },
        distill: dist.provenance,
      },
    });
    fs.writeFileSync(path.join(stage, 'report.html'), html);
    fs.writeFileSync(
      path.join(stage, 'curves.json'),
      JSON.stringify({
        metric: p1.metric,
        shares: p1.shares,
        curves: Object.fromEntries(Object.entries(p1.curves).map(([k, c]) => [k, { mean: c.mean, sd: c.sd }])),
        baseline: p1.baseline,
        provenance: p1.provenance,
      }),
    );
    const bestSummary: DemoChoice = {
      method: best.method,
      share: best.share,
      weights: best.weights,
      rule: best.rule,
      validation: {
        rows: best.validation.rows,
        fraction: validationFraction,
        metric: best.validation.metric,
        teacher: best.validation.baseline,
      },
      test: { rows: best.testRows, metric: best.metric, teacher: best.baseline },
      metric: best.metric,
      baseline: best.baseline,
    };
    fs.writeFileSync(
      path.join(stage, 'summary.json'),
      JSON.stringify(
        {
          best: bestSummary,
          student: {
            widthsBefore: student.widthsBefore,
            widthsAfter: student.widthsAfter,
            paramsBefore: student.paramsBefore,
            paramsAfter: student.paramsAfter,
            bytes: student.bytes,
            latency: student.latency,
            metrics: student.metrics,
          },
          distill: dist.rows.map((r) => ({ name: r.name, mean: r.metricMean, sd: r.metricSd })),
          distillComparisons: dist.comparisons,
        },
        null,
        2,
      ),
    );
    p1.runs.forEach((r) => r.network.dispose());
    // Swap the staged results in; the old folder is removed only after the new one is in place.
    const aside = `${stage}.old`;
    if (fs.existsSync(out)) fs.renameSync(out, aside);
    fs.renameSync(stage, out);
    fs.rmSync(aside, { recursive: true, force: true });
    const fixPath = (p: string) => p.replace(stage, out);
    student.files = {
      modelJson: fixPath(student.files.modelJson),
      kerasConfig: fixPath(student.files.kerasConfig),
      studentJson: fixPath(student.files.studentJson),
    };
    return { out, report: path.join(out, 'report.html'), paper1: p1, best: bestSummary, student, distill: dist };
  } catch (e) {
    fs.rmSync(stage, { recursive: true, force: true });
    throw e;
  }
}
