// `groups`: the channel dependency groups of a model (engine groupsReport), for the side panel's
// list: which layers make each group's channels, how many can be removed and why the others
// cannot, every weight slice a channel takes with it, and what one channel costs.
import { readModel } from '../../engine/formats';
import { groupsReport } from '../../engine/prune/groupsReport';
import type { JobHandler } from '../jobTypes';
import { obj, str } from './params';

export const groupsJob: JobHandler<'groups'> = {
  kind: 'groups',
  parse(raw) {
    return { modelPath: str(obj(raw, 'groups'), 'modelPath', 'groups') };
  },
  async run(p) {
    const m = await readModel(p.modelPath);
    const r = groupsReport(m.spec);
    return {
      result: {
        removableChannels: r.removableChannels,
        groups: r.groups.map((g) => ({
          id: g.id,
          producers: g.producers,
          channels: g.channels,
          removable: g.removable,
          fixedBecause: g.fixedBecause,
          paramsPerChannel: g.paramsPerChannel,
          macsPerChannel: g.macsPerChannel,
          members: g.members.map((x) => ({ node: x.node, weight: x.weight, axis: x.axis, role: x.role })),
        })),
      },
      provenance: { job: 'groups', time: new Date().toISOString(), options: { modelPath: p.modelPath } },
    };
  },
};
