// One forward pass plus the per-sample backward quantities the curvature passes share: deltas
// dl_n/dz_l and, for hidden layers, dl_n/da_l (the factor that multiplies f'' in the Hessian).
import * as tf from '@tensorflow/tfjs';
import { derivative, HiddenActivation } from '../model/activations';
import { ForwardCache, forwardCache, disposeCache } from '../model/backprop';
import { outputDelta } from '../model/loss';
import type { Network } from '../model/network';

export interface Pass {
  cache: ForwardCache;
  /** deltas[l] = dl_n/dz_l, [n, out_l] (per sample, not divided by N). */
  deltas: tf.Tensor2D[];
  /** dA[l] = dl_n/da_l for hidden layers l < L-1 (only when requested). */
  dA: (tf.Tensor2D | undefined)[];
  /** fprime[l] = f'(z_l) for hidden layers; undefined for linear (f' = 1). */
  fprime: (tf.Tensor2D | undefined)[];
}

export function runPass(net: Network, x: tf.Tensor2D, target: tf.Tensor2D, keepDA: boolean): Pass {
  const L = net.layout.length;
  const cache = forwardCache(net, x);
  const deltas: tf.Tensor2D[] = new Array(L);
  const dA: (tf.Tensor2D | undefined)[] = new Array(L).fill(undefined);
  const fprime: (tf.Tensor2D | undefined)[] = new Array(L).fill(undefined);
  deltas[L - 1] = outputDelta(net, cache.pre[L - 1], cache.output, target);
  for (let l = L - 2; l >= 0; l--) {
    const act = net.layout[l].activation as HiddenActivation;
    const back = tf.matMul(deltas[l + 1], net.kernels[l + 1], false, true) as tf.Tensor2D;
    if (act === 'linear') {
      deltas[l] = keepDA ? back.clone() : back;
    } else {
      fprime[l] = derivative(act, cache.pre[l], cache.inputs[l + 1]);
      deltas[l] = tf.mul(back, fprime[l]!) as tf.Tensor2D;
    }
    if (keepDA) dA[l] = back;
    else if (act !== 'linear') back.dispose();
  }
  return { cache, deltas, dA, fprime };
}

export function disposePass(p: Pass): void {
  disposeCache(p.cache);
  tf.dispose([...p.deltas, ...p.dA.filter(Boolean), ...p.fprime.filter(Boolean)] as tf.Tensor[]);
}
