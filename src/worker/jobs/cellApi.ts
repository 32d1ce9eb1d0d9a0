// The engine half of the notebook API (`prunescope.*` in a cell): each call is the panel's job of
// the same name (same params, same cache, so a notebook and the panel share rankings) or a thin
// engine call. Paths are resolved by the caller (relative = next to the notebook). Documented in
// docs/NOTEBOOK-API.md; the example is media/examples/analysis.prune.ipynb.
import * as path from 'path';
import { initBackend } from '../../engine/backend';
import { badInput } from '../../engine/errors';
import { loadDataset, splitDataset, numClasses } from '../../engine/data';
import { saveModel } from '../../engine/model/layersModel';
import { Network } from '../../engine/model/network';
import { HIDDEN_ACTIVATIONS } from '../../engine/model/activations';
import { makeProvenance, hashModel } from '../../engine/provenance';
import { train as trainNet } from '../../engine/train/train';
import { runFreezeExperiment, concludeFreezeExperiment } from '../../engine/ordering/experiment';
import { freezeTimelineFigure, lossVsShareFigure, orderedVarianceFigure } from '../../engine/ordering/figures';
import { relevanceHeatmap } from '../../engine/report/relevanceFigures';
import { buildSpec } from '../../cli/commands/train';
import type { JobKind, JobParams, JobResult, PlotlyFigure } from '../../protocol';
import type { JobContext } from '../jobTypes';
import type { JobHandler } from '../jobTypes';
import { analysisJob } from './analysis';
import { whatifJob } from './whatif';
import { pruneJob } from './prune';
import { exportStudentJob } from './exportStudent';
import { distillJob } from './distill';
import { gradientVarianceJob } from './gradientVariance';
import { freezeTimelineJob } from './freezeTimeline';
import { belsleyView, paramNames } from './analysis';
import { cachedRanking, modelAndSplit, toPlotly } from './modelCache';
import { int, num, obj, oneOf, str } from './params';
import { RELEVANCE_METHODS, type RelevanceMethod } from '../../engine/relevance/types';

type Opts = Record<string, unknown>;

// Imported directly, not via registry.ts (which imports cell.ts: a cycle).
const handlers: Record<string, JobHandler<JobKind>> = Object.fromEntries(
  (
    [
      analysisJob,
      whatifJob,
      pruneJob,
      exportStudentJob,
      distillJob,
      gradientVarianceJob,
      freezeTimelineJob,
    ] as JobHandler<any>[]
  ).map((h) => [h.kind, h]),
);

