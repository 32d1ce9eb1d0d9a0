// sigma = softplus(rho) and slope = sigmoid(rho) in one pass, f32x4 SIMD (built by
// scripts/build-wasm.sh into softplus.generated.ts). With z = -|rho| and
// t = e^z in (0, 1]:
//   softplus(rho) = max(rho, 0) + log1p(t),   sigmoid(rho) = rho >= 0 ? 1 / (1 + t) : t / (1 + t),
// with no cancellation, so the relative error stays a few float32 ulps for every rho (tfjs's own
// log(exp(rho) + 1) loses digits for rho << 0, where the small sigmas live).
//   e^z: z = k ln2 + r, |r| <= ln2 / 2 (Cody-Waite split of ln2), degree-7 Taylor (truncation
//        < 6e-9), times 2^k built in the exponent bits; z < ln 2^-126 gives t = 0 (sigma below the smallest normal float).
//   log1p(t) = 2 atanh(u), u = t / (2 + t) <= 1/3: odd series to u^13 (truncation < 2e-8).
// NaN in, NaN out.
#include <wasm_simd128.h>

void softplus_sigmoid(const float *rho, float *sigma, float *slope, int n) {
  const v128_t zero = wasm_f32x4_splat(0.0f), one = wasm_f32x4_splat(1.0f), two = wasm_f32x4_splat(2.0f);
  const v128_t log2e = wasm_f32x4_splat(1.44269504088896341f);
  const v128_t ln2hi = wasm_f32x4_splat(0.693145751953125f), ln2lo = wasm_f32x4_splat(1.428606765330187045e-06f);
  const v128_t under = wasm_f32x4_splat(-87.3365448f); // ln 2^-126
  for (int i = 0; i + 4 <= n; i += 4) {
    v128_t x = wasm_v128_load(rho + i);
    v128_t z = wasm_f32x4_neg(wasm_f32x4_abs(x));
    v128_t k = wasm_f32x4_nearest(wasm_f32x4_mul(z, log2e));
    v128_t r = wasm_f32x4_sub(wasm_f32x4_sub(z, wasm_f32x4_mul(k, ln2hi)), wasm_f32x4_mul(k, ln2lo));
    v128_t p = wasm_f32x4_splat(1.0f / 5040.0f);
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 720.0f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 120.0f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 24.0f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 6.0f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.5f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), one);
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), one);
    // 2^k for k >= -126: (k + 127) << 23 as float bits; below, t is set to 0.
    v128_t ki = wasm_i32x4_trunc_sat_f32x4(k);
    v128_t pow2 = wasm_i32x4_shl(wasm_i32x4_add(ki, wasm_i32x4_splat(127)), 23);
    v128_t t = wasm_f32x4_mul(p, pow2);
    t = wasm_v128_bitselect(zero, t, wasm_f32x4_lt(z, under));
    v128_t u = wasm_f32x4_div(t, wasm_f32x4_add(two, t));
    v128_t u2 = wasm_f32x4_mul(u, u);
    v128_t s = wasm_f32x4_splat(1.0f / 13.0f);
    s = wasm_f32x4_add(wasm_f32x4_mul(s, u2), wasm_f32x4_splat(1.0f / 11.0f));
    s = wasm_f32x4_add(wasm_f32x4_mul(s, u2), wasm_f32x4_splat(1.0f / 9.0f));
    s = wasm_f32x4_add(wasm_f32x4_mul(s, u2), wasm_f32x4_splat(1.0f / 7.0f));
    s = wasm_f32x4_add(wasm_f32x4_mul(s, u2), wasm_f32x4_splat(1.0f / 5.0f));
    s = wasm_f32x4_add(wasm_f32x4_mul(s, u2), wasm_f32x4_splat(1.0f / 3.0f));
    s = wasm_f32x4_add(wasm_f32x4_mul(s, u2), one);
    v128_t l1p = wasm_f32x4_mul(wasm_f32x4_add(u, u), s);
    // max(x, 0) as x & (x > 0); a NaN x has already made l1p NaN.
    v128_t pos = wasm_v128_and(x, wasm_f32x4_gt(x, zero));
    wasm_v128_store(sigma + i, wasm_f32x4_add(pos, l1p));
    v128_t q = wasm_f32x4_div(one, wasm_f32x4_add(one, t));
    wasm_v128_store(slope + i, wasm_v128_bitselect(q, wasm_f32x4_mul(t, q), wasm_f32x4_ge(x, zero)));
  }
}
