// DepthwiseConv2D (NHWC, kernel [kh, kw, c, m], output channel o = ci * m + mi) as direct loops
// vectorised over output channels, with accumulators held in registers across the loop that sums
// into them (taps for the input VJP, output positions for the kernel gradient). With a depth
// multiplier m > 1 each sample's input is first expanded to co = c * m channels
// (xe[q, o] = x[q, o / m]) so that every inner loop is an elementwise product over o.
// Scratch sizes come from dw_scratch.
#include <wasm_simd128.h>
#include "geometry.h"

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

// The output rows (or columns) o in [*o0, *o1) whose window tap k reads inside the input along one
// axis: input index o * s + k - pad in [0, size).
static inline void tap_range(int k, int s, int pad, int size, int out, int *o0, int *o1) {
  const int lo = pad - k; // o * s >= lo
  const int hi = size - 1 + pad - k; // o * s <= hi
  *o0 = lo <= 0 ? 0 : (lo + s - 1) / s;
  *o1 = hi < 0 ? 0 : imin(out, hi / s + 1);
  if (*o1 < *o0) *o1 = *o0;
}

// acc[k * co + o] += sum over output positions of x[tap k of the position, o] * d[position, o]
// for one sample: xs [h, w, co], d [oh, ow, co]. Sixteen channels at a time in four registers.
static void tap_products(const geom_t *g, const float *xs, const float *d, float *acc) {
  const int CO = g->co;
  for (int ky = 0; ky < g->kh; ky++) {
    int oy0, oy1;
    tap_range(ky, g->sh, g->pt, g->h, g->oh, &oy0, &oy1);
    for (int kx = 0; kx < g->kw; kx++) {
      int ox0, ox1;
      tap_range(kx, g->sw, g->pl, g->w, g->ow, &ox0, &ox1);
      float *a = acc + (long)(ky * g->kw + kx) * CO;
      int o = 0;
      for (; o + 16 <= CO; o += 16) {
        v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
        for (int oy = oy0; oy < oy1; oy++) {
          const float *xr = xs + ((long)(oy * g->sh + ky - g->pt) * g->w + ox0 * g->sw + kx - g->pl) * CO + o;
          const float *dr = d + ((long)oy * g->ow + ox0) * CO + o;
          const long xstep = (long)g->sw * CO;
          for (int ox = ox0; ox < ox1; ox++, xr += xstep, dr += CO) {
            s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(xr), wasm_v128_load(dr)));
            s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(xr + 4), wasm_v128_load(dr + 4)));
            s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(wasm_v128_load(xr + 8), wasm_v128_load(dr + 8)));
            s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(wasm_v128_load(xr + 12), wasm_v128_load(dr + 12)));
          }
        }
        wasm_v128_store(a + o, wasm_f32x4_add(wasm_v128_load(a + o), s0));
        wasm_v128_store(a + o + 4, wasm_f32x4_add(wasm_v128_load(a + o + 4), s1));
        wasm_v128_store(a + o + 8, wasm_f32x4_add(wasm_v128_load(a + o + 8), s2));
        wasm_v128_store(a + o + 12, wasm_f32x4_add(wasm_v128_load(a + o + 12), s3));
      }
      for (; o + 4 <= CO; o += 4) {
        v128_t s0 = wasm_f32x4_splat(0.0f);
        for (int oy = oy0; oy < oy1; oy++) {
          const float *xr = xs + ((long)(oy * g->sh + ky - g->pt) * g->w + ox0 * g->sw + kx - g->pl) * CO + o;
          const float *dr = d + ((long)oy * g->ow + ox0) * CO + o;
          for (int ox = ox0; ox < ox1; ox++, xr += (long)g->sw * CO, dr += CO)
            s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(xr), wasm_v128_load(dr)));
        }
        wasm_v128_store(a + o, wasm_f32x4_add(wasm_v128_load(a + o), s0));
      }
      for (; o < CO; o++) {
        float s = 0.0f;
        for (int oy = oy0; oy < oy1; oy++)
          for (int ox = ox0; ox < ox1; ox++)
            s += xs[((long)(oy * g->sh + ky - g->pt) * g->w + ox * g->sw + kx - g->pl) * CO + o] * d[((long)oy * g->ow + ox) * CO + o];
        a[o] += s;
      }
    }
  }
}

