// Quality against the share of channels removed, every method side by side: each method's
// parameter relevance becomes channel relevance (channelSelect.ts), the channels removed grow with
// the share, and the caller's evaluator measures the channel-masked model (and may fine-tune it
// with the mask held). Besides the metric, every point records the shares of parameters and
// multiply-adds the removed channels take with them (the curves' secondary ticks).
import { throwIfCancelled } from '../errors';
import type { GraphSpec } from '../graphSpec';
import { graphCost } from '../model/graphCost';
import { costWithRemoved } from './channelCost';
import {
  channelScores,
  removableChannels,
  selectChannels,
  type ChannelScores,
  type StructuredUnit,
} from './channelSelect';
import { STRUCTURED_DEFAULTS, type ChannelAggregate, type ChannelScope } from '../options';
import { summarise, shareGrid, type Curve, type CurvesResult } from './curves';
import type { DataSplit } from '../data/dataset';
import { numClasses } from '../data/dataset';
import { Graph } from '../model/graph';
import { hashModel, makeProvenance } from '../provenance';
import { evaluate, type Metrics } from '../train/metrics';
import { finetuneWithMask, type FinetuneOptions } from './finetune';
import { applyMask } from './mask';
import { channelGroups, ChannelGroups } from './groups';
import { structuredMask } from './structuredMask';
import { countRemoved } from './structuredStudent';

export interface ChannelRanker {
  name: string;
  /**
   * Per-parameter relevance of the teacher (flat order; aggregated per channel here), or channel
   * relevance itself (native channel Belsley); higher = more relevant.
   */
  scores(seed: number): Promise<ArrayLike<number> | ChannelScores>;
  stochastic?: boolean;
}

/** Measures the teacher with `mask` (1 = pruned) applied; may fine-tune a copy with the mask held. */
export type MaskEvaluator = (
  mask: Uint8Array,
  info: { method: string; seed: number; share: number },
) => Promise<number>;

