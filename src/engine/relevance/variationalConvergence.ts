// When to stop the variational fit: a budget in optimiser steps, and "the ELBO stopped improving"
// judged on the means of the last two windows of steps against a relative tolerance and the noise
// of those means, holding over a whole window (docs/DESIGN.md explains why each part is needed).
export interface ConvergenceOptions {
  /** Steps per window (default 200). */
  windowSteps: number;
  /** Never stop before this many steps (default 2000). */
  minSteps: number;
  /** Always stop at this many steps (default 10000). */
  maxSteps: number;
  /** Relative change of the windowed mean ELBO below which the fit counts as converged (default 1e-3). */
  tolerance: number;
  /** Standard errors of the difference of window means treated as noise (default 2). */
  z?: number;
}

export interface ConvergenceCheck {
  stop: boolean;
  converged: boolean;
  /** Mean of the newer window minus the older (positive: still improving), nats; NaN before two windows. */
  improvement: number;
  threshold: number;
}

function meanVar(a: number[]): { mean: number; variance: number } {
  const n = a.length;
  const mean = a.reduce((s, v) => s + v, 0) / n;
  const v = a.reduce((s, x) => s + (x - mean) ** 2, 0);
  return { mean, variance: n > 1 ? v / (n - 1) : 0 };
}

/** The per-step ELBO series (the last two windows of it) and the stopping rule over it. */
export class ElboTracker {
  /** Ring buffer of the last 2 * windowSteps values. */
  private readonly ring: Float64Array;
  steps = 0;
  /** Step of the first check of the current unbroken run of quiet checks (-1: none). */
  private quietSince = -1;

  constructor(private readonly o: ConvergenceOptions) {
    this.ring = new Float64Array(2 * o.windowSteps);
  }

  push(value: number): void {
    this.ring[this.steps % this.ring.length] = value;
    this.steps++;
  }

  /** Called between epochs (the ELBO values of an epoch arrive in one download). */
  check(): ConvergenceCheck {
    const { windowSteps: w, minSteps, maxSteps, tolerance } = this.o;
    let improvement = NaN;
    let threshold = NaN;
    let converged = false;
    if (this.steps >= 2 * w) {
      const at = (k: number) => this.ring[(this.steps - 2 * w + k) % this.ring.length];
      const older = meanVar(Array.from({ length: w }, (_, k) => at(k)));
      const newer = meanVar(Array.from({ length: w }, (_, k) => at(w + k)));
      improvement = newer.mean - older.mean;
      const se = Math.sqrt((older.variance + newer.variance) / w);
      threshold = Math.max(tolerance * Math.abs(newer.mean), (this.o.z ?? 2) * se);
      if (improvement < threshold) {
        if (this.quietSince < 0) this.quietSince = this.steps;
        converged = this.steps - this.quietSince >= w;
      } else this.quietSince = -1;
    }
    const stop = this.steps >= maxSteps || (converged && this.steps >= minSteps);
    return { stop, converged, improvement, threshold };
  }
}
