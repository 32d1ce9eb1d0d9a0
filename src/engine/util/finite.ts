// Where a value stops being finite (NaN / Infinity): the first offending index.

/** First index in [from, to) whose value is NaN or +-Infinity; -1 if none. */
export function firstNonFinite(a: ArrayLike<number>, from = 0, to = a.length): number {
  for (let i = from; i < to; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}
