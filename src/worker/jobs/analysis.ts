// `analysis`: everything the side panel shows for one model + data. Each method ranks once (the
// ranking stays in the worker cache for `whatif`), the quality curves reuse those rankings on the
// share grid, and the figures come from the engine's report module.
import { backendInfo } from '../../engine/backend';
import { throwIfCancelled } from '../../engine/errors';
import { layerSummary, paramNames } from '../../engine/model/summary';
import { qualityCurves, shareGrid, type Ranker } from '../../engine/prune/curves';
import { countOnes, zeroMask } from '../../engine/prune/mask';
import type { RelevanceResult } from '../../engine/relevance/types';
import { CURVE_DEFAULTS, RELEVANCE_METHODS, type RelevanceMethod } from '../../engine/options';
import { curvesFigure } from '../../engine/prune/curvesFigure';
import {
  belsleyConditionFigure,
  belsleyProportionsFigure,
  relevanceHeatmap,
  variationalFigure,
  type BelsleyView,
} from '../../engine/report/relevanceFigures';
import { badInput } from '../../engine/errors';
import type { JobResult, PlotlyFigure, ProvenanceRecord } from '../../protocol';
import type { JobHandler } from '../jobTypes';
import { cachedRanking, modelAndSplit, toPlotly } from './modelCache';
import { modelRef, num, obj, rankingRequest, requestOf } from './params';

/** `layer.W[input,unit]` / `layer.b[unit]`, with feature names on the first layer. */
export function parseMethods(v: unknown, job: string): RelevanceMethod[] {
  if (v === undefined) return [...RELEVANCE_METHODS];
  if (
    !Array.isArray(v) ||
    v.length === 0 ||
    v.some((m) => typeof m !== 'string' || !(RELEVANCE_METHODS as readonly string[]).includes(m))
  ) {
    throw badInput(`${job}: unknown method in ${JSON.stringify(v)}`, {
      field: 'methods',
      expected: `a non-empty list of ${RELEVANCE_METHODS.join(', ')}`,
    });
  }
  return [...new Set(v as RelevanceMethod[])];
}

/** Belsley's view from a ranking's extras, or undefined when the method did not produce one. */
export function belsleyView(r: RelevanceResult, names: string[]): BelsleyView | undefined {
  const bel = r.extra as
    { conditionIndices?: ArrayLike<number>; proportions?: number[][]; proportionParameters?: number[] } | undefined;
  if (!bel?.conditionIndices || !bel.proportions?.length) return undefined;
  return {
    conditionIndices: bel.conditionIndices,
    proportions: bel.proportions,
    names: (bel.proportionParameters ?? bel.proportions.map((_, i) => i)).map((j) => names[j] ?? `p${j}`),
  };
}

export const analysisJob: JobHandler<'analysis'> = {
  kind: 'analysis',
  parse(raw) {
    const o = obj(raw, 'analysis');
    const step = num(o, 'step', 'analysis', 0.001, 0.5, CURVE_DEFAULTS.step);
    if (Math.abs(Math.round(1 / step) * step - 1) > 1e-9)
      throw badInput('analysis: step must divide 1', {
        field: 'step',
        expected: 'a step like 0.01, 0.02, 0.05, 0.1 (1/step an integer)',
      });
    // The methods' options (variant, covariance, ordering) apply to every method they concern.
    const { variant, covariance, ordering } = rankingRequest({ ...o, method: undefined }, 'analysis');
    return {
      ...modelRef(o, 'analysis'),
      methods: parseMethods(o.methods, 'analysis'),
      step,
      ...(variant ? { variant } : {}),
      ...(covariance ? { covariance } : {}),
      ...(ordering ? { ordering } : {}),
    };
  },
  async run(p, ctx) {
    const entry = await modelAndSplit(p, ctx);
    const net = entry.model.network;
    const ds = entry.split.dataset;
    const methods = p.methods as RelevanceMethod[];
    const shares = shareGrid(p.step);
    // Progress: the rankings take most of the time; the curves are one evaluate per grid point.
    const rankShare = 0.8;
    const rankings: Partial<Record<RelevanceMethod, RelevanceResult>> = {};
    for (let i = 0; i < methods.length; i++) {
      const m = methods[i];
      const base = (i / methods.length) * rankShare;
      ctx.progress(base, `ranking by ${m}`);
      rankings[m] = await cachedRanking(entry, requestOf(p, m), ctx, (done, total, what) =>
        ctx.progress(
          base + (total > 0 ? (done / total) * (rankShare / methods.length) : 0),
          `${what}: ${done}/${total}`,
        ),
      );
    }
    throwIfCancelled(ctx.signal, 'analysis');
    // One cached ranking per method: the curve at a share is exactly what `whatif` answers there.
    const rankers: Ranker[] = methods.map((m) => ({ name: m, rank: async () => rankings[m]! }));
    const curves = await qualityCurves(net, entry.split, rankers, {
      shares,
      seeds: [p.seed],
      signal: ctx.signal,
      onProgress: (done, total, what) =>
        ctx.progress(rankShare + (1 - rankShare) * (done / total), `curve ${what}: ${done}/${total}`),
    });
    const names = paramNames(net, ds.featureNames);
    const heatmaps: Record<string, PlotlyFigure[]> = {};
    for (const m of methods)
      heatmaps[m] = net
        .layers()
        .map((_, l) => toPlotly(relevanceHeatmap(net, rankings[m]!.scores, l, m, ds.featureNames)));
    const figures: JobResult<'analysis'>['figures'] = { curves: toPlotly(curvesFigure(curves)), heatmaps };
    const bel = rankings.belsley && belsleyView(rankings.belsley, names);
    if (bel) {
      figures.belsleyCondition = toPlotly(belsleyConditionFigure(bel));
      figures.belsleyProportions = toPlotly(belsleyProportionsFigure(bel));
    }
    const vx = rankings.variational?.extra as { mu?: ArrayLike<number>; sigma?: ArrayLike<number> } | undefined;
    if (vx?.mu && vx.sigma) figures.variational = toPlotly(variationalFigure(vx.mu, vx.sigma));
    const zeros = countOnes(zeroMask(net.toFlat()));
    ctx.progress(1, 'done');
    return {
      result: {
        summary: {
          layers: layerSummary(net),
          params: net.nParams,
          active: net.nParams - zeros,
          pruned: zeros,
          backend: backendInfo().name,
          metric: curves.metric,
          baseline: curves.baseline,
        },
        curves: {
          shares: curves.shares,
          methods: Object.fromEntries(Object.entries(curves.curves).map(([k, c]) => [k, { mean: c.mean, sd: c.sd }])),
        },
        figures,
      },
      provenance: {
        ...(curves.provenance as unknown as ProvenanceRecord),
        rankings: Object.fromEntries(methods.map((m) => [m, rankings[m]!.provenance])),
      },
    };
  },
};
