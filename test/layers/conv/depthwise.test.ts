// DepthwiseConv2D calculus against float64 references (direct loops, central finite differences),
// as conv2d.test.ts: any depth multiplier, TF padding, all three paths.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { maxRelErr } from '../../helpers';
import { Rng } from '../../../src/engine/util/random';
import {
  depthwiseForward,
  depthwiseInputGrad,
  depthwiseKernelGrad,
  depthwiseKroneckerFactors,
  depthwiseRowStats,
} from '../../../src/engine/layers/conv/depthwise';
import { disposeRowStats } from '../../../src/engine/layers/conv/rowStats';
import { depthwise1, dot, fdGrad, geo, randn, rowMoments, sample, Win } from './reference64';
import { PATHS, usePath, resetPath, f32 } from './paths';

const CASES: { name: string; h: number; w: number; c: number; m: number; win: Win }[] = [
  {
    name: 'multiplier 2, 3x3 stride 2 same',
    h: 7,
    w: 6,
    c: 3,
    m: 2,
    win: { kh: 3, kw: 3, sh: 2, sw: 2, padding: 'same' },
  },
  {
    name: 'multiplier 1, 3x3 same, 5 channels',
    h: 6,
    w: 5,
    c: 5,
    m: 1,
    win: { kh: 3, kw: 3, sh: 1, sw: 1, padding: 'same' },
  },
  {
    name: 'multiplier 3, 2x3 valid, strides (1, 2)',
    h: 6,
    w: 7,
    c: 2,
    m: 3,
    win: { kh: 2, kw: 3, sh: 1, sw: 2, padding: 'valid' },
  },
];
const N = 3;
const C = 2;

after(resetPath);

