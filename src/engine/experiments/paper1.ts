// The first seed paper's experiment (METHODS.md section 5): train the paper's network on a data
// set, rank its weights by each relevance method, and draw test quality against the share of
// weights removed (0-100 % in 2 % steps). Repeated over teacher seeds so the spread is visible.
import { loadDataset, splitDataset, numClasses } from '../data';
import type { DataSplit, SplitPart } from '../data/dataset';
import { holdOutValidation } from '../data/validation';
import { badInput, PruneScopeError, throwIfCancelled } from '../errors';
import type { Graph } from '../model/graph';
import { NetworkSpec, randomDense } from '../model/denseChain';
import { makeProvenance, Provenance } from '../provenance';
import { qualityCurves, summarise, Curve, CurvesResult, Ranker, shareGrid } from '../prune/curves';
import { computeRelevance, RelevanceRequest } from '../relevance/compute';
import type { RelevanceResult } from '../relevance/types';
import { RELEVANCE_DEFAULTS, RELEVANCE_METHODS, type BelsleyCovariance, type RelevanceMethod } from '../options';
import { train } from '../train/train';
import type { Metrics } from '../train/metrics';
import { mean, sampleSd } from '../util/stats';
import { DEFAULT_VARIATIONAL_WEIGHTS, VariationalWeights } from '../prune/variationalWeights';

export interface Paper1Setup {
  data: string;
  /** The network after the input, e.g. 13 tanh then 3 softmax. */
  layers: NetworkSpec['layers'];
  epochs: number;
  batchSize: number;
  lr: number;
  description: string;
}

/** The paper's networks: 13-13-3 tanh with softmax (Wine), 13-39-1 tanh (Boston), 100-1 linear (synthetic). */
export const PAPER1_SETUPS: Record<string, Paper1Setup> = {
  wine: {
    data: 'wine',
    layers: [
      { name: 'hidden1', units: 13, activation: 'tanh' },
      { name: 'output', units: 3, activation: 'softmax' },
    ],
    epochs: 200,
    batchSize: 16,
    lr: 0.01,
    description: '13-13-3, tanh, softmax head',
  },
  boston: {
    data: 'boston',
    layers: [
      { name: 'hidden1', units: 39, activation: 'tanh' },
      { name: 'output', units: 1, activation: 'linear' },
    ],
    epochs: 300,
    batchSize: 32,
    lr: 0.01,
    description: '13-39-1, tanh, linear output, MSE',
  },
  'paper1-synthetic': {
    data: 'paper1-synthetic',
    layers: [{ name: 'output', units: 1, activation: 'linear' }],
    epochs: 20,
    batchSize: 64,
    lr: 0.01,
    description: '100-1 linear regression, MSE',
  },
};

