// Seeded curvature cases on any GraphSpec and the check of every diagonal against float64 (graph64.ts).
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { maxRelErr } from '../helpers';
import type { GraphSpec } from '../../src/engine/graphSpec';
import { Graph } from '../../src/engine/model/graph';
import { curvatureDiagonal, gradientVariance } from '../../src/engine/curvature';
import { Rng } from '../../src/engine/util/random';
import { Problem64, ggnDiag64, hessianDiag64, moments64 } from './graph64';

export interface Case {
  graph: Graph;
  p: Problem64;
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  dispose(): void;
}

/** A seeded case; weights scaled so curved units are not saturated and ReLU pre-activations avoid 0. */
export function graphCase(spec: GraphSpec, classification: boolean, n: number, seed: number): Case {
  const rng = new Rng(seed + 100);
  // State (BN moving statistics) away from 0 / 1, so the affine map it defines is not the identity.
  const init = Graph.random(spec, seed);
  const s0 = init.toSpec();
  init.dispose();
  for (const node of s0.nodes)
    for (const w of node.weights)
      if (!w.trainable)
        w.values = Float32Array.from(w.values, () => (/variance/.test(w.name) ? 0.5 + rng.next() : 0.3 * rng.normal()));
  const graph = Graph.fromSpec(s0);
  graph.setFlat(Float32Array.from(graph.toFlat(), (v, i) => 1.3 * v + 0.15 * Math.sin(3 * i + seed)));
  const m = graph.inputSize;
  const K = graph.outputSize;
  const xs = Float32Array.from({ length: n * m }, () => rng.normal());
  const ys = new Float32Array(n * K);
  for (let i = 0; i < n; i++)
    if (classification) ys[i * K + rng.int(K)] = 1;
    else for (let k = 0; k < K; k++) ys[i * K + k] = rng.next();
  const p: Problem64 = {
    spec: graph.toSpec(),
    x: { n, shape: graph.inputShape, data: Float64Array.from(xs) },
    y: Float64Array.from(ys),
    classification,
  };
  const x = tf.tensor2d(xs, [n, m]);
  const y = tf.tensor2d(ys, [n, K]);
  return { graph, p, x, y, dispose: () => (graph.dispose(), tf.dispose([x, y])) };
}

export async function checkAllDiagonals(c: Case, label: string): Promise<Record<string, number>> {
  const e: Record<string, number> = {};
  const before = tf.memory().numTensors;
  const hRef = hessianDiag64(c.p);
  const gRef = ggnDiag64(c.p);
  const mRef = moments64(c.p);
  const h = await curvatureDiagonal(c.graph, c.x, c.y, 'hessian');
  const g = await curvatureDiagonal(c.graph, c.x, c.y, 'ggn');
  const f = await curvatureDiagonal(c.graph, c.x, c.y, 'fisher');
  const v = await gradientVariance(c.graph, c.x, c.y);
  e.hessian = maxRelErr(h.values, hRef);
  e.ggn = maxRelErr(g.values, gRef);
  e.fisher = maxRelErr(f.values, mRef.fisher);
  e.variance = maxRelErr(v.variance, mRef.variance);
  e.mean = maxRelErr(v.mean, mRef.mean);
  for (const [k, err] of Object.entries(e)) assert.ok(err < 1e-3, `${label}: ${k} relative error ${err}`);
  // chunked the same
  const hc = await curvatureDiagonal(c.graph, c.x, c.y, 'hessian', { chunkSize: 2 });
  assert.ok(maxRelErr(hc.values, h.values) < 1e-5, `${label}: chunked hessian`);
  assert.equal(tf.memory().numTensors, before, `${label}: no tensor leaks`);
  return e;
}
