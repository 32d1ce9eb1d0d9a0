// Fused Householder tridiagonalisation (the algorithm and storage of ../tridiagonal.ts, which stays the
// reference and the fallback): only the upper triangle of w (row-major n x n) is used; row k's tail
// receives v_k; beta[k] its scale; d, e the tridiagonal. p and wv are n-long scratch vectors.
// The BLAS-2 loops (symmetric mat-vec fused with the rank-2 update) run in f64x2 lanes.
#include <wasm_simd128.h>

static inline double hsum(v128_t v) { return wasm_f64x2_extract_lane(v, 0) + wasm_f64x2_extract_lane(v, 1); }

static double makeReflector(double *w, int k, int n, double *e) {
  double *r = w + (long)k * n;
  int s = k + 1;
  if (s >= n) { e[k] = 0; return 0; }
  double x0 = r[s];
  double tail = 0;
  for (int j = s + 1; j < n; j++) tail += r[j] * r[j];
  if (tail == 0) { e[k] = x0; return 0; }
  double norm = __builtin_sqrt(x0 * x0 + tail);
  double alpha = x0 >= 0 ? -norm : norm;
  double v0 = x0 - alpha;
  r[s] = v0;
  e[k] = alpha;
  return 2 / (v0 * v0 + tail);
}

// p[j] = sum_i A[j][i] v[i] for i, j >= s (A symmetric, upper triangle in w; v = w[vOff ..]).
static void symv(const double *w, int n, int s, const double *v, double *p) {
  for (int j = s; j < n; j++) p[j] = 0;
  for (int i = s; i < n; i++) {
    const double *ri = w + (long)i * n;
    double vi = v[i];
    double acc = ri[i] * vi;
    v128_t vacc = wasm_f64x2_splat(0), vv = wasm_f64x2_splat(vi);
    int j = i + 1;
    for (; j + 1 < n; j += 2) {
      v128_t u = wasm_v128_load(ri + j);
      vacc = wasm_f64x2_add(vacc, wasm_f64x2_mul(u, wasm_v128_load(v + j)));
      wasm_v128_store(p + j, wasm_f64x2_add(wasm_v128_load(p + j), wasm_f64x2_mul(u, vv)));
    }
    for (; j < n; j++) { acc += ri[j] * v[j]; p[j] += ri[j] * vi; }
    p[i] += acc + hsum(vacc);
  }
}

__attribute__((export_name("tridiag")))
void tridiag(double *w, int n, double *d, double *e, double *beta, double *p, double *wv) {
  if (n == 0) return;
  beta[0] = makeReflector(w, 0, n, e);
  if (beta[0] != 0) symv(w, n, 1, w, p);
  for (int k = 0; k < n - 1; k++) {
    d[k] = w[(long)k * n + k];
    double b = beta[k];
    const double *vk = w + (long)k * n;
    int s = k + 1;
    if (b == 0) {
      if (k + 1 < n - 1) {
        beta[k + 1] = makeReflector(w, k + 1, n, e);
        if (beta[k + 1] != 0) symv(w, n, k + 2, w + (long)(k + 1) * n, p);
      }
      continue;
    }
    double pv = 0;
    for (int j = s; j < n; j++) { p[j] *= b; pv += p[j] * vk[j]; }
    double half = 0.5 * b * pv;
    for (int j = s; j < n; j++) wv[j] = p[j] - half * vk[j];
    {
      double *rs = w + (long)s * n;
      double vs = vk[s], ws = wv[s];
      for (int j = s; j < n; j++) rs[j] -= vs * wv[j] + ws * vk[j];
    }
    int nextHas = s < n - 1;
    double bn = nextHas ? makeReflector(w, s, n, e) : 0;
    if (nextHas) beta[s] = bn;
    const double *vn = w + (long)s * n;
    int fuse = nextHas && bn != 0;
    if (fuse) for (int j = s + 1; j < n; j++) p[j] = 0;
    for (int i = s + 1; i < n; i++) {
      double *ri = w + (long)i * n;
      double vi = vk[i], wi = wv[i];
      v128_t vvi = wasm_f64x2_splat(vi), vwi = wasm_f64x2_splat(wi);
      if (fuse) {
        double vni = vn[i];
        double aii = ri[i] - 2 * vi * wi;
        ri[i] = aii;
        double acc = aii * vni;
        v128_t vacc = wasm_f64x2_splat(0), vvni = wasm_f64x2_splat(vni);
        int j = i + 1;
        for (; j + 1 < n; j += 2) {
          v128_t u = wasm_f64x2_sub(wasm_f64x2_sub(wasm_v128_load(ri + j), wasm_f64x2_mul(vvi, wasm_v128_load(wv + j))), wasm_f64x2_mul(vwi, wasm_v128_load(vk + j)));
          wasm_v128_store(ri + j, u);
          vacc = wasm_f64x2_add(vacc, wasm_f64x2_mul(u, wasm_v128_load(vn + j)));
          wasm_v128_store(p + j, wasm_f64x2_add(wasm_v128_load(p + j), wasm_f64x2_mul(u, vvni)));
        }
        for (; j < n; j++) {
          double u = ri[j] - vi * wv[j] - wi * vk[j];
          ri[j] = u;
          acc += u * vn[j];
          p[j] += u * vni;
        }
        p[i] += acc + hsum(vacc);
      } else {
        int j = i;
        for (; j + 1 < n; j += 2) {
          v128_t upd = wasm_f64x2_add(wasm_f64x2_mul(vvi, wasm_v128_load(wv + j)), wasm_f64x2_mul(vwi, wasm_v128_load(vk + j)));
          wasm_v128_store(ri + j, wasm_f64x2_sub(wasm_v128_load(ri + j), upd));
        }
        for (; j < n; j++) ri[j] -= vi * wv[j] + wi * vk[j];
      }
    }
  }
  d[n - 1] = w[(long)(n - 1) * n + n - 1];
  e[n - 1] = 0;
}
