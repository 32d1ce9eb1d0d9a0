// Conv2D (NHWC, kernel [kh, kw, in, out]) as im2col + GEMM on blocks of rows, where a row is one
// output position of one sample (row = n * P + p, P = oh * ow) and the unfolded row holds the input
// patch in kernel order (ky, kx, ci). Blocks keep the unfolded buffer small enough to stay in cache.
// Every entry point takes a caller-provided scratch area of the size its *_scratch function returns
// (the module runs on the tfjs wasm backend's memory: no static buffers, no shadow stack).
#include <wasm_simd128.h>
#include "geometry.h"
#include "gemm_f32.h"

// Rows per block: the unfolded block [rows, K] stays near 64K floats (256 KB), at least GEMM_MC rows.
static int block_rows(const geom_t *g) {
  const int K = g->kh * g->kw * g->c;
  return imax(GEMM_MC, (65536 / K) / GEMM_MR * GEMM_MR);
}

// Walks rows r0..r1 (row = n * P + p) one stretch of an output row (n, oy) at a time, calling
// body(row offset, input row pointer or 0 when outside, kx0, kx1, ix0) for every (ox, ky): the patch
// segment for (ky, kx in [kx0, kx1)) starts at input column ix0 + kx0. Hoisting the divisions and the
// row bounds out of the per-position loop matters when patches are short (few input channels).
#define FOR_PATCH_ROWS(g, x, r0, r1, BODY)                                                      \
  do {                                                                                         \
    const int P_ = (g)->oh * (g)->ow, C_ = (g)->c;                                             \
    for (int r_ = (r0); r_ < (r1);) {                                                          \
      const int n_ = r_ / P_, p_ = r_ - n_ * P_, oy_ = p_ / (g)->ow, ox0_ = p_ - oy_ * (g)->ow; \
      const int ox1_ = imin((g)->ow, ox0_ + ((r1) - r_));                                      \
      const float *xn_ = (x) + (long)n_ * (g)->h * (g)->w * C_;                                \
      for (int ky = 0; ky < (g)->kh; ky++) {                                                   \
        const int iy_ = oy_ * (g)->sh + ky - (g)->pt;                                          \
        const int rowValid = iy_ >= 0 && iy_ < (g)->h;                                         \
        const float *xr = xn_ + (long)iy_ * (g)->w * C_;                                       \
        for (int ox = ox0_; ox < ox1_; ox++) {                                                 \
          const long row = r_ - (r0) + (ox - ox0_);                                            \
          const int ix0 = ox * (g)->sw - (g)->pl;                                              \
          int kx0 = 0, kx1 = (g)->kw;                                                          \
          if (ix0 < 0 || ix0 + (g)->kw > (g)->w) window_range(ox, (g)->sw, (g)->pl, (g)->kw, (g)->w, &kx0, &kx1); \
          if (!rowValid) kx1 = kx0;                                                            \
          BODY;                                                                                \
        }                                                                                      \
      }                                                                                        \
      r_ += ox1_ - ox0_;                                                                       \
    }                                                                                          \
  } while (0)

// u[(r - r0) * K + (ky * kw + kx) * c + ci] = x[n, oy * sh + ky - pt, ox * sw + kx - pl, ci] (0 outside).
static void im2col(const geom_t *g, const float *x, int r0, int r1, float *u) {
  const int C = g->c, K = g->kh * g->kw * C, rowLen = g->kw * C;
  FOR_PATCH_ROWS(g, x, r0, r1, {
    float *dst = u + row * K + ky * rowLen;
    if (kx0 == 0 && kx1 == g->kw) {
      copy_floats(dst, xr + (long)ix0 * C, rowLen);
    } else {
      if (kx0 > 0) fill_zero(dst, kx0 * C);
      if (kx1 > kx0) copy_floats(dst + kx0 * C, xr + (long)(ix0 + kx0) * C, (long)(kx1 - kx0) * C);
      if (kx1 < g->kw) fill_zero(dst + imax(kx0, kx1) * C, (long)(g->kw - imax(kx0, kx1)) * C);
    }
  });
}

// The adjoint of im2col: dx[n, iy, ix, ci] += u[...] for every patch entry inside the input.
static void col2im(const geom_t *g, const float *u, int r0, int r1, float *dx) {
  const int C = g->c, K = g->kh * g->kw * C, rowLen = g->kw * C;
  FOR_PATCH_ROWS(g, (const float *)dx, r0, r1, {
    if (kx1 > kx0)
      add_floats((float *)xr + (long)(ix0 + kx0) * C, u + row * K + ky * rowLen + kx0 * C, (long)(kx1 - kx0) * C);
  });
}

