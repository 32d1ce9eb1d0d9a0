// DepthwiseConv2D calculus against float64 references (calculusCheck.ts), any depth multiplier,
// TF padding, and its per-channel KFC factors, on all three paths.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { maxRelErr } from '../../helpers';
import {
  depthwiseForward,
  depthwiseInputGrad,
  depthwiseKernelGrad,
  depthwiseKroneckerFactors,
  depthwiseRowStats,
} from '../../../src/engine/layers/conv/depthwise';
import { depthwise1, Win } from './reference64';
import { PATHS, usePath, resetPath, f32 } from './paths';
import { C, caseData, checkCalculus, N, specOf, WindowCase } from './calculusCheck';

const CALC = {
  forward: depthwiseForward,
  inputGrad: depthwiseInputGrad,
  kernelGrad: depthwiseKernelGrad,
  rowStats: depthwiseRowStats,
};

function dwCase(h: number, w: number, c: number, m: number, win: Win): WindowCase & { m: number } {
  return {
    h,
    w,
    c,
    m,
    co: c * m,
    win,
    kernelShape: [win.kh, win.kw, c, m],
    forward1: (x, k, b) => depthwise1(x, h, w, c, k, m, win, b),
  };
}

const CASES: [string, ReturnType<typeof dwCase>][] = [
  ['multiplier 2, 3x3 stride 2 same', dwCase(7, 6, 3, 2, { kh: 3, kw: 3, sh: 2, sw: 2, padding: 'same' })],
  ['multiplier 1, 3x3 same, 5 channels', dwCase(6, 5, 5, 1, { kh: 3, kw: 3, sh: 1, sw: 1, padding: 'same' })],
  ['multiplier 3, 2x3 valid, strides (1, 2)', dwCase(6, 7, 2, 3, { kh: 2, kw: 3, sh: 1, sw: 2, padding: 'valid' })],
];

after(resetPath);

for (const path of PATHS)
  for (const [name, cs] of CASES)
    test(`DepthwiseConv2D ${name} (${path}): forward, VJPs, per-row statistics, KFC factors`, async () => {
      await usePath(path);
      const d = caseData(cs, 5);
      checkCalculus(cs, CALC, d);

      // KFC per input channel: patches of that channel (+ 1) and its m output gradients.
      const { h, w, c, m, co, win } = cs;
      const { g0, inSize, X, G } = d;
      const KK = win.kh * win.kw;
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
      const x = tf.tensor4d(f32(X), [N, h, w, c]);
      const g = tf.tensor4d(f32(G), [N * C, g0.oh, g0.ow, co]);
      const kf = depthwiseKroneckerFactors(x, g, specOf(win), true);
      assert.deepEqual(kf.A.shape, [c, D, D]);
      assert.deepEqual(kf.G.shape, [c, m, m]);
      assert.ok(maxRelErr(kf.A.dataSync(), aRef) < 1e-3, `KFC A ${maxRelErr(kf.A.dataSync(), aRef)}`);
      assert.ok(maxRelErr(kf.G.dataSync(), gRef) < 1e-3, `KFC G ${maxRelErr(kf.G.dataSync(), gRef)}`);
      tf.dispose([kf.A, kf.G, x, g]);
    });
