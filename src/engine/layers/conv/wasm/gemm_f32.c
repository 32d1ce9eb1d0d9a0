// See gemm_f32.h. Packing reads whichever stride of an operand is 1 with vector loads (a 4 x 4
// transpose in registers for row-major A), so both layouts of both operands take a fast path.
#include <wasm_simd128.h>
#include "gemm_f32.h"

#define MR GEMM_MR
#define NR GEMM_NR
#define KC GEMM_KC
#define MC GEMM_MC
#define NC GEMM_NC

// The first n (0..4) floats at p as a vector (the rest zero), never reading past them.
static inline v128_t load_partial(const float *p, int n) {
  switch (n) {
    case 0: return wasm_f32x4_splat(0.0f);
    case 1: return wasm_v128_load32_zero(p);
    case 2: return wasm_v128_load64_zero(p);
    case 3: return wasm_v128_load32_lane(p + 2, wasm_v128_load64_zero(p), 2);
    default: return wasm_v128_load(p);
  }
}

// Stores the first n (0..4) lanes of v at p.
static inline void store_partial(float *p, v128_t v, int n) {
  switch (n) {
    case 0: return;
    case 1: wasm_v128_store32_lane(p, v, 0); return;
    case 2: wasm_v128_store64_lane(p, v, 0); return;
    case 3: wasm_v128_store64_lane(p, v, 0); wasm_v128_store32_lane(p + 2, v, 2); return;
    default: wasm_v128_store(p, v);
  }
}

// c[0 .. cols) += [v0 v1] (cols <= 8).
static inline void add_row(float *c, v128_t v0, v128_t v1, int cols) {
  const int n0 = cols < 4 ? cols : 4, n1 = cols > 4 ? cols - 4 : 0;
  store_partial(c, wasm_f32x4_add(load_partial(c, n0), v0), n0);
  if (n1) store_partial(c + 4, wasm_f32x4_add(load_partial(c + 4, n1), v1), n1);
}

// out: ceil(mc / MR) panels, each kc x MR (depth-major); rows past mc are zero.
static void pack_a(const float *a, long ars, long acs, int mc, int kc, float *out) {
  for (int i0 = 0; i0 < mc; i0 += MR, out += kc * MR) {
    const int rows = mc - i0 < MR ? mc - i0 : MR;
    const float *src = a + i0 * ars;
    if (rows == MR && ars == 1) {
      for (int p = 0; p < kc; p++) wasm_v128_store(out + p * MR, wasm_v128_load(src + p * acs));
    } else if (rows == MR && acs == 1) {
      const float *r0 = src, *r1 = src + ars, *r2 = src + 2 * ars, *r3 = src + 3 * ars;
      int p = 0;
      for (; p + 4 <= kc; p += 4) {
        const v128_t x0 = wasm_v128_load(r0 + p), x1 = wasm_v128_load(r1 + p);
        const v128_t x2 = wasm_v128_load(r2 + p), x3 = wasm_v128_load(r3 + p);
        const v128_t t0 = wasm_i32x4_shuffle(x0, x1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(x0, x1, 2, 6, 3, 7);
        const v128_t t2 = wasm_i32x4_shuffle(x2, x3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(x2, x3, 2, 6, 3, 7);
        wasm_v128_store(out + p * MR, wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5));
        wasm_v128_store(out + p * MR + 4, wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7));
        wasm_v128_store(out + p * MR + 8, wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5));
        wasm_v128_store(out + p * MR + 12, wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7));
      }
      for (; p < kc; p++) {
        out[p * MR] = r0[p]; out[p * MR + 1] = r1[p]; out[p * MR + 2] = r2[p]; out[p * MR + 3] = r3[p];
      }
    } else {
      for (int p = 0; p < kc; p++)
        for (int r = 0; r < MR; r++) out[p * MR + r] = r < rows ? src[r * ars + p * acs] : 0.0f;
    }
  }
}

