// Explicit forward and backward passes of a dense chain. Training and every curvature quantity
// build on these: tfjs cannot differentiate a gradient, so second-order passes reuse the cached
// activations and the per-sample deltas computed here.
import * as tf from '@tensorflow/tfjs';
import { apply, derivative, HiddenActivation } from './activations';
import { LossKind, lossKindOf, outputDelta, sampleLosses } from './loss';
import type { Network } from './network';

export interface ForwardCache {
  /** inputs[l]: the input a_{l-1} of layer l, [N, in]. inputs[0] is x itself (not owned). */
  inputs: tf.Tensor2D[];
  /** pre[l]: pre-activation z_l = a_{l-1} W_l + b_l, [N, out]. */
  pre: tf.Tensor2D[];
  /** output of the last layer after its activation. */
  output: tf.Tensor2D;
}

/** Forward pass keeping every intermediate. Call disposeCache() when done. */
export function forwardCache(net: Network, x: tf.Tensor2D): ForwardCache {
  const inputs: tf.Tensor2D[] = [x];
  const pre: tf.Tensor2D[] = [];
  let a = x;
  net.layout.forEach((l, i) => {
    const z = tf.tidy(() => tf.add(tf.matMul(a, net.kernels[i]), net.biases[i]) as tf.Tensor2D);
    pre.push(z);
    a = apply(l.activation, z);
    if (i < net.layout.length - 1) inputs.push(a);
  });
  return { inputs, pre, output: a };
}

export function disposeCache(c: ForwardCache): void {
  for (let i = 1; i < c.inputs.length; i++) c.inputs[i].dispose();
  for (const z of c.pre) z.dispose();
  c.output.dispose();
}

/**
 * Per-sample deltas dl_n/dz_l for every layer (not divided by N). deltas[l] has shape [N, out_l].
 * `target` is used only when `topDelta` is not given.
 * Transposed products are materialised by the patched wasm kernels (see wasmMatMul.ts).
 */
export function backwardDeltas(
  net: Network,
  cache: ForwardCache,
  target: tf.Tensor2D,
  topDelta?: tf.Tensor2D,
): tf.Tensor2D[] {
  const L = net.layout.length;
  const deltas: tf.Tensor2D[] = new Array(L);
  // A caller with another objective (e.g. distillation) supplies its own dl/dz_L (it is cloned, not owned).
  deltas[L - 1] = topDelta ? topDelta.clone() : outputDelta(net, cache.pre[L - 1], cache.output, target);
  for (let l = L - 2; l >= 0; l--) {
    const act = net.layout[l].activation as HiddenActivation;
    deltas[l] = tf.tidy((): tf.Tensor2D => {
      const back = tf.matMul(deltas[l + 1], net.kernels[l + 1], false, true) as tf.Tensor2D;
      return act === 'linear'
        ? back
        : (tf.mul(back, derivative(act, cache.pre[l], cache.inputs[l + 1])) as tf.Tensor2D);
    });
  }
  return deltas;
}

export interface Gradients {
  /** Mean loss over the batch. */
  loss: number;
  kernels: tf.Tensor2D[];
  biases: tf.Tensor1D[];
}

/** Gradient of the mean loss (1/N) sum_n l_n over the batch, one tensor per layer parameter. */
export function lossGradients(
  net: Network,
  x: tf.Tensor2D,
  target: tf.Tensor2D,
  kind: LossKind = lossKindOf(net),
): Gradients {
  const cache = forwardCache(net, x);
  const deltas = backwardDeltas(net, cache, target);
  const n = x.shape[0];
  const loss = tf.tidy(() => tf.mean(sampleLosses(kind, cache.output, target)).dataSync()[0]);
  // First layer on sparse inputs (MNIST: ~35 % of the pixel columns are zero in every sample of a
  // batch): the same compact product the curvature moments use (compactInput).
  const compact = compactInput(x);
  const kernels = deltas.map((d, l) => {
    if (l === 0 && compact) {
      const { kernel, bias } = compactProducts(compact, d, 1, false, 1 / n);
      return { kernel, bias };
    }
    return tf.tidy(() => ({
      kernel: tf.div(tf.matMul(cache.inputs[l], d, true, false), n) as tf.Tensor2D,
      bias: tf.div(tf.sum(d, 0), n) as tf.Tensor1D,
    }));
  });
  compact?.xT.dispose();
  for (const d of deltas) d.dispose();
  disposeCache(cache);
  return { loss, kernels: kernels.map((k) => k.kernel), biases: kernels.map((k) => k.bias) };
}

/**
 * The used input columns of x (those with a non-zero entry in some row), transposed and packed in
 * JS: xT is [k + 1, N] with row c = column cols[c] of x and a last row of ones (so one product with
 * it also yields the bias sum). undefined when more than `maxShare` of the columns are used (dense
 * inputs: packing would not pay). Reads x (a memory copy on the wasm/cpu/node backends).
 * Why: on MNIST ~80 % of pixels are 0 and ~35 % of the columns are 0 in every sample of a batch of
 * 1,024, so first-layer products A^T D shrink by that share; packing in JS also replaces the
 * wasm transpose of A (element by element, ~10 ms at 1,024 x 784).
 */
export interface CompactInput {
  xT: tf.Tensor2D;
  cols: Int32Array;
  inSize: number;
}

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

/**
 * sum_n (a_n^p)(outer)(d_n^p) and sum_n d_n^p for p = `power` (1 or 2) from a compact input, scaled
 * by `scale`, as a full kernel ([in, out], or [out, in] when `transposed`; unused input rows are 0)
 * and a bias vector. One product [k + 1, N] x [N, out], read back and scattered in JS.
 */
export function compactProducts(
  c: CompactInput,
  d: tf.Tensor2D,
  power: 1 | 2,
  transposed: boolean,
  scale: number,
): { kernel: tf.Tensor2D; bias: tf.Tensor1D } {
  const out = d.shape[1];
  const prodT = tf.tidy(() => (power === 1 ? tf.matMul(c.xT, d) : tf.matMul(tf.square(c.xT), tf.square(d))));
  const p = prodT.dataSync() as Float32Array;
  prodT.dispose();
  const { cols, inSize } = c;
  const k = cols.length;
  const kernel = new Float32Array(inSize * out);
  if (transposed) {
    // [out, in] from [k, out]: tiles of 32 packed rows, as in compactInput.
    for (let i0 = 0; i0 < k; i0 += 32) {
      const i1 = Math.min(k, i0 + 32);
      for (let j = 0; j < out; j++) {
        const base = j * inSize;
        for (let i = i0; i < i1; i++) kernel[base + cols[i]] = p[i * out + j] * scale;
      }
    }
  } else {
    for (let i = 0; i < k; i++) {
      const row = i * out;
      const base = cols[i] * out;
      for (let j = 0; j < out; j++) kernel[base + j] = p[row + j] * scale;
    }
  }
  const bias = new Float32Array(out);
  for (let j = 0; j < out; j++) bias[j] = p[k * out + j] * scale;
  return { kernel: tf.tensor2d(kernel, transposed ? [out, inSize] : [inSize, out]), bias: tf.tensor1d(bias) };
}

// Per-layer tensors (gradients, moments) into the flat parameter order: network.ts owns that order.
export { flattenParams } from './network';
