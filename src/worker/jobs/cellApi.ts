// The engine half of the notebook API (`prunescope.*` in a cell): each call is the panel's job of
// the same name (same params, same cache, so a notebook and the panel share rankings) or a thin
// engine call. Paths are resolved by the caller (relative = next to the notebook). Documented in
// docs/NOTEBOOK-API.md; the example is media/examples/analysis.prune.ipynb.
import * as path from 'path';
import { badInput } from '../../engine/errors';
import { HIDDEN_ACTIVATIONS } from '../../engine/model/activations';
import { trainNewModel } from '../../engine/train/newModel';
import { runFreezeExperiment, concludeFreezeExperiment } from '../../engine/ordering/experiment';
import { freezeTimelineFigure, lossVsShareFigure, orderedVarianceFigure } from '../../engine/ordering/figures';
import { relevanceHeatmap } from '../../engine/report/relevanceFigures';
import type { DataOptions, JobKind, JobParams, JobResult, PlotlyFigure } from '../../protocol';
import type { JobContext } from '../jobTypes';
import { handlerTable } from '../jobTypes';
import { analysisJob } from './analysis';
import { relevanceJob } from './relevance';
import { whatifJob } from './whatif';
import { pruneJob } from './prune';
import { exportStudentJob } from './exportStudent';
import { distillJob } from './distill';
import { gradientVarianceJob } from './gradientVariance';
import { freezeTimelineJob } from './freezeTimeline';
import { groupsJob } from './groups';
import { channelRelevanceJob } from './channelRelevance';
import { channelBars, filterMosaic } from '../../protocol/channelView';
import { belsleyView } from './analysis';
import { paramNames } from '../../engine/model/summary';
import { cachedRanking, modelAndSplit, toPlotly } from './modelCache';
import { dataOptions, int, num, obj, oneOf, rankingRequest, requestOf, seed, str } from './params';
import { isBuiltinDataset } from '../../engine/data';
import { NOTEBOOK_FREEZE_DEFAULTS, TRAIN_DEFAULTS } from '../../engine/options';

const T = TRAIN_DEFAULTS;

type Opts = Record<string, unknown>;

/** The notebook's names for how to read data files (the CLI's --labels, --x-key, ...). */
const DATA_OPTION_KEYS = ['labels', 'xKey', 'yKey', 'scale', 'resize', 'maxRows'];

// Imported directly, not via registry.ts (which imports cell.ts: a cycle).
const handlers = handlerTable([
  relevanceJob,
  analysisJob,
  whatifJob,
  pruneJob,
  exportStudentJob,
  distillJob,
  gradientVarianceJob,
  freezeTimelineJob,
  groupsJob,
  channelRelevanceJob,
]);

