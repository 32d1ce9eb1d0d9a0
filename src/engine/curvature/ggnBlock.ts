// Exact GGN block of one layer's parameters, (1/N) sum_n G_n^T G_n with G_n = S_n^T J_n: the loss
// Hessian's square root carried down to the layer (model/backward.ts), then its per-row weight
// gradients materialised (weightRows) and multiplied out. For Belsley's Laplace covariance.
import * as tf from '@tensorflow/tfjs';
import type { Graph } from '../model/graph';
import { disposePass } from '../model/graph';
import { propagate } from '../model/backward';
import { lossHessianRoot, lossKindOf } from '../model/loss';
import { PruneScopeError, badInput } from '../errors';
import { ChunkOptions, checkBatch, floatsPerSample, forEachChunk, resolveChunk } from './batch';
import { firstNonFinite } from '../util/finite';
import { describeParam } from '../model/finiteParams';

export interface GgnBlock {
  /** Index into graph.layers() and the block's parameter count P. */
  layer: number;
  size: number;
  /** [P, P] row-major, symmetric; in the flat order. */
  values: Float64Array;
  /** Flat offset of the block's first parameter. */
  offset: number;
}

export const GGN_BLOCK_MAX_PARAMS = 4096;

export async function ggnLayerBlock(
  graph: Graph,
  x: tf.Tensor,
  target: tf.Tensor2D,
  layer: number,
  opts: ChunkOptions & { maxParams?: number } = {},
): Promise<GgnBlock> {
  const n = checkBatch(graph, x, target, 'ggnLayerBlock');
  const layers = graph.layers();
  const lay = layers[layer];
  if (!lay) throw badInput(`layer ${layer}`, { field: 'ggnLayerBlock: layer', expected: `0..${layers.length - 1}` });
  const P = lay.size;
  const maxP = opts.maxParams ?? GGN_BLOCK_MAX_PARAMS;
  if (P > maxP)
    throw new PruneScopeError('too-large', `layer ${lay.name} has ${P} parameters`, {
      field: 'ggnLayerBlock',
      expected: `at most ${maxP} (use a low-rank or diagonal covariance)`,
    });
  const K = graph.outputSize;
  const chunk = resolveChunk(n, opts, floatsPerSample(graph, K) + 2 * K * P);
  const kind = lossKindOf(graph);
  const op = graph.ops[lay.op];
  let sum: tf.Tensor2D | undefined;
  try {
    await forEachChunk(x, target, chunk, opts.signal, (xc) => {
      const pass = graph.forward(xc);
      const root = lossHessianRoot(kind, pass.output as tf.Tensor2D);
      try {
        propagate(graph, pass, {
          start: graph.plan.top,
          block: root,
          c: K,
          wants: (o) => o === op,
          visit: (o, g, s) => {
            const add = tf.tidy(() => {
              const rows = o.layer.weightRows!(g, s, graph.vars[o.index], K);
              return tf.matMul(rows, rows, true, false) as tf.Tensor2D;
            });
            const old = sum;
            sum = old ? (tf.tidy(() => tf.add(old, add)) as tf.Tensor2D) : add;
            if (old) tf.dispose([old, add]);
          },
        });
      } finally {
        root.dispose();
        disposePass(pass);
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
        `GGN block of layer ${lay.name} has ${values[bad]} at row ${describeParam(graph, lay.offset + r)}, column ${describeParam(graph, lay.offset + c)}: the model's weights or inputs overflow`,
        { field: 'curvature', expected: 'finite values' },
      );
    }
    return { layer, size: P, values, offset: lay.offset };
  } finally {
    sum?.dispose();
  }
}
