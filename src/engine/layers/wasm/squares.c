// Per-sample gradient second moments of a dense layer, accumulated in place of three tfjs kernels:
//   sumK += scale (a∘a)^T (d∘d) - g∘g,   sumB += scale 1^T (d∘d) - gb∘gb.
// Built for wasm32 with --import-memory: the module runs on the tfjs wasm backend's own memory, so
// every pointer is a tensor's heap offset and nothing is copied. No static data, no libc, and only
// leaf functions with register locals (no shadow stack), so the module never writes outside the
// buffers it is given. See squares.ts for the caller.
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))

// bg[j] = min over rows of column j (the column's background: 0 pixels of an image, the 0 of a
// one-hot code, or their standardised value). Returns how many entries differ from their column's
// background. A NaN never equals the background, so it stays in the sparse part and reaches the result.
EXPORT("background")
int background(const float *x, int n, int f, float *bg) {
  for (int j = 0; j < f; j++) bg[j] = x[j];
  for (int i = 1; i < n; i++) {
    const float *row = x + (long)i * f;
    for (int j = 0; j < f; j++) { const float v = row[j]; if (v < bg[j]) bg[j] = v; }
  }
  int total = 0;
  for (int i = 0; i < n; i++) {
    const float *row = x + (long)i * f;
    for (int j = 0; j < f; j++) total += row[j] != bg[j];
  }
  return total;
}

// Column-compressed entries that differ from their background: column j holds rows [ptr[j], ptr[j+1])
// with weights w = x^2 - bg^2, so that x^2 = bg^2 + w on every entry of the column. Rows are stored
// as byte offsets of the row in a [n, o] float matrix. Column by column, every entry is written and
// the cursor advances only past those that differ: sequential stores, no unpredictable branch.
// ptr: f + 1 slots; rows, w: nnz + 1 slots.
EXPORT("compress")
void compress(const float *x, int n, int f, int o, const float *bg, int *ptr, int *rows, float *w) {
  int p = 0;
  for (int j = 0; j < f; j++) {
    const float b = bg[j], b2 = b * b;
    ptr[j] = p;
    for (int i = 0; i < n; i++) {
      const float v = x[(long)i * f + j];
      rows[p] = i * o * 4;
      w[p] = v * v - b2;
      p += v != b;
    }
  }
  ptr[f] = p;
}

// d2 = scale d∘d [n, o]; outB = sumB + 1^T d2 - gb∘gb; dsum = 1^T d2.
EXPORT("squares")
void squares(const float *d, int n, int o, float scale, float *d2, float *dsum, const float *sumB, const float *gb, float *outB) {
  for (int k = 0; k < o; k++) dsum[k] = 0;
  for (int i = 0; i < n; i++) {
    const float *src = d + (long)i * o;
    float *dst = d2 + (long)i * o;
    for (int k = 0; k < o; k++) { float v = src[k] * src[k] * scale; dst[k] = v; dsum[k] += v; }
  }
  for (int k = 0; k < o; k++) outB[k] = sumB[k] + dsum[k] - gb[k] * gb[k];
}

#define ROW(p) ((const float *)((const char *)d2 + rows[p]))

