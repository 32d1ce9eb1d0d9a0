// The dependency groups of a model as JSON (`prunescope groups MODEL --json`, the side panel):
// per group its channels, which can be removed and why not, the layers making them, every member
// weight slice, and what one channel costs in parameters and multiply-adds.
import type { GraphSpec } from '../graphSpec';
import { macsPerChannel } from './channelCost';
import { channelGroups, GroupMember } from './groups';

export interface GroupReport {
  id: number;
  channels: number;
  /** Channels that can be removed (the others reach an input, an output or a channel-mixing layer). */
  removable: number;
  producers: string[];
  tensors: string[];
  fixedBecause: string[];
  /** Indices of the fixed channels. */
  fixedChannels: number[];
  paramsPerChannel: number[];
  macsPerChannel: number[];
  members: GroupMember[];
}

export interface GroupsReport {
  groups: GroupReport[];
  /** Removable channels over all groups. */
  removableChannels: number;
}

/** All groups with producing layers (groups of the input alone are left out), in graph order. */
export function groupsReport(spec: GraphSpec): GroupsReport {
  const g = channelGroups(spec);
  const macs = macsPerChannel(spec, g);
  const groups = g.groups
    .filter((x) => x.producers.length > 0)
    .map((x) => ({
      id: x.id,
      channels: x.channels,
      removable: x.fixed.filter((f) => !f).length,
      producers: x.producers,
      tensors: x.tensors,
      fixedBecause: x.fixedBecause,
      fixedChannels: x.fixed.flatMap((f, k) => (f ? [k] : [])),
      paramsPerChannel: x.paramsPerChannel,
      macsPerChannel: Array.from(macs.get(x.id)!),
      members: x.members,
    }));
  return { groups, removableChannels: groups.reduce((a, x) => a + x.removable, 0) };
}