export interface StructuredCurveOptions {
  shares?: number[];
  step?: number;
  aggregate?: ChannelAggregate;
  scope?: ChannelScope;
  unit?: StructuredUnit;
  seeds?: number[];
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface StructuredCurve extends Curve {
  /** Share of the removable channels actually removed at each point (per-group rounding). */
  channelsRemoved: number[];
  /** Shares of the teacher's parameters and multiply-adds removed (mean over seeds). */
  paramsRemoved: number[];
  macsRemoved: number[];
}

export interface StructuredCurves {
  /** The x axis: target shares of the removable channels. */
  shares: number[];
  curves: Record<string, StructuredCurve>;
  removableChannels: number;
  aggregate: ChannelAggregate;
  scope: ChannelScope;
}

interface Point {
  metric: number;
  channels: number;
  params: number;
  macs: number;
}

export async function structuredCurves(
  spec: GraphSpec,
  rankers: ChannelRanker[],
  evaluate: MaskEvaluator,
  opts: StructuredCurveOptions = {},
  groups: ChannelGroups = channelGroups(spec),
): Promise<StructuredCurves> {
  const shares = opts.shares ?? shareGrid(opts.step ?? 0.05);
  const seeds = opts.seeds?.length ? opts.seeds : [0];
  const aggregate = opts.aggregate ?? STRUCTURED_DEFAULTS.aggregate;
  const scope = opts.scope ?? STRUCTURED_DEFAULTS.scope;
  const base = graphCost(spec);
  const removable = removableChannels(groups, opts.unit);
  const total = rankers.reduce((s, r) => s + (r.stochastic ? seeds.length : 1), 0) * shares.length;
  let done = 0;
  const curves: Record<string, StructuredCurve> = {};
  for (const ranker of rankers) {
    const runs: Point[][] = [];
    for (const seed of ranker.stochastic ? seeds : [seeds[0]]) {
      throwIfCancelled(opts.signal, 'curves');
      const got = await ranker.scores(seed);
      const cs = got instanceof Map ? got : channelScores(spec, groups, got, aggregate, opts.unit);
      const run: Point[] = [];
      for (const share of shares) {
        throwIfCancelled(opts.signal, 'curves');
        const removed = selectChannels(cs, groups, share, scope);
        const cost = costWithRemoved(spec, groups, removed, base);
        const metric = await evaluate(structuredMask(spec, groups, removed), { method: ranker.name, seed, share });
        run.push({
          metric,
          channels: removable ? countRemoved(removed) / removable : 0,
          params: 1 - cost.params / base.params,
          macs: base.macs ? 1 - cost.macs / base.macs : 0,
        });
        opts.onProgress?.(++done, total, ranker.name);
      }
      runs.push(run);
    }
    const mean = (f: (p: Point) => number) => shares.map((_, i) => runs.reduce((a, r) => a + f(r[i]), 0) / runs.length);
    curves[ranker.name] = {
      ...summarise(runs.map((r) => r.map((p) => p.metric))),
      channelsRemoved: mean((p) => p.channels),
      paramsRemoved: mean((p) => p.params),
      macsRemoved: mean((p) => p.macs),
    };
  }
  return { shares, curves, removableChannels: removable, aggregate, scope };
}

export interface StructuredCurvesResult extends CurvesResult {
  /** The x axis is the share of removable channels (or of Dense units). */
  unit: StructuredUnit;
  curves: Record<string, StructuredCurve>;
  removableChannels: number;
  aggregate: ChannelAggregate;
  scope: ChannelScope;
}

/**
 * Structured curves of a Graph on a split's test part: each point masks the channels on a copy of
 * the teacher (fine-tuned from the teacher's weights with the mask held, when asked) and measures it.
 */
export async function structuredQualityCurves(
  graph: Graph,
  split: DataSplit,
  rankers: ChannelRanker[],
  opts: StructuredCurveOptions & { finetune?: Omit<FinetuneOptions, 'signal'> } = {},
): Promise<StructuredCurvesResult> {
  const spec = graph.toSpec();
  const groups = channelGroups(spec);
  const base = graph.toFlat();
  const d = split.dataset;
  const classes = numClasses(d);
  const cls = d.task === 'classification';
  const value = (m: Metrics) => (cls ? m.accuracy! : m.mse!);
  const work = graph.clone();
  try {
    const r = await structuredCurves(
      spec,
      rankers,
      async (mask, info) => {
        if (opts.finetune && opts.finetune.epochs > 0 && info.share > 0) {
          // A fresh copy: fine-tuning also moves BN's moving statistics, which setFlat would not reset.
          const tuned = Graph.fromSpec(spec);
          try {
            tuned.setFlat(applyMask(base, mask));
            return value((await finetuneWithMask(tuned, split, mask, { ...opts.finetune, signal: opts.signal })).after);
          } finally {
            tuned.dispose();
          }
        }
        work.setFlat(applyMask(base, mask));
        return value(evaluate(work, split.test, d.task, classes));
      },
      opts,
      groups,
    );
    const seeds = opts.seeds?.length ? opts.seeds : [0];
    return {
      ...r,
      unit: opts.unit ?? 'channels',
      metric: cls ? 'accuracy' : 'mse',
      baseline: value(evaluate(graph, split.test, d.task, classes)),
      provenance: makeProvenance({
        job: 'curves',
        method: rankers.map((x) => x.name).join(','),
        seed: seeds[0],
        modelHash: hashModel(graph.structure(), base),
        data: {
          name: d.name,
          split: 'test',
          rows: split.test.rows,
          splitSeed: split.seed,
          testFraction: split.testFraction,
          standardized: !!split.standardization,
        },
        options: {
          structured: opts.unit ?? 'channels',
          aggregate: r.aggregate,
          scope: r.scope,
          seeds,
          finetune: opts.finetune?.epochs ?? 0,
        },
      }),
    };
  } finally {
    work.dispose();
  }
}