// out: ceil(nc / NR) panels, each kc x NR; columns past nc are zero.
static void pack_b(const float *b, long brs, long bcs, int kc, int nc, float *out) {
  for (int j0 = 0; j0 < nc; j0 += NR, out += kc * NR) {
    const int cols = nc - j0 < NR ? nc - j0 : NR;
    const float *src = b + j0 * bcs;
    if (cols == NR && bcs == 1) {
      for (int p = 0; p < kc; p++) {
        wasm_v128_store(out + p * NR, wasm_v128_load(src + p * brs));
        wasm_v128_store(out + p * NR + 4, wasm_v128_load(src + p * brs + 4));
      }
    } else if (bcs == 1) {
      const int n0 = cols < 4 ? cols : 4, n1 = cols > 4 ? cols - 4 : 0;
      for (int p = 0; p < kc; p++) {
        wasm_v128_store(out + p * NR, load_partial(src + p * brs, n0));
        wasm_v128_store(out + p * NR + 4, load_partial(src + p * brs + 4, n1));
      }
    } else if (brs == 1) {
      for (int j = 0; j < NR; j++) {
        if (j < cols) {
          const float *col = src + j * bcs;
          for (int p = 0; p < kc; p++) out[p * NR + j] = col[p];
        } else {
          for (int p = 0; p < kc; p++) out[p * NR + j] = 0.0f;
        }
      }
    } else {
      for (int p = 0; p < kc; p++)
        for (int j = 0; j < NR; j++) out[p * NR + j] = j < cols ? src[p * brs + j * bcs] : 0.0f;
    }
  }
}

// C tile (rows x cols of it) += packed A panel x packed B panel.
static void kernel_4x8(int kc, const float *pa, const float *pb, float *c, long ldc, int rows, int cols) {
  v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int p = 0; p < kc; p++) {
    const v128_t b0 = wasm_v128_load(pb), b1 = wasm_v128_load(pb + 4);
    const v128_t a0 = wasm_v128_load32_splat(pa), a1 = wasm_v128_load32_splat(pa + 1);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a0, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a0, b1));
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a1, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a1, b1));
    const v128_t a2 = wasm_v128_load32_splat(pa + 2), a3 = wasm_v128_load32_splat(pa + 3);
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a2, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a2, b1));
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a3, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a3, b1));
    pa += MR;
    pb += NR;
  }
  if (rows == MR && cols == NR) {
    float *r = c;
    wasm_v128_store(r, wasm_f32x4_add(wasm_v128_load(r), c00));
    wasm_v128_store(r + 4, wasm_f32x4_add(wasm_v128_load(r + 4), c01));
    r += ldc;
    wasm_v128_store(r, wasm_f32x4_add(wasm_v128_load(r), c10));
    wasm_v128_store(r + 4, wasm_f32x4_add(wasm_v128_load(r + 4), c11));
    r += ldc;
    wasm_v128_store(r, wasm_f32x4_add(wasm_v128_load(r), c20));
    wasm_v128_store(r + 4, wasm_f32x4_add(wasm_v128_load(r + 4), c21));
    r += ldc;
    wasm_v128_store(r, wasm_f32x4_add(wasm_v128_load(r), c30));
    wasm_v128_store(r + 4, wasm_f32x4_add(wasm_v128_load(r + 4), c31));
    return;
  }
  add_row(c, c00, c01, cols);
  if (rows > 1) add_row(c + ldc, c10, c11, cols);
  if (rows > 2) add_row(c + 2 * ldc, c20, c21, cols);
  if (rows > 3) add_row(c + 3 * ldc, c30, c31, cols);
}

void gemm_f32(int m, int n, int k, const float *a, long ars, long acs, const float *b, long brs, long bcs,
              float *c, long ldc, float *scratch) {
  if (m <= 0 || n <= 0 || k <= 0) return;
  float *packA = scratch, *packB = scratch + MC * KC;
  for (int jc = 0; jc < n; jc += NC) {
    const int nc = n - jc < NC ? n - jc : NC;
    for (int pc = 0; pc < k; pc += KC) {
      const int kc = k - pc < KC ? k - pc : KC;
      pack_b(b + pc * brs + jc * bcs, brs, bcs, kc, nc, packB);
      for (int ic = 0; ic < m; ic += MC) {
        const int mc = m - ic < MC ? m - ic : MC;
        pack_a(a + ic * ars + pc * acs, ars, acs, mc, kc, packA);
        for (int jr = 0; jr < nc; jr += NR) {
          const int cols = nc - jr < NR ? nc - jr : NR;
          const float *pb = packB + (jr / NR) * kc * NR;
          for (int ir = 0; ir < mc; ir += MR) {
            const int rows = mc - ir < MR ? mc - ir : MR;
            kernel_4x8(kc, packA + (ir / MR) * kc * MR, pb, c + (ic + ir) * ldc + jc + jr, ldc, rows, cols);
          }
        }
      }
    }
  }
}

