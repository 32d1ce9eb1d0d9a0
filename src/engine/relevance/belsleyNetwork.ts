// Belsley relevance of a network's parameters (METHODS.md 2.6): a covariance of the ACTIVE
// parameters from a named source (laplace: exact blocks or Kronecker factors; trajectory; gradient:
// low-rank plus diagonal above the block limit; variational-full is refused), standardised,
// decomposed and ordered by Belsley's near-dependency rule. Already-pruned and degenerate
// parameters go first; scores are ranks. Sources and rules: docs/DESIGN.md.
import type { DataSplit } from '../data/dataset';
import { numClasses, xTensor, yTensor } from '../data/dataset';
import { badInput, PruneScopeError } from '../errors';
import type { Graph } from '../model/graph';
import { checkFeatures } from '../data/forModel';
import {
  BELSLEY_COVARIANCES,
  BELSLEY_ORDERINGS,
  LAPLACE_STRUCTURES,
  RELEVANCE_DEFAULTS,
  type LaplaceStructure,
  type BelsleyCovariance,
  type BelsleyOrdering,
  type VarianceEstimator,
} from '../options';
import { hashModel, makeProvenance } from '../provenance';
import { BELSLEY_DEFINITIONS } from './belsleyCore';
import { BelsleyBlock, blockBelsley, BlockBelsleyResult, blockKind, largestBlock } from './covariance/blockBelsley';
import { laplaceBlocks } from './covariance/laplace';
import { gradientBlocks } from './covariance/gradient';
import { recordTrajectory, trajectoryBelsley } from './covariance/trajectory';
import type { RelevanceResult } from './types';
import { splitRecord } from '../data/split';

export interface BelsleyRelevanceRequest {
  covariance?: BelsleyCovariance;
  /** Default: 'exact' up to RELEVANCE_DEFAULTS.exactOrderingLimit active parameters, 'fast' beyond. */
  ordering?: BelsleyOrdering;
  /** Seeds the minibatch order of the training-based sources (trajectory, gradient). Default 0. */
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, what: string) => void;
  /**
   * laplace/gradient: a layer block is full up to this many parameters (default 2048); beyond it,
   * laplace uses Kronecker factors and gradient a low-rank plus diagonal model.
   */
  blockLimit?: number;
  /**
   * laplace: 'auto' (default: full up to blockLimit, Kronecker above), 'block', 'kron' or 'diag' (no Belsley
   * information).
   */
  laplaceStructure?: LaplaceStructure;
  /** trajectory: number of snapshots K (default 100) and steps between them (default 5). */
  snapshots?: number;
  every?: number;
  /** trajectory, and gradient layers over blockLimit: weight of the isotropic part of R (default 0.05). */
  rho?: number;
  /** gradient: training steps the tracker observes (default 200). */
  steps?: number;
  /** trajectory/gradient: Adam learning rate (default 1e-3) and minibatch size (default 32). */
  lr?: number;
  batchSize?: number;
  /** gradient: the tracker's estimator (default 'essay', (3.6)). */
  estimator?: VarianceEstimator;
}

/**
 * Explicit exact ordering on blocks: refused when the largest block exceeds this. It re-decomposes the
 * block once per removal (~m^4 / 4 flops in all); the limit keeps an exact run to about ten seconds
 * (bench/NOTES.md).
 */
export const EXACT_BLOCK_LIMIT = 256;
/** extra.proportions: all rows up to this many active parameters, else the top components only. */
const FULL_PROPORTIONS_LIMIT = 256;
const TOP_COMPONENTS = 20;
const TOP_PARAMS_PER_COMPONENT = 10;

export const VARIATIONAL_FULL_REFUSAL =
  "PruneScope's variational posterior is mean-field (a diagonal covariance); with a diagonal S the correlation matrix R is the identity and Belsley's diagnostic says nothing (METHODS.md 2.6)";

function positiveInt(v: number | undefined, name: string, dflt: number, min = 1): number {
  const x = v ?? dflt;
  if (!(Number.isInteger(x) && x >= min))
    throw badInput(`${name} = ${v}`, { field: name, expected: `an integer >= ${min}` });
  return x;
}

