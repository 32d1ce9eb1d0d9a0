// Laplace covariance per layer block (METHODS.md 2.6 `laplace`): S_l = (N GGN_l + tau_l I)^-1 over
// the layer's active parameters, tau_l = 1 / mean(w^2) (empirical Bayes), the precision restricted
// before inverting. Structure: the full block up to blockLimit, Kronecker factors (K-FAC/KFC, the
// prior as damping; depthwise: one block per channel) above it, 'diag' only on request (then no
// Belsley information). docs/DESIGN.md.
import * as tf from '@tensorflow/tfjs';
import { ggnLayerBlock, GGN_BLOCK_MAX_PARAMS } from '../../curvature/ggnBlock';
import type { Graph } from '../../model/graph';
import { PruneScopeError, throwIfCancelled } from '../../errors';
import { inverseSpd } from '../../linalg/inverseSpd';
import type { BelsleyBlock } from './blockBelsley';
import { graphKroneckerFactors, hasKroneckerFactors } from './kfacGraph';
import { kronLaplaceBlock, KronLaplaceInfo } from './kronecker';
import type { LaplaceStructure } from '../../options';

export interface LaplaceLayerInfo {
  layer: string;
  /** Active parameters of the layer. */
  active: number;
  kind: 'full' | 'kron' | 'diagonal';
  /** tau_l = 1 / mean(w^2) over the layer's active parameters. */
  priorPrecision: number;
  /** Largest / smallest eigenvalue of N * GGN + tau I (full blocks). */
  precisionEigenRange?: [number, number];
  /** Kronecker layers: the factored damping, kept factor rows and pruned weights inside the grid, per group. */
  kron?: KronLaplaceInfo[];
  note?: string;
}

export interface LaplaceCovariance {
  blocks: BelsleyBlock[];
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
  opts: {
    blockLimit: number;
    structure?: LaplaceStructure;
    signal?: AbortSignal;
    onLayer?: (done: number, total: number) => void;
  },
): Promise<LaplaceCovariance> {
  const N = x.shape[0];
  const structure = opts.structure ?? 'auto';
  const active = activeByLayer(net, w);
  const params = net.layers();
  // A layer whose class gives no Kronecker factors cannot take the Kronecker route: over the limit it
  // is diagonal (and says so), never silently.
  const noKron = new Set<number>();
  const kinds = params.map((lay, li): LaplaceLayerInfo['kind'] => {
    const m = active[li].length;
    const P = lay.size;
    const fits = m <= opts.blockLimit && P <= GGN_BLOCK_MAX_PARAMS;
    const kron = hasKroneckerFactors(net, li);
    if (structure === 'diag') return 'diagonal';
    if (structure === 'block' && !fits)
      throw new PruneScopeError(
        'too-large',
        `layer ${lay.name} has ${m} active of ${P} parameters, over the full-block limit (blockLimit ${opts.blockLimit}, at most ${GGN_BLOCK_MAX_PARAMS})`,
        {
          field: 'laplaceStructure',
          expected: "'kron' or 'auto' (Kronecker factors above the limit), or a larger blockLimit",
        },
      );
    if (structure === 'block' || (structure === 'auto' && fits)) return 'full';
    if (kron) return 'kron';
    noKron.add(li);
    return fits ? 'full' : 'diagonal';
  });
  const kronLayers = kinds.flatMap((k, li) => (k === 'kron' && active[li].length ? [li] : []));
  const factors = await graphKroneckerFactors(net, x, y, kronLayers, { signal: opts.signal });
  const blocks: BelsleyBlock[] = [];
  const layers: LaplaceLayerInfo[] = [];
  for (let li = 0; li < params.length; li++) {
    throwIfCancelled(opts.signal, 'Laplace covariance');
    const lay = params[li];
    const idx = active[li];
    const m = idx.length;
    opts.onLayer?.(li, params.length);
    if (m === 0) {
      layers.push({ layer: lay.name, active: 0, kind: kinds[li], priorPrecision: NaN, note: 'every parameter pruned' });
      continue;
    }
    let ss = 0;
    for (const j of idx) ss += w[j] * w[j];
    const tau = m / ss;
    const P = lay.size;
    if (kinds[li] === 'diagonal') {
      // R_l = I whatever the diagonal values are, so singleton blocks with unit variance.
      for (const j of idx)
        blocks.push({ name: `${lay.name}[${j}]`, indices: Int32Array.of(j), matrix: Float64Array.of(1) });
      layers.push({
        layer: lay.name,
        active: m,
        kind: 'diagonal',
        priorPrecision: tau,
        note: noKron.has(li)
          ? `${lay.className} gives no Kronecker factors and the layer is over the full-block limit: identity correlation, no near-dependencies within this layer (order by flat index)`
          : 'diagonal on request: identity correlation, no near-dependencies within this layer (order by flat index)',
      });
      continue;
    }
    if (kinds[li] === 'kron') {
      const infos: KronLaplaceInfo[] = [];
      for (const f of factors[kronLayers.indexOf(li)]) {
        // A group whose weights are all pruned has nothing to order.
        if (!f.paramIndex.some((j) => w[j] !== 0)) continue;
        const { block, info } = kronLaplaceBlock(f, (j) => w[j] !== 0, tau, N);
        blocks.push(block);
        infos.push(info);
      }
      layers.push({ layer: lay.name, active: m, kind: 'kron', priorPrecision: tau, kron: infos });
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
