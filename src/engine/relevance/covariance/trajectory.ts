// `trajectory` covariance (METHODS.md 2.6; Mandt, Hoffman, Blei 2017): K snapshots of the active
// parameters along continued Adam training of a clone, handed to belsleyLowRank with the isotropic
// weight rho (default 0.05) that regularises the rank-deficient sample covariance. Parameters that
// never move are returned separately. docs/DESIGN.md.
import type { Graph } from '../../model/graph';
import type { DataSplit } from '../../data/dataset';
import { trainClone } from './cloneTraining';
import { belsleyLowRank } from '../belsleyLowRank';
import type { BelsleyOrdering, BelsleyResult } from '../belsleyCore';

export interface TrajectoryOptions {
  snapshots: number;
  every: number;
  batchSize: number;
  lr: number;
  seed: number;
  signal?: AbortSignal;
  onStep?: (step: number, steps: number) => void;
}

export interface Trajectory {
  /** Row-major K x m over `moving` (snapshot a = snaps[a*m .. a*m+m)). */
  snaps: Float64Array;
  k: number;
  /** Flat indices of the active parameters that vary across the snapshots. */
  moving: Int32Array;
  /** Active parameters with identical values in every snapshot. */
  constant: number[];
  steps: number;
}

export async function recordTrajectory(
  net: Graph,
  split: DataSplit,
  active: Int32Array,
  prune: Uint8Array,
  o: TrajectoryOptions,
): Promise<Trajectory> {
  const k = o.snapshots;
  const n = active.length;
  const raw = new Float64Array(k * n);
  const steps = k * o.every;
  let taken = 0;
  await trainClone(net, split, prune, {
    steps,
    batchSize: o.batchSize,
    lr: o.lr,
    seed: o.seed,
    signal: o.signal,
    onUpdated: (step, clone) => {
      o.onStep?.(step, steps);
      if (step % o.every !== 0) return;
      const w = clone.toFlat();
      for (let i = 0; i < n; i++) raw[taken * n + i] = w[active[i]];
      taken++;
    },
  });
  return fromSnapshots(raw, k, active, steps);
}

/** Split the snapshot columns into moving and constant parameters. */
export function fromSnapshots(raw: Float64Array, k: number, active: Int32Array, steps: number): Trajectory {
  const n = active.length;
  const keep: number[] = [];
  const constant: number[] = [];
  for (let i = 0; i < n; i++) {
    let moves = false;
    for (let a = 1; a < k && !moves; a++) moves = raw[a * n + i] !== raw[i];
    if (moves) keep.push(i);
    else constant.push(active[i]);
  }
  const m = keep.length;
  const snaps = new Float64Array(k * m);
  for (let a = 0; a < k; a++) for (let t = 0; t < m; t++) snaps[a * m + t] = raw[a * n + keep[t]];
  return { snaps, k, moving: Int32Array.from(keep, (i) => active[i]), constant, steps };
}

/**
 * Belsley on the recorded snapshots: constant parameters apart, belsleyLowRank on the moving ones,
 * its order mapped back to flat indices (constant ones are NOT in `order`; the caller ranks them).
 */
export function trajectoryBelsley(
  t: Trajectory,
  rho: number,
  ordering: BelsleyOrdering,
  signal?: AbortSignal,
): { order: Int32Array; result?: BelsleyResult } {
  const m = t.moving.length;
  if (m === 0) return { order: new Int32Array(0) };
  const result = belsleyLowRank(t.snaps, t.k, m, rho, { ordering, signal });
  return { order: Int32Array.from(result.order, (i) => t.moving[i]), result };
}