export async function belsleyRelevance(
  net: Graph,
  split: DataSplit,
  req: BelsleyRelevanceRequest = {},
): Promise<RelevanceResult> {
  const covariance = req.covariance ?? RELEVANCE_DEFAULTS.covariance;
  if (!BELSLEY_COVARIANCES.includes(covariance))
    throw badInput(`unknown covariance source ${String(covariance)}`, {
      field: 'covariance',
      expected: BELSLEY_COVARIANCES.join(', '),
    });
  if (covariance === 'variational-full') {
    throw new PruneScopeError('unsupported', VARIATIONAL_FULL_REFUSAL, {
      field: 'covariance',
      expected: "'laplace' (default) or 'trajectory'",
    });
  }
  if (req.ordering !== undefined && !BELSLEY_ORDERINGS.includes(req.ordering))
    throw badInput(`ordering = ${String(req.ordering)}`, {
      field: 'ordering',
      expected: BELSLEY_ORDERINGS.join(' or '),
    });
  const seed = req.seed ?? 0;
  if (!Number.isFinite(seed)) throw badInput(`seed = ${seed}`, { field: 'seed', expected: 'a finite number' });
  const blockLimit = positiveInt(req.blockLimit, 'blockLimit', RELEVANCE_DEFAULTS.blockLimit);
  const structure = req.laplaceStructure ?? RELEVANCE_DEFAULTS.laplaceStructure;
  if (!LAPLACE_STRUCTURES.includes(structure))
    throw badInput(`laplaceStructure = ${String(structure)}`, {
      field: 'laplaceStructure',
      expected: LAPLACE_STRUCTURES.join(', '),
    });
  if (req.laplaceStructure !== undefined && covariance !== 'laplace')
    throw badInput(`laplaceStructure ${structure} with covariance ${covariance}`, {
      field: 'laplaceStructure',
      expected: 'only with the laplace covariance',
    });
  const rho = req.rho ?? RELEVANCE_DEFAULTS.rho;
  if (!(rho > 0 && rho <= 1)) throw badInput(`rho = ${req.rho}`, { field: 'rho', expected: 'a number in (0, 1]' });
  const lr = req.lr ?? 1e-3;
  if (!(lr > 0 && Number.isFinite(lr)))
    throw badInput(`lr = ${req.lr}`, { field: 'lr', expected: 'a positive number' });
  const batchSize = positiveInt(req.batchSize, 'batchSize', 32);
  const d = split.dataset;
  checkFeatures(net, d.features, { what: `data set ${d.name}`, field: 'network' });

  const w = net.toFlat();
  const pruned: number[] = [];
  const active: number[] = [];
  w.forEach((v, j) => (v === 0 ? pruned : active).push(j));
  if (active.length === 0)
    throw badInput('every parameter is 0 (already pruned)', {
      field: 'parameters',
      expected: 'at least one nonzero parameter',
    });
  const prune = Uint8Array.from(w, (v) => (v === 0 ? 1 : 0));
  // Default: exact for a small model whose blocks are all dense (set once the blocks are known).
  let ordering: 'exact' | 'fast' =
    req.ordering ?? (active.length <= RELEVANCE_DEFAULTS.exactOrderingLimit ? 'exact' : 'fast');
  const progress = req.onProgress;
  const options: Record<string, unknown> = {
    ordering,
    activeParameters: active.length,
    prunedParameters: pruned.length,
  };
  const extra: Record<string, unknown> = {};
  let degenerate: number[] = [];
  let belsleyOrder: Int32Array;

  if (covariance === 'laplace' || covariance === 'gradient') {
    let res: BlockBelsleyResult;
    const run = (blocks: BelsleyBlock[]) => {
      if (req.ordering === undefined && blocks.some((b) => blockKind(b) !== 'dense')) ordering = 'fast';
      options.ordering = ordering;
      if (ordering === 'exact' && largestBlock(blocks) > EXACT_BLOCK_LIMIT) {
        throw new PruneScopeError(
          'too-large',
          `exact ordering re-decomposes a block of ${largestBlock(blocks)} parameters once per removal (~m^4/4 operations)`,
          { field: 'ordering', expected: `ordering 'fast', or blocks of at most ${EXACT_BLOCK_LIMIT} parameters` },
        );
      }
      return blockBelsley(blocks, {
        ordering,
        signal: req.signal,
        onProgress: progress ? (a, b) => progress(a, b, 'belsley exact ordering') : undefined,
      });
    };
    if (covariance === 'laplace') {
      const x = xTensor(split.train, d.features);
      const y = yTensor(split.train, d.task, numClasses(d));
      let lap;
      try {
        lap = await laplaceBlocks(net, x, y, w, {
          blockLimit,
          structure,
          signal: req.signal,
          onLayer: progress ? (a, b) => progress(a, b, 'laplace GGN blocks') : undefined,
        });
      } finally {
        x.dispose();
        y.dispose();
      }
      res = run(lap.blocks);
      Object.assign(options, {
        blockLimit,
        laplaceStructure: structure,
        prior: 'per layer tau = 1 / mean(w^2) over active parameters',
        likelihoodScale: lap.nTrain,
      });
      extra.construction = {
        formula:
          'S_l = (N * GGN_l + tau_l I)^-1 per layer over active parameters; N * GGN = Gauss-Newton Hessian of N x mean loss; tau_l = 1 / mean(w^2) of the layer (empirical Bayes, as the variational prior fit)',
        kron: 'layers of kind kron: GGN_l ~ A (x) G (K-FAC: A = second moment of [input; 1], G = mean GGN w.r.t. the pre-activations), precision N (A + pi d I) (x) (G + d/pi I) with d = sqrt(tau_l / N), pi = sqrt((tr A / nA) / (tr G / nG)) (factored Tikhonov damping): its correlation matrix is R_A (x) R_G, so eigenvalues, proportions and the order are exact for that covariance',
        structure,
        nTrain: lap.nTrain,
        layers: lap.layers,
      };
      const diag = lap.layers.filter((l) => l.kind === 'diagonal').map((l) => l.layer);
      if (diag.length) {
        extra.belsleyInformation = diag.length === lap.layers.length ? 'none' : 'partial';
        const why =
          structure === 'diag'
            ? "laplace structure 'diag'"
            : 'no Kronecker factors for the class, over the full-block limit';
        extra.warning = `diagonal covariance on layer${diag.length > 1 ? 's' : ''} ${diag.join(', ')} (${why}): a diagonal covariance standardises to the identity (METHODS.md 2.6), so ${diag.length === lap.layers.length ? 'this result carries no Belsley information: the order is the flat index' : 'within those layers the order is the flat index, not Belsley'}`;
      }
    } else {
      const steps = positiveInt(req.steps, 'steps', 200);
      const estimator = req.estimator ?? 'essay';
      if (estimator !== 'essay' && estimator !== 'per-sample')
        throw badInput(`estimator = ${String(estimator)}`, { field: 'estimator', expected: 'essay or per-sample' });
      const g = await gradientBlocks(net, split, w, prune, {
        steps,
        batchSize,
        lr,
        seed,
        blockLimit,
        estimator,
        rho,
        snapshots: req.snapshots,
        signal: req.signal,
        onStep: progress ? (a, b) => progress(a, b, 'gradient covariance training') : undefined,
      });
      degenerate = g.zeroVariance;
      res = run(g.blocks);
      Object.assign(options, { blockLimit, steps, batchSize, lr, optimiser: 'adam', estimator, seed });
      if (g.layers.some((l) => l.kind === 'low-rank')) Object.assign(options, { rho, snapshots: req.snapshots ?? 100 });
      extra.construction = {
        formula:
          'per-layer gradient covariance C (tracker, block mode) over steps of Adam on a clone; layers over blockLimit: R = (1 - rho) Z Z^T + rho I from K rank-one terms of C (low-rank plus diagonal)',
        steps,
        estimator,
        layers: g.layers,
      };
      if (degenerate.length)
        extra.degenerate = {
          parameters: degenerate,
          reason: 'zero gradient variance: cannot be standardised; ranked right after the pruned parameters',
        };
    }
    belsleyOrder = res.order;
    Object.assign(extra, blockExtras(res));
  } else {
    const k = positiveInt(req.snapshots, 'snapshots', 100, 2);
    const every = positiveInt(req.every, 'every', 5);
    const t = await recordTrajectory(net, split, Int32Array.from(active), prune, {
      snapshots: k,
      every,
      batchSize,
      lr,
      seed,
      signal: req.signal,
      onStep: progress ? (a, b) => progress(a, b, 'trajectory training') : undefined,
    });
    degenerate = t.constant;
    if (degenerate.length)
      extra.degenerate = {
        parameters: degenerate,
        reason: 'did not move along the trajectory: cannot be standardised; ranked right after the pruned parameters',
      };
    const { order: lrOrder, result: r } = trajectoryBelsley(t, rho, ordering, req.signal);
    belsleyOrder = lrOrder;
    if (r) {
      const c = r.nComponents;
      Object.assign(extra, {
        conditionIndices: Array.from(r.conditionIndices),
        conditionIndicesBKW: Array.from(r.conditionIndicesBKW),
        eigenvalues: Array.from(r.eigenvalues),
        multiplicity: Array.from(r.multiplicity),
        xi: r.xi,
        zeta: t.moving[r.zeta],
        ...proportionExtras(t.moving.length, c, Array.from(t.moving), (i, j) => r.proportions[i * c + j]),
      });
    }
    Object.assign(options, { snapshots: k, every, steps: t.steps, rho, batchSize, lr, optimiser: 'adam', seed });
    extra.construction = {
      formula:
        'R = (1 - rho) Z Z^T + rho I from K centred, row-standardised snapshots of Adam on a clone (belsleyLowRank)',
      snapshots: k,
      every,
      rho,
      rank: r ? Array.from(r.eigenvalues).filter((l) => l !== rho).length : 0,
    }; // the pooled complement is the one column with lambda = rho exactly
  }

  const order = Int32Array.from([...pruned, ...degenerate, ...belsleyOrder]);
  if (order.length !== net.nParams)
    throw new PruneScopeError('internal', `Belsley order has ${order.length} of ${net.nParams} parameters`);
  const scores = new Float64Array(net.nParams);
  order.forEach((j, pos) => (scores[j] = pos));
  return {
    method: 'belsley',
    variant: ordering,
    covariance,
    scores,
    order,
    extra: {
      ...extra,
      covariance,
      ordering,
      scoreMeaning: 'position in the Belsley order (first removed = 0); higher = more relevant',
      pruned,
      conditionIndexPlotted: 'conditionIndices (essay: lambda_max / lambda_j); conditionIndicesBKW is the square root',
      definitions: BELSLEY_DEFINITIONS,
    },
    provenance: makeProvenance({
      job: 'relevance',
      method: 'belsley',
      variant: ordering,
      covariance,
      ...(covariance === 'laplace' ? {} : { seed }),
      modelHash: hashModel(net.structure(), w),
      data: splitRecord(split, 'train', split.train.rows),
      options,
    }),
  };
}