EXPORT("conv_scratch")
int conv_scratch(const geom_t *g) {
  return GEMM_SCRATCH + block_rows(g) * g->kh * g->kw * g->c;
}

// dw = sum over rows of patch^T dy [kh*kw*c, co]; db (may be 0) = sum over rows of dy. Overwrites both.
EXPORT("conv_filter_grad")
void conv_filter_grad(const geom_t *g, const float *x, const float *dy, float *dw, float *db, float *scratch) {
  const int K = g->kh * g->kw * g->c, CO = g->co, R = g->n * g->oh * g->ow, B = block_rows(g);
  float *u = scratch + GEMM_SCRATCH;
  fill_zero(dw, (long)K * CO);
  for (int r0 = 0; r0 < R; r0 += B) {
    const int r1 = imin(R, r0 + B);
    im2col(g, x, r0, r1, u);
    gemm_f32(K, CO, r1 - r0, u, 1, K, dy + (long)r0 * CO, CO, 1, dw, CO, scratch);
  }
  if (db) {
    fill_zero(db, CO);
    for (int r = 0; r < R; r++) add_floats(db, dy + (long)r * CO, CO);
  }
}

// dx = the input VJP of dy [n, oh, ow, co] (n may count rows of a curvature block). Overwrites dx.
EXPORT("conv_input_grad")
void conv_input_grad(const geom_t *g, const float *dy, const float *w, float *dx, float *scratch) {
  const int K = g->kh * g->kw * g->c, CO = g->co, R = g->n * g->oh * g->ow, B = block_rows(g);
  float *u = scratch + GEMM_SCRATCH;
  fill_zero(dx, (long)g->n * g->h * g->w * g->c);
  for (int r0 = 0; r0 < R; r0 += B) {
    const int r1 = imin(R, r0 + B);
    fill_zero(u, (long)(r1 - r0) * K);
    gemm_f32(r1 - r0, K, CO, dy + (long)r0 * CO, CO, 1, w, 1, CO, u, K, scratch);
    col2im(g, u, r0, r1, dx);
  }
}

// Per-row products for curvature. rows [n*c, oh, ow, co]: c consecutive rows per sample share the
// sample's input. Row r's kernel gradient is G_r = U_n^T g_r [K, co] (U_n the unfolded sample, summed
// over positions) and its bias gradient b_r = 1^T g_r. Accumulated (each output pointer may be 0):
//   sum  += sum_r G_r,  sq += sum_r s_r G_r^2 (elementwise),  bsum += sum_r b_r,  bsq += sum_r s_r b_r^2,
//   out[r] = [G_r (row-major), b_r (when withBias)]  (rows materialised).
// signs [n*c] (+1/-1) or 0 for all +1. The outputs are overwritten.
static int row_scratch_parts(const geom_t *g, int c, int *u, int *gt, int *cn) {
  const int K = g->kh * g->kw * g->c, P = g->oh * g->ow, CC = c * g->co;
  *u = GEMM_SCRATCH;
  *gt = *u + ((P * K + 3) & ~3);
  *cn = *gt + ((P * CC + 3) & ~3);
  return *cn + K * CC + CC;
}

EXPORT("conv_rows_scratch")
int conv_rows_scratch(const geom_t *g, int c) {
  int u, gt, cn;
  return row_scratch_parts(g, c, &u, &gt, &cn);
}