// outK[j, :] = sumK[j, :] + bg_j^2 dsum + sum over the column's entries of w d2[row, :] - g[j, :]^2.
// Blocks of 32 outputs stay in eight vector registers while the column's entries stream past; the
// rest in blocks of 4, then single outputs.
EXPORT("accumulate_sparse")
void accumulate_sparse(int f, int o, const int *ptr, const int *rows, const float *w, const float *bg,
                       const float *d2, const float *dsum, const float *sumK, const float *g, float *outK) {
  for (int j = 0; j < f; j++) {
    const int p0 = ptr[j], p1 = ptr[j + 1];
    const float b2s = bg[j] * bg[j];
    const v128_t b2 = wasm_f32x4_splat(b2s);
    const long base = (long)j * o;
    int k = 0;
    for (; k + 32 <= o; k += 32) {
      v128_t a0 = wasm_f32x4_mul(b2, wasm_v128_load(dsum + k));
      v128_t a1 = wasm_f32x4_mul(b2, wasm_v128_load(dsum + k + 4));
      v128_t a2 = wasm_f32x4_mul(b2, wasm_v128_load(dsum + k + 8));
      v128_t a3 = wasm_f32x4_mul(b2, wasm_v128_load(dsum + k + 12));
      v128_t a4 = wasm_f32x4_mul(b2, wasm_v128_load(dsum + k + 16));
      v128_t a5 = wasm_f32x4_mul(b2, wasm_v128_load(dsum + k + 20));
      v128_t a6 = wasm_f32x4_mul(b2, wasm_v128_load(dsum + k + 24));
      v128_t a7 = wasm_f32x4_mul(b2, wasm_v128_load(dsum + k + 28));
      for (int p = p0; p < p1; p++) {
        const v128_t s = wasm_f32x4_splat(w[p]);
        const float *r = ROW(p) + k;
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(s, wasm_v128_load(r)));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(s, wasm_v128_load(r + 4)));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(s, wasm_v128_load(r + 8)));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(s, wasm_v128_load(r + 12)));
        a4 = wasm_f32x4_add(a4, wasm_f32x4_mul(s, wasm_v128_load(r + 16)));
        a5 = wasm_f32x4_add(a5, wasm_f32x4_mul(s, wasm_v128_load(r + 20)));
        a6 = wasm_f32x4_add(a6, wasm_f32x4_mul(s, wasm_v128_load(r + 24)));
        a7 = wasm_f32x4_add(a7, wasm_f32x4_mul(s, wasm_v128_load(r + 28)));
      }
      const v128_t acc[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
      for (int q = 0; q < 8; q++) {
        const long at = base + k + 4 * q;
        const v128_t gv = wasm_v128_load(g + at);
        wasm_v128_store(outK + at, wasm_f32x4_sub(wasm_f32x4_add(wasm_v128_load(sumK + at), acc[q]), wasm_f32x4_mul(gv, gv)));
      }
    }
    for (; k + 4 <= o; k += 4) {
      v128_t a = wasm_f32x4_mul(b2, wasm_v128_load(dsum + k));
      for (int p = p0; p < p1; p++) a = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_f32x4_splat(w[p]), wasm_v128_load(ROW(p) + k)));
      const v128_t gv = wasm_v128_load(g + base + k);
      wasm_v128_store(outK + base + k, wasm_f32x4_sub(wasm_f32x4_add(wasm_v128_load(sumK + base + k), a), wasm_f32x4_mul(gv, gv)));
    }
    for (; k < o; k++) {
      float a = b2s * dsum[k];
      for (int p = p0; p < p1; p++) a += w[p] * ROW(p)[k];
      outK[base + k] = sumK[base + k] + a - g[base + k] * g[base + k];
    }
  }
}

// Dense inputs: outK = sumK + e - g∘g with e = scale (a∘a)^T (d∘d) from the backend's matmul.
EXPORT("accumulate_dense")
void accumulate_dense(int len, const float *e, const float *sumK, const float *g, float *outK) {
  int i = 0;
  for (; i + 4 <= len; i += 4) {
    const v128_t gv = wasm_v128_load(g + i);
    wasm_v128_store(outK + i, wasm_f32x4_sub(wasm_f32x4_add(wasm_v128_load(sumK + i), wasm_v128_load(e + i)), wasm_f32x4_mul(gv, gv)));
  }
  for (; i < len; i++) outK[i] = sumK[i] + e[i] - g[i] * g[i];
}

// at2 = (a∘a)^T: [f, n] from a [n, f], for the dense product.
EXPORT("square_transpose")
void square_transpose(const float *a, int n, int f, float *at2) {
  for (int i0 = 0; i0 < n; i0 += 16) {
    const int i1 = i0 + 16 < n ? i0 + 16 : n;
    for (int j = 0; j < f; j++)
      for (int i = i0; i < i1; i++) { float v = a[(long)i * f + j]; at2[(long)j * n + i] = v * v; }
  }
}