function blockExtras(r: BlockBelsleyResult): Record<string, unknown> {
  // Every ranked parameter: its block and row; listed by flat index.
  const where = new Map<number, { b: number; row: number }>();
  r.systems.forEach((s, b) => s.params.forEach((f, row) => f >= 0 && where.set(f, { b, row })));
  const params = Array.from(where.keys()).sort((a, b) => a - b);
  const q = (i: number, g: number) => {
    const w = where.get(params[i])!;
    return r.componentBlock[g] === w.b ? r.systems[w.b].q(w.row, r.componentColumn[g]) : 0;
  };
  // Top parameters of component g (within its block), as positions in `params`.
  const pos = new Map(params.map((f, i) => [f, i]));
  const top = (g: number, k: number) =>
    r.systems[r.componentBlock[g]]
      .top(r.componentColumn[g], k)
      .map((row) => pos.get(r.systems[r.componentBlock[g]].params[row])!);
  return {
    conditionIndices: Array.from(r.conditionIndices),
    conditionIndicesBKW: Array.from(r.conditionIndicesBKW),
    eigenvalues: Array.from(r.eigenvalues),
    ...(r.multiplicity.some((m) => m !== 1) ? { multiplicity: Array.from(r.multiplicity) } : {}),
    componentBlock: Array.from(r.componentBlock, (b) => r.systems[b].name),
    blockKinds: Object.fromEntries(
      r.systems.filter((s) => s.kind !== 'dense' || s.params.length > 1).map((s) => [s.name, s.kind]),
    ),
    xi: r.xi,
    zeta: r.zeta,
    ...proportionExtras(params.length, r.conditionIndices.length, params, q, top),
  };
}