EXPORT("dw_scratch")
int dw_scratch(const geom_t *g) {
  return ((g->h * g->w * g->co + 3) & ~3) + ((g->kh * g->kw * g->co + 3) & ~3) + g->co + 4;
}

// dw [kh*kw*co] = sum over samples and positions; db [co] (may be 0). Overwrites both.
EXPORT("dw_filter_grad")
void dw_filter_grad(const geom_t *g, const float *x, const float *dy, float *dw, float *db, float *scratch) {
  const int CO = g->co;
  const long P = (long)g->oh * g->ow;
  fill_zero(dw, (long)g->kh * g->kw * CO);
  if (db) fill_zero(db, CO);
  for (int n = 0; n < g->n; n++) {
    const float *d = dy + n * P * CO;
    tap_products(g, expanded(g, x, n, scratch), d, dw);
    if (db)
      for (long p = 0; p < P; p++) add_floats(db, d + p * CO, CO);
  }
}

// dx [n, h, w, c] = the input VJP of dy (n may count rows of a curvature block). Overwrites dx.
// Gathered per input position (the taps that read it), sixteen channels in registers at a time.
EXPORT("dw_input_grad")
void dw_input_grad(const geom_t *g, const float *dy, const float *w, float *dx, float *scratch) {
  const int C = g->c, CO = g->co, M = CO / C;
  const long Q = (long)g->h * g->w;
  for (int n = 0; n < g->n; n++) {
    float *dn = dx + (long)n * Q * C;
    float *acc = M == 1 ? dn : scratch;
    const float *d = dy + (long)n * g->oh * g->ow * CO;
    for (int iy = 0; iy < g->h; iy++)
      for (int ix = 0; ix < g->w; ix++) {
        float *dst = acc + ((long)iy * g->w + ix) * CO;
        int o = 0;
        for (; o + 16 <= CO; o += 16) {
          v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
          for (int ky = 0; ky < g->kh; ky++) {
            const int ty = iy + g->pt - ky;
            if (ty < 0 || ty % g->sh) continue;
            const int oy = ty / g->sh;
            if (oy >= g->oh) continue;
            for (int kx = 0; kx < g->kw; kx++) {
              const int tx = ix + g->pl - kx;
              if (tx < 0 || tx % g->sw) continue;
              const int ox = tx / g->sw;
              if (ox >= g->ow) continue;
              const float *wr = w + (long)(ky * g->kw + kx) * CO + o;
              const float *dr = d + ((long)oy * g->ow + ox) * CO + o;
              s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(wr), wasm_v128_load(dr)));
              s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(wr + 4), wasm_v128_load(dr + 4)));
              s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(wasm_v128_load(wr + 8), wasm_v128_load(dr + 8)));
              s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(wasm_v128_load(wr + 12), wasm_v128_load(dr + 12)));
            }
          }
          wasm_v128_store(dst + o, s0);
          wasm_v128_store(dst + o + 4, s1);
          wasm_v128_store(dst + o + 8, s2);
          wasm_v128_store(dst + o + 12, s3);
        }
        for (; o < CO; o++) {
          float s = 0.0f;
          for (int ky = 0; ky < g->kh; ky++) {
            const int ty = iy + g->pt - ky;
            if (ty < 0 || ty % g->sh || ty / g->sh >= g->oh) continue;
            for (int kx = 0; kx < g->kw; kx++) {
              const int tx = ix + g->pl - kx;
              if (tx < 0 || tx % g->sw || tx / g->sw >= g->ow) continue;
              s += w[(long)(ky * g->kw + kx) * CO + o] * d[((long)(ty / g->sh) * g->ow + tx / g->sw) * CO + o];
            }
          }
          dst[o] = s;
        }
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
  const int CO = g->co, KK = g->kh * g->kw;
  const long P = (long)g->oh * g->ow;
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
      const float *d = rows + r * P * CO;
      fill_zero(gr, kLen);
      fill_zero(br, CO);
      tap_products(g, xs, d, gr);
      for (long p = 0; p < P; p++) add_floats(br, d + p * CO, CO);
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