export interface Paper1Options {
  seeds?: number[];
  methods?: RelevanceMethod[];
  step?: number;
  /** Seeds of the random method per teacher (mean and spread). */
  randomSeeds?: number;
  /** Override the training budget (tests, quick runs). */
  epochs?: number;
  variationalEpochs?: number;
  belsleyCovariance?: BelsleyCovariance;
  /**
   * The variational curve prunes the posterior mean mu (default, METHODS.md 2.5) or the teacher's
   * weights; the other choice is drawn too, as the curve `variational-teacher` (or `variational-mu`).
   */
  variationalWeights?: VariationalWeights;
  /**
   * Hold this share of the training part out of the teacher's training, as a validation part for
   * choices that must not see the test part (the demo's student). Default 0: the paper's setup.
   */
  validationFraction?: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export interface Paper1Run {
  seed: number;
  /** The held-out validation part (with validationFraction > 0); `split.train` excludes it. */
  validation?: SplitPart;
  teacher: { train: Metrics; test: Metrics };
  curves: CurvesResult;
  rankings: Record<string, RelevanceResult>;
  /** The trained teacher (caller disposes). */
  network: Graph;
  split: DataSplit;
}

export interface Paper1Result {
  data: string;
  setup: Paper1Setup;
  metric: 'accuracy' | 'mse';
  shares: number[];
  /** Over teacher seeds (and random's own seeds): mean and sd per share. */
  curves: Record<string, Curve>;
  baseline: { mean: number; sd: number };
  runs: Paper1Run[];
  provenance: Provenance;
}

export const DEFAULT_METHODS: RelevanceMethod[] = [...RELEVANCE_METHODS];

/** The second variational curve's name: the weights the main one does not use. */
export function otherVariationalCurve(w: VariationalWeights): string {
  return w === 'mu' ? 'variational-teacher' : 'variational-mu';
}

function rankerFor(method: RelevanceMethod, split: DataSplit, opts: Paper1Options, nRandom: number): Ranker {
  const req: RelevanceRequest = {
    method,
    // The paper's saliency: the exact Hessian diagonal, whatever the default becomes.
    variant: 'hessian',
    covariance: opts.belsleyCovariance,
    epochs: opts.variationalEpochs,
    signal: opts.signal,
  };
  return {
    name: method,
    stochastic: method === 'random' && nRandom > 1,
    variationalWeights: opts.variationalWeights ?? DEFAULT_VARIATIONAL_WEIGHTS,
    rank: (net, seed) => computeRelevance(net, split, { ...req, seed }),
  };
}

export async function runPaper1(data: string, opts: Paper1Options = {}): Promise<Paper1Result> {
  const setup = PAPER1_SETUPS[data];
  if (!setup)
    throw badInput(`no paper1 setup for ${data}`, { field: '--data', expected: Object.keys(PAPER1_SETUPS).join(', ') });
  const seeds = opts.seeds ?? [0, 1, 2];
  const methods = opts.methods ?? DEFAULT_METHODS;
  const nRandom = opts.randomSeeds ?? 5;
  const shares = shareGrid(opts.step ?? 0.02);
  const ds = loadDataset(setup.data);
  const runs: Paper1Run[] = [];
  for (const seed of seeds) {
    throwIfCancelled(opts.signal, 'paper1 experiment');
    const full = splitDataset(ds, { seed, testFraction: 0.2, standardize: true });
    const held = opts.validationFraction ? holdOutValidation(full, opts.validationFraction, seed) : undefined;
    const split = held ? held.split : full;
    const spec: NetworkSpec = { inputSize: ds.features, layers: setup.layers };
    const net = randomDense(spec, seed);
    opts.onProgress?.(`${data} seed ${seed}: training ${setup.description}`);
    const t = await train(net, split, {
      epochs: opts.epochs ?? setup.epochs,
      batchSize: setup.batchSize,
      lr: setup.lr,
      seed,
      signal: opts.signal,
      evalEvery: 0,
    });
    const rankings: Record<string, RelevanceResult> = {};
    const rankers: Ranker[] = methods.map((m) => {
      const r = rankerFor(m, split, opts, nRandom);
      // Remember each method's ranking of the teacher (the first call per method) for the report.
      return {
        ...r,
        rank: async (n: Graph, s: number) => {
          const res = await r.rank(n, s);
          rankings[m + (r.stochastic ? `:${s}` : '')] ??= res;
          return res;
        },
      };
    });
    if (methods.includes('variational')) {
      // The same variational ranking (no second fit), its pruned models keeping the other weights.
      const w = opts.variationalWeights ?? DEFAULT_VARIATIONAL_WEIGHTS;
      rankers.push({
        name: otherVariationalCurve(w),
        variationalWeights: w === 'mu' ? 'teacher' : 'mu',
        rank: async () => {
          if (!rankings.variational) throw new PruneScopeError('internal', 'the variational ranking runs first');
          return rankings.variational;
        },
      });
    }
    opts.onProgress?.(`${data} seed ${seed}: ranking by ${methods.join(', ')} and pruning on ${shares.length} shares`);
    const curves = await qualityCurves(net, split, rankers, {
      shares,
      seeds: Array.from({ length: nRandom }, (_, i) => 1000 * seed + i),
      signal: opts.signal,
    });
    runs.push({
      seed,
      teacher: t.final,
      curves,
      rankings,
      network: net,
      split,
      ...(held ? { validation: held.validation } : {}),
    });
  }
  const metric = ds.task === 'classification' ? 'accuracy' : 'mse';
  const curves: Record<string, Curve> = {};
  for (const m of Object.keys(runs[0].curves.curves)) {
    const all = runs.flatMap((r) => r.curves.curves[m].runs);
    curves[m] = summarise(all);
  }
  const base = runs.map((r) => r.curves.baseline);
  return {
    data,
    setup,
    metric,
    shares,
    curves,
    baseline: { mean: mean(base), sd: sampleSd(base) },
    runs,
    provenance: makeProvenance({
      job: 'experiment paper1',
      method: methods.join(','),
      seed: seeds[0],
      data: { name: ds.name, split: 'test', rows: ds.rows, testFraction: 0.2, standardized: true },
      options: {
        seeds,
        randomSeeds: nRandom,
        step: opts.step ?? 0.02,
        epochs: opts.epochs ?? setup.epochs,
        lr: setup.lr,
        batchSize: setup.batchSize,
        network: setup.description,
        obdVariant: 'hessian',
        belsleyCovariance: opts.belsleyCovariance ?? RELEVANCE_DEFAULTS.covariance,
        variationalWeights: opts.variationalWeights ?? DEFAULT_VARIATIONAL_WEIGHTS,
        validationFraction: opts.validationFraction ?? 0,
        prunedWeights: runs[0].curves.prunedWeights,
        classes: numClasses(ds),
      },
    }),
  };
}

/**
 * The largest share up to which a curve stays within `tolerance` of the unpruned model at every
 * grid point: accuracy at most `tolerance` (absolute) below, or MSE at most `tolerance` (relative) above.
 */
export function largestShareWithin(
  r: Pick<Paper1Result, 'metric' | 'shares' | 'baseline'>,
  curve: Curve,
  tolerance: number,
): number {
  let best = 0;
  for (let i = 0; i < r.shares.length; i++) {
    const ok =
      r.metric === 'accuracy'
        ? curve.mean[i] >= r.baseline.mean - tolerance - 1e-12
        : curve.mean[i] <= r.baseline.mean * (1 + tolerance) + 1e-12;
    if (!ok) break;
    best = r.shares[i];
  }
  return best;
}
