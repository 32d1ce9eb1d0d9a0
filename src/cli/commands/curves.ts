// `prunescope curves MODEL --data D --methods ...`: test quality against the share of weights
// removed, every method side by side, as JSON, CSV and an HTML report.
import * as path from 'path';
import { Command } from '../command';
import { ParsedArgs, bool, num, str } from '../args';
import { badInput } from '../../engine/errors';
import { MODEL_DATA_FLAGS, openModelWithData } from '../modelData';
import { METHOD_OPTION_FLAGS, methodList, relevanceRequest } from '../relevanceOptions';
import { computeRelevance } from '../../engine/relevance/compute';
import { CURVE_DEFAULTS, RELEVANCE_METHODS, TRAIN_DEFAULTS } from '../../engine/options';
import { qualityCurves, CurvesResult, Ranker } from '../../engine/prune/curves';
import { train } from '../../engine/train/train';
import { writeFolderAtomic } from '../../engine/util/atomicWrite';
import { variationalWeightsFlag, variationalWeightsOf } from './variationalWeightsFlag';
import { renderReport } from '../../engine/report/html';
import { curvesFigure, structuredCurvesFigure } from '../../engine/prune/curvesFigure';
import { structuredQualityCurves, type StructuredCurvesResult } from '../../engine/prune/structuredCurves';
import { channelRanking } from '../../engine/prune/channelRanking';
import { channelGroups } from '../../engine/prune/groups';
import type { DataSplit } from '../../engine/data';
import type { Graph } from '../../engine/model/graph';
import type { RelevanceRequest } from '../../engine/relevance/compute';
import type { CliContext } from '../command';
import { CHANNEL_FLAGS, channelOptions, refuseVariationalWeights, type ChannelOptions } from '../structuredOptions';

export function structuredCurvesCsv(r: StructuredCurvesResult): string {
  const names = Object.keys(r.curves);
  const lines = [
    ['share', ...names.flatMap((n) => [`${n}_mean`, `${n}_sd`, `${n}_params_removed`, `${n}_macs_removed`])].join(','),
  ];
  r.shares.forEach((s, i) =>
    lines.push(
      [
        s,
        ...names.flatMap((n) => {
          const c = r.curves[n];
          return [c.mean[i], c.sd[i], c.paramsRemoved[i], c.macsRemoved[i]];
        }),
      ].join(','),
    ),
  );
  return lines.join('\n') + '\n';
}

export function structuredCurvesDocument(r: StructuredCurvesResult) {
  return {
    ...curvesDocument(r),
    structured: r.unit,
    aggregate: r.aggregate,
    scope: r.scope,
    removableChannels: r.removableChannels,
    curves: Object.fromEntries(
      Object.entries(r.curves).map(([k, c]) => [
        k,
        {
          mean: c.mean,
          sd: c.sd,
          channelsRemoved: c.channelsRemoved,
          paramsRemoved: c.paramsRemoved,
          macsRemoved: c.macsRemoved,
        },
      ]),
    ),
  };
}

/** Curves by channels: each method's channel ranking, masks grown along the grid. */
async function structuredRun(
  graph: Graph,
  split: DataSplit,
  base: RelevanceRequest,
  methods: readonly string[],
  ch: ChannelOptions,
  o: { step: number; seeds: number[]; finetune: number; seed: number; nSeeds: number },
  ctx: CliContext,
): Promise<StructuredCurvesResult> {
  const groups = channelGroups(graph.toSpec());
  const unit = ch.structured === 'units' ? 'units' : 'channels';
  return structuredQualityCurves(
    graph,
    split,
    methods.map((m) => ({
      name: m,
      stochastic: m === 'random' && o.nSeeds > 1,
      scores: async (s) =>
        (
          await channelRanking(
            graph,
            groups,
            split,
            { ...base, method: m as RelevanceRequest['method'], seed: s },
            {
              // native is Belsley's own channel relevance; the other methods aggregate by the default
              aggregate: ch.aggregate === 'native' && m !== 'belsley' ? 'sum' : ch.aggregate,
              unit,
              signal: ctx.signal,
            },
          )
        ).scores,
    })),
    {
      step: o.step,
      seeds: o.seeds,
      unit,
      aggregate: ch.aggregate === 'native' ? 'sum' : ch.aggregate,
      scope: ch.scope,
      signal: ctx.signal,
      ...(o.finetune > 0 ? { finetune: { epochs: o.finetune, seed: o.seed } } : {}),
      onProgress: (d, t, what) => {
        if (d % 25 === 0 || d === t) ctx.log(`${what}: ${d}/${t}`);
      },
    },
  );
}

export function curvesCsv(r: CurvesResult): string {
  const names = Object.keys(r.curves);
  const lines = [['share', ...names.flatMap((n) => [`${n}_mean`, `${n}_sd`])].join(',')];
  r.shares.forEach((s, i) =>
    lines.push([s, ...names.flatMap((n) => [r.curves[n].mean[i], r.curves[n].sd[i]])].join(',')),
  );
  return lines.join('\n') + '\n';
}

/** The JSON document `curves --json` and `experiment paper1 --json` print per data set. */
export function curvesDocument(r: CurvesResult) {
  return {
    metric: r.metric,
    shares: r.shares,
    curves: Object.fromEntries(Object.entries(r.curves).map(([k, c]) => [k, { mean: c.mean, sd: c.sd }])),
    baseline: r.baseline,
    ...(r.prunedWeights ? { prunedWeights: r.prunedWeights } : {}),
    provenance: r.provenance,
  };
}

