// Float64 kernels for PruneScope's linear algebra, compiled to WebAssembly with SIMD128
// (scripts/build-wasm.sh). Freestanding C: no libc; all operands live in this module's linear memory,
// placed there by ../wasmKernels.ts; packing buffers are static (bss).
//
// gemm: the Goto/BLIS scheme of ../gemm.ts (the TypeScript reference), with an MR x NR = 4 x 4 register
// tile held as 8 f64x2 vectors. Per depth step: 2 vector loads of B, 4 splat loads of A, 8 mul + 8 add
// (wasm SIMD128 has no FMA without relaxed-simd, which Node 20 does not enable by default).
// tridiag: the fused Householder tridiagonalisation of ../tridiagonal.ts, same arithmetic order per
// row, inner loops in f64x2.
#include <wasm_simd128.h>

#define MR 4
#define NR 4
#define KC 256
#define MC 96
#define NC 2048

static double packA[MC * KC];
static double packB[KC * NC];

static void packPanelsA(const double *a, int lda, int trans, int i0, int p0, int mc, int kc, double *out) {
  for (int q = 0; q * MR < mc; q++) {
    double *base = out + q * kc * MR;
    int rows = mc - q * MR; if (rows > MR) rows = MR;
    for (int r = 0; r < MR; r++) {
      int i = i0 + q * MR + r;
      if (r >= rows) {
        for (int p = 0; p < kc; p++) base[p * MR + r] = 0;
      } else if (!trans) {
        const double *src = a + (long)i * lda + p0;
        for (int p = 0; p < kc; p++) base[p * MR + r] = src[p];
      } else {
        const double *src = a + (long)p0 * lda + i;
        for (int p = 0; p < kc; p++) base[p * MR + r] = src[(long)p * lda];
      }
    }
  }
}

static void packPanelsB(const double *b, int ldb, int trans, int p0, int j0, int kc, int nc, double *out) {
  for (int q = 0; q * NR < nc; q++) {
    double *base = out + q * kc * NR;
    int cols = nc - q * NR; if (cols > NR) cols = NR;
    int j = j0 + q * NR;
    if (!trans) {
      if (cols == NR) {
        for (int p = 0; p < kc; p++) {
          const double *src = b + (long)(p0 + p) * ldb + j;
          wasm_v128_store(base + p * NR, wasm_v128_load(src));
          wasm_v128_store(base + p * NR + 2, wasm_v128_load(src + 2));
        }
      } else {
        for (int p = 0; p < kc; p++) {
          const double *src = b + (long)(p0 + p) * ldb + j;
          for (int c = 0; c < NR; c++) base[p * NR + c] = c < cols ? src[c] : 0;
        }
      }
    } else {
      for (int c = 0; c < NR; c++) {
        if (c >= cols) {
          for (int p = 0; p < kc; p++) base[p * NR + c] = 0;
        } else {
          const double *src = b + (long)(j + c) * ldb + p0;
          for (int p = 0; p < kc; p++) base[p * NR + c] = src[p];
        }
      }
    }
  }
}

