// Conv2D calculus against float64 references: the forward against direct loops (with TF's padding
// computed in the test), every gradient against central finite differences of that forward, the
// per-row statistics from the finite-difference per-row gradients, KFC's factors from the patches'
// definition. Backend (float32) results within 1e-3 relative of float64, on all three paths.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { maxRelErr } from '../../helpers';
import { Rng } from '../../../src/engine/util/random';
import {
  conv2dForward,
  conv2dInputGrad,
  conv2dKernelGrad,
  conv2dKroneckerFactors,
  conv2dRowStats,
} from '../../../src/engine/layers/conv/conv2d';
import { disposeRowStats } from '../../../src/engine/layers/conv/rowStats';
import { conv1, dot, fdGrad, geo, randn, rowMoments, sample, Win } from './reference64';
import { PATHS, usePath, resetPath, f32 } from './paths';

interface Case {
  name: string;
  h: number;
  w: number;
  c: number;
  co: number;
  win: Win;
}

const CASES: Case[] = [
  { name: '3x3 stride 2 same', h: 7, w: 6, c: 3, co: 4, win: { kh: 3, kw: 3, sh: 2, sw: 2, padding: 'same' } },
  {
    name: '5x5 same, one input channel',
    h: 8,
    w: 8,
    c: 1,
    co: 6,
    win: { kh: 5, kw: 5, sh: 1, sw: 1, padding: 'same' },
  },
  { name: '2x3 valid, strides (1, 2)', h: 9, w: 7, c: 5, co: 3, win: { kh: 2, kw: 3, sh: 1, sw: 2, padding: 'valid' } },
  {
    name: '4x4 stride 3 same (uneven padding)',
    h: 10,
    w: 9,
    c: 2,
    co: 5,
    win: { kh: 4, kw: 4, sh: 3, sw: 3, padding: 'same' },
  },
];

const N = 3; // samples
const C = 2; // rows per sample

after(resetPath);

