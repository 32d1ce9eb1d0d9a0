// Prune whole channels of a model's dependency groups (or units of its Dense layers) into a model
// of the same architecture whose removed channels' weights are exactly zero; the metadata records
// the mask, the channels and how they were chosen. Already-pruned parameters (exact zeros) stay
// pruned. The physically smaller network is export-student's job (structuredExport.ts).
import type { DataSplit } from '../data/dataset';
import type { Graph } from '../model/graph';
import { encodePruneMask, type PruneScopeMetadata } from '../model/metadata';
import { STRUCTURED_DEFAULTS, type ChannelAggregate, type ChannelScope } from '../options';
import type { RelevanceRequest } from '../relevance/compute';
import { channelRanking, type ChannelRanking } from './channelRanking';
import { removableChannels, selectChannels, type StructuredUnit } from './channelSelect';
import { channelGroups } from './groups';
import { applyMask, countOnes, zeroMask } from './mask';
import { countRemoved } from './structuredStudent';
import { structuredMask, type RemovedChannels } from './structuredMask';

export interface ChannelPruneRequest extends RelevanceRequest {
  /** Share of the removable channels to remove. */
  fraction: number;
  unit?: StructuredUnit;
  aggregate?: ChannelAggregate;
  scope?: ChannelScope;
  /** A channel ranking of this network already computed for the request (a cache's): used as is. */
  ranking?: ChannelRanking;
}

export interface ChannelPruneOutcome {
  network: Graph;
  mask: Uint8Array;
  ranking: ChannelRanking;
  removed: RemovedChannels;
  /** Per group: its producing layers and the channels removed. */
  channels: { producers: string[]; channels: number; removed: number[] }[];
  removedChannels: number;
  removableChannels: number;
  prunedTotal: number;
  metadata: PruneScopeMetadata;
}

export async function pruneChannels(
  net: Graph,
  split: DataSplit,
  metadata: PruneScopeMetadata | undefined,
  req: ChannelPruneRequest,
): Promise<ChannelPruneOutcome> {
  const unit = req.unit ?? 'channels';
  const aggregate = req.aggregate ?? STRUCTURED_DEFAULTS.aggregate;
  const scope = req.scope ?? STRUCTURED_DEFAULTS.scope;
  const spec = net.toSpec();
  const groups = channelGroups(spec);
  const ranking =
    req.ranking ?? (await channelRanking(net, groups, split, req, { aggregate, unit, signal: req.signal }));
  const removed = selectChannels(ranking.scores, groups, req.fraction, scope);
  const flat = net.toFlat();
  const mask = structuredMask(spec, groups, removed);
  const already = zeroMask(flat);
  for (let i = 0; i < mask.length; i++) mask[i] |= already[i];
  const pruned = net.clone();
  pruned.setFlat(applyMask(flat, mask));
  const channels = [...ranking.scores.keys()].map((id) => ({
    producers: groups.groups[id].producers,
    channels: groups.groups[id].channels,
    removed: [...(removed.get(id) ?? [])].sort((a, b) => a - b),
  }));
  return {
    network: pruned,
    mask,
    ranking,
    removed,
    channels,
    removedChannels: countRemoved(removed),
    removableChannels: removableChannels(groups, unit),
    prunedTotal: countOnes(mask),
    metadata: {
      ...(metadata ?? {}),
      task: split.dataset.task,
      pruneMask: encodePruneMask(mask, {
        method: `${ranking.method}${ranking.parameters?.variant ? `:${ranking.parameters.variant}` : ''}:${unit}`,
        fraction: req.fraction,
        includeBiases: true,
        provenance: ranking.provenance,
      }),
      structured: {
        unit,
        aggregate,
        scope,
        groups: channels.map((c) => ({ producers: c.producers, removed: c.removed })),
      },
    },
  };
}