/**
 * Proportions for the side panel: all rows (parameters by flat index x components by decreasing
 * condition index) when small; otherwise the top components and, for each, its largest-proportion
 * parameters (union, by flat index).
 */
function proportionExtras(
  n: number,
  c: number,
  params: number[],
  q: (i: number, j: number) => number,
  top?: (j: number, k: number) => number[],
): Record<string, unknown> {
  if (n <= FULL_PROPORTIONS_LIMIT) {
    return {
      proportions: Array.from({ length: n }, (_, i) => Array.from({ length: c }, (_, j) => q(i, j))),
      proportionParameters: params,
      proportionComponents: Array.from({ length: c }, (_, j) => j),
      proportionsTruncated: false,
    };
  }
  const comps = Array.from({ length: Math.min(TOP_COMPONENTS, c) }, (_, j) => j);
  const pick = new Set<number>();
  for (const j of comps) {
    const best = top
      ? top(j, TOP_PARAMS_PER_COMPONENT)
      : Array.from({ length: n }, (_, i) => i)
          .sort((a, b) => q(b, j) - q(a, j) || a - b)
          .slice(0, TOP_PARAMS_PER_COMPONENT);
    best.forEach((i) => pick.add(i));
  }
  const rows = Array.from(pick).sort((a, b) => a - b);
  return {
    proportions: rows.map((i) => comps.map((j) => q(i, j))),
    proportionParameters: rows.map((i) => params[i]),
    proportionComponents: comps,
    proportionsTruncated: true,
  };
}