// C tile (rows x cols of it) += alpha * (packed A panel) (packed B panel).
__attribute__((noinline)) static void kernel4x4(int kc, double alpha, const double *pa, const double *pb, double *c, int ldc, int rows, int cols) {
  v128_t c00 = wasm_f64x2_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int p = 0; p < kc; p++) {
    v128_t b0 = wasm_v128_load(pb), b1 = wasm_v128_load(pb + 2);
    v128_t a0 = wasm_v128_load64_splat(pa), a1 = wasm_v128_load64_splat(pa + 1);
    c00 = wasm_f64x2_add(c00, wasm_f64x2_mul(a0, b0)); c01 = wasm_f64x2_add(c01, wasm_f64x2_mul(a0, b1));
    c10 = wasm_f64x2_add(c10, wasm_f64x2_mul(a1, b0)); c11 = wasm_f64x2_add(c11, wasm_f64x2_mul(a1, b1));
    v128_t a2 = wasm_v128_load64_splat(pa + 2), a3 = wasm_v128_load64_splat(pa + 3);
    c20 = wasm_f64x2_add(c20, wasm_f64x2_mul(a2, b0)); c21 = wasm_f64x2_add(c21, wasm_f64x2_mul(a2, b1));
    c30 = wasm_f64x2_add(c30, wasm_f64x2_mul(a3, b0)); c31 = wasm_f64x2_add(c31, wasm_f64x2_mul(a3, b1));
    pa += MR; pb += NR;
  }
  v128_t al = wasm_f64x2_splat(alpha);
  if (rows == MR && cols == NR) {
    double *r = c;
    wasm_v128_store(r, wasm_f64x2_add(wasm_v128_load(r), wasm_f64x2_mul(al, c00)));
    wasm_v128_store(r + 2, wasm_f64x2_add(wasm_v128_load(r + 2), wasm_f64x2_mul(al, c01)));
    r += ldc;
    wasm_v128_store(r, wasm_f64x2_add(wasm_v128_load(r), wasm_f64x2_mul(al, c10)));
    wasm_v128_store(r + 2, wasm_f64x2_add(wasm_v128_load(r + 2), wasm_f64x2_mul(al, c11)));
    r += ldc;
    wasm_v128_store(r, wasm_f64x2_add(wasm_v128_load(r), wasm_f64x2_mul(al, c20)));
    wasm_v128_store(r + 2, wasm_f64x2_add(wasm_v128_load(r + 2), wasm_f64x2_mul(al, c21)));
    r += ldc;
    wasm_v128_store(r, wasm_f64x2_add(wasm_v128_load(r), wasm_f64x2_mul(al, c30)));
    wasm_v128_store(r + 2, wasm_f64x2_add(wasm_v128_load(r + 2), wasm_f64x2_mul(al, c31)));
    return;
  }
  double t[16];
  wasm_v128_store(t, c00); wasm_v128_store(t + 2, c01);
  wasm_v128_store(t + 4, c10); wasm_v128_store(t + 6, c11);
  wasm_v128_store(t + 8, c20); wasm_v128_store(t + 10, c21);
  wasm_v128_store(t + 12, c30); wasm_v128_store(t + 14, c31);
  for (int r = 0; r < rows; r++) for (int cc = 0; cc < cols; cc++) c[(long)r * ldc + cc] += alpha * t[r * 4 + cc];
}

/** C (m x n) = alpha op(A) op(B) + beta C, row-major with leading dimensions; beta = 0 overwrites C. */
__attribute__((export_name("gemm")))
void gemm(int transA, int transB, int m, int n, int k, double alpha,
          const double *a, int lda, const double *b, int ldb, double beta, double *c, int ldc) {
  if (m <= 0 || n <= 0) return;
  if (beta != 1) {
    for (int i = 0; i < m; i++) {
      double *r = c + (long)i * ldc;
      if (beta == 0) for (int j = 0; j < n; j++) r[j] = 0;
      else for (int j = 0; j < n; j++) r[j] *= beta;
    }
  }
  if (k <= 0 || alpha == 0) return;
  for (int jc = 0; jc < n; jc += NC) {
    int nc = n - jc; if (nc > NC) nc = NC;
    for (int pc = 0; pc < k; pc += KC) {
      int kc = k - pc; if (kc > KC) kc = KC;
      packPanelsB(b, ldb, transB, pc, jc, kc, nc, packB);
      for (int ic = 0; ic < m; ic += MC) {
        int mc = m - ic; if (mc > MC) mc = MC;
        packPanelsA(a, lda, transA, ic, pc, mc, kc, packA);
        for (int jq = 0; jq * NR < nc; jq++) {
          int cols = nc - jq * NR; if (cols > NR) cols = NR;
          const double *pb = packB + jq * kc * NR;
          for (int iq = 0; iq * MR < mc; iq++) {
            int rows = mc - iq * MR; if (rows > MR) rows = MR;
            kernel4x4(kc, alpha, packA + iq * kc * MR, pb, c + (long)(ic + iq * MR) * ldc + jc + jq * NR, ldc, rows, cols);
          }
        }
      }
    }
  }
}