export const curvesCommand: Command = {
  name: 'curves',
  summary: 'Test quality against the share of weights removed, for several relevance methods',
  usage:
    'prunescope curves MODEL --data D --methods random,obd,variational,belsley [--step 0.02] [--finetune N] [--recompute S] [--seeds K] [--variational-weights mu|teacher] [--structured channels|units [--aggregate A] [--scope S]] --out DIR [--json]',
  flags: [
    ...MODEL_DATA_FLAGS,
    ...METHOD_OPTION_FLAGS,
    { name: 'methods', value: true, help: `comma-separated: ${RELEVANCE_METHODS.join(', ')} (default all)` },
    { name: 'step', value: true, help: `share step (default ${CURVE_DEFAULTS.step})` },
    {
      name: 'finetune',
      value: true,
      help: `epochs of fine-tuning after each step, mask kept (default ${CURVE_DEFAULTS.finetuneEpochs})`,
    },
    {
      name: 'recompute',
      value: true,
      help: `re-rank every S steps of the grid (default ${CURVE_DEFAULTS.recomputeEvery}: one ranking)`,
    },
    { name: 'seeds', value: true, help: `seeds of the random method (default ${CURVE_DEFAULTS.randomSeeds})` },
    { name: 'include-bias', value: false, help: 'biases may be pruned too' },
    variationalWeightsFlag,
    ...CHANNEL_FLAGS,
    { name: 'out', value: true, help: 'new folder for curves.json, curves.csv and report.html' },
    { name: 'json', value: false, help: 'print one JSON document' },
  ],
  async run(args: ParsedArgs, ctx) {
    const out = str(args, 'out');
    if (!out) throw badInput('--out is required', { field: '--out', expected: 'a new folder for the curves' });
    const methods = methodList(args, 'methods', RELEVANCE_METHODS);
    const step = num(args, 'step', CURVE_DEFAULTS.step, { min: 1e-3, max: 1 });
    const finetune = num(args, 'finetune', CURVE_DEFAULTS.finetuneEpochs, { integer: true, min: 0 });
    const recompute = num(args, 'recompute', CURVE_DEFAULTS.recomputeEvery, { integer: true, min: 0 });
    const nSeeds = num(args, 'seeds', CURVE_DEFAULTS.randomSeeds, { integer: true, min: 1 });
    const ch = channelOptions(args);
    refuseVariationalWeights(args, ch);
    if (ch.structured !== 'none' && (recompute > 0 || bool(args, 'include-bias')))
      throw badInput('--recompute and --include-bias are for weight curves', {
        field: recompute > 0 ? '--recompute' : '--include-bias',
        expected: 'no --recompute / --include-bias with --structured',
      });
    const { model, split, seed } = await openModelWithData(args, 'curves', this.usage, ctx);
    try {
      const base = relevanceRequest(args, seed);
      if (ch.structured !== 'none') {
        const seeds = Array.from({ length: nSeeds }, (_, i) => seed + i);
        const r = await structuredRun(
          model.network,
          split,
          base,
          methods,
          ch,
          { step, seeds, finetune, seed, nSeeds },
          ctx,
        );
        const doc = structuredCurvesDocument(r);
        const html = renderReport({
          title: `Channel pruning curves: ${path.basename(args.positional[0])} on ${split.dataset.name}`,
          sections: [{ heading: `Quality against share of ${r.unit} removed`, figures: [structuredCurvesFigure(r)] }],
          provenance: r.provenance,
        });
        writeFolderAtomic(out, {
          'curves.json': JSON.stringify(doc),
          'curves.csv': structuredCurvesCsv(r),
          'report.html': html,
        });
        ctx.out(
          bool(args, 'json')
            ? JSON.stringify(doc)
            : [
                structuredCurvesCsv(r).split('\n').slice(0, 6).join('\n'),
                '...',
                `written: ${path.join(out, 'report.html')}`,
              ].join('\n'),
        );
        return;
      }
      const variationalWeights = variationalWeightsOf(args);
      const rankers: Ranker[] = methods.map((m) => ({
        name: m,
        stochastic: m === 'random' && nSeeds > 1,
        variationalWeights,
        rank: (net, s) => computeRelevance(net, split, { ...base, method: m, seed: s, signal: ctx.signal }),
      }));
      const r = await qualityCurves(model.network, split, rankers, {
        step,
        seeds: Array.from({ length: nSeeds }, (_, i) => seed + i),
        recomputeEvery: recompute,
        includeBias: bool(args, 'include-bias'),
        signal: ctx.signal,
        finetune:
          finetune > 0
            ? async (net, pruned) => {
                await train(net, split, {
                  epochs: finetune,
                  batchSize: TRAIN_DEFAULTS.batchSize,
                  lr: TRAIN_DEFAULTS.lr,
                  seed,
                  pruneMask: pruned,
                  evalEvery: 0,
                  signal: ctx.signal,
                });
              }
            : undefined,
        onProgress: (d, t, what) => {
          if (d % 25 === 0 || d === t) ctx.log(`${what}: ${d}/${t}`);
        },
      });
      const doc = curvesDocument(r);
      const html = renderReport({
        title: `Pruning curves: ${path.basename(args.positional[0])} on ${split.dataset.name}`,
        sections: [{ heading: 'Quality against share removed', figures: [curvesFigure(r)] }],
        provenance: r.provenance,
      });
      writeFolderAtomic(out, { 'curves.json': JSON.stringify(doc), 'curves.csv': curvesCsv(r), 'report.html': html });
      if (bool(args, 'json')) {
        ctx.out(JSON.stringify(doc));
        return;
      }
      ctx.out(
        [curvesCsv(r).split('\n').slice(0, 6).join('\n'), '...', `written: ${path.join(out, 'report.html')}`].join(
          '\n',
        ),
      );
    } finally {
      model.network.dispose();
    }
  },
};