for (const path of PATHS)
  for (const cs of CASES)
    test(`DepthwiseConv2D ${cs.name} (${path}): forward, VJPs, per-row statistics, KFC factors`, async () => {
      await usePath(path);
      const rng = new Rng(5);
      const { h, w, c, m, win } = cs;
      const co = c * m;
      const g0 = geo(h, w, win);
      const inSize = h * w * c;
      const outSize = g0.oh * g0.ow * co;
      const KK = win.kh * win.kw;
      const kLen = KK * co;
      const X = randn(rng, N * inSize);
      const Wk = randn(rng, kLen);
      const Bv = randn(rng, co);
      const G = randn(rng, N * C * outSize);
      const G1 = randn(rng, N * outSize);
      const signs = Float64Array.from({ length: N * C }, () => (rng.uniform(0, 1) < 0.5 ? -1 : 1));
      const spec = {
        kernelSize: [win.kh, win.kw] as [number, number],
        strides: [win.sh, win.sw] as [number, number],
        padding: win.padding,
      };

      const yRef = new Float64Array(N * outSize);
      for (let s = 0; s < N; s++) yRef.set(depthwise1(sample(X, s, inSize), h, w, c, Wk, m, win, Bv), s * outSize);
      const theta = Float64Array.from([...Wk, ...Bv]);
      const rowGrad = (s: number, gr: Float64Array) =>
        fdGrad(
          (t) => dot(gr, depthwise1(sample(X, s, inSize), h, w, c, t.subarray(0, kLen), m, win, t.subarray(kLen))),
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
            (xv) => dot(gr, depthwise1(xv, h, w, c, Wk, m, win)),
            Float64Array.from(sample(X, Math.floor(r / C), inSize)),
            1e-3,
          ),
          r * inSize,
        );
      }
      // KFC per input channel: patches of that channel (+ 1) and its m output gradients.
      const D = KK + 1;
      const aRef = new Float64Array(c * D * D);
      const gRef = new Float64Array(c * m * m);
      for (let s = 0; s < N; s++)
        for (let oy = 0; oy < g0.oh; oy++)
          for (let ox = 0; ox < g0.ow; ox++)
            for (let ci = 0; ci < c; ci++) {
              const u = new Float64Array(D);
              u[KK] = 1;
              for (let ky = 0; ky < win.kh; ky++)
                for (let kx = 0; kx < win.kw; kx++) {
                  const iy = oy * win.sh + ky - g0.pt;
                  const ix = ox * win.sw + kx - g0.pl;
                  if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                    u[ky * win.kw + kx] = X[s * inSize + (iy * w + ix) * c + ci];
                }
              for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) aRef[(ci * D + i) * D + j] += u[i] * u[j];
            }
      for (let q = 0; q < N * C * g0.oh * g0.ow; q++)
        for (let ci = 0; ci < c; ci++)
          for (let i = 0; i < m; i++)
            for (let j = 0; j < m; j++) gRef[(ci * m + i) * m + j] += G[q * co + ci * m + i] * G[q * co + ci * m + j];

      const before = tf.memory().numTensors;
      const x = tf.tensor4d(f32(X), [N, h, w, c]);
      const kernel = tf.tensor4d(f32(Wk), [win.kh, win.kw, c, m]);
      const bias = tf.tensor1d(f32(Bv));
      const g = tf.tensor4d(f32(G), [N * C, g0.oh, g0.ow, co]);
      const g1 = tf.tensor4d(f32(G1), [N, g0.oh, g0.ow, co]);
      const sg = tf.tensor2d(f32(signs), [N, C]);
      try {
        const y = depthwiseForward(x, kernel, bias, spec);
        assert.ok(maxRelErr(y.dataSync(), yRef) < 1e-5, `forward ${maxRelErr(y.dataSync(), yRef)}`);
        y.dispose();
        const dx = depthwiseInputGrad(g, kernel, [h, w, c], spec);
        assert.deepEqual(dx.shape, [N * C, h, w, c]);
        assert.ok(maxRelErr(dx.dataSync(), dxRef) < 1e-3, `input VJP ${maxRelErr(dx.dataSync(), dxRef)}`);
        dx.dispose();
        const kg = depthwiseKernelGrad(x, g1, spec, true);
        assert.deepEqual(kg.kernel.shape, [win.kh, win.kw, c, m]);
        const kgFlat = [...kg.kernel.dataSync(), ...kg.bias!.dataSync()];
        assert.ok(maxRelErr(kgFlat, kgRef) < 1e-3, `kernel gradient ${maxRelErr(kgFlat, kgRef)}`);
        tf.dispose([kg.kernel, kg.bias!]);
        const st = depthwiseRowStats(x, g, spec, true, { sum: true, squares: true, signs: sg, rows: true });
        const flat = (kb: { kernel: tf.Tensor; bias?: tf.Tensor }) => [...kb.kernel.dataSync(), ...kb.bias!.dataSync()];
        assert.ok(maxRelErr(flat(st.sum!), sumRef) < 1e-3, `row sum ${maxRelErr(flat(st.sum!), sumRef)}`);
        assert.ok(
          maxRelErr(flat(st.squares!), sqRef) < 1e-3,
          `signed row squares ${maxRelErr(flat(st.squares!), sqRef)}`,
        );
        const rowsFlat = new Float64Array(N * C * (kLen + co));
        rowsRef.forEach((r, i) => rowsFlat.set(r, i * (kLen + co)));
        assert.deepEqual(st.rows!.shape, [N * C, kLen + co]);
        assert.ok(maxRelErr(st.rows!.dataSync(), rowsFlat) < 1e-3, `rows ${maxRelErr(st.rows!.dataSync(), rowsFlat)}`);
        disposeRowStats(st);
        const kf = depthwiseKroneckerFactors(x, g, spec, true);
        assert.deepEqual(kf.A.shape, [c, D, D]);
        assert.deepEqual(kf.G.shape, [c, m, m]);
        assert.ok(maxRelErr(kf.A.dataSync(), aRef) < 1e-3, `KFC A ${maxRelErr(kf.A.dataSync(), aRef)}`);
        assert.ok(maxRelErr(kf.G.dataSync(), gRef) < 1e-3, `KFC G ${maxRelErr(kf.G.dataSync(), gRef)}`);
        tf.dispose([kf.A, kf.G]);
      } finally {
        tf.dispose([x, kernel, bias, g, g1, sg]);
      }
      assert.equal(tf.memory().numTensors, before, 'every tensor disposed');
    });
