// Pooling and ZeroPadding2D backward maps against central finite differences of float64 forwards
// (direct loops with TF's padding rule), for blocks of c rows per sample, on all three paths.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { maxRelErr } from '../../helpers';
import { Rng } from '../../../src/engine/util/random';
import {
  avgPoolBackward,
  avgPoolForward,
  globalAvgPoolBackward,
  globalSpec,
  maxPoolBackward,
  maxPoolForward,
  zeroPaddingBackward,
} from '../../../src/engine/layers/conv/pooling';
import { dot, fdGrad, geo, pool1, randn, sample, Win } from './reference64';
import { PATHS, usePath, resetPath, f32 } from './paths';

const CASES: { name: string; h: number; w: number; c: number; win: Win }[] = [
  { name: '2x2 stride 2 valid', h: 8, w: 6, c: 3, win: { kh: 2, kw: 2, sh: 2, sw: 2, padding: 'valid' } },
  { name: '3x3 stride 2 same', h: 7, w: 6, c: 5, win: { kh: 3, kw: 3, sh: 2, sw: 2, padding: 'same' } },
  {
    name: '3x2 strides (1, 2) same (overlapping windows)',
    h: 5,
    w: 7,
    c: 4,
    win: { kh: 3, kw: 2, sh: 1, sw: 2, padding: 'same' },
  },
  { name: 'global (whole image)', h: 4, w: 5, c: 6, win: { kh: 4, kw: 5, sh: 1, sw: 1, padding: 'valid' } },
];
const N = 2;
const C = 3;

after(resetPath);

for (const path of PATHS)
  for (const cs of CASES)
    for (const kind of ['max', 'avg'] as const)
      test(`${kind} pooling ${cs.name} (${path}): forward and the VJP of a block of rows`, async () => {
        await usePath(path);
        const rng = new Rng(3);
        const { h, w, c, win } = cs;
        const g0 = geo(h, w, win);
        const inSize = h * w * c;
        const outSize = g0.oh * g0.ow * c;
        const X = randn(rng, N * inSize);
        const G = randn(rng, N * C * outSize);
        const yRef = new Float64Array(N * outSize);
        for (let s = 0; s < N; s++) yRef.set(pool1(sample(X, s, inSize), h, w, c, win, kind), s * outSize);
        const dxRef = new Float64Array(N * C * inSize);
        for (let r = 0; r < N * C; r++) {
          const gr = sample(G, r, outSize);
          const x0 = Float64Array.from(sample(X, Math.floor(r / C), inSize));
          dxRef.set(
            fdGrad((xv) => dot(gr, pool1(xv, h, w, c, win, kind)), x0, 1e-7),
            r * inSize,
          );
        }
        const spec = {
          kernelSize: [win.kh, win.kw] as [number, number],
          strides: [win.sh, win.sw] as [number, number],
          padding: win.padding,
        };
        const before = tf.memory().numTensors;
        const x = tf.tensor4d(f32(X), [N, h, w, c]);
        const g = tf.tensor4d(f32(G), [N * C, g0.oh, g0.ow, c]);
        try {
          let y: tf.Tensor4D;
          let dx: tf.Tensor4D;
          if (kind === 'max') {
            const f = maxPoolForward(x, spec);
            y = f.output;
            dx = maxPoolBackward(g, { x, ...f }, spec);
            f.argmax?.dispose();
          } else {
            y = avgPoolForward(x, spec);
            dx = avgPoolBackward(g, [h, w, c], spec);
          }
          assert.ok(maxRelErr(y.dataSync(), yRef) < 1e-6, `forward ${maxRelErr(y.dataSync(), yRef)}`);
          assert.deepEqual(dx.shape, [N * C, h, w, c]);
          assert.ok(maxRelErr(dx.dataSync(), dxRef) < 1e-3, `VJP ${maxRelErr(dx.dataSync(), dxRef)}`);
          tf.dispose([y, dx]);
        } finally {
          tf.dispose([x, g]);
        }
        assert.equal(tf.memory().numTensors, before, 'every tensor disposed');
      });

for (const path of PATHS)
  test(`global average pooling and ZeroPadding2D VJPs (${path})`, async () => {
    await usePath(path);
    const rng = new Rng(8);
    const [h, w, c] = [3, 4, 5];
    const R = 4;
    const G = randn(rng, R * c);
    const g = tf.tensor2d(f32(G), [R, c]);
    const dx = globalAvgPoolBackward(g, [h, w, c]);
    // d/dx_q of mean_q x_q . g = g / (h w) at every position.
    const ref = new Float64Array(R * h * w * c);
    for (let r = 0; r < R; r++)
      for (let q = 0; q < h * w; q++)
        for (let ci = 0; ci < c; ci++) ref[(r * h * w + q) * c + ci] = G[r * c + ci] / (h * w);
    assert.ok(maxRelErr(dx.dataSync(), ref) < 1e-6);
    assert.deepEqual(globalSpec([h, w, c]), { kernelSize: [h, w], strides: [1, 1], padding: 'valid' });
    // ZeroPadding2D [[1, 2], [0, 3]]: its VJP is the interior of the padded gradient.
    const P = randn(rng, R * (h + 3) * (w + 3) * c);
    const gp = tf.tensor4d(f32(P), [R, h + 3, w + 3, c]);
    const back = zeroPaddingBackward(gp, [
      [1, 2],
      [0, 3],
    ]);
    const inner = new Float64Array(R * h * w * c);
    for (let r = 0; r < R; r++)
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < w; xx++)
          for (let ci = 0; ci < c; ci++)
            inner[((r * h + y) * w + xx) * c + ci] = P[((r * (h + 3) + y + 1) * (w + 3) + xx) * c + ci];
    assert.deepEqual(back.shape, [R, h, w, c]);
    assert.equal(maxRelErr(back.dataSync(), f32(inner)), 0);
    tf.dispose([g, dx, gp, back]);
  });
