// `gradient` covariance (METHODS.md 2.6, from section 3): the gradient covariance C of the ordering
// module's tracker in block mode (per-layer blocks, the essay's recursion (3.6) by default), run over
// `steps` steps of Adam training on a clone. A layer over blockLimit parameters (the tracker keeps it
// diagonal) gets METHODS.md's low-rank plus diagonal covariance instead: C is itself a mean of
// rank-one terms (essay: d_t d_t^T with d_t = g_1,t - g_S,t; per-sample: the per-sample deviations
// g_n - g_S of each minibatch), so K of those terms, taken at equally spaced steps, are the snapshots of
// the model R = (1 - rho) Z Z^T + rho I (lowRankSystem.ts; rho as for the trajectory source).
// Active parameters whose C_jj is 0 (no gradient noise at all, e.g. a dead unit or an input pixel that
// is always 0) cannot be standardised; they are returned separately.
import * as tf from '@tensorflow/tfjs';
import type { Graph } from '../../model/graph';
import type { DataSplit } from '../../data/dataset';
import { GradientVarianceTracker } from '../../ordering/tracker';
import type { VarianceEstimator } from '../../options';
import { disposePass } from '../../model/graph';
import { propagate } from '../../model/backward';
import { lossKindOf, topDelta } from '../../model/loss';
import { firstRowGrads } from '../../ordering/tracker';
import { RELEVANCE_DEFAULTS } from '../../options';
import type { BelsleyBlock } from './blockBelsley';
import { activeByLayer } from './laplace';
import { trainClone } from './cloneTraining';
import { checkFiniteFlat, describeParam } from '../../model/finiteParams';
import { PruneScopeError } from '../../errors';

export interface GradientCovarianceOptions {
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  blockLimit: number;
  estimator: VarianceEstimator;
  /** Layers over blockLimit: rank-one terms kept (default 100) and the isotropic weight rho (default 0.05). */
  snapshots?: number;
  rho?: number;
  signal?: AbortSignal;
  onStep?: (step: number, steps: number) => void;
}

export interface GradientCovariance {
  blocks: BelsleyBlock[];
  /** Per layer: 'block' (the tracker's block) or 'low-rank' (over blockLimit), active parameters, snapshots. */
  layers: { layer: string; active: number; kind: 'block' | 'low-rank'; snapshots?: number; rho?: number }[];
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
  const rec = new RankOneRecorder(net, o);
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
      rec.observe(step, clone, x, y, g.grads);
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
  const blocks: BelsleyBlock[] = [];
  const layers: GradientCovariance['layers'] = [];
  const zeroVariance: number[] = [];
  net.layers().forEach((lay, li) => {
    const idx = Array.from(active[li]);
    const blk = mats.find((m) => m.layer === li);
    if (!blk || diagonal.includes(lay.name)) {
      const snap = rec.snapshots(li, idx);
      for (const j of snap.zero) zeroVariance.push(j);
      if (snap.params.length)
        blocks.push({
          kind: 'low-rank',
          name: lay.name,
          params: snap.params,
          snaps: snap.snaps,
          k: snap.k,
          rho: rec.rho,
          center: false,
        });
      layers.push({ layer: lay.name, active: idx.length, kind: 'low-rank', snapshots: snap.k, rho: rec.rho });
      return;
    }
    const good = idx.filter((j) => variances[j] > 0);
    for (const j of idx) if (!(variances[j] > 0)) zeroVariance.push(j);
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

/**
 * The rank-one terms of C for the layers over blockLimit, at equally spaced steps: essay d_t (one row
 * per recorded step), or per-sample g_n - g_S (one row per sample of a recorded minibatch), at most
 * `snapshots` rows in all.
 */
class RankOneRecorder {
  readonly rho: number;
  /** Param-layer indices (net.layers() order) over blockLimit, and their ops. */
  private readonly big: Map<number, number> = new Map();
  private readonly rows: Map<number, Float32Array[]> = new Map();
  private readonly stride: number;

  constructor(
    private readonly net: Graph,
    private readonly o: GradientCovarianceOptions,
  ) {
    this.rho = o.rho ?? RELEVANCE_DEFAULTS.rho;
    const k = o.snapshots ?? 100;
    net.layers().forEach((l, li) => {
      if (l.size > o.blockLimit) {
        this.big.set(l.op, li);
        this.rows.set(li, []);
      }
    });
    const perStep = o.estimator === 'essay' ? 1 : o.batchSize;
    const recorded = Math.max(1, Math.min(o.steps, Math.floor(k / perStep)));
    this.stride = Math.ceil(o.steps / recorded);
  }

  /** One training step of the clone: its batch and minibatch-mean gradients (graph.weights order). */
  observe(step: number, clone: Graph, x: tf.Tensor, y: tf.Tensor2D, grads: readonly tf.Tensor[]): void {
    if (!this.big.size || step % this.stride !== 0) return;
    const pass = clone.forward(x, 'train', { update: false });
    try {
      const delta = topDelta(lossKindOf(clone), pass.output as tf.Tensor2D, y);
      try {
        propagate(clone, pass, {
          start: clone.plan.top,
          block: delta,
          c: 1,
          wants: (op) => this.big.has(op.index),
          visit: (op, g, sv) => {
            const li = this.big.get(op.index);
            if (li === undefined) return;
            const w = clone.vars[op.index];
            const flat = tf.tidy(() => {
              const gS = tf.concat(
                op.trainable.map((_, k) => tf.reshape(grads[op.weightIndex + k], [1, -1])),
                1,
              );
              if (this.o.estimator === 'essay') {
                const g1 = firstRowGrads(op, g, sv, w);
                return tf.sub(
                  tf.concat(
                    g1.map((t) => tf.reshape(t, [1, -1])),
                    1,
                  ),
                  gS,
                );
              }
              return tf.sub(op.layer.weightRows!(g, sv, w, 1), gS);
            });
            const [r, p] = flat.shape as [number, number];
            const data = flat.dataSync() as Float32Array;
            flat.dispose();
            for (let i = 0; i < r; i++) this.rows.get(li)!.push(data.slice(i * p, i * p + p));
          },
        });
      } finally {
        delta.dispose();
      }
    } finally {
      disposePass(pass);
    }
  }

  /** Snapshots (K x m) of the layer's active parameters that vary; the others as `zero`. */
  snapshots(li: number, active: number[]): { params: Int32Array; snaps: Float64Array; k: number; zero: number[] } {
    const rows = this.rows.get(li) ?? [];
    const off = this.net.layers()[li].offset;
    const k = rows.length;
    const keep: number[] = [];
    const zero: number[] = [];
    for (const j of active) {
      let s = 0;
      for (const r of rows) s += r[j - off] * r[j - off];
      if (s > 0 && Number.isFinite(s)) keep.push(j);
      else zero.push(j);
    }
    const m = keep.length;
    const snaps = new Float64Array(k * m);
    rows.forEach((r, a) => keep.forEach((j, t) => (snaps[a * m + t] = r[j - off])));
    return { params: Int32Array.from(keep), snaps, k, zero };
  }
}
