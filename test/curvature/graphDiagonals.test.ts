// Curvature on graphs (fan-out, a residual Add, a Concatenate, curved and piecewise-linear layers,
// softmax and sigmoid-regression heads): every diagonal against float64 references built from the
// GraphSpec forward and central finite differences alone (graph64.ts), the backend to 1e-3; the
// MC-GGN's mean over many sampled labels approaches the exact GGN (fixed seed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend, maxRelErr } from '../helpers';
import type { GraphSpec } from '../../src/engine/model/graphSpec';
import { Graph } from '../../src/engine/model/graph';
import { curvatureDiagonal, gradientVariance } from '../../src/engine/curvature';
import { Rng } from '../../src/engine/util/random';
import { residualSpec } from '../model/graphFixtures';
import { Problem64, ggnDiag64, hessianDiag64, moments64 } from './graph64';

interface Case {
  graph: Graph;
  p: Problem64;
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  dispose(): void;
}

/** A seeded case; weights scaled so curved units are not saturated and ReLU pre-activations avoid 0. */
export function graphCase(spec: GraphSpec, classification: boolean, n: number, seed: number): Case {
  const graph = Graph.random(spec, seed);
  graph.setFlat(Float32Array.from(graph.toFlat(), (v, i) => 1.3 * v + 0.15 * Math.sin(3 * i + seed)));
  const rng = new Rng(seed + 100);
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

test('residual Add + Concatenate, tanh and relu, softmax head: hessian, ggn, fisher, variance', async () => {
  await backend();
  const c = graphCase(residualSpec(true), true, 5, 1);
  try {
    const e = await checkAllDiagonals(c, 'residual softmax');
    // The tanh layer's f'' terms matter here: the Hessian is not the GGN.
    assert.ok(maxRelErr(hessianDiag64(c.p), ggnDiag64(c.p)) > 1e-2, 'a case that separates hessian from ggn');
    console.log('residual softmax', JSON.stringify(e));
  } finally {
    c.dispose();
  }
});

test('residual Add + Concatenate, sigmoid regression head (a curved output layer)', async () => {
  await backend();
  const c = graphCase(residualSpec(false), false, 4, 2);
  try {
    console.log('residual sigmoid', JSON.stringify(await checkAllDiagonals(c, 'residual sigmoid')));
  } finally {
    c.dispose();
  }
});

test('MC-GGN: the mean over many sampled labels approaches the exact GGN (fixed seed)', async () => {
  await backend();
  for (const classification of [true, false]) {
    const c = graphCase(residualSpec(classification), classification, 6, 3);
    try {
      const exact = (await curvatureDiagonal(c.graph, c.x, c.y, 'ggn')).values;
      const one = (await curvatureDiagonal(c.graph, c.x, c.y, 'mc-ggn', { seed: 7 })).values;
      const many = (await curvatureDiagonal(c.graph, c.x, c.y, 'mc-ggn', { seed: 7, samples: 3000 })).values;
      const e1 = maxRelErr(one, exact);
      const eMany = maxRelErr(many, exact);
      // One sample per example is unbiased but noisy; 3000 shrink the error by ~sqrt(3000) ~ 55.
      assert.ok(e1 > 0.05, `one sample is a noisy estimate (${e1}), so the test discriminates`);
      assert.ok(eMany < 0.05, `${classification ? 'softmax' : 'mse'}: mean of 3000 samples within 5 %: ${eMany}`);
      assert.ok(eMany < e1 / 5, `error shrinks with samples: ${e1} -> ${eMany}`);
      // Same seed, same result.
      const again = (await curvatureDiagonal(c.graph, c.x, c.y, 'mc-ggn', { seed: 7 })).values;
      assert.deepEqual(again, one);
    } finally {
      c.dispose();
    }
  }
});
