// The checks Conv2D's and DepthwiseConv2D's calculus share: with a float64 one-sample forward
// `forward1(x, kernel, bias)` (direct loops, reference64.ts), the backend's forward, input VJP,
// kernel gradient and per-row statistics (sums, signed squares, rows) against central finite
// differences of that forward, to 1e-3 relative. The layer-specific KFC checks stay in each test.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { maxRelErr } from '../../helpers';
import { Rng } from '../../../src/engine/util/random';
import type { ConvCalculus } from '../../../src/engine/layers/conv/convLayer';
import type { WindowSpec } from '../../../src/engine/layers/conv/conv2d';
import { disposeRowStats } from '../../../src/engine/layers/conv/rowStats';
import { dot, fdGrad, geo, randn, rowMoments, sample, Win } from './reference64';
import { f32 } from './paths';

export interface WindowCase {
  h: number;
  w: number;
  c: number;
  /** Output channels. */
  co: number;
  win: Win;
  kernelShape: number[];
  /** One sample's output [oh, ow, co] from x [h, w, c], the kernel (flat) and the bias. */
  forward1(x: Float64Array, kernel: ArrayLike<number>, bias?: ArrayLike<number>): Float64Array;
}

export const N = 3; // samples
export const C = 2; // rows per sample

export function specOf(win: Win): WindowSpec {
  return { kernelSize: [win.kh, win.kw], strides: [win.sh, win.sw], padding: win.padding };
}

/** The data of one case: inputs, weights, a block of C rows per sample and one row per sample. */
export function caseData(cs: WindowCase, seed: number) {
  const rng = new Rng(seed);
  const g0 = geo(cs.h, cs.w, cs.win);
  const inSize = cs.h * cs.w * cs.c;
  const outSize = g0.oh * g0.ow * cs.co;
  const kLen = cs.kernelShape.reduce((a, b) => a * b, 1);
  return {
    g0,
    inSize,
    outSize,
    kLen,
    X: randn(rng, N * inSize),
    Wk: randn(rng, kLen),
    Bv: randn(rng, cs.co),
    G: randn(rng, N * C * outSize),
    G1: randn(rng, N * outSize),
    signs: Float64Array.from({ length: N * C }, () => (rng.uniform(0, 1) < 0.5 ? -1 : 1)),
  };
}

export function checkCalculus(cs: WindowCase, calc: ConvCalculus, d: ReturnType<typeof caseData>): void {
  const { h, w, c, co } = cs;
  const { g0, inSize, outSize, kLen, X, Wk, Bv, G, G1, signs } = d;
  const spec = specOf(cs.win);
  const yRef = new Float64Array(N * outSize);
  for (let s = 0; s < N; s++) yRef.set(cs.forward1(sample(X, s, inSize), Wk, Bv), s * outSize);
  const theta = Float64Array.from([...Wk, ...Bv]);
  const rowGrad = (s: number, gr: Float64Array) =>
    fdGrad((t) => dot(gr, cs.forward1(sample(X, s, inSize), t.subarray(0, kLen), t.subarray(kLen))), theta, 1e-3);
  const rowsRef = Array.from({ length: N * C }, (_, r) => rowGrad(Math.floor(r / C), sample(G, r, outSize)));
  const { sum: sumRef, squares: sqRef } = rowMoments(rowsRef, signs);
  const kgRef = rowMoments(Array.from({ length: N }, (_, s) => rowGrad(s, sample(G1, s, outSize)))).sum;
  const dxRef = new Float64Array(N * C * inSize);
  for (let r = 0; r < N * C; r++) {
    const gr = sample(G, r, outSize);
    const x0 = Float64Array.from(sample(X, Math.floor(r / C), inSize));
    dxRef.set(
      fdGrad((xv) => dot(gr, cs.forward1(xv, Wk)), x0, 1e-3),
      r * inSize,
    );
  }

  const before = tf.memory().numTensors;
  const x = tf.tensor4d(f32(X), [N, h, w, c]);
  const kernel = tf.tensor4d(f32(Wk), cs.kernelShape as [number, number, number, number]);
  const bias = tf.tensor1d(f32(Bv));
  const g = tf.tensor(f32(G), [N * C, g0.oh, g0.ow, co]) as tf.Tensor4D;
  const g1 = tf.tensor4d(f32(G1), [N, g0.oh, g0.ow, co]);
  const sg = tf.tensor2d(f32(signs), [N, C]);
  const close = (what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-3) => {
    const e = maxRelErr(got, want);
    assert.ok(e < tol, `${what}: relative error ${e}`);
  };
  const flat = (kb: { kernel: tf.Tensor; bias?: tf.Tensor }) => [...kb.kernel.dataSync(), ...kb.bias!.dataSync()];
  try {
    const y = calc.forward(x, kernel, bias, spec);
    assert.deepEqual(y.shape, [N, g0.oh, g0.ow, co]);
    close('forward', y.dataSync(), yRef, 1e-5);
    const dx = calc.inputGrad(g, kernel, [h, w, c], spec);
    assert.deepEqual(dx.shape, [N * C, h, w, c]);
    close('input VJP', dx.dataSync(), dxRef);
    const kg = calc.kernelGrad(x, g1, spec, true);
    assert.deepEqual(kg.kernel.shape, cs.kernelShape);
    close('kernel gradient', flat(kg), kgRef);
    const st = calc.rowStats(x, g, spec, true, { sum: true, squares: true, signs: sg, rows: true });
    close('row sum', flat(st.sum!), sumRef);
    close('signed row squares', flat(st.squares!), sqRef);
    assert.deepEqual(st.rows!.shape, [N * C, kLen + co]);
    const rowsFlat = new Float64Array(N * C * (kLen + co));
    rowsRef.forEach((r, i) => rowsFlat.set(r, i * (kLen + co)));
    close('rows', st.rows!.dataSync(), rowsFlat);
    // Without bias, squares only, no signs: the kernel part of the unsigned squares.
    const st2 = calc.rowStats(x, g, spec, false, { squares: true });
    assert.equal(st2.squares!.bias, undefined);
    assert.equal(st2.sum, undefined);
    close(
      'unsigned squares without bias',
      st2.squares!.kernel.dataSync(),
      rowMoments(rowsRef).squares.subarray(0, kLen),
    );
    tf.dispose([y, dx, kg.kernel, kg.bias!]);
    disposeRowStats(st);
    disposeRowStats(st2);
  } finally {
    tf.dispose([x, kernel, bias, g, g1, sg]);
  }
  assert.equal(tf.memory().numTensors, before, 'every tensor disposed');
}
