// The shape of one 2-D window operation (convolution, depthwise convolution, pooling) on NHWC
// tensors, as the TypeScript side lays it out in memory (conv/geometry.ts, `packGeometry`): eleven
// int32 in this order. Padding is TF's: pad_top / pad_left before the first row / column.
#ifndef GEOMETRY_H
#define GEOMETRY_H

#include <wasm_simd128.h>

typedef struct {
  int n, h, w, c;     // input batch, height, width, channels
  int kh, kw, sh, sw; // window size and strides
  int pt, pl;         // padding before the first row and column
  int oh, ow, co;     // output height, width, channels
} geom_t;

#define EXPORT(name) __attribute__((export_name(name)))

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

static inline void fill_zero(float *dst, long len) {
  long i = 0;
  const v128_t z = wasm_f32x4_splat(0.0f);
  for (; i + 4 <= len; i += 4) wasm_v128_store(dst + i, z);
  for (; i < len; i++) dst[i] = 0.0f;
}

static inline void copy_floats(float *dst, const float *src, long len) {
  long i = 0;
  for (; i + 4 <= len; i += 4) wasm_v128_store(dst + i, wasm_v128_load(src + i));
  for (; i < len; i++) dst[i] = src[i];
}

static inline void add_floats(float *dst, const float *src, long len) {
  long i = 0;
  for (; i + 4 <= len; i += 4) wasm_v128_store(dst + i, wasm_f32x4_add(wasm_v128_load(dst + i), wasm_v128_load(src + i)));
  for (; i < len; i++) dst[i] += src[i];
}

/** The valid window offsets k in [k0, k1) along one axis for output index o (input o*s + k - pad). */
static inline void window_range(int o, int s, int pad, int k, int in, int *k0, int *k1) {
  const int start = o * s - pad;
  *k0 = imax(0, -start);
  *k1 = imin(k, in - start);
  if (*k1 < *k0) *k1 = *k0;
}

#endif
