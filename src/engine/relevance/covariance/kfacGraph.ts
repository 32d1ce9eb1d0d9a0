// K-FAC / KFC factors of a graph's weighted layers (the one adapter between the layer graph and the
// Kronecker Laplace covariance; kronecker.ts defines the contract). The loss Hessian's square root is
// carried down to each wanted layer (model/backward.ts, c = K rows per sample) and the layer's own
// kroneckerFactors (layers/layer.ts) sums A (inputs, or unfolded patches, with the bias's constant 1
// last) and G (the propagated rows) over the chunk. With N samples and `count` terms in G
// (samples x output positions), the layer's GGN block of the mean loss ~ (A / N) (x) (G / count):
// exact for a dense layer when N = 1 or when S_n S_n^T does not depend on n; Grosse and Martens' KFC
// for a convolution. Parameter (i, j): row i of A (input or patch entry (kh, kw, c_in); the bias last),
// row j of G (output unit or channel): the kernel's row-major index i * nG + j, the bias j.
// A layer with groups (DepthwiseConv2D: one per input channel c, whose m outputs share its patches)
// gives one pair per group: row i is the patch entry (kh, kw), j the multiplier index, so the
// kernel [kh, kw, C, m] index is (i * C + c) * m + j and the bias c * m + j.
import * as tf from '@tensorflow/tfjs';
import type { Graph } from '../../model/graph';
import { disposePass } from '../../model/graph';
import { propagate } from '../../model/backward';
import { lossHessianRoot, lossKindOf } from '../../model/loss';
import { checkBatch, floatsPerSample, forEachChunk, resolveChunk, type ChunkOptions } from '../../curvature/batch';
import { PruneScopeError } from '../../errors';
import type { KroneckerFactors } from './kronecker';

/** Whether param layer `li` (graph.layers() order) can give Kronecker factors this adapter maps. */
export function hasKroneckerFactors(graph: Graph, li: number): boolean {
  const lay = graph.layers()[li];
  const op = graph.ops[lay.op];
  return !!op.layer.kroneckerFactors && op.trainable.length <= 2 && lay.weights.length >= 1;
}

/** Factors of the param layers `layers` (indices into graph.layers()), in that order: one per group. */
export async function graphKroneckerFactors(
  graph: Graph,
  x: tf.Tensor,
  target: tf.Tensor2D,
  layers: number[],
  opts: ChunkOptions = {},
): Promise<KroneckerFactors[][]> {
  const n = checkBatch(graph, x, target, 'kronecker factors');
  if (layers.length === 0) return [];
  const params = graph.layers();
  const K = graph.outputSize;
  const ops = new Map(layers.map((li) => [params[li].op, li]));
  const chunk = resolveChunk(n, opts, floatsPerSample(graph, K));
  const kind = lossKindOf(graph);
  const sums = new Map<number, { A: tf.Tensor; G: tf.Tensor; count: number; biasFolded: boolean; groups: number }>();
  try {
    await forEachChunk(x, target, chunk, opts.signal, (xc) => {
      const pass = graph.forward(xc);
      const root = lossHessianRoot(kind, pass.output as tf.Tensor2D);
      try {
        propagate(graph, pass, {
          start: graph.plan.top,
          block: root,
          c: K,
          wants: (o) => ops.has(o.index),
          visit: (o, g, s) => {
            const li = ops.get(o.index)!;
            const fs = o.layer.kroneckerFactors!(g, s, graph.vars[o.index], K);
            if (fs.length !== 1 || fs[0].weight !== 0) {
              tf.dispose(fs.flatMap((f) => [f.A, f.G]));
              throw new PruneScopeError(
                'unsupported',
                `layer ${params[li].name}: Kronecker factors of several weights`,
                {
                  field: 'laplaceStructure',
                  expected: "'block' or 'diag' for this layer's class",
                },
              );
            }
            const f = fs[0];
            const groups = f.groups ?? 1;
            const old = sums.get(li);
            if (!old) sums.set(li, { A: f.A, G: f.G, count: f.count, biasFolded: f.biasFolded, groups });
            else {
              sums.set(li, {
                A: tf.tidy(() => tf.add(old.A, f.A)),
                G: tf.tidy(() => tf.add(old.G, f.G)),
                count: old.count + f.count,
                biasFolded: f.biasFolded,
                groups,
              });
              tf.dispose([old.A, old.G, f.A, f.G]);
            }
          },
        });
      } finally {
        root.dispose();
        disposePass(pass);
      }
    });
    const out: KroneckerFactors[][] = [];
    for (const li of layers) {
      const lay = params[li];
      const sm = sums.get(li)!;
      const C = sm.groups;
      const nA = sm.A.shape[sm.A.rank - 1],
        nG = sm.G.shape[sm.G.rank - 1];
      const aAll = Float64Array.from(await sm.A.data(), (v) => v / n);
      const gAll = Float64Array.from(await sm.G.data(), (v) => v / sm.count);
      for (const [name, m] of [
        ['A', aAll],
        ['G', gAll],
      ] as const) {
        const bad = m.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0)
          throw new PruneScopeError(
            'numerical',
            `Kronecker factor ${name} of layer ${lay.name} has ${m[bad]}: the model's weights or inputs overflow`,
            { field: 'curvature', expected: 'finite values' },
          );
      }
      const kernel = graph.weights[lay.weights[0]];
      const bias = sm.biasFolded ? graph.weights[lay.weights[1]] : undefined;
      const rows = nA - (sm.biasFolded ? 1 : 0);
      if (
        aAll.length !== C * nA * nA ||
        gAll.length !== C * nG * nG ||
        kernel.size !== rows * C * nG ||
        (bias && bias.size !== C * nG) ||
        lay.size !== C * nA * nG
      )
        throw new PruneScopeError(
          'internal',
          `layer ${lay.name}: ${C} group(s) of factors ${nA} x ${nG} do not cover its ${lay.size} parameters`,
        );
      const groups: KroneckerFactors[] = [];
      for (let c = 0; c < C; c++) {
        const paramIndex = new Int32Array(nA * nG);
        for (let i = 0; i < nA; i++)
          for (let j = 0; j < nG; j++)
            paramIndex[i * nG + j] = i < rows ? kernel.offset + (i * C + c) * nG + j : bias!.offset + c * nG + j;
        groups.push({
          layer: C === 1 ? lay.name : `${lay.name}[channel ${c}]`,
          a: aAll.slice(c * nA * nA, (c + 1) * nA * nA),
          nA,
          g: gAll.slice(c * nG * nG, (c + 1) * nG * nG),
          nG,
          paramIndex,
        });
      }
      out.push(groups);
    }
    return out;
  } finally {
    for (const s of sums.values()) tf.dispose([s.A, s.G]);
  }
}
