// Quality against the share of parameters removed, for every method side by side (the seed
// papers' figures). Default: one ranking per method, masks taken from its head; optionally
// fine-tune after each step and re-rank every S steps (iterative pruning).
import type { DataSplit } from '../data/dataset';
import { numClasses } from '../data/dataset';
import { throwIfCancelled } from '../errors';
import type { Graph } from '../model/graph';
import { makeProvenance, hashModel, Provenance } from '../provenance';
import type { RelevanceResult } from '../relevance/types';
import { evaluate } from '../train/metrics';
import { candidateMask, candidateOrder, applyMask } from './mask';
import { splitRecord } from '../data/split';
import { pruningBase, VariationalWeights } from './variationalWeights';

export interface Ranker {
  /** Name shown on the curve, e.g. 'obd' or 'belsley'. */
  name: string;
  /** Rank the parameters of `net` (which may already be pruned and fine-tuned). */
  rank(net: Graph, seed: number): Promise<RelevanceResult>;
  /** Stochastic rankers (random) are repeated over seeds; deterministic ones run once. */
  stochastic?: boolean;
  /** A variational ranking's pruned models keep its posterior mean mu (default) or the network's weights. */
  variationalWeights?: VariationalWeights;
}

export interface CurveOptions {
  /** Shares to evaluate; default 0, step, 2*step, ..., 1. */
  shares?: number[];
  step?: number;
  includeBias?: boolean;
  /** Seeds for stochastic rankers (mean and spread over them). */
  seeds?: number[];
  /** Re-rank every this many steps of the grid (0 = one ranking). */
  recomputeEvery?: number;
  /** Fine-tune the pruned network after each step, keeping the mask (wired by the caller). */
  finetune?: (net: Graph, pruned: Uint8Array) => Promise<void>;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface Curve {
  mean: number[];
  sd: number[];
  /** One row per seed (a single row for deterministic methods). */
  runs: number[][];
}

export interface CurvesResult {
  metric: 'accuracy' | 'mse';
  shares: number[];
  curves: Record<string, Curve>;
  /** The unpruned network's metric on the same data. */
  baseline: number;
  /** Per curve, the weights its pruned models keep: 'network' or 'mu' (a variational ranking's posterior mean). */
  prunedWeights?: Record<string, 'mu' | 'network'>;
  provenance: Provenance;
}

export function shareGrid(step = 0.02): number[] {
  const n = Math.round(1 / step);
  return Array.from({ length: n + 1 }, (_, i) => Math.round(i * step * 1e6) / 1e6);
}

/** The metric for a network on the test part: accuracy (classification) or MSE (regression). */
function testMetric(net: Graph, split: DataSplit): number {
  const task = split.dataset.task;
  const m = evaluate(net, split.test, task, numClasses(split.dataset));
  return task === 'classification' ? m.accuracy! : m.mse!;
}

async function curveFor(
  net: Graph,
  split: DataSplit,
  ranker: Ranker,
  seed: number,
  shares: number[],
  opts: CurveOptions,
  tick: () => void,
  used: (w: 'mu' | 'network') => void,
): Promise<number[]> {
  const work = net.clone();
  try {
    const candidates = candidateMask(net, { includeBias: opts.includeBias });
    const nCand = candidates.reduce((a, b) => a + b, 0);
    let current = net.toFlat();
    // Each (re)ranking also says which weights the pruned models keep from here on (mu or the network's).
    const rank = async () => {
      const r = await ranker.rank(work, seed);
      const b = pruningBase(work.toFlat(), r, ranker.variationalWeights);
      current = b.base;
      used(b.weights);
      return candidateOrder(r.order, candidates);
    };
    let ranked = await rank();
    const pruned = new Uint8Array(net.nParams);
    let nPruned = 0;
    const out: number[] = [];
    for (let i = 0; i < shares.length; i++) {
      throwIfCancelled(opts.signal, 'curves');
      if (opts.recomputeEvery && i > 0 && i % opts.recomputeEvery === 0) ranked = await rank();
      const target = Math.round(shares[i] * nCand);
      // Extend the mask along the current ranking, skipping what is already pruned.
      for (let r = 0; r < ranked.length && nPruned < target; r++) {
        if (!pruned[ranked[r]]) {
          pruned[ranked[r]] = 1;
          nPruned++;
        }
      }
      work.setFlat(applyMask(current, pruned));
      if (opts.finetune && nPruned > 0) {
        await opts.finetune(work, pruned);
        current = work.toFlat();
      }
      out.push(testMetric(work, split));
      tick();
    }
    return out;
  } finally {
    work.dispose();
  }
}

export async function qualityCurves(
  net: Graph,
  split: DataSplit,
  rankers: Ranker[],
  opts: CurveOptions = {},
): Promise<CurvesResult> {
  const shares = opts.shares ?? shareGrid(opts.step ?? 0.02);
  const seeds = opts.seeds?.length ? opts.seeds : [0];
  const total = rankers.reduce((s, r) => s + (r.stochastic ? seeds.length : 1), 0) * shares.length;
  let done = 0;
  const curves: Record<string, Curve> = {};
  const prunedWeights: Record<string, 'mu' | 'network'> = {};
  for (const ranker of rankers) {
    const runs: number[][] = [];
    for (const seed of ranker.stochastic ? seeds : [seeds[0]]) {
      runs.push(
        await curveFor(
          net,
          split,
          ranker,
          seed,
          shares,
          opts,
          () => opts.onProgress?.(++done, total, ranker.name),
          (w) => (prunedWeights[ranker.name] = w),
        ),
      );
    }
    curves[ranker.name] = summarise(runs);
  }
  return {
    metric: split.dataset.task === 'classification' ? 'accuracy' : 'mse',
    shares,
    curves,
    baseline: testMetric(net, split),
    prunedWeights,
    provenance: makeProvenance({
      job: 'curves',
      method: rankers.map((r) => r.name).join(','),
      seed: seeds[0],
      modelHash: hashModel(net.structure(), net.toFlat()),
      data: splitRecord(split, 'test', split.test.rows),
      options: {
        seeds,
        includeBias: !!opts.includeBias,
        recomputeEvery: opts.recomputeEvery ?? 0,
        finetune: !!opts.finetune,
        prunedWeights,
      },
    }),
  };
}

/** Mean and sample sd per grid point over several runs. */
export function summarise(runs: number[][]): Curve {
  const n = runs[0].length;
  const mean = new Array(n).fill(0);
  const sd = new Array(n).fill(0);
  for (let i = 0; i < n; i++) {
    for (const r of runs) mean[i] += r[i] / runs.length;
    if (runs.length > 1) {
      for (const r of runs) sd[i] += (r[i] - mean[i]) ** 2;
      sd[i] = Math.sqrt(sd[i] / (runs.length - 1));
    }
  }
  return { mean, sd, runs };
}
