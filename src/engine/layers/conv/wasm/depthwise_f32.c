// DepthwiseConv2D (NHWC, kernel [kh, kw, c, m], output channel o = ci * m + mi) as direct loops
// vectorised over output channels. With a depth multiplier m > 1 each sample's input is first
// expanded to co = c * m channels (xe[q, o] = x[q, o / m]) so that every inner loop is an
// elementwise product over o. Scratch sizes come from dw_scratch / dw_rows_scratch.
#include <wasm_simd128.h>
#include "geometry.h"

// acc[o] += a[o] * b[o] for o < len.
static inline void mul_add(float *acc, const float *a, const float *b, int len) {
  int o = 0;
  for (; o + 4 <= len; o += 4)
    wasm_v128_store(acc + o, wasm_f32x4_add(wasm_v128_load(acc + o), wasm_f32x4_mul(wasm_v128_load(a + o), wasm_v128_load(b + o))));
  for (; o < len; o++) acc[o] += a[o] * b[o];
}

// Sample n's input with co channels: x itself when m = 1, else expanded into buf.
static const float *expanded(const geom_t *g, const float *x, int n, float *buf) {
  const int C = g->c, CO = g->co, M = CO / C;
  const long Q = (long)g->h * g->w;
  const float *xn = x + (long)n * Q * C;
  if (M == 1) return xn;
  for (long q = 0; q < Q; q++)
    for (int ci = 0; ci < C; ci++) {
      const float v = xn[q * C + ci];
      for (int mi = 0; mi < M; mi++) buf[q * CO + ci * M + mi] = v;
    }
  return buf;
}

// For output position (oy, ox): calls body(k, q) for every valid tap k = ky * kw + kx at input q.
#define FOR_TAPS(g, oy, ox, BODY)                                                            \
  do {                                                                                        \
    int ky0_, ky1_, kx0_, kx1_;                                                               \
    window_range(oy, (g)->sh, (g)->pt, (g)->kh, (g)->h, &ky0_, &ky1_);                        \
    window_range(ox, (g)->sw, (g)->pl, (g)->kw, (g)->w, &kx0_, &kx1_);                        \
    for (int ky = ky0_; ky < ky1_; ky++)                                                      \
      for (int kx = kx0_; kx < kx1_; kx++) {                                                  \
        const int k = ky * (g)->kw + kx;                                                      \
        const long q = (long)((oy) * (g)->sh + ky - (g)->pt) * (g)->w + (ox) * (g)->sw + kx - (g)->pl; \
        BODY;                                                                                 \
      }                                                                                       \
  } while (0)

EXPORT("dw_scratch")
int dw_scratch(const geom_t *g) {
  return ((g->h * g->w * g->co + 3) & ~3) + ((g->kh * g->kw * g->co + 3) & ~3) + g->co + 4;
}

// dw [kh*kw*co] = sum over samples and positions; db [co] (may be 0). Overwrites both.
EXPORT("dw_filter_grad")
void dw_filter_grad(const geom_t *g, const float *x, const float *dy, float *dw, float *db, float *scratch) {
  const int CO = g->co;
  fill_zero(dw, (long)g->kh * g->kw * CO);
  if (db) fill_zero(db, CO);
  for (int n = 0; n < g->n; n++) {
    const float *xs = expanded(g, x, n, scratch);
    for (int oy = 0; oy < g->oh; oy++)
      for (int ox = 0; ox < g->ow; ox++) {
        const float *d = dy + (((long)n * g->oh + oy) * g->ow + ox) * CO;
        FOR_TAPS(g, oy, ox, mul_add(dw + (long)k * CO, xs + q * CO, d, CO));
        if (db) add_floats(db, d, CO);
      }
  }
}

// dx [n, h, w, c] = the input VJP of dy (n may count rows of a curvature block). Overwrites dx.
EXPORT("dw_input_grad")
void dw_input_grad(const geom_t *g, const float *dy, const float *w, float *dx, float *scratch) {
  const int C = g->c, CO = g->co, M = CO / C;
  const long Q = (long)g->h * g->w;
  for (int n = 0; n < g->n; n++) {
    float *dn = dx + (long)n * Q * C;
    float *acc = M == 1 ? dn : scratch;
    fill_zero(acc, Q * CO);
    for (int oy = 0; oy < g->oh; oy++)
      for (int ox = 0; ox < g->ow; ox++) {
        const float *d = dy + (((long)n * g->oh + oy) * g->ow + ox) * CO;
        FOR_TAPS(g, oy, ox, mul_add(acc + q * CO, w + (long)k * CO, d, CO));
      }
    if (M > 1)
      for (long q = 0; q < Q; q++)
        for (int ci = 0; ci < C; ci++) {
          float s = 0.0f;
          for (int mi = 0; mi < M; mi++) s += acc[q * CO + ci * M + mi];
          dn[q * C + ci] = s;
        }
  }
}

// Per-row products, as conv_row_stats (conv_f32.c): row r's kernel gradient G_r [kh*kw*co] and bias
// gradient b_r [co]; sum, sq (signed squares), bsum, bsq and out (rows materialised) may each be 0.
EXPORT("dw_row_stats")
void dw_row_stats(const geom_t *g, const float *x, const float *rows, int c, const float *signs, float *sum,
                  float *sq, float *bsum, float *bsq, float *out, int withBias, float *scratch) {
  const int CO = g->co, KK = g->kh * g->kw, P = g->oh * g->ow;
  const long kLen = (long)KK * CO, outStride = kLen + (withBias ? CO : 0);
  float *gr = scratch + ((g->h * g->w * CO + 3) & ~3);
  float *br = gr + ((kLen + 3) & ~3);
  if (sum) fill_zero(sum, kLen);
  if (sq) fill_zero(sq, kLen);
  if (bsum) fill_zero(bsum, CO);
  if (bsq) fill_zero(bsq, CO);
  for (int n = 0; n < g->n; n++) {
    const float *xs = expanded(g, x, n, scratch);
    for (int j = 0; j < c; j++) {
      const long r = (long)n * c + j;
      const float s = signs ? signs[r] : 1.0f;
      const v128_t sv = wasm_f32x4_splat(s);
      fill_zero(gr, kLen);
      fill_zero(br, CO);
      for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++) {
          const float *d = rows + (r * P + (long)oy * g->ow + ox) * CO;
          FOR_TAPS(g, oy, ox, mul_add(gr + (long)k * CO, xs + q * CO, d, CO));
          add_floats(br, d, CO);
        }
      long i = 0;
      for (; i + 4 <= kLen; i += 4) {
        const v128_t v = wasm_v128_load(gr + i);
        if (sum) wasm_v128_store(sum + i, wasm_f32x4_add(wasm_v128_load(sum + i), v));
        if (sq) wasm_v128_store(sq + i, wasm_f32x4_add(wasm_v128_load(sq + i), wasm_f32x4_mul(sv, wasm_f32x4_mul(v, v))));
      }
      for (; i < kLen; i++) {
        if (sum) sum[i] += gr[i];
        if (sq) sq[i] += s * gr[i] * gr[i];
      }
      for (int o = 0; o < CO; o++) {
        if (bsum) bsum[o] += br[o];
        if (bsq) bsq[o] += s * br[o] * br[o];
      }
      if (out) {
        copy_floats(out + r * outStride, gr, kLen);
        if (withBias) copy_floats(out + r * outStride + kLen, br, CO);
      }
    }
  }
}
