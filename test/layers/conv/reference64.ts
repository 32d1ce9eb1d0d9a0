// Float64 references for the convolution-family calculus, written as the definitions (direct loops
// over the window), with TF's padding rule computed here on its own, and central finite differences
// of these forwards for every gradient. Nothing here calls the code under test.
import { Rng } from '../../../src/engine/util/random';

export interface Win {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  padding: 'same' | 'valid';
}

export interface Geo {
  oh: number;
  ow: number;
  pt: number;
  pl: number;
}

/** TF: 'valid' = whole windows; 'same' = ceil(in / s) outputs, pad total split with the smaller half first. */
export function geo(h: number, w: number, win: Win): Geo {
  if (win.padding === 'valid')
    return { oh: Math.floor((h - win.kh) / win.sh) + 1, ow: Math.floor((w - win.kw) / win.sw) + 1, pt: 0, pl: 0 };
  const oh = Math.ceil(h / win.sh);
  const ow = Math.ceil(w / win.sw);
  const padH = Math.max(0, (oh - 1) * win.sh + win.kh - h);
  const padW = Math.max(0, (ow - 1) * win.sw + win.kw - w);
  return { oh, ow, pt: Math.floor(padH / 2), pl: Math.floor(padW / 2) };
}

export function randn(rng: Rng, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal());
}

/** One sample's conv: x [h, w, c], k [kh, kw, c, co] -> [oh, ow, co]. */
export function conv1(
  x: Float64Array,
  h: number,
  w: number,
  c: number,
  k: ArrayLike<number>,
  co: number,
  win: Win,
  bias?: ArrayLike<number>,
): Float64Array {
  const g = geo(h, w, win);
  const y = new Float64Array(g.oh * g.ow * co);
  for (let oy = 0; oy < g.oh; oy++)
    for (let ox = 0; ox < g.ow; ox++)
      for (let o = 0; o < co; o++) {
        let s = bias ? bias[o] : 0;
        for (let ky = 0; ky < win.kh; ky++)
          for (let kx = 0; kx < win.kw; kx++) {
            const iy = oy * win.sh + ky - g.pt;
            const ix = ox * win.sw + kx - g.pl;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            for (let ci = 0; ci < c; ci++) s += x[(iy * w + ix) * c + ci] * k[((ky * win.kw + kx) * c + ci) * co + o];
          }
        y[(oy * g.ow + ox) * co + o] = s;
      }
  return y;
}

/** One sample's depthwise conv: x [h, w, c], k [kh, kw, c, m] -> [oh, ow, c * m]. */
export function depthwise1(
  x: Float64Array,
  h: number,
  w: number,
  c: number,
  k: ArrayLike<number>,
  m: number,
  win: Win,
  bias?: ArrayLike<number>,
): Float64Array {
  const g = geo(h, w, win);
  const co = c * m;
  const y = new Float64Array(g.oh * g.ow * co);
  for (let oy = 0; oy < g.oh; oy++)
    for (let ox = 0; ox < g.ow; ox++)
      for (let ci = 0; ci < c; ci++)
        for (let j = 0; j < m; j++) {
          let s = bias ? bias[ci * m + j] : 0;
          for (let ky = 0; ky < win.kh; ky++)
            for (let kx = 0; kx < win.kw; kx++) {
              const iy = oy * win.sh + ky - g.pt;
              const ix = ox * win.sw + kx - g.pl;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              s += x[(iy * w + ix) * c + ci] * k[((ky * win.kw + kx) * c + ci) * m + j];
            }
          y[(oy * g.ow + ox) * co + ci * m + j] = s;
        }
  return y;
}

/** One sample's pooling (max or average over the valid part of the window): [h, w, c] -> [oh, ow, c]. */
export function pool1(x: Float64Array, h: number, w: number, c: number, win: Win, kind: 'max' | 'avg'): Float64Array {
  const g = geo(h, w, win);
  const y = new Float64Array(g.oh * g.ow * c);
  for (let oy = 0; oy < g.oh; oy++)
    for (let ox = 0; ox < g.ow; ox++)
      for (let ci = 0; ci < c; ci++) {
        let s = kind === 'max' ? -Infinity : 0;
        let count = 0;
        for (let ky = 0; ky < win.kh; ky++)
          for (let kx = 0; kx < win.kw; kx++) {
            const iy = oy * win.sh + ky - g.pt;
            const ix = ox * win.sw + kx - g.pl;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const v = x[(iy * w + ix) * c + ci];
            s = kind === 'max' ? Math.max(s, v) : s + v;
            count++;
          }
        y[(oy * g.ow + ox) * c + ci] = kind === 'max' ? s : s / count;
      }
  return y;
}

/** Central finite differences of f at v (f linear or smooth; eps in float64). */
export function fdGrad(f: (v: Float64Array) => number, v: Float64Array, eps = 1e-5): Float64Array {
  const g = new Float64Array(v.length);
  const p = Float64Array.from(v);
  for (let i = 0; i < v.length; i++) {
    p[i] = v[i] + eps;
    const up = f(p);
    p[i] = v[i] - eps;
    const down = f(p);
    p[i] = v[i];
    g[i] = (up - down) / (2 * eps);
  }
  return g;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Sample s of a batch laid out row-major with `size` values per sample. */
export function sample(a: Float64Array, s: number, size: number): Float64Array {
  return a.subarray(s * size, (s + 1) * size);
}

/**
 * Row statistics from materialised per-row gradients (rows [R][P]): sum_r g_r, sum_r sign_r g_r^2
 * (signs per row, or all +1).
 */
export function rowMoments(
  rows: Float64Array[],
  signs?: ArrayLike<number>,
): { sum: Float64Array; squares: Float64Array } {
  const P = rows[0].length;
  const sum = new Float64Array(P);
  const squares = new Float64Array(P);
  rows.forEach((r, i) => {
    const s = signs ? signs[i] : 1;
    for (let j = 0; j < P; j++) {
      sum[j] += r[j];
      squares[j] += s * r[j] * r[j];
    }
  });
  return { sum, squares };
}
