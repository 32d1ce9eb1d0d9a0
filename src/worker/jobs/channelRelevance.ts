// `channel-relevance`: what the panel draws for a conv model: every removable channel's relevance
// per dependency group (the cached parameter ranking aggregated per channel, as the structured
// what-if ranks them), and the first convolution's filters with their channel's relevance.
import type { GraphSpec } from '../../engine/graphSpec';
import type { ChannelGroups } from '../../engine/prune/groups';
import type { ChannelScores } from '../../engine/prune/channelSelect';
import type { FirstConvFilters, GroupChannelRelevance } from '../../protocol';
import type { JobHandler } from '../jobTypes';
import { cachedChannelRanking, modelAndSplit, structuredState, whatifState } from './modelCache';
import { modelRef, obj, rankingRequest, requestOf, structuredParams } from './params';

/** NaN (a fixed channel) and a missing score travel as null: JSON has no NaN. */
const finiteOrNull = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

export function groupRelevance(groups: ChannelGroups, scores: ChannelScores): GroupChannelRelevance[] {
  return [...scores].map(([id, s]) => ({
    group: id,
    producers: groups.groups[id].producers,
    scores: Array.from(s, (v) => finiteOrNull(v)),
  }));
}

/** The first Conv2D's kernel and, per filter, the relevance of the channel it makes. */
export function firstConvFilters(
  spec: GraphSpec,
  groups: ChannelGroups,
  scores: ChannelScores,
): FirstConvFilters | undefined {
  const node = spec.nodes.find((n) => n.className === 'Conv2D');
  const kernel = node?.weights.find((w) => w.name === 'kernel');
  if (!node || !kernel || kernel.shape.length !== 4) return undefined;
  const [kh, kw, inChannels, filters] = kernel.shape;
  const tc = groups.tensorChannels.get(node.name);
  const s = tc ? scores.get(tc.group) : undefined;
  return {
    layer: node.name,
    kernelSize: [kh, kw],
    inChannels,
    filters,
    kernel: Array.from(kernel.values),
    relevance: Array.from({ length: filters }, (_, c) => finiteOrNull(s && tc ? s[tc.channel[c]] : undefined)),
  };
}

export const channelRelevanceJob: JobHandler<'channel-relevance'> = {
  kind: 'channel-relevance',
  parse(raw) {
    const o = obj(raw, 'channel-relevance');
    const { aggregate } = structuredParams(o, 'channel-relevance');
    return { ...modelRef(o, 'channel-relevance'), ...rankingRequest(o, 'channel-relevance'), aggregate };
  },
  async run(p, ctx) {
    const entry = await modelAndSplit(p, ctx);
    const aggregate = (p.aggregate ?? 'sum') as 'sum' | 'mean' | 'max' | 'native';
    const ranking = await cachedChannelRanking(entry, requestOf(p), { aggregate, unit: 'channels' }, ctx);
    const st = structuredState(whatifState(entry, ctx));
    const firstConv = firstConvFilters(st.spec, st.groups, ranking.scores);
    return {
      result: {
        method: ranking.method,
        aggregate,
        groups: groupRelevance(st.groups, ranking.scores),
        ...(firstConv ? { firstConv } : {}),
      },
      provenance: {
        job: 'channel-relevance',
        time: new Date().toISOString(),
        options: { modelPath: p.modelPath, data: p.data, seed: p.seed, aggregate },
        ranking: ranking.provenance,
      },
    };
  },
};