EXPORT("conv_row_stats")
void conv_row_stats(const geom_t *g, const float *x, const float *rows, int c, const float *signs, float *sum,
                    float *sq, float *bsum, float *bsq, float *out, int withBias, float *scratch) {
  const int K = g->kh * g->kw * g->c, CO = g->co, P = g->oh * g->ow, CC = c * CO, N = g->n;
  int ou, ogt, ocn;
  row_scratch_parts(g, c, &ou, &ogt, &ocn);
  float *u = scratch + ou, *gt = scratch + ogt, *cn = scratch + ocn, *bn = cn + K * CC;
  const long kLen = (long)K * CO, outStride = kLen + (withBias ? CO : 0);
  if (sum) fill_zero(sum, kLen);
  if (sq) fill_zero(sq, kLen);
  if (bsum) fill_zero(bsum, CO);
  if (bsq) fill_zero(bsq, CO);
  for (int n = 0; n < N; n++) {
    im2col(g, x, n * P, (n + 1) * P, u);
    // gt [P, c * co]: column j * co + o is row n*c+j's channel o.
    const float *gn = rows + (long)n * c * P * CO;
    for (int p = 0; p < P; p++)
      for (int j = 0; j < c; j++) copy_floats(gt + (long)p * CC + j * CO, gn + ((long)j * P + p) * CO, CO);
    fill_zero(cn, (long)K * CC);
    gemm_f32(K, CC, P, u, 1, K, gt, CC, 1, cn, CC, scratch);
    fill_zero(bn, CC);
    for (int p = 0; p < P; p++) add_floats(bn, gt + (long)p * CC, CC);
    for (int j = 0; j < c; j++) {
      const float s = signs ? signs[n * c + j] : 1.0f;
      const v128_t sv = wasm_f32x4_splat(s);
      const float *cj = cn + j * CO;
      const float *bj = bn + j * CO;
      for (int i = 0; i < K; i++) {
        const float *src = cj + (long)i * CC;
        float *ds = sum ? sum + (long)i * CO : 0, *dq = sq ? sq + (long)i * CO : 0;
        int o = 0;
        for (; o + 4 <= CO; o += 4) {
          const v128_t v = wasm_v128_load(src + o);
          if (ds) wasm_v128_store(ds + o, wasm_f32x4_add(wasm_v128_load(ds + o), v));
          if (dq) wasm_v128_store(dq + o, wasm_f32x4_add(wasm_v128_load(dq + o), wasm_f32x4_mul(sv, wasm_f32x4_mul(v, v))));
        }
        for (; o < CO; o++) {
          const float v = src[o];
          if (ds) ds[o] += v;
          if (dq) dq[o] += s * v * v;
        }
      }
      for (int o = 0; o < CO; o++) {
        const float v = bj[o];
        if (bsum) bsum[o] += v;
        if (bsq) bsq[o] += s * v * v;
      }
      if (out) {
        float *dst = out + (long)(n * c + j) * outStride;
        for (int i = 0; i < K; i++) copy_floats(dst + (long)i * CO, cj + (long)i * CC, CO);
        if (withBias) copy_floats(dst + kLen, bj, CO);
      }
    }
  }
}

// KFC input factor: a [K(+1), K(+1)] = sum over rows of [u; 1][u; 1]^T (the 1 when withBias).
EXPORT("conv_kfc_input")
void conv_kfc_input(const geom_t *g, const float *x, float *a, int withBias, float *scratch) {
  const int K = g->kh * g->kw * g->c, R = g->n * g->oh * g->ow, B = block_rows(g), D = K + (withBias ? 1 : 0);
  float *u = scratch + GEMM_SCRATCH;
  fill_zero(a, (long)D * D);
  for (int r0 = 0; r0 < R; r0 += B) {
    const int r1 = imin(R, r0 + B);
    im2col(g, x, r0, r1, u);
    gemm_f32(K, K, r1 - r0, u, 1, K, u, K, 1, a, D, scratch);
    if (withBias)
      for (int r = 0; r < r1 - r0; r++) {
        const float *ur = u + (long)r * K;
        for (int i = 0; i < K; i++) a[(long)i * D + K] += ur[i];
      }
  }
  if (withBias) {
    for (int i = 0; i < K; i++) a[(long)K * D + i] = a[(long)i * D + K];
    a[(long)K * D + K] = (float)R;
  }
}

// g^T g for a row-major [m, k] matrix: out [k, k] (the KFC output-gradient factor). Overwrites out.
EXPORT("gram")
void gram(const float *gm, int m, int k, float *out, float *scratch) {
  fill_zero(out, (long)k * k);
  gemm_f32(k, k, m, gm, 1, k, gm, k, 1, out, k, scratch);
}

EXPORT("gemm_scratch")
int gemm_scratch(void) { return GEMM_SCRATCH; }

// c [m, n] += op(a) op(b) with explicit strides (see gemm_f32.h).
EXPORT("gemm")
void gemm(int m, int n, int k, const float *a, int ars, int acs, const float *b, int brs, int bcs, float *c, int ldc,
          float *scratch) {
  gemm_f32(m, n, k, a, ars, acs, b, brs, bcs, c, ldc, scratch);
}
