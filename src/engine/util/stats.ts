// Mean and sample standard deviation of a list of run results (seeds), as the experiments report
// them. prune/curves.ts summarise() keeps its own per-grid-point form (it sums r / n, a different
// rounding), so its curves do not move.

/** Arithmetic mean (NaN for an empty list). */
export function mean(v: readonly number[]): number {
  return v.reduce((a, b) => a + b, 0) / v.length;
}

/** Sample standard deviation (n - 1 in the denominator); 0 for fewer than two values. */
export function sampleSd(v: readonly number[]): number {
  const m = mean(v);
  return v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) : 0;
}
