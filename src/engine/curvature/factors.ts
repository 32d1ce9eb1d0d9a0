// Symmetric factors of per-sample Hessians w.r.t. pre-activations, BackPACK style: a (signed)
// sum of S S^T, stored for a chunk of n samples as rows: F [n*c, d] holds the c columns of each
// sample's S (sample-major), so moving a factor one layer down is a single matmul.
import * as tf from '@tensorflow/tfjs';
import { derivative, secondDerivative, HiddenActivation } from '../model/activations';
import type { Network } from '../model/network';

export interface Factor {
  /** [n*c, d]: rows are the factor columns, sample-major. */
  F: tf.Tensor2D;
  c: number;
  /** [n, c] signs of the rank-one terms; undefined means all positive. */
  sign?: tf.Tensor2D;
  /** True where this level's diagonal was already added by the one-layer matmul shortcut. */
  skipDiag: boolean;
}

/**
 * Square root of the loss Hessian w.r.t. z_L (the Gauss-Newton part). Softmax-CE:
 * diag(p) - p p^T = S S^T with column c of S = sqrt(p_c) (e_c - p). MSE (mean over K outputs):
 * S = sqrt(2/K) diag(f'(z_L)), the output Jacobian scaled by the MSE Hessian's root.
 */
export function outputFactor(net: Network, zL: tf.Tensor2D, aL: tf.Tensor2D): Factor {
  const last = net.layout[net.layout.length - 1];
  const K = last.outSize;
  const n = zL.shape[0];
  const F = tf.tidy(() => {
    const eye = tf.eye(K).expandDims(0);
    if (last.activation === 'softmax') {
      const cols = tf.mul(tf.sqrt(aL).expandDims(2), tf.sub(eye, aL.expandDims(1)));
      return cols.reshape([n * K, K]) as tf.Tensor2D;
    }
    const scale = Math.sqrt(2 / K);
    const fp = last.activation === 'linear' ? tf.onesLike(zL) : derivative(last.activation, zL, aL);
    return tf.mul(tf.mul(eye, fp.expandDims(1)), scale).reshape([n * K, K]) as tf.Tensor2D;
  });
  return { F, c: K, skipDiag: false };
}

/**
 * The diagonal residual term of the Hessian at level l (absent from the GGN): f''(z_l) * dl/da_l
 * for hidden layers; for an MSE head with non-linear activation, (2/K)(a - y) f''(z_L).
 * Returns undefined where it vanishes identically (linear, relu, softmax head).
 */
export function residual(
  net: Network,
  l: number,
  z: tf.Tensor2D,
  a: tf.Tensor2D,
  dA: tf.Tensor2D | undefined,
  target?: tf.Tensor2D,
): tf.Tensor2D | undefined {
  const act = net.layout[l].activation;
  if (act === 'linear' || act === 'relu' || act === 'softmax') return undefined;
  return tf.tidy(() => {
    const f2 = secondDerivative(act as HiddenActivation, z, a);
    if (l === net.layout.length - 1) {
      const K = net.layout[l].outSize;
      return tf.mul(tf.mul(tf.sub(a, target!), f2), 2 / K) as tf.Tensor2D;
    }
    return tf.mul(f2, dA!) as tf.Tensor2D;
  });
}

/** Per-sample diagonal of sum sign * S S^T: [n, d]. */
export function factorDiagonal(f: Factor, n: number): tf.Tensor2D {
  return tf.tidy(() => {
    const d = f.F.shape[1];
    const sq = tf.square(f.F).reshape([n, f.c, d]);
    const w = f.sign ? tf.mul(sq, f.sign.expandDims(2)) : sq;
    return tf.sum(w, 1) as tf.Tensor2D;
  });
}

/** Scale each sample's rows by f'(z) [n, d] (no-op when fp is undefined, i.e. linear). */
function scaleRows(G: tf.Tensor2D, fp: tf.Tensor2D | undefined, n: number, c: number): tf.Tensor2D {
  if (!fp) return G;
  const d = G.shape[1];
  return tf.mul(G.reshape([n, c, d]), fp.expandDims(1)).reshape([n * c, d]) as tf.Tensor2D;
}

/**
 * Moves a factor from level l to level l-1: S -> diag(f'(z_{l-1})) W_l S, i.e. rows F W_l^T scaled
 * by f'. `Wt` is W_l^T [out, in], pre-transposed so the matmul runs on the fast path.
 */
export function propagate(f: Factor, Wt: tf.Tensor2D, fp: tf.Tensor2D | undefined, n: number): Factor {
  const F = tf.tidy(() => scaleRows(tf.matMul(f.F, Wt), fp, n, f.c));
  const sign = f.sign ? tf.keep(f.sign.clone()) : undefined;
  return { F, c: f.c, sign, skipDiag: false };
}

/**
 * A diagonal term diag(r) at level l, seen one level down: its diagonal there is
 * f'(z_{l-1})^2 * (r (W_l^2)^T) — one matmul, no factor. `W2t` is (W_l^2)^T [out, in].
 */
export function residualDiagBelow(r: tf.Tensor2D, W2t: tf.Tensor2D, fp: tf.Tensor2D | undefined): tf.Tensor2D {
  return tf.tidy(() => {
    const m = tf.matMul(r, W2t) as tf.Tensor2D;
    return fp ? (tf.mul(m, tf.square(fp)) as tf.Tensor2D) : m;
  });
}

/**
 * diag(r) at level l as a signed factor at level l-1 (needed two and more levels down): for each
 * sample the d_l rows sqrt|r_j| W_l[:, j]^T f'(z_{l-1}), signs sign(r_j). Width d_l per sample.
 */
export function residualFactorBelow(r: tf.Tensor2D, Wt: tf.Tensor2D, fp: tf.Tensor2D | undefined, n: number): Factor {
  const c = r.shape[1];
  const din = Wt.shape[1];
  const F = tf.tidy(() => {
    const rows = tf.mul(tf.sqrt(tf.abs(r)).expandDims(2), Wt.expandDims(0)).reshape([n * c, din]) as tf.Tensor2D;
    return scaleRows(rows, fp, n, c);
  });
  return { F, c, sign: tf.sign(r) as tf.Tensor2D, skipDiag: true };
}

export function disposeFactor(f: Factor): void {
  f.F.dispose();
  f.sign?.dispose();
}
