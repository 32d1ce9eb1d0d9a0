// Packed single-precision GEMM for the convolution kernels: C (m x n) += op(A) op(B), every operand
// addressed through a row and a column stride, so a transposed operand (or an im2col buffer read
// column-wise) needs no copy. The Goto/BLIS scheme of linalg/wasm/gemm_f64.c in f32x4: panels of
// MR rows of A and NR columns of B packed into caller-provided scratch (this module imports the
// tfjs wasm backend's memory and must own no static data and no shadow stack), a 4 x 8 register
// tile held as 8 f32x4 vectors. Partial tiles load and store only their own lanes.
#ifndef GEMM_F32_H
#define GEMM_F32_H

#define GEMM_MR 4
#define GEMM_NR 8
#define GEMM_KC 256
#define GEMM_MC 128
#define GEMM_NC 512
/** Floats of scratch gemm_f32 needs: packed A and packed B. */
#define GEMM_SCRATCH (GEMM_MC * GEMM_KC + GEMM_KC * GEMM_NC)

/**
 * C[i, j] += sum_p A(i, p) B(p, j) for i < m, j < n, p < k, where A(i, p) = a[i * ars + p * acs],
 * B(p, j) = b[p * brs + j * bcs] and C[i, j] = c[i * ldc + j].
 */
void gemm_f32(int m, int n, int k, const float *a, long ars, long acs, const float *b, long brs, long bcs,
              float *c, long ldc, float *scratch);

#endif
