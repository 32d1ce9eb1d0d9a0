// The full GGN block of one layer's parameters (kernel row-major, then bias): the Laplace
// covariance for Belsley needs it. (1/N) sum_n G_n G_n^T, where G_n [P, c] is the per-sample
// Jacobian factor: the GGN factor at the layer's pre-activation, S_n [d, c], lifted to the
// parameters (kernel row (i, j): a_{n,i} S_n[j, :]; bias row j: S_n[j, :]). One matmul per chunk.
import * as tf from '@tensorflow/tfjs';
import type { Network } from '../model/network';
import { PruneScopeError, badInput } from '../errors';
import { runPass, disposePass } from './pass';
import { Factor, outputFactor, propagate, disposeFactor } from './factors';
import { ChunkOptions, checkBatch, resolveChunk, forEachChunk } from './batch';
import { transposedKernels, disposeKernelsT } from './diagonal';
import { describeParam, firstNonFinite } from '../util/finite';

export interface GgnBlock {
  /** Layer index and its parameter count P = in*out + out. */
  layer: number;
  size: number;
  /** [P, P] row-major, symmetric; order: kernel [in, out] row-major, then bias. */
  values: Float64Array;
  /** Flat offset of the block's first parameter (the layer's kernelOffset). */
  offset: number;
}

export const GGN_BLOCK_MAX_PARAMS = 4096;

export async function ggnLayerBlock(
  net: Network,
  x: tf.Tensor2D,
  target: tf.Tensor2D,
  layer: number,
  opts: ChunkOptions & { maxParams?: number } = {},
): Promise<GgnBlock> {
  const n = checkBatch(net, x, target, 'ggnLayerBlock');
  const lay = net.layout[layer];
  if (!lay)
    throw badInput(`layer ${layer}`, { field: 'ggnLayerBlock: layer', expected: `0..${net.layout.length - 1}` });
  const P = lay.kernelSize + lay.biasSize;
  const maxP = opts.maxParams ?? GGN_BLOCK_MAX_PARAMS;
  if (P > maxP)
    throw new PruneScopeError('too-large', `layer ${lay.name} has ${P} parameters`, {
      field: 'ggnLayerBlock',
      expected: `at most ${maxP} (use a low-rank or diagonal covariance)`,
    });
  const K = net.outputSize;
  const chunk = resolveChunk(n, opts, 2 * K * lay.outSize + 2 * P * lay.outSize);
  const kt = transposedKernels(net, false);
  let sum: tf.Tensor2D | undefined;
  try {
    await forEachChunk(x, target, chunk, opts.signal, (xc, tc) => {
      const add = blockChunk(net, xc, tc, layer, kt.Wt);
      const old = sum;
      sum = old ? (tf.tidy(() => tf.add(old, add)) as tf.Tensor2D) : add;
      if (old) {
        old.dispose();
        add.dispose();
      }
    });
    const values = Float64Array.from(await sum!.data());
    for (let i = 0; i < values.length; i++) values[i] /= n;
    const bad = firstNonFinite(values);
    if (bad >= 0) {
      const r = Math.floor(bad / P),
        c = bad % P;
      throw new PruneScopeError(
        'numerical',
        `GGN block of layer ${lay.name} has ${values[bad]} at row ${describeParam(net.layout, lay.kernelOffset + r)}, column ${describeParam(net.layout, lay.kernelOffset + c)}: the model's weights or inputs overflow`,
        { field: 'curvature', expected: 'finite values' },
      );
    }
    return { layer, size: P, values, offset: lay.kernelOffset };
  } finally {
    sum?.dispose();
    disposeKernelsT(kt);
  }
}

function blockChunk(net: Network, x: tf.Tensor2D, target: tf.Tensor2D, layer: number, Wt: tf.Tensor2D[]): tf.Tensor2D {
  const L = net.layout.length;
  const n = x.shape[0];
  const pass = runPass(net, x, target, false);
  let f: Factor = outputFactor(net, pass.cache.pre[L - 1], pass.cache.output);
  try {
    for (let l = L - 1; l > layer; l--) {
      const next = propagate(f, Wt[l], pass.fprime[l - 1], n);
      disposeFactor(f);
      f = next;
    }
    return tf.tidy(() => {
      // sum_n (a_n a_n^T) (x) (S_n S_n^T) with a_n = [input; 1] (the bias row last, as in the flat
      // order): Q_n = S_n S_n^T first, then one product over samples, X^T [n, (in+1) out out]. That is
      // c times fewer flops than J^T J over the n c rows of the per-sample Jacobian factors.
      const { inSize, outSize } = net.layout[layer];
      const c = f.c;
      const S = f.F.reshape([n, c, outSize]);
      const Q = tf.matMul(S, S, true, false); // [n, out, out]
      const a = pass.cache.inputs[layer];
      const aug = tf.concat([a, tf.ones([n, 1])], 1) as tf.Tensor2D;
      const m = inSize + 1;
      const Z = tf
        .mul(aug.reshape([n, m, 1]), Q.reshape([n, 1, outSize * outSize]))
        .reshape([n, m * outSize * outSize]);
      // X^T made first: the non-transposed product takes the wasm backend's fast path.
      const M = tf.matMul(tf.transpose(aug), Z); // [i, (k, j, l)]
      const P = m * outSize;
      return tf.transpose(M.reshape([m, m, outSize, outSize]), [0, 2, 1, 3]).reshape([P, P]) as tf.Tensor2D;
    });
  } finally {
    disposeFactor(f);
    disposePass(pass);
  }
}
