// `whatif`: the panel's slider. The test metric of the model with the head `share` of its active
// weights (by `method`'s cached ranking) set to zero. Once the ranking is cached this is a prefix
// mask, one setFlat into a cached clone and one evaluate: milliseconds for Wine/Boston-sized
// models (bench/whatif.ts). A missing ranking is computed first (slow once, then cached).
import { performance } from 'perf_hooks';
import { throwIfCancelled } from '../../engine/errors';
import type { JobHandler } from '../jobTypes';
import {
  cachedChannelRanking,
  cachedRanking,
  maskedChannelMetric,
  maskedMetric,
  modelAndSplit,
  whatifState,
} from './modelCache';
import { modelRef, num, obj, rankingRequest, requestOf, structuredParams } from './params';

export const whatifJob: JobHandler<'whatif'> = {
  kind: 'whatif',
  parse(raw) {
    const o = obj(raw, 'whatif');
    return {
      ...modelRef(o, 'whatif'),
      ...rankingRequest(o, 'whatif'),
      ...structuredParams(o, 'whatif'),
      share: num(o, 'share', 'whatif', 0, 1),
    };
  },
  async run(p, ctx) {
    const entry = await modelAndSplit(p, ctx);
    if (p.structured && p.structured !== 'none') {
      const unit = p.structured;
      const aggregate = (p.aggregate ?? 'sum') as 'sum' | 'mean' | 'max' | 'native';
      const scope = (p.scope ?? 'per-group') as 'per-group' | 'global';
      const ranking = await cachedChannelRanking(entry, requestOf(p), { aggregate, unit }, ctx);
      throwIfCancelled(ctx.signal, 'whatif');
      const t0 = performance.now();
      const s = whatifState(entry, ctx);
      if (s.baseline === undefined) s.baseline = maskedChannelMetric(entry, s, ranking, 0, scope).value;
      const r = maskedChannelMetric(entry, s, ranking, p.share, scope);
      const ms = performance.now() - t0;
      return {
        result: {
          method: ranking.method,
          share: p.share,
          metric: entry.split.dataset.task === 'classification' ? ('accuracy' as const) : ('mse' as const),
          value: r.value,
          baseline: s.baseline,
          pruned: r.pruned,
          candidates: s.flat.length,
          ms,
          structured: r.structured,
        },
        provenance: {
          job: 'whatif',
          time: new Date().toISOString(),
          options: { modelPath: p.modelPath, data: p.data, seed: p.seed, share: p.share, unit, aggregate, scope },
          ranking: ranking.provenance,
        },
      };
    }
    const ranking = await cachedRanking(entry, requestOf(p), ctx);
    throwIfCancelled(ctx.signal, 'whatif');
    const t0 = performance.now();
    const s = whatifState(entry, ctx);
    if (s.baseline === undefined) s.baseline = maskedMetric(entry, s, ranking, 0).value;
    const { value, pruned } = maskedMetric(entry, s, ranking, p.share);
    const ms = performance.now() - t0;
    const metric = entry.split.dataset.task === 'classification' ? ('accuracy' as const) : ('mse' as const);
    return {
      result: {
        method: ranking.method,
        share: p.share,
        metric,
        value,
        baseline: s.baseline,
        pruned,
        candidates: s.candidates,
        ms,
      },
      provenance: {
        job: 'whatif',
        time: new Date().toISOString(),
        options: { modelPath: p.modelPath, data: p.data, seed: p.seed, share: p.share },
        ranking: ranking.provenance,
      },
    };
  },
};
