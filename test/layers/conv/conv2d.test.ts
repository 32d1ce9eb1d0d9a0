// Conv2D calculus against float64 references (calculusCheck.ts: direct loops with TF's padding
// computed in the test, central finite differences for every gradient and per-row gradient) and
// KFC's factors from the patches' definition, on all three paths.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { maxRelErr } from '../../helpers';
import {
  conv2dForward,
  conv2dInputGrad,
  conv2dKernelGrad,
  conv2dKroneckerFactors,
  conv2dRowStats,
} from '../../../src/engine/layers/conv/conv2d';
import { conv1, Win } from './reference64';
import { PATHS, usePath, resetPath, f32 } from './paths';
import { C, caseData, checkCalculus, N, specOf, WindowCase } from './calculusCheck';

const CALC = {
  forward: conv2dForward,
  inputGrad: conv2dInputGrad,
  kernelGrad: conv2dKernelGrad,
  rowStats: conv2dRowStats,
};

function convCase(h: number, w: number, c: number, co: number, win: Win): WindowCase {
  return {
    h,
    w,
    c,
    co,
    win,
    kernelShape: [win.kh, win.kw, c, co],
    forward1: (x, k, b) => conv1(x, h, w, c, k, co, win, b),
  };
}

const CASES: [string, WindowCase][] = [
  ['3x3 stride 2 same', convCase(7, 6, 3, 4, { kh: 3, kw: 3, sh: 2, sw: 2, padding: 'same' })],
  ['5x5 same, one input channel', convCase(8, 8, 1, 6, { kh: 5, kw: 5, sh: 1, sw: 1, padding: 'same' })],
  ['2x3 valid, strides (1, 2)', convCase(9, 7, 5, 3, { kh: 2, kw: 3, sh: 1, sw: 2, padding: 'valid' })],
  ['4x4 stride 3 same (uneven padding)', convCase(10, 9, 2, 5, { kh: 4, kw: 4, sh: 3, sw: 3, padding: 'same' })],
];

after(resetPath);

for (const path of PATHS)
  for (const [name, cs] of CASES)
    test(`Conv2D ${name} (${path}): forward, VJPs, per-row statistics, KFC factors`, async () => {
      await usePath(path);
      const d = caseData(cs, 11);
      checkCalculus(cs, CALC, d);

      // KFC from the definition: patches u (0 in the padding) with a trailing 1, and output rows.
      const { h, w, c, co, win } = cs;
      const { g0, inSize, X, G } = d;
      const K = win.kh * win.kw * c;
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
      const x = tf.tensor4d(f32(X), [N, h, w, c]);
      const g = tf.tensor4d(f32(G), [N * C, g0.oh, g0.ow, co]);
      const kf = conv2dKroneckerFactors(x, g, specOf(win), true);
      assert.equal(kf.positions, g0.oh * g0.ow);
      assert.equal(kf.samples, N);
      assert.ok(maxRelErr(kf.A.dataSync(), aRef) < 1e-3, `KFC A ${maxRelErr(kf.A.dataSync(), aRef)}`);
      assert.ok(maxRelErr(kf.G.dataSync(), gRef) < 1e-3, `KFC G ${maxRelErr(kf.G.dataSync(), gRef)}`);
      tf.dispose([kf.A, kf.G, x, g]);
    });
