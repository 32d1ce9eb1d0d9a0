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
export function backwardDeltas(net: Network, cache: ForwardCache, target: tf.Tensor2D, topDelta?: tf.Tensor2D): tf.Tensor2D[] {
  const L = net.layout.length;
  const deltas: tf.Tensor2D[] = new Array(L);
  // A caller with another objective (e.g. distillation) supplies its own dl/dz_L (it is cloned, not owned).
  deltas[L - 1] = topDelta ? topDelta.clone() : outputDelta(net, cache.pre[L - 1], cache.output, target);
  for (let l = L - 2; l >= 0; l--) {
    const act = net.layout[l].activation as HiddenActivation;
    deltas[l] = tf.tidy((): tf.Tensor2D => {
      const back = tf.matMul(deltas[l + 1], net.kernels[l + 1], false, true) as tf.Tensor2D;
      return act === 'linear' ? back : (tf.mul(back, derivative(act, cache.pre[l], cache.inputs[l + 1])) as tf.Tensor2D);
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
export function lossGradients(net: Network, x: tf.Tensor2D, target: tf.Tensor2D, kind: LossKind = lossKindOf(net)): Gradients {
  const cache = forwardCache(net, x);
  const deltas = backwardDeltas(net, cache, target);
  const n = x.shape[0];
  const loss = tf.tidy(() => tf.mean(sampleLosses(kind, cache.output, target)).dataSync()[0]);
  const kernels = deltas.map((d, l) => tf.tidy(() => tf.div(tf.matMul(cache.inputs[l], d, true, false), n) as tf.Tensor2D));
  const biases = deltas.map((d) => tf.tidy(() => tf.div(tf.sum(d, 0), n) as tf.Tensor1D));
  for (const d of deltas) d.dispose();
  disposeCache(cache);
  return { loss, kernels, biases };
}

/** Flatten per-layer tensors into the shared flat parameter order. */
export function flattenParams(net: Network, kernels: tf.Tensor[], biases: tf.Tensor[]): Float32Array {
  const flat = new Float32Array(net.nParams);
  net.layout.forEach((l, i) => {
    flat.set(kernels[i].dataSync() as Float32Array, l.kernelOffset);
    flat.set(biases[i].dataSync() as Float32Array, l.biasOffset);
  });
  return flat;
}
