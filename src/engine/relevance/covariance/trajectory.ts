// `trajectory` covariance (METHODS.md 2.6; Mandt, Hoffman, Blei 2017: near an optimum, constant-rate
// stochastic-gradient iterates are samples of a Gaussian whose covariance reflects the posterior's
// shape): K snapshots of the ACTIVE parameters along continued Adam training of a clone, one every
// `every` steps. The covariance is never formed: belsleyLowRank works on the K x n snapshots
// (centred, rows standardised) with the model R = (1 - rho) Z Z^T + rho I.
// rho (default 0.05) is the weight of the isotropic part: K snapshots give a rank <= K - 1 sample
// covariance, singular whenever n >= K, and rho I regularises it (a shrinkage towards independence
// of 5 %); all low-rank condition indices are then bounded by ((1 - rho) s_max + rho) / rho.
// Active parameters that never move along the trajectory (zero gradient: dead units) have no
// variance to standardise; they are returned separately.
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