for (const path of PATHS)
  for (const cs of CASES)
    test(`Conv2D ${cs.name} (${path}): forward, VJPs, per-row statistics, KFC factors`, async () => {
      await usePath(path);
      const rng = new Rng(11);
      const { h, w, c, co, win } = cs;
      const g0 = geo(h, w, win);
      const inSize = h * w * c;
      const outSize = g0.oh * g0.ow * co;
      const K = win.kh * win.kw * c;
      const X = randn(rng, N * inSize);
      const Wk = randn(rng, K * co);
      const Bv = randn(rng, co);
      const G = randn(rng, N * C * outSize);
      const G1 = randn(rng, N * outSize);
      const signs = Float64Array.from({ length: N * C }, () => (rng.uniform(0, 1) < 0.5 ? -1 : 1));
      const spec = {
        kernelSize: [win.kh, win.kw] as [number, number],
        strides: [win.sh, win.sw] as [number, number],
        padding: win.padding,
      };

      // float64 references
      const yRef = new Float64Array(N * outSize);
      for (let s = 0; s < N; s++) yRef.set(conv1(sample(X, s, inSize), h, w, c, Wk, co, win, Bv), s * outSize);
      const theta = Float64Array.from([...Wk, ...Bv]);
      const rowGrad = (s: number, gr: Float64Array) =>
        fdGrad(
          (t) => dot(gr, conv1(sample(X, s, inSize), h, w, c, t.subarray(0, K * co), co, win, t.subarray(K * co))),
          theta,
          1e-3,
        );
      const rowsRef = Array.from({ length: N * C }, (_, r) => rowGrad(Math.floor(r / C), sample(G, r, outSize)));
      const { sum: sumRef, squares: sqRef } = rowMoments(rowsRef, signs);
      const kgRef = rowMoments(Array.from({ length: N }, (_, s) => rowGrad(s, sample(G1, s, outSize)))).sum;
      const dxRef = new Float64Array(N * C * inSize);
      for (let r = 0; r < N * C; r++) {
        const gr = sample(G, r, outSize);
        dxRef.set(
          fdGrad(
            (xv) => dot(gr, conv1(xv, h, w, c, Wk, co, win)),
            Float64Array.from(sample(X, Math.floor(r / C), inSize)),
            1e-3,
          ),
          r * inSize,
        );
      }
      // KFC from the definition: patches u (0 in the padding) with a trailing 1, and output rows.
      const D = K + 1;
      const aRef = new Float64Array(D * D);
      for (let s = 0; s < N; s++)
        for (let oy = 0; oy < g0.oh; oy++)
          for (let ox = 0; ox < g0.ow; ox++) {
            const u = new Float64Array(D);
            u[K] = 1;
            for (let ky = 0; ky < win.kh; ky++)
              for (let kx = 0; kx < win.kw; kx++)
                for (let ci = 0; ci < c; ci++) {
                  const iy = oy * win.sh + ky - g0.pt;
                  const ix = ox * win.sw + kx - g0.pl;
                  if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                    u[(ky * win.kw + kx) * c + ci] = X[s * inSize + (iy * w + ix) * c + ci];
                }
            for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) aRef[i * D + j] += u[i] * u[j];
          }
      const gRef = new Float64Array(co * co);
      for (let q = 0; q < N * C * g0.oh * g0.ow; q++)
        for (let i = 0; i < co; i++) for (let j = 0; j < co; j++) gRef[i * co + j] += G[q * co + i] * G[q * co + j];

      const before = tf.memory().numTensors;
      const x = tf.tensor4d(f32(X), [N, h, w, c]);
      const kernel = tf.tensor4d(f32(Wk), [win.kh, win.kw, c, co]);
      const bias = tf.tensor1d(f32(Bv));
      const g = tf.tensor4d(f32(G), [N * C, g0.oh, g0.ow, co]);
      const g1 = tf.tensor4d(f32(G1), [N, g0.oh, g0.ow, co]);
      const sg = tf.tensor2d(f32(signs), [N, C]);
      try {
        const y = conv2dForward(x, kernel, bias, spec);
        assert.deepEqual(y.shape, [N, g0.oh, g0.ow, co]);
        assert.ok(maxRelErr(y.dataSync(), yRef) < 1e-5, `forward ${maxRelErr(y.dataSync(), yRef)}`);
        y.dispose();

        const dx = conv2dInputGrad(g, kernel, [h, w, c], spec);
        assert.deepEqual(dx.shape, [N * C, h, w, c]);
        assert.ok(maxRelErr(dx.dataSync(), dxRef) < 1e-3, `input VJP ${maxRelErr(dx.dataSync(), dxRef)}`);
        dx.dispose();

        const kg = conv2dKernelGrad(x, g1, spec, true);
        assert.deepEqual(kg.kernel.shape, [win.kh, win.kw, c, co]);
        const kgFlat = [...kg.kernel.dataSync(), ...kg.bias!.dataSync()];
        assert.ok(maxRelErr(kgFlat, kgRef) < 1e-3, `kernel gradient ${maxRelErr(kgFlat, kgRef)}`);
        tf.dispose([kg.kernel, kg.bias!]);

        const st = conv2dRowStats(x, g, spec, true, { sum: true, squares: true, signs: sg, rows: true });
        const flat = (kb: { kernel: tf.Tensor; bias?: tf.Tensor }) => [...kb.kernel.dataSync(), ...kb.bias!.dataSync()];
        const eSum = maxRelErr(flat(st.sum!), sumRef);
        const eSq = maxRelErr(flat(st.squares!), sqRef);
        assert.ok(eSum < 1e-3, `row sum ${eSum}`);
        assert.ok(eSq < 1e-3, `signed row squares ${eSq}`);
        assert.deepEqual(st.rows!.shape, [N * C, K * co + co]);
        const rowsFlat = new Float64Array(N * C * (K * co + co));
        rowsRef.forEach((r, i) => rowsFlat.set(r, i * (K * co + co)));
        assert.ok(maxRelErr(st.rows!.dataSync(), rowsFlat) < 1e-3, `rows ${maxRelErr(st.rows!.dataSync(), rowsFlat)}`);
        disposeRowStats(st);

        // Without bias, and squares only (no signs): the kernel part of the same quantities.
        const st2 = conv2dRowStats(x, g, spec, false, { squares: true });
        assert.equal(st2.squares!.bias, undefined);
        assert.equal(st2.sum, undefined);
        const sqPlain = rowMoments(rowsRef).squares.subarray(0, K * co);
        assert.ok(maxRelErr(st2.squares!.kernel.dataSync(), sqPlain) < 1e-3);
        disposeRowStats(st2);

        const kf = conv2dKroneckerFactors(x, g, spec, true);
        assert.equal(kf.positions, g0.oh * g0.ow);
        assert.equal(kf.samples, N);
        assert.ok(maxRelErr(kf.A.dataSync(), aRef) < 1e-3, `KFC A ${maxRelErr(kf.A.dataSync(), aRef)}`);
        assert.ok(maxRelErr(kf.G.dataSync(), gRef) < 1e-3, `KFC G ${maxRelErr(kf.G.dataSync(), gRef)}`);
        tf.dispose([kf.A, kf.G]);
      } finally {
        tf.dispose([x, kernel, bias, g, g1, sg]);
      }
      assert.equal(tf.memory().numTensors, before, 'every tensor disposed');
    });