export function makeEngineApi(ctx: JobContext, resolve: (p: string) => string) {
  const job = async <K extends JobKind>(kind: K, params: Opts): Promise<JobResult<K>> => {
    const h = handlers[kind];
    return (await h.run(h.parse(params) as JobParams<K>, ctx)).result as JobResult<K>;
  };
  /**
   * `data` (a built-in name, or a path relative to the notebook) and how to read it (labels, xKey,
   * yKey, scale, resize, maxRows: the CLI's flags) -> the jobs' data and dataOptions.
   */
  const dataRef = (x: Opts, what: string): { data: string; dataOptions?: DataOptions } => {
    const data = str(x, 'data', what);
    const d: Opts = {};
    for (const k of DATA_OPTION_KEYS)
      if (x[k] !== undefined) d[k] = k === 'labels' && typeof x[k] === 'string' ? resolve(x[k]) : x[k];
    const options = Object.keys(d).length ? dataOptions({ dataOptions: d }, what) : undefined;
    return { data: isBuiltinDataset(data) ? data : resolve(data), ...(options ? { dataOptions: options } : {}) };
  };
  /** { model, data, seed } in the notebook's words -> the jobs' modelPath/data/seed. */
  const ref = (o: unknown, what: string): Opts & { modelPath: string; data: string; seed: number } => {
    const x = obj(o, what);
    if (typeof x.model !== 'string' || !x.model)
      throw badInput(`${what}: model is missing`, {
        field: 'model',
        expected:
          'a path to a model file: model.json or its folder, .keras, .h5, .onnx (relative to the notebook or absolute)',
      });
    const { model, ...rest } = x;
    for (const k of DATA_OPTION_KEYS) delete rest[k];
    return {
      ...rest,
      modelPath: resolve(model as string),
      ...dataRef(x, what),
      seed: seed(x, what),
    };
  };
  const withOut = (o: Opts) => (typeof o.out === 'string' ? { ...o, out: resolve(o.out) } : o);

  return {
    /** Relevance of every parameter by one method: { method, scores, order, figure } (first-layer heatmap). */
    relevance: (o: Opts) => job('relevance', ref(o, 'relevance')),
    /** Every method's ranking, the quality curves, heatmaps, Belsley and variational figures, a summary. */
    analysis: (o: Opts) => job('analysis', ref(o, 'analysis')),
    /** Just the method-comparison curves: { metric, baseline, shares, methods, figure }. */
    async curves(o: Opts) {
      const a = await job('analysis', ref(o, 'curves'));
      return { metric: a.summary.metric, baseline: a.summary.baseline, ...a.curves, figure: a.figures.curves };
    },
    /** The metric with `share` of the active weights removed by `method` (fast once ranked). */
    whatif: (o: Opts) => job('whatif', ref(o, 'whatif')),
    /** The channel dependency groups: { groups, removableChannels } (`data` is not needed). */
    groups: (o: Opts) => job('groups', { modelPath: resolve(str(obj(o, 'groups'), 'model', 'groups')) }),
    /** Every removable channel's relevance per group and the first convolution's filters. */
    channelRelevance: (o: Opts) => job('channel-relevance', ref(o, 'channelRelevance')),
    /** Belsley's diagnostic: { conditionIndices, figures: { condition, proportions } }. */
    async belsley(o: Opts) {
      const p = ref(o, 'belsley');
      const entry = await modelAndSplit(p, ctx);
      const r = await cachedRanking(
        entry,
        requestOf({ ...rankingRequest(p, 'belsley'), seed: p.seed }, 'belsley'),
        ctx,
      );
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
    /**
     * Freezing experiment: train the model's architecture from scratch, freeze shares at t0 by the order vs at random.
     */
    async freeze(o: Opts) {
      const p = ref(o, 'freeze');
      const entry = await modelAndSplit(p, ctx);
      const F = NOTEBOOK_FREEZE_DEFAULTS;
      const shares = (p.shares ?? F.shares) as number[];
      if (!Array.isArray(shares) || shares.some((s) => typeof s !== 'number' || !(s >= 0 && s <= 1)))
        throw badInput('freeze: shares must be numbers in [0, 1]', { field: 'shares' });
      const r = await runFreezeExperiment(entry.split, {
        spec: entry.model.network.toSpec(),
        steps: int(p, 'steps', 'freeze', 2, 1e6, F.steps),
        t0: int(p, 't0', 'freeze', 1, 1e6, F.t0),
        shares,
        seeds: int(p, 'seeds', 'freeze', 1, 100, F.seeds),
        batchSize: int(p, 'batchSize', 'freeze', 1, 1e5, F.batchSize),
        lr: num(p, 'lr', 'freeze', 1e-12, 10, F.lr),
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
    /** Distil `teacher` into `student` (a model file) or into `widths`; writes report.html into `out`. */
    distill(o: Opts) {
      const x = obj(o, 'distill');
      if (typeof x.teacher !== 'string')
        throw badInput('distill: teacher is missing', {
          field: 'teacher',
          expected: 'a path to the teacher model file',
        });
      const { teacher, student, ...rest } = x;
      for (const k of DATA_OPTION_KEYS) delete rest[k];
      return job(
        'distill',
        withOut({
          ...rest,
          ...dataRef(x, 'distill'),
          seed: x.seed ?? 0,
          teacherPath: resolve(teacher),
          ...(typeof student === 'string' ? { studentPath: resolve(student) } : {}),
        }),
      );
    },
    /**
     * Train a dense network on a data set and save it as a NEW model folder (`out`: a folder or a path ending in
     * model.json).
     */
    async train(o: Opts) {
      const x = obj(o, 'train');
      if (typeof x.data !== 'string' || typeof x.out !== 'string')
        throw badInput('train: data and out are required', { field: typeof x.data !== 'string' ? 'data' : 'out' });
      const outArg = resolve(x.out);
      const epochs = int(x, 'epochs', 'train', 1, 1e6, T.epochs);
      const { data, dataOptions: d } = dataRef(x, 'train');
      const m = await trainNewModel({
        data,
        ...(d ? { dataOptions: { ...d, maxRows: d.maxRows === 'all' ? undefined : d.maxRows } } : {}),
        layers: x.layers,
        layersField: 'train.layers',
        activation: oneOf(x, 'activation', 'train', HIDDEN_ACTIVATIONS, T.activation),
        epochs,
        batchSize: int(x, 'batchSize', 'train', 1, 1e5, T.batchSize),
        lr: num(x, 'lr', 'train', 1e-12, 10, T.lr),
        seed: seed(x, 'train'),
        standardize: x.standardize === undefined ? T.notebookStandardize : !!x.standardize,
        out: outArg.endsWith('.json') ? path.dirname(outArg) : outArg,
        signal: ctx.signal,
        onEpoch: (e) => ctx.progress(e.epoch / epochs, `epoch ${e.epoch}/${epochs}`),
      });
      return {
        modelJson: m.modelJson,
        layers: m.architecture,
        final: m.result.final,
        steps: m.result.steps,
        seconds: m.result.seconds,
      };
    },
    /** Figure helpers: build (not draw) figures from results; pass them to plot(). */
    figures: {
      /** Heatmap of one layer's scores from a relevance/analysis ranking of `model`. */
      async heatmap(o: Opts): Promise<PlotlyFigure> {
        const p = ref(o, 'figures.heatmap');
        const request = requestOf({ ...rankingRequest(p, 'figures.heatmap'), seed: p.seed });
        const entry = await modelAndSplit(p, ctx);
        const net = entry.model.network;
        const layer = int(p, 'layer', 'figures.heatmap', 0, net.layers().length - 1, 0);
        const r = await cachedRanking(entry, request, ctx);
        return toPlotly(relevanceHeatmap(net, r.scores, layer, r.method, entry.split.dataset.featureNames));
      },
      /** One bar chart of channel relevance per group of a channelRelevance() result. */
      channelBars: (r: JobResult<'channel-relevance'>) => r.groups.map((g) => channelBars(g, r.method)),
      /** The first convolution's filters of a channelRelevance() result, as one grey-scale figure. */
      filters: (r: JobResult<'channel-relevance'>, inChannel: number | 'mean' = 'mean') => {
        if (!r.firstConv)
          throw badInput('figures.filters: the model has no Conv2D', { field: 'firstConv', expected: 'a conv model' });
        return filterMosaic(r.firstConv, inChannel);
      },
      /** The ordered-variance figure from a gradientVariance() result. */
      orderedVariance: (g: { variances: number[]; order: number[] }) =>
        toPlotly(orderedVarianceFigure(g.variances, g.order)),
    },
  };
}
