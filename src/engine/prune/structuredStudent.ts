// A channel-pruned student of a GraphSpec: rank channels by a method's parameter relevance
// (channelSelect.ts), mask the removed channels' dependency groups, shrink to really narrower
// layers (graphStudent.ts), optionally fold BN, and tabulate per layer what changed: channels,
// parameters, multiply-adds and weight bytes before and after.
import type { GraphSpec } from '../graphSpec';
import { graphCost, GraphCost } from '../model/graphCost';
import { inferShapes } from '../model/graphShapes';
import { channelScores, removableChannels, selectChannels, StructuredUnit } from './channelSelect';
import { STRUCTURED_DEFAULTS, type ChannelAggregate, type ChannelScope } from '../options';
import { foldBatchNorm, FoldBatchNormResult } from './foldBatchNorm';
import { channelGroups, ChannelGroups } from './groups';
import { GraphShrinkResult, shrinkGraph } from './graphStudent';
import { RemovedChannels, structuredMask } from './structuredMask';

export interface StructuredTarget {
  /** Share of the removable channels to remove, in [0, 1]. */
  share: number;
  aggregate?: ChannelAggregate;
  scope?: ChannelScope;
  /** channels (default) or units (Dense-made groups only). */
  unit?: StructuredUnit;
  foldBn?: boolean;
  /** Parameters already pruned in the teacher (1 = pruned): they stay pruned. */
  alreadyPruned?: Uint8Array;
}

export interface StudentLayerRow {
  node: string;
  className: string;
  /** Output channels (last axis of the output); 0 after when the layer is gone (a folded BN). */
  channelsBefore: number;
  channelsAfter: number;
  paramsBefore: number;
  paramsAfter: number;
  macsBefore: number;
  macsAfter: number;
  weightBytesBefore: number;
  weightBytesAfter: number;
  /** For a BN folded away: the layer that absorbed it. */
  foldedInto?: string;
}

export interface StructuredStudent {
  groups: ChannelGroups;
  removed: RemovedChannels;
  /** 1 = pruned, over the teacher's flat index: the removed channels' entries (and alreadyPruned). */
  mask: Uint8Array;
  shrink: GraphShrinkResult;
  fold?: FoldBatchNormResult;
  student: GraphSpec;
  layers: StudentLayerRow[];
  teacherCost: GraphCost;
  studentCost: GraphCost;
  /**
   * Shares removed by pruning (before any BN folding): of the removable channels, of the
   * parameters, of the multiply-adds.
   */
  shares: { channels: number; params: number; macs: number };
}

export function countRemoved(removed: RemovedChannels): number {
  let n = 0;
  for (const v of removed.values()) n += v.length;
  return n;
}

/** Per-layer table of a teacher and its student (layers matched by name). */
export function studentLayerRows(
  teacher: GraphSpec,
  student: GraphSpec,
  fold?: FoldBatchNormResult,
): StudentLayerRow[] {
  const tc = graphCost(teacher);
  const sc = graphCost(student);
  const ts = inferShapes(teacher);
  const ss = inferShapes(student);
  const after = new Map(sc.layers.map((l) => [l.node, l]));
  return tc.layers.map((l) => {
    const a = after.get(l.node);
    const into = fold?.folded.find((f) => f.batchNorm === l.node)?.into;
    return {
      node: l.node,
      className: l.className,
      channelsBefore: ts.get(l.node)!.at(-1)!,
      channelsAfter: a ? ss.get(l.node)!.at(-1)! : 0,
      paramsBefore: l.params,
      paramsAfter: a?.params ?? 0,
      macsBefore: l.macs,
      macsAfter: a?.macs ?? 0,
      weightBytesBefore: l.weightBytes,
      weightBytesAfter: a?.weightBytes ?? 0,
      ...(into ? { foldedInto: into } : {}),
    };
  });
}

/** The student for given removed channels (a mask of the groups, shrunk, optionally BN-folded). */
export function studentForChannels(
  spec: GraphSpec,
  groups: ChannelGroups,
  removed: RemovedChannels,
  opts: { foldBn?: boolean; alreadyPruned?: Uint8Array; unit?: StructuredUnit } = {},
): StructuredStudent {
  const mask = structuredMask(spec, groups, removed);
  if (opts.alreadyPruned) for (let i = 0; i < mask.length; i++) mask[i] |= opts.alreadyPruned[i];
  const shrink = shrinkGraph(spec, { mask });
  const fold = opts.foldBn ? foldBatchNorm(shrink.spec) : undefined;
  const student = fold ? fold.spec : shrink.spec;
  const teacherCost = graphCost(spec);
  const studentCost = graphCost(student);
  // Shares removed by pruning, before BN folding (which drops BN's own parameters and multiply-adds).
  const pruned = fold ? graphCost(shrink.spec) : studentCost;
  const removable = removableChannels(groups, opts.unit);
  return {
    groups,
    removed,
    mask,
    shrink,
    fold,
    student,
    layers: studentLayerRows(spec, student, fold),
    teacherCost,
    studentCost,
    shares: {
      channels: removable ? countRemoved(removed) / removable : 0,
      params: 1 - pruned.params / teacherCost.params,
      macs: teacherCost.macs ? 1 - pruned.macs / teacherCost.macs : 0,
    },
  };
}

/** Ranks channels by `scores` (per-parameter relevance, flat order) and builds the student at a share. */
export function structuredStudent(spec: GraphSpec, scores: ArrayLike<number>, t: StructuredTarget): StructuredStudent {
  const groups = channelGroups(spec);
  const cs = channelScores(spec, groups, scores, t.aggregate ?? STRUCTURED_DEFAULTS.aggregate, t.unit);
  const removed = selectChannels(cs, groups, t.share, t.scope ?? STRUCTURED_DEFAULTS.scope);
  return studentForChannels(spec, groups, removed, { foldBn: t.foldBn, alreadyPruned: t.alreadyPruned, unit: t.unit });
}
