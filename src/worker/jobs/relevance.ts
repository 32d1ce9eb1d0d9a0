// `relevance`: scores and order of every parameter by one method (engine computeRelevance),
// plus the first layer's heatmap. Loaded models, data splits and rankings stay in the worker's
// cache (modelCache.ts, keyed by path + mtime + data + seed), so a second method, a re-plot or the
// panel's what-if slider does not reload or re-rank.
import { relevanceHeatmap } from '../../engine/report/relevanceFigures';
import type { ProvenanceRecord } from '../../protocol';
import type { JobHandler } from '../jobTypes';
import { cachedRanking, modelAndSplit, toPlotly } from './modelCache';
import { modelRef, obj, rankingRequest, requestOf } from './params';

export const relevanceJob: JobHandler<'relevance'> = {
  kind: 'relevance',
  parse(raw) {
    const o = obj(raw, 'relevance');
    return { ...modelRef(o, 'relevance'), ...rankingRequest(o, 'relevance') };
  },
  async run(p, ctx) {
    const entry = await modelAndSplit(p, ctx);
    const r = await cachedRanking(entry, requestOf(p), ctx);
    const net = entry.model.network;
    const figure = toPlotly(relevanceHeatmap(net, r.scores, 0, r.method, entry.split.dataset.featureNames));
    return {
      result: { method: r.method, scores: Array.from(r.scores), order: Array.from(r.order), figure },
      provenance: r.provenance as unknown as ProvenanceRecord,
    };
  },
};
