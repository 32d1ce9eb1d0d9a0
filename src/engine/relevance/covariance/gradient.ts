// `gradient` covariance (METHODS.md 2.6, from section 3): the gradient covariance C of the ordering
// module's tracker in block mode (per-layer blocks, the essay's recursion (3.6) by default), run over
// `steps` steps of Adam training on a clone. Layers the tracker keeps diagonal (more than blockLimit
// parameters) become singleton components (identity correlation). Active parameters whose C_jj is 0
// (no gradient noise at all, e.g. a dead unit) cannot be standardised; they are returned separately.
import type { Graph } from '../../model/graph';
import type { DataSplit } from '../../data/dataset';
import { GradientVarianceTracker } from '../../ordering/tracker';
import type { VarianceEstimator } from '../../options';
import type { CovBlock } from './blockBelsley';
import { activeByLayer } from './laplace';
import { trainClone } from './cloneTraining';
import { checkFiniteFlat, describeParam } from '../../util/finite';
import { PruneScopeError } from '../../errors';

export interface GradientCovarianceOptions {
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  blockLimit: number;
  estimator: VarianceEstimator;
  signal?: AbortSignal;
  onStep?: (step: number, steps: number) => void;
}

export interface GradientCovariance {
  blocks: CovBlock[];
  /** Per layer: 'block' or 'diagonal' (tracker's choice) and the block size. */
  layers: { layer: string; active: number; kind: 'block' | 'diagonal' }[];
  /** Active parameters with zero gradient variance (flat indices, ascending). */
  zeroVariance: number[];
  steps: number;
}

export async function gradientBlocks(
  net: Graph,
  split: DataSplit,
  w: Float32Array,
  prune: Uint8Array,
  o: GradientCovarianceOptions,
): Promise<GradientCovariance> {
  // Built lazily on the clone: observeBatch runs its forward pass on the network it was built with.
  let tracked: GradientVarianceTracker | undefined;
  let mats: { layer: number; offset: number; size: number; matrix: Float32Array }[] = [];
  let diagonal: string[] = [];
  let variances: Float64Array = new Float64Array(0);
  await trainClone(net, split, prune, {
    steps: o.steps,
    batchSize: o.batchSize,
    lr: o.lr,
    seed: o.seed,
    signal: o.signal,
    onGradients: (step, x, y, g, clone) => {
      tracked ??= new GradientVarianceTracker(clone, {
        estimator: o.estimator,
        mode: 'block',
        blockLimit: o.blockLimit,
      });
      tracked.observeBatch(x, y, g.grads);
      o.onStep?.(step, o.steps);
      if (step === o.steps) {
        mats = tracked.blocks();
        diagonal = tracked.diagonalLayers.slice();
        variances = tracked.variances();
        tracked.dispose();
        tracked = undefined;
      }
    },
  }).finally(() => tracked?.dispose());
  // A NaN variance would otherwise be filed under zeroVariance (NaN > 0 is false): stop and say where.
  if (variances.length)
    checkFiniteFlat(
      net,
      variances,
      `gradient covariance after ${o.steps} steps`,
      "the clone's training overflowed; try a smaller lr",
      { field: 'covariance' },
    );
  const active = activeByLayer(net, w);
  const blocks: CovBlock[] = [];
  const layers: GradientCovariance['layers'] = [];
  const zeroVariance: number[] = [];
  net.layers().forEach((lay, li) => {
    const idx = Array.from(active[li]);
    const good = idx.filter((j) => variances[j] > 0);
    for (const j of idx) if (!(variances[j] > 0)) zeroVariance.push(j);
    const blk = mats.find((m) => m.layer === li);
    if (!blk || diagonal.includes(lay.name)) {
      for (const j of good)
        blocks.push({ name: `${lay.name}[${j}]`, indices: Int32Array.of(j), matrix: Float64Array.of(1) });
      layers.push({ layer: lay.name, active: idx.length, kind: 'diagonal' });
      return;
    }
    const m = good.length;
    const s = new Float64Array(m * m);
    for (let a = 0; a < m; a++) {
      const ra = (good[a] - blk.offset) * blk.size;
      for (let b = 0; b < m; b++) {
        const rb = (good[b] - blk.offset) * blk.size;
        // symmetrise the float32 estimate
        s[a * m + b] = 0.5 * (blk.matrix[ra + good[b] - blk.offset] + blk.matrix[rb + good[a] - blk.offset]);
      }
    }
    const badEntry = s.findIndex((v) => !Number.isFinite(v));
    if (badEntry >= 0)
      throw new PruneScopeError(
        'numerical',
        `gradient covariance block of layer ${lay.name} has ${s[badEntry]} at (${describeParam(net, good[Math.floor(badEntry / m)])}, ${describeParam(net, good[badEntry % m])}) after ${o.steps} steps; try a smaller lr`,
        { field: 'covariance', expected: 'finite values' },
      );
    if (m) blocks.push({ name: lay.name, indices: Int32Array.from(good), matrix: s });
    layers.push({ layer: lay.name, active: idx.length, kind: 'block' });
  });
  return { blocks, layers, zeroVariance: zeroVariance.sort((a, b) => a - b), steps: o.steps };
}
