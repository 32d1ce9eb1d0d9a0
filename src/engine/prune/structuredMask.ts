// Structured masks: removing channels of dependency groups as a mask over the flat parameter index
// (every trainable weight slice the removed channels index is masked).
import { badInput } from '../errors';
import type { GraphSpec } from '../graphSpec';
import { flatLayout } from '../model/graphFlat';
import { ChannelGroups, forEachOnAxis } from './groups';

/** Removed channels per group id. */
export type RemovedChannels = Map<number, number[]>;

export function checkRemoved(groups: ChannelGroups, removed: RemovedChannels): void {
  for (const [id, chans] of removed) {
    const g = groups.groups[id];
    if (!g)
      throw badInput(`no dependency group ${id}`, { field: 'groups', expected: `ids in [0, ${groups.groups.length})` });
    for (const k of chans) {
      if (!Number.isInteger(k) || k < 0 || k >= g.channels)
        throw badInput(`channel ${k} of group ${id}`, { field: 'groups', expected: `channels in [0, ${g.channels})` });
      if (g.fixed[k])
        throw badInput(`channel ${k} of group ${id} cannot be removed: ${g.fixedBecause.join('; ')}`, {
          field: 'groups',
          expected: 'channels that reach no model input, output or channel-mixing layer',
        });
    }
  }
}

/** Mask (1 = pruned) over the flat index covering every trainable member of the removed channels. */
export function structuredMask(spec: GraphSpec, groups: ChannelGroups, removed: RemovedChannels): Uint8Array {
  checkRemoved(groups, removed);
  const layout = flatLayout(spec);
  const mask = new Uint8Array(layout.total);
  const shapes = new Map(layout.weights.map((w) => [`${w.node}\u0000${w.weight}`, w.shape]));
  for (const [id, chans] of removed) {
    for (const m of groups.groups[id].members) {
      if (!m.trainable) continue;
      const off = layout.offsetOf(m.node, m.weight)!;
      const shape = shapes.get(`${m.node}\u0000${m.weight}`)!;
      for (const k of chans) for (const j of m.indices[k]) forEachOnAxis(shape, m.axis, j, (i) => (mask[off + i] = 1));
    }
  }
  return mask;
}
