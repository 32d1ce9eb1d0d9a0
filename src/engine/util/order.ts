// Orders by a score, ascending, ties by the lower index: the one ordering rule every relevance
// method and the gradient-variance ordering share, so results are deterministic.

/**
 * The given candidate indices (default: every index) by increasing score; ties and NaN
 * comparisons by lower index.
 */
export function orderByScore(scores: ArrayLike<number>, candidates?: ArrayLike<number>): Int32Array {
  const idx = candidates ? Int32Array.from(candidates) : Int32Array.from({ length: scores.length }, (_, i) => i);
  return idx.sort((a, b) => {
    const d = scores[a] - scores[b];
    return d !== 0 && !Number.isNaN(d) ? d : a - b;
  });
}
