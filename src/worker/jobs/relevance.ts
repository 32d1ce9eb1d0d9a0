// `relevance`: scores and order of every parameter by one method (engine computeRelevance),
// plus the first layer's heatmap. Loaded models, data splits and rankings stay in the worker's
// cache (modelCache.ts, keyed by path + mtime + data + seed), so a second method, a re-plot or the
// panel's what-if slider does not reload or re-rank.
import { badInput } from '../../engine/errors';
import { RELEVANCE_METHODS, type RelevanceMethod } from '../../engine/relevance/types';
import { relevanceHeatmap } from '../../engine/report/relevanceFigures';
import type { ProvenanceRecord } from '../../protocol';
import type { JobHandler } from '../jobTypes';
import { cachedRanking, modelAndSplit } from './modelCache';
import { int, obj, str } from './params';

export { toPlotly, modelAndSplit } from './modelCache';
import { toPlotly } from './modelCache';

export const relevanceJob: JobHandler<'relevance'> = {
  kind: 'relevance',
  parse(raw) {
    const o = obj(raw, 'relevance');
    const method = o.method ?? 'obd';
    if (typeof method !== 'string' || !(RELEVANCE_METHODS as readonly string[]).includes(method)) {
      throw badInput('relevance: unknown method', { field: 'method', expected: RELEVANCE_METHODS.join(', ') });
    }
    return {
      modelPath: str(o, 'modelPath', 'relevance'),
      data: str(o, 'data', 'relevance'),
      method: method as RelevanceMethod,
      seed: int(o, 'seed', 'relevance', 0, 2 ** 31 - 1, 0),
    };
  },
  async run(p, ctx) {
    const entry = await modelAndSplit(p, ctx);
    const r = await cachedRanking(entry, p.method as RelevanceMethod, p.seed, ctx);
    const net = entry.model.network;
    const figure = toPlotly(relevanceHeatmap(net, r.scores, 0, r.method, entry.split.dataset.featureNames));
    return {
      result: { method: r.method, scores: Array.from(r.scores), order: Array.from(r.order), figure },
      provenance: r.provenance as unknown as ProvenanceRecord,
    };
  },
};
