// Channel relevance and selection: any method's per-parameter relevance aggregated over the
// trainable entries a channel removes (sum by default, or mean, or max), and the channels to
// remove at a share of the removable ones, least relevant first.
// scope 'per-group' removes the same share of every group (each layer loses round(share * C) of
// its removable channels, as Torch-Pruning's default local pruning); 'global' ranks all removable
// channels together. Every group keeps at least one channel.
import { badInput } from '../errors';
import { STRUCTURED_DEFAULTS, type ChannelAggregate, type ChannelScope, type StructuredMode } from '../options';
import type { GraphSpec } from '../graphSpec';
import { flatLayout } from '../model/graphFlat';
import { ChannelGroups, forEachOnAxis, prunableGroups } from './groups';
import type { RemovedChannels } from './structuredMask';

/** What a structured share removes: channels of every group, or units of Dense-made groups only. */
export type StructuredUnit = Exclude<StructuredMode, 'none'>;

/** Per prunable group id: one relevance per channel (NaN for fixed channels). */
export type ChannelScores = Map<number, Float64Array>;

export function channelScores(
  spec: GraphSpec,
  groups: ChannelGroups,
  scores: ArrayLike<number>,
  aggregate: ChannelAggregate = STRUCTURED_DEFAULTS.aggregate,
  mode: StructuredUnit = 'channels',
): ChannelScores {
  if (aggregate === 'native')
    throw badInput('native channel relevance is not an aggregate of parameter scores', {
      field: 'aggregate',
      expected: 'sum, mean or max here (native: channelRanking with method belsley)',
    });
  const layout = flatLayout(spec);
  if (scores.length !== layout.total)
    throw badInput(`relevance covers ${scores.length} parameters, the model has ${layout.total}`, {
      field: 'scores',
      expected: `${layout.total} scores in the flat order`,
    });
  const shapes = new Map(layout.weights.map((w) => [`${w.node}\u0000${w.weight}`, w]));
  const out: ChannelScores = new Map();
  for (const g of prunableGroups(groups, mode)) {
    const acc = new Float64Array(g.channels).fill(aggregate === 'max' ? -Infinity : 0);
    const count = new Float64Array(g.channels);
    for (const m of g.members) {
      if (!m.trainable) continue;
      const w = shapes.get(`${m.node}\u0000${m.weight}`)!;
      for (let k = 0; k < g.channels; k++)
        for (const j of m.indices[k])
          forEachOnAxis(w.shape, m.axis, j, (i) => {
            const s = scores[w.offset + i];
            acc[k] = aggregate === 'max' ? Math.max(acc[k], s) : acc[k] + s;
            count[k]++;
          });
    }
    for (let k = 0; k < g.channels; k++) {
      if (g.fixed[k]) acc[k] = NaN;
      else if (aggregate === 'mean') acc[k] = count[k] ? acc[k] / count[k] : 0;
    }
    out.set(g.id, acc);
  }
  return out;
}

/** Removable channels of each group, least relevant first (ties: lower channel index first). */
export function channelOrder(scores: ChannelScores, groups: ChannelGroups): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const [id, s] of scores) {
    const g = groups.groups[id];
    const ks = Array.from(s.keys()).filter((k) => !g.fixed[k]);
    ks.sort((a, b) => s[a] - s[b] || a - b);
    out.set(id, ks);
  }
  return out;
}

/** Number of removable channels over all prunable groups. */
export function removableChannels(groups: ChannelGroups, mode: StructuredUnit = 'channels'): number {
  return prunableGroups(groups, mode).reduce((a, g) => a + g.fixed.filter((f) => !f).length, 0);
}

/** The channels to remove at `share` of the removable channels. */
export function selectChannels(
  scores: ChannelScores,
  groups: ChannelGroups,
  share: number,
  scope: ChannelScope = STRUCTURED_DEFAULTS.scope,
): RemovedChannels {
  if (!(share >= 0 && share <= 1))
    throw badInput(`share ${share}`, { field: 'fraction', expected: 'a number in [0, 1]' });
  const order = channelOrder(scores, groups);
  // At most C - 1 channels of a group (C - fixed when some are fixed) can go.
  const cap = (id: number) => {
    const g = groups.groups[id];
    return Math.min(order.get(id)!.length, g.channels - 1);
  };
  const removed: RemovedChannels = new Map();
  if (scope === 'per-group') {
    for (const [id, ks] of order) {
      const n = Math.min(Math.round(share * ks.length), cap(id));
      if (n > 0) removed.set(id, ks.slice(0, n));
    }
    return removed;
  }
  const all: { id: number; k: number; s: number }[] = [];
  for (const [id, ks] of order) for (const k of ks) all.push({ id, k, s: scores.get(id)![k] });
  all.sort((a, b) => a.s - b.s || a.id - b.id || a.k - b.k);
  let target = Math.round(share * all.length);
  for (const c of all) {
    if (target === 0) break;
    const list = removed.get(c.id) ?? [];
    if (list.length >= cap(c.id)) continue;
    list.push(c.k);
    removed.set(c.id, list);
    target--;
  }
  return removed;
}
