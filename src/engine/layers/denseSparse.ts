// Dense weight products on a sparse model input. On MNIST ~80 % of pixels are 0 and ~35 % of the
// columns are 0 in every sample of a batch of 1,024, so A^T D and (A^2)^T D shrink by that share;
// packing the used columns transposed in JS also replaces the wasm transpose of A (element by
// element, ~10 ms at 1,024 x 784).
import * as tf from '@tensorflow/tfjs';
import type { Saved } from './layer';

/**
 * The used input columns of x (those with a non-zero entry in some row), transposed and packed: xT
 * is [k + 1, N] with row c = column cols[c] of x and a last row of ones (so one product with it also
 * yields the bias sum).
 */
export interface CompactInput {
  xT: tf.Tensor2D;
  cols: Int32Array;
  inSize: number;
}

/** undefined when more than `maxShare` of the columns are used (dense inputs: packing would not pay). */
export function compactInput(x: tf.Tensor2D, maxShare = 0.8): CompactInput | undefined {
  const [n, m] = x.shape;
  if (n * m < 1 << 16) return undefined; // small batches: launch-bound, nothing to gain
  const xs = x.dataSync() as Float32Array;
  const used = new Uint8Array(m);
  // Each row checks only the columns still all-zero so far (on MNIST ~40 % after a few rows).
  const open = new Int32Array(m);
  for (let j = 0; j < m; j++) open[j] = j;
  let nOpen = m;
  for (let r = 0; r < n && nOpen > 0; r++) {
    const o = r * m;
    let keep = 0;
    for (let t = 0; t < nOpen; t++) {
      const j = open[t];
      if (xs[o + j] !== 0)
        used[j] = 1; // NaN counts as used: it must propagate
      else open[keep++] = j;
    }
    nOpen = keep;
  }
  let k = 0;
  for (let j = 0; j < m; j++) k += used[j];
  if (k > maxShare * m) return undefined;
  const cols = new Int32Array(k);
  for (let j = 0, c = 0; j < m; j++) if (used[j]) cols[c++] = j;
  const xt = new Float32Array((k + 1) * n);
  // Tiles of 32 rows: each packed row gets 32 consecutive writes while the 32 source rows stay in
  // cache (a plain row-by-row transpose writes with a stride of N floats: ~3x slower).
  const T = 32;
  for (let r0 = 0; r0 < n; r0 += T) {
    const r1 = Math.min(n, r0 + T);
    for (let c = 0; c < k; c++) {
      const col = cols[c];
      const dst = c * n;
      for (let r = r0; r < r1; r++) xt[dst + r] = xs[r * m + col];
    }
  }
  xt.fill(1, k * n);
  return { xT: tf.tensor2d(xt, [k + 1, n]), cols, inSize: m };
}

const perPass = new WeakMap<Map<string, tf.Tensor>, CompactInput | null>();

/** The compact form of a Dense layer's (model) input, made once per backward pass. */
export function compactFor(s: Saved): CompactInput | undefined {
  let c = perPass.get(s.memo);
  if (c === undefined) {
    c = compactInput(s.inputs[0] as tf.Tensor2D) ?? null;
    if (c) s.memo.set('compactXT', c.xT); // disposed with the pass
    perPass.set(s.memo, c);
  }
  return c ?? undefined;
}

/**
 * sum_n (a_n^p) (outer) d_n and sum_n d_n for p = `power` (1 or 2; d is passed as it should be
 * multiplied, e.g. already squared), as a full kernel [in, out] (unused input rows are 0) and a bias.
 * One product [k + 1, N] x [N, out], read back and scattered in JS.
 */
export function compactProducts(c: CompactInput, d: tf.Tensor2D, power: 1 | 2): tf.Tensor[] {
  const out = d.shape[1];
  const prodT = tf.tidy(() => tf.matMul(power === 1 ? c.xT : tf.square(c.xT), d));
  const p = prodT.dataSync() as Float32Array;
  prodT.dispose();
  const { cols, inSize } = c;
  const k = cols.length;
  const kernel = new Float32Array(inSize * out);
  for (let i = 0; i < k; i++) kernel.set(p.subarray(i * out, (i + 1) * out), cols[i] * out);
  return [tf.tensor2d(kernel, [inSize, out]), tf.tensor1d(p.slice(k * out, (k + 1) * out))];
}
