// The channel-pruned student of a Graph as a Graph: rank the removable channels, remove a share,
// shrink (and fold BN when asked). What export-student writes and distill trains.
import type { DataSplit } from '../data/dataset';
import { Graph } from '../model/graph';
import { STRUCTURED_DEFAULTS, type ChannelAggregate, type ChannelScope } from '../options';
import type { RelevanceRequest } from '../relevance/compute';
import type { RelevanceResult } from '../relevance/types';
import { channelRanking, type ChannelRanking } from './channelRanking';
import { selectChannels, type StructuredUnit } from './channelSelect';
import { channelGroups } from './groups';
import { studentForChannels, type StructuredStudent } from './structuredStudent';

export interface ChannelStudentOptions {
  share: number;
  unit?: StructuredUnit;
  aggregate?: ChannelAggregate;
  scope?: ChannelScope;
  foldBn?: boolean;
  /** Parameters already pruned in the teacher (its file's mask). */
  alreadyPruned?: Uint8Array;
  /** A channel ranking already computed for this teacher and request. */
  ranking?: ChannelRanking;
  signal?: AbortSignal;
}

export interface ChannelStudent {
  /** The student network (the caller disposes it). */
  student: Graph;
  plan: StructuredStudent;
  ranking: ChannelRanking;
}

export async function channelStudent(
  teacher: Graph,
  split: DataSplit,
  method: RelevanceRequest | RelevanceResult,
  o: ChannelStudentOptions,
): Promise<ChannelStudent> {
  const unit = o.unit ?? 'channels';
  const aggregate = o.aggregate ?? STRUCTURED_DEFAULTS.aggregate;
  const spec = teacher.toSpec();
  const groups = channelGroups(spec);
  const ranking =
    o.ranking ?? (await channelRanking(teacher, groups, split, method, { aggregate, unit, signal: o.signal }));
  const removed = selectChannels(ranking.scores, groups, o.share, o.scope ?? STRUCTURED_DEFAULTS.scope);
  const plan = studentForChannels(spec, groups, removed, { foldBn: o.foldBn, alreadyPruned: o.alreadyPruned, unit });
  return { student: Graph.fromSpec(plan.student), plan, ranking };
}