export function makeEngineApi(ctx: JobContext, resolve: (p: string) => string) {
  const job = async <K extends JobKind>(kind: K, params: Opts): Promise<JobResult<K>> => {
    const h = handlers[kind];
    return (await h.run(h.parse(params) as JobParams<K>, ctx)).result as JobResult<K>;
  };
  /** { model, data, seed } in the notebook's words -> the jobs' modelPath/data/seed. */
  const ref = (o: unknown, what: string): Opts & { modelPath: string; data: string; seed: number } => {
    const x = obj(o, what);
    if (typeof x.model !== 'string' || !x.model)
      throw badInput(`${what}: model is missing`, {
        field: 'model',
        expected: 'a path to model.json (relative to the notebook or absolute)',
      });
    const { model, ...rest } = x;
    return {
      ...rest,
      modelPath: resolve(model as string),
      data: str(x, 'data', what),
      seed: int(x, 'seed', what, 0, 2 ** 31 - 1, 0),
    };
  };
  const withOut = (o: Opts) => (typeof o.out === 'string' ? { ...o, out: resolve(o.out) } : o);

  return {
    /** Every method's ranking, the quality curves, heatmaps, Belsley and variational figures, a summary. */
    analysis: (o: Opts) => job('analysis', ref(o, 'analysis')),
    /** Just the method-comparison curves: { metric, baseline, shares, methods, figure }. */
    async curves(o: Opts) {
      const a = await job('analysis', ref(o, 'curves'));
      return { metric: a.summary.metric, baseline: a.summary.baseline, ...a.curves, figure: a.figures.curves };
    },
    /** The metric with `share` of the active weights removed by `method` (fast once ranked). */
    whatif: (o: Opts) => job('whatif', ref(o, 'whatif')),
    /** Belsley's diagnostic: { conditionIndices, figures: { condition, proportions } }. */
    async belsley(o: Opts) {
      const p = ref(o, 'belsley');
      const entry = await modelAndSplit(p, ctx);
      const r = await cachedRanking(entry, 'belsley', p.seed, ctx);
      const view = belsleyView(r, paramNames(entry.model.network, entry.split.dataset.featureNames));
      if (!view) throw badInput('belsley: the ranking carries no diagnostic', { field: 'method' });
      const { belsleyConditionFigure, belsleyProportionsFigure } = await import('../../engine/report/relevanceFigures');
      return {
        conditionIndices: Array.from(view.conditionIndices),
        order: Array.from(r.order),
        figures: {
          condition: toPlotly(belsleyConditionFigure(view)),
          proportions: toPlotly(belsleyProportionsFigure(view)),
        },
      };
    },
    /** Gradient-variance order (essay section 3): { variances, order, ranks, figures }. */
    gradientVariance: (o: Opts) => job('gradient-variance', ref(o, 'gradientVariance')),
    order: (o: Opts) => job('gradient-variance', ref(o, 'order')),
    /** The panel's freeze timeline: from the model's weights, freeze `share` at t0 vs no freezing (same batches). */
    freezeTimeline: (o: Opts) => job('freeze-timeline', ref(o, 'freezeTimeline')),
    /** Freezing experiment: train the model's architecture from scratch, freeze shares at t0 by the order vs at random. */
    async freeze(o: Opts) {
      const p = ref(o, 'freeze');
      const entry = await modelAndSplit(p, ctx);
      const shares = (p.shares ?? [0, 0.25, 0.5, 0.75]) as number[];
      if (!Array.isArray(shares) || shares.some((s) => typeof s !== 'number' || !(s >= 0 && s <= 1)))
        throw badInput('freeze: shares must be numbers in [0, 1]', { field: 'shares' });
      const r = await runFreezeExperiment(entry.split, {
        spec: structuredClone(entry.model.network.spec),
        steps: int(p, 'steps', 'freeze', 2, 1e6, 300),
        t0: int(p, 't0', 'freeze', 1, 1e6, 100),
        shares,
        seeds: int(p, 'seeds', 'freeze', 1, 100, 3),
        batchSize: int(p, 'batchSize', 'freeze', 1, 1e5, 32),
        lr: num(p, 'lr', 'freeze', 1e-12, 10, 1e-3),
        signal: ctx.signal,
        onProgress: (m) => ctx.progress(undefined, m),
      });
      return {
        rows: r.rows,
        conclusion: concludeFreezeExperiment(r.rows),
        figures: {
          test: toPlotly(lossVsShareFigure(r, 'test')),
          train: toPlotly(lossVsShareFigure(r, 'train')),
          timeline: toPlotly(freezeTimelineFigure(r.timeline)),
        },
      };
    },
    /** Prune `fraction` of the active weights into the NEW folder `out`. */
    prune: (o: Opts) => job('prune', withOut(ref(o, 'prune'))),
    /** A physically smaller student in the NEW folder `out` (fraction or widths). */
    exportStudent: (o: Opts) => job('export-student', withOut(ref(o, 'exportStudent'))),
    /** Distil `teacher` into `student` (a model.json) or into `widths`; writes report.html into `out`. */
    distill(o: Opts) {
      const x = obj(o, 'distill');
      if (typeof x.teacher !== 'string')
        throw badInput('distill: teacher is missing', {
          field: 'teacher',
          expected: 'a path to the teacher model.json',
        });
      const { teacher, student, ...rest } = x;
      return job(
        'distill',
        withOut({
          ...rest,
          seed: x.seed ?? 0,
          teacherPath: resolve(teacher),
          ...(typeof student === 'string' ? { studentPath: resolve(student) } : {}),
        }),
      );
    },
    /** Train a dense network on a data set and save it as a NEW model folder (`out`: a folder or a path ending in model.json). */
    async train(o: Opts) {
      const x = obj(o, 'train');
      if (typeof x.data !== 'string' || typeof x.out !== 'string')
        throw badInput('train: data and out are required', { field: typeof x.data !== 'string' ? 'data' : 'out' });
      const outArg = resolve(x.out);
      const out = outArg.endsWith('.json') ? path.dirname(outArg) : outArg;
      const seed = int(x, 'seed', 'train', 0, 2 ** 31 - 1, 0);
      const epochs = int(x, 'epochs', 'train', 1, 1e6, 100);
      const batchSize = int(x, 'batchSize', 'train', 1, 1e5, 32);
      const lr = num(x, 'lr', 'train', 1e-12, 10, 1e-3);
      const activation = oneOf(x, 'activation', 'train', HIDDEN_ACTIVATIONS, 'tanh');
      const standardize = x.standardize === undefined ? true : !!x.standardize;
      await initBackend();
      const ds = loadDataset(x.data);
      const split = splitDataset(ds, { seed, standardize });
      const spec = buildSpec(
        ds.features,
        ds.task === 'classification' ? numClasses(ds) : 1,
        ds.task,
        x.layers,
        activation,
        'train.layers',
      );
      const net = Network.random(spec, seed);
      try {
        const r = await trainNet(net, split, {
          epochs,
          batchSize,
          lr,
          seed,
          signal: ctx.signal,
          evalEvery: 0,
          onEpoch: (m) => ctx.progress(m.epoch / epochs, `epoch ${m.epoch}/${epochs}`),
        });
        const saved = await saveModel(out, net, {
          task: ds.task,
          featureNames: ds.featureNames,
          targetName: ds.targetName,
          ...(ds.labelNames ? { labelNames: ds.labelNames } : {}),
          ...(split.standardization ? { preprocessing: { standardization: split.standardization } } : {}),
          provenance: makeProvenance({
            job: 'train',
            seed,
            modelHash: hashModel(spec, net.toFlat()),
            data: {
              name: ds.name,
              split: 'train',
              rows: split.train.rows,
              splitSeed: seed,
              testFraction: split.testFraction,
              standardized: standardize,
            },
            options: {
              layers: spec.layers.map((l) => l.units),
              activation,
              epochs,
              batchSize,
              lr,
              optimizer: 'adam(0.9, 0.999, 1e-7)',
            },
          }),
        });
        return {
          modelJson: saved.modelJson,
          layers: [spec.inputSize, ...spec.layers.map((l) => l.units)],
          final: r.final,
          steps: r.steps,
          seconds: r.seconds,
        };
      } finally {
        net.dispose();
      }
    },
    /** Figure helpers: build (not draw) figures from results; pass them to plot(). */
    figures: {
      /** Heatmap of one layer's scores from a relevance/analysis ranking of `model`. */
      async heatmap(o: Opts): Promise<PlotlyFigure> {
        const p = ref(o, 'figures.heatmap');
        const method = oneOf(p, 'method', 'figures.heatmap', RELEVANCE_METHODS, 'obd') as RelevanceMethod;
        const entry = await modelAndSplit(p, ctx);
        const net = entry.model.network;
        const layer = int(p, 'layer', 'figures.heatmap', 0, net.layout.length - 1, 0);
        const r = await cachedRanking(entry, method, p.seed, ctx);
        return toPlotly(relevanceHeatmap(net, r.scores, layer, method, entry.split.dataset.featureNames));
      },
      /** The ordered-variance figure from a gradientVariance() result. */
      orderedVariance: (g: { variances: number[]; order: number[] }) =>
        toPlotly(orderedVarianceFigure(g.variances, g.order)),
    },
  };
}
