// Laplace covariance per layer block (METHODS.md 2.6 `laplace`):
//   S_l = (N * GGN_l + tau_l I)^-1   over the layer's ACTIVE parameters,
// - N * GGN_l: GGN_l is the mean-loss GGN block (curvature/ggnBlock.ts); N times the mean loss is the
//   negative log-likelihood of the training set (cross-entropy: the categorical likelihood; MSE, which
//   averages over the K outputs: a Gaussian with noise variance K / 2), so N * GGN is the Gauss-Newton
//   approximation of its Hessian.
// - tau_l = 1 / mean(w^2) over the layer's active parameters (kernel and bias share it): the
//   empirical-Bayes prior variance of a zero-mean Gaussian prior fitted to the weights, the same
//   per-layer fit as the variational method's prior (variational.ts: alpha_l^2 = E[w^2] of the layer).
// - Pruned parameters are fixed at 0, so the posterior of the active ones is the conditional one:
//   restrict the PRECISION to the active rows/columns, then invert (not the other way round).
// - Inverted by eigendecomposition: the block is SPD after adding tau_l > 0.
// - A layer with more than blockLimit active parameters (or more than the GGN block routine accepts)
//   is treated as diagonal: its correlation block is then the identity, so each parameter is its own
//   component with lambda = 1 and the layer contributes no near-dependency. Named in `layers[].kind`.
import * as tf from '@tensorflow/tfjs';
import { ggnLayerBlock, GGN_BLOCK_MAX_PARAMS } from '../../curvature/ggnBlock';
import { eighRows } from '../../linalg/eigh';
import type { Graph } from '../../model/graph';
import { throwIfCancelled } from '../../errors';
import type { CovBlock } from './blockBelsley';

export interface LaplaceLayerInfo {
  layer: string;
  /** Active parameters of the layer. */
  active: number;
  kind: 'full' | 'diagonal';
  /** tau_l = 1 / mean(w^2) over the layer's active parameters. */
  priorPrecision: number;
  /** Largest / smallest eigenvalue of N * GGN + tau I (full blocks). */
  precisionEigenRange?: [number, number];
  note?: string;
}

export interface LaplaceCovariance {
  blocks: CovBlock[];
  layers: LaplaceLayerInfo[];
  nTrain: number;
}

/** Active flat indices of each layer (ascending). */
export function activeByLayer(net: Graph, w: Float32Array): Int32Array[] {
  return net.layers().map((l) => {
    const out: number[] = [];
    for (let j = l.offset; j < l.offset + l.size; j++) if (w[j] !== 0) out.push(j);
    return Int32Array.from(out);
  });
}

export async function laplaceBlocks(
  net: Graph,
  x: tf.Tensor,
  y: tf.Tensor2D,
  w: Float32Array,
  opts: { blockLimit: number; signal?: AbortSignal; onLayer?: (done: number, total: number) => void },
): Promise<LaplaceCovariance> {
  const N = x.shape[0];
  const active = activeByLayer(net, w);
  const blocks: CovBlock[] = [];
  const layers: LaplaceLayerInfo[] = [];
  const params = net.layers();
  for (let li = 0; li < params.length; li++) {
    throwIfCancelled(opts.signal, 'Laplace covariance');
    const lay = params[li];
    const idx = active[li];
    const m = idx.length;
    opts.onLayer?.(li, params.length);
    if (m === 0) {
      layers.push({ layer: lay.name, active: 0, kind: 'full', priorPrecision: NaN, note: 'every parameter pruned' });
      continue;
    }
    let ss = 0;
    for (const j of idx) ss += w[j] * w[j];
    const tau = m / ss;
    const P = lay.size;
    if (m > opts.blockLimit || P > GGN_BLOCK_MAX_PARAMS) {
      // Diagonal: R_l = I whatever the diagonal values are, so singleton blocks with unit variance.
      for (const j of idx)
        blocks.push({ name: `${lay.name}[${j}]`, indices: Int32Array.of(j), matrix: Float64Array.of(1) });
      layers.push({
        layer: lay.name,
        active: m,
        kind: 'diagonal',
        priorPrecision: tau,
        note:
          m > opts.blockLimit
            ? `${m} active parameters > blockLimit ${opts.blockLimit}: diagonal (identity correlation; no near-dependencies within this layer)`
            : `${P} parameters > ${GGN_BLOCK_MAX_PARAMS} (GGN block limit): diagonal`,
      });
      continue;
    }
    const g = await ggnLayerBlock(net, x, y, li, { signal: opts.signal });
    // Precision restricted to the active parameters: N * GGN + tau I.
    const h = new Float64Array(m * m);
    for (let a = 0; a < m; a++) {
      const ra = (idx[a] - lay.offset) * P;
      for (let b = 0; b < m; b++) h[a * m + b] = N * g.values[ra + idx[b] - lay.offset];
      h[a * m + a] += tau;
    }
    const { s, range } = inverseSpd(h, m);
    blocks.push({ name: lay.name, indices: idx, matrix: s });
    layers.push({ layer: lay.name, active: m, kind: 'full', priorPrecision: tau, precisionEigenRange: range });
  }
  return { blocks, layers, nTrain: N };
}

/** S = H^-1 = V diag(1 / lambda) V^T for symmetric positive-definite H (eigenvalues floored at tiny > 0). */
export function inverseSpd(h: Float64Array, m: number): { s: Float64Array; range: [number, number] } {
  const { values, rowVectors } = eighRows(h, m);
  const v = rowVectors!;
  const top = values[m - 1];
  const inv = Float64Array.from(values, (l) => 1 / Math.max(l, top * 1e-15));
  const s = new Float64Array(m * m);
  for (let k = 0; k < m; k++) {
    const o = k * m,
      ik = inv[k];
    for (let a = 0; a < m; a++) {
      const va = v[o + a] * ik;
      if (va === 0) continue;
      const ra = a * m;
      for (let b = a; b < m; b++) s[ra + b] += va * v[o + b];
    }
  }
  for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) s[b * m + a] = s[a * m + b];
  return { s, range: [top, values[0]] };
}
