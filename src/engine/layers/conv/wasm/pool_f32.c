// Max and average pooling (NHWC, TF padding: padded positions are never the max and do not count in
// the average), vectorised over channels. Max pooling records, per output element, the offset of
// its maximum within the sample (the first maximum in window order, as TF and tfjs route the
// gradient), so that the backward of a block of c rows per sample is a scatter.
#include <wasm_simd128.h>
#include "geometry.h"

// y [n, oh, ow, c] and idx (int32, same shape): offset (iy * w + ix) * c + ci of each maximum.
EXPORT("maxpool_forward")
void maxpool_forward(const geom_t *g, const float *x, float *y, int *idx) {
  const int C = g->c;
  const long Q = (long)g->h * g->w;
  for (int n = 0; n < g->n; n++) {
    const float *xn = x + n * Q * C;
    for (int oy = 0; oy < g->oh; oy++)
      for (int ox = 0; ox < g->ow; ox++) {
        const long at = (((long)n * g->oh + oy) * g->ow + ox) * C;
        float *yr = y + at;
        int *ir = idx + at;
        int ky0, ky1, kx0, kx1;
        window_range(oy, g->sh, g->pt, g->kh, g->h, &ky0, &ky1);
        window_range(ox, g->sw, g->pl, g->kw, g->w, &kx0, &kx1);
        const int q0 = ((oy * g->sh + ky0 - g->pt) * g->w + ox * g->sw + kx0 - g->pl) * C;
        int ci = 0;
        for (; ci + 4 <= C; ci += 4) {
          const v128_t lane = wasm_i32x4_make(ci, ci + 1, ci + 2, ci + 3);
          v128_t best = wasm_v128_load(xn + q0 + ci);
          v128_t bi = wasm_i32x4_add(wasm_i32x4_splat(q0), lane);
          for (int ky = ky0; ky < ky1; ky++)
            for (int kx = kx0; kx < kx1; kx++) {
              const int q = ((oy * g->sh + ky - g->pt) * g->w + ox * g->sw + kx - g->pl) * C;
              const v128_t v = wasm_v128_load(xn + q + ci);
              const v128_t gt = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, gt);
              bi = wasm_v128_bitselect(wasm_i32x4_add(wasm_i32x4_splat(q), lane), bi, gt);
            }
          wasm_v128_store(yr + ci, best);
          wasm_v128_store(ir + ci, bi);
        }
        for (; ci < C; ci++) {
          float best = xn[q0 + ci];
          int bi = q0 + ci;
          for (int ky = ky0; ky < ky1; ky++)
            for (int kx = kx0; kx < kx1; kx++) {
              const int q = ((oy * g->sh + ky - g->pt) * g->w + ox * g->sw + kx - g->pl) * C + ci;
              if (xn[q] > best) { best = xn[q]; bi = q; }
            }
          yr[ci] = best;
          ir[ci] = bi;
        }
      }
  }
}

// dx [n*c rows, h, w, ch] = scatter of rows [n*c, oh, ow, ch] through sample r / c's maxima. Overwrites dx.
EXPORT("maxpool_backward")
void maxpool_backward(const geom_t *g, const float *rows, const int *idx, int c, float *dx) {
  const long Q = (long)g->h * g->w * g->c, P = (long)g->oh * g->ow * g->c;
  const long R = (long)g->n * c;
  fill_zero(dx, R * Q);
  for (long r = 0; r < R; r++) {
    const int *ir = idx + (r / c) * P;
    const float *src = rows + r * P;
    float *dst = dx + r * Q;
    for (long e = 0; e < P; e++) dst[ir[e]] += src[e];
  }
}

// dx = the VJP of average pooling for dy [n, oh, ow, c] (n may count rows). Overwrites dx.
EXPORT("avgpool_backward")
void avgpool_backward(const geom_t *g, const float *dy, float *dx) {
  const int C = g->c;
  fill_zero(dx, (long)g->n * g->h * g->w * C);
  for (int n = 0; n < g->n; n++)
    for (int oy = 0; oy < g->oh; oy++)
      for (int ox = 0; ox < g->ow; ox++) {
        const float *d = dy + (((long)n * g->oh + oy) * g->ow + ox) * C;
        int ky0, ky1, kx0, kx1;
        window_range(oy, g->sh, g->pt, g->kh, g->h, &ky0, &ky1);
        window_range(ox, g->sw, g->pl, g->kw, g->w, &kx0, &kx1);
        const int count = (ky1 - ky0) * (kx1 - kx0);
        if (!count) continue;
        const v128_t inv = wasm_f32x4_splat(1.0f / count);
        for (int ky = ky0; ky < ky1; ky++)
          for (int kx = kx0; kx < kx1; kx++) {
            float *dst = dx + (((long)n * g->h + oy * g->sh + ky - g->pt) * g->w + ox * g->sw + kx - g->pl) * C;
            int ci = 0;
            for (; ci + 4 <= C; ci += 4)
              wasm_v128_store(dst + ci, wasm_f32x4_add(wasm_v128_load(dst + ci), wasm_f32x4_mul(wasm_v128_load(d + ci), inv)));
            for (; ci < C; ci++) dst[ci] += d[ci] / count;
          }
      }
}
