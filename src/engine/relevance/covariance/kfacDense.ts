// K-FAC factors of today's dense Network (the one adapter between the Network and the Kronecker
// Laplace covariance; kronecker.ts defines the contract). For layer l over N samples:
//   A_l = (1/N) sum_n [a_n; 1][a_n; 1]^T      (layer input with the bias's constant 1 appended),
//   G_l = (1/N) sum_n S_n S_n^T              (S_n: the GGN factor at the layer's pre-activation,
//                                              curvature/factors.ts, propagated down from the output),
// so that A_l (x) G_l approximates the layer's GGN block (1/N) sum_n (a a^T) (x) (S S^T) of the mean
// loss, exactly when N = 1 or when S_n S_n^T does not depend on n (a linear output layer under MSE).
// Parameter (i, j): kernel W[i][j] at kernelOffset + i * out + j, and i = in is the bias row (the
// bias follows the kernel in the flat order, so the index is kernelOffset + i * out + j throughout).
import * as tf from '@tensorflow/tfjs';
import type { Network } from '../../model/network';
import { checkBatch, forEachChunk, resolveChunk, type ChunkOptions } from '../../curvature/batch';
import { runPass, disposePass } from '../../curvature/pass';
import { outputFactor, propagate, disposeFactor, type Factor } from '../../curvature/factors';
import { transposedKernels, disposeKernelsT } from '../../curvature/diagonal';
import { PruneScopeError } from '../../errors';
import type { KroneckerFactors } from './kronecker';

/** Factors of the layers `layers` (indices into net.layout), in that order. */
export async function denseKroneckerFactors(
  net: Network,
  x: tf.Tensor2D,
  target: tf.Tensor2D,
  layers: number[],
  opts: ChunkOptions = {},
): Promise<KroneckerFactors[]> {
  const n = checkBatch(net, x, target, 'kronecker factors');
  if (layers.length === 0) return [];
  const L = net.layout.length;
  const lowest = Math.min(...layers);
  const K = net.outputSize;
  let widest = 0;
  for (let l = lowest; l < L; l++) widest = Math.max(widest, 2 * K * net.layout[l].outSize + net.layout[l].inSize + 1);
  const chunk = resolveChunk(n, opts, widest);
  const want = new Set(layers);
  const sumA = new Map<number, tf.Tensor2D>();
  const sumG = new Map<number, tf.Tensor2D>();
  const add = (m: Map<number, tf.Tensor2D>, l: number, t: tf.Tensor2D) => {
    const old = m.get(l);
    if (!old) return m.set(l, t);
    m.set(l, tf.tidy(() => tf.add(old, t)) as tf.Tensor2D);
    old.dispose();
    t.dispose();
  };
  const kt = transposedKernels(net, false);
  try {
    await forEachChunk(x, target, chunk, opts.signal, (xc, tc) => {
      const pass = runPass(net, xc, tc, false);
      let f: Factor = outputFactor(net, pass.cache.pre[L - 1], pass.cache.output);
      try {
        for (let l = L - 1; l >= lowest; l--) {
          if (want.has(l)) {
            const F = f.F;
            add(sumG, l, tf.matMul(F, F, true, false) as tf.Tensor2D);
            add(
              sumA,
              l,
              tf.tidy(() => {
                const a = pass.cache.inputs[l];
                const aug = tf.concat([a, tf.ones([a.shape[0], 1])], 1) as tf.Tensor2D;
                return tf.matMul(aug, aug, true, false) as tf.Tensor2D;
              }),
            );
          }
          if (l > lowest) {
            const next = propagate(f, kt.Wt[l], pass.fprime[l - 1], xc.shape[0]);
            disposeFactor(f);
            f = next;
          }
        }
      } finally {
        disposeFactor(f);
        disposePass(pass);
      }
    });
    const out: KroneckerFactors[] = [];
    for (const l of layers) {
      const lay = net.layout[l];
      const nA = lay.inSize + 1;
      const nG = lay.outSize;
      const a = scaled(await sumA.get(l)!.data(), 1 / n);
      const g = scaled(await sumG.get(l)!.data(), 1 / n);
      for (const [name, m] of [
        ['A', a],
        ['G', g],
      ] as const) {
        const bad = m.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0)
          throw new PruneScopeError(
            'numerical',
            `Kronecker factor ${name} of layer ${lay.name} has ${m[bad]}: the model's weights or inputs overflow`,
            { field: 'curvature', expected: 'finite values' },
          );
      }
      const paramIndex = Int32Array.from({ length: nA * nG }, (_, c) => lay.kernelOffset + c);
      out.push({ layer: lay.name, a, nA, g, nG, paramIndex });
    }
    return out;
  } finally {
    tf.dispose([...sumA.values(), ...sumG.values()]);
    disposeKernelsT(kt);
  }
}

function scaled(v: ArrayLike<number>, s: number): Float64Array {
  return Float64Array.from(v, (x) => x * s);
}
