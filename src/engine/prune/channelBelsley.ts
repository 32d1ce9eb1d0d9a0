// Belsley natively on channels: per dependency group, the condition indices and variance
// proportions of the channel gates' covariance (channelGates.ts) order its channels, least
// relevant first (METHODS.md 2.6 on the group's C x C block instead of its parameters' block).
// Channels whose gate never moves the loss (zero variance under the gradient source) say nothing
// and come first. Channel relevance is the position in that order (0 = least relevant), scaled to
// [0, 1] so groups of different sizes can be ranked together.
import { RELEVANCE_DEFAULTS, type BelsleyOrdering } from '../options';
import { belsley, BelsleyResult } from '../relevance/belsley';
import type { Graph } from '../model/graph';
import type { ChannelScores } from './channelSelect';
import { gateCovariance, gateMoments, GateSource } from './channelGates';
import { ChannelGroups, prunableGroups } from './groups';

export interface ChannelBelsley {
  scores: ChannelScores;
  /** Per group id: the diagnostic of the channels with a non-zero gate variance (`channels` lists them). */
  results: Map<number, { channels: number[]; belsley: BelsleyResult }>;
  source: GateSource;
}

export function channelBelsley(
  graph: Graph,
  groups: ChannelGroups,
  data: { x: Float32Array; y: Float32Array; rows: number },
  opts: { source?: GateSource; ordering?: BelsleyOrdering; batchSize?: number; signal?: AbortSignal } = {},
): ChannelBelsley {
  const source = opts.source ?? 'laplace';
  const m = gateMoments(graph, groups, data.x, data.y, data.rows, source, opts);
  const scores: ChannelScores = new Map();
  const results = new Map<number, { channels: number[]; belsley: BelsleyResult }>();
  for (const g of prunableGroups(groups)) {
    const C = g.channels;
    const S = gateCovariance(m, g.id);
    const live = Array.from({ length: C }, (_, k) => k).filter((k) => S[k * C + k] > 0);
    const silent = Array.from({ length: C }, (_, k) => k).filter((k) => !(S[k * C + k] > 0));
    const order = [...silent];
    if (live.length) {
      const sub = new Float64Array(live.length * live.length);
      live.forEach((a, i) => live.forEach((b, j) => (sub[i * live.length + j] = S[a * C + b])));
      const ordering = opts.ordering ?? (live.length <= RELEVANCE_DEFAULTS.exactOrderingLimit ? 'exact' : 'fast');
      const r = belsley(sub, live.length, { ordering, signal: opts.signal });
      results.set(g.id, { channels: live, belsley: r });
      for (const i of r.order) order.push(live[i]);
    }
    const s = new Float64Array(C);
    order.forEach((k, pos) => (s[k] = C > 1 ? pos / (C - 1) : 0));
    g.fixed.forEach((f, k) => f && (s[k] = NaN));
    scores.set(g.id, s);
  }
  return { scores, results, source };
}
