// The order the essay induces from the gradient covariance: parameters by increasing C_jj (ties by
// lower flat index, so runs are reproducible), and its rank vector I (I[j] = 1-based rank of j).
import { orderByScore } from '../util/order';

/** Flat indices by increasing variance (least variance first); `candidates` defaults to all. */
export function orderByVariance(variances: ArrayLike<number>, candidates?: ArrayLike<number>): Int32Array {
  return orderByScore(variances, candidates);
}

/**
 * The essay's index vector I: I[j] is the 1-based position of parameter j in the order.
 * Example (essay 3.3): C = diag(0.3, 0.2, 0.25) gives I = [3, 1, 2].
 */
export function ranksFromOrder(order: ArrayLike<number>, n = order.length): Int32Array {
  const ranks = new Int32Array(n);
  for (let i = 0; i < order.length; i++) ranks[order[i]] = i + 1;
  return ranks;
}
