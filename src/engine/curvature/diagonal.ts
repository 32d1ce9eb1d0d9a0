// Exact diagonals of the Hessian and of the generalised Gauss-Newton matrix of the mean loss,
// by one backward sweep of symmetric factors per chunk (BackPACK's DiagHessian / DiagGGN):
//   H_l = J_l^T H_{l+1} J_l + diag(f''(z_l) * dl/da_l),   J_l = dz_{l+1}/dz_l,
// and for kernel entry W_l[i, j]: (1/N) sum_n a_{n,i}^2 [H_l]_{n,jj} (bias: (1/N) sum_n [H_l]_{n,jj}).
import * as tf from '@tensorflow/tfjs';
import type { Network } from '../model/network';
import { sampleLosses, lossKindOf } from '../model/loss';
import { runPass, disposePass } from './pass';
import {
  Factor,
  outputFactor,
  residual,
  factorDiagonal,
  propagate,
  residualDiagBelow,
  residualFactorBelow,
  disposeFactor,
} from './factors';
import { LayerSums } from './batch';

/** Transposed kernels W^T and (W^2)^T, made once per call so every matmul is non-transposed. */
export interface KernelsT {
  Wt: tf.Tensor2D[];
  W2t: tf.Tensor2D[];
}

export function transposedKernels(net: Network, squares: boolean): KernelsT {
  const Wt = net.kernels.map((k) => tf.transpose(k) as tf.Tensor2D);
  const W2t = squares ? Wt.map((w) => tf.square(w) as tf.Tensor2D) : [];
  return { Wt, W2t };
}

export function disposeKernelsT(k: KernelsT): void {
  tf.dispose([...k.Wt, ...k.W2t]);
}

/** Does layer l contribute a residual (f'' term) to the exact Hessian? */
function hasResidual(net: Network, l: number): boolean {
  const a = net.layout[l].activation;
  return a !== 'linear' && a !== 'relu' && a !== 'softmax';
}

/** Per-sample floats held by the widest level's factors (for the default chunk size). */
export function factorFloatsPerSample(net: Network, exact: boolean): number {
  const L = net.layout.length;
  const K = net.layout[L - 1].outSize;
  let worst = 0;
  for (let l = L - 1; l >= 0; l--) {
    let c = K;
    // diag(r_s) becomes a factor of width d_s from level s-1 down, used from level s-2 on.
    if (exact)
      for (let s = l + 1; s < L; s++) if (hasResidual(net, s) && l <= s - 1 && s - 1 >= 1) c += net.layout[s].outSize;
    worst = Math.max(worst, 2 * c * net.layout[l].outSize + net.layout[l].inSize);
  }
  return worst;
}

/**
 * Adds this chunk's per-layer sums of the diagonal (not yet divided by N) to `sums` and returns
 * the chunk's summed loss. exact = true: Hessian; false: GGN.
 */
export function diagonalChunk(
  net: Network,
  x: tf.Tensor2D,
  target: tf.Tensor2D,
  exact: boolean,
  kt: KernelsT,
  sums: LayerSums,
): number {
  const L = net.layout.length;
  const n = x.shape[0];
  const pass = runPass(net, x, target, exact);
  const { cache } = pass;
  let factors: Factor[] = [outputFactor(net, cache.pre[L - 1], cache.output)];
  let extra: tf.Tensor2D | undefined;
  try {
    for (let l = L - 1; l >= 0; l--) {
      const a = l === L - 1 ? cache.output : cache.inputs[l + 1];
      const r = exact ? residual(net, l, cache.pre[l], a, pass.dA[l], target) : undefined;
      const [k, b] = tf.tidy(() => {
        let diag: tf.Tensor2D | undefined = extra;
        for (const f of factors)
          if (!f.skipDiag) diag = diag ? (tf.add(diag, factorDiagonal(f, n)) as tf.Tensor2D) : factorDiagonal(f, n);
        if (r) diag = diag ? (tf.add(diag, r) as tf.Tensor2D) : r;
        const kernel = tf.matMul(tf.square(cache.inputs[l]), diag!, true, false) as tf.Tensor2D;
        return [kernel, tf.sum(diag!, 0) as tf.Tensor1D] as const;
      });
      sums.add(l, k, b);
      extra?.dispose();
      extra = undefined;
      if (l > 0) {
        const fp = pass.fprime[l - 1];
        const next = factors.map((f) => propagate(f, kt.Wt[l], fp, n));
        if (r) {
          extra = residualDiagBelow(r, kt.W2t[l], fp);
          if (l - 1 >= 1) next.push(residualFactorBelow(r, kt.Wt[l], fp, n));
        }
        factors.forEach(disposeFactor);
        factors = next;
      }
      r?.dispose();
    }
    return tf.tidy(() => tf.sum(sampleLosses(lossKindOf(net), cache.output, target)).dataSync()[0]);
  } finally {
    factors.forEach(disposeFactor);
    extra?.dispose();
    disposePass(pass);
  }
}
