// Fused Householder tridiagonalisation (the algorithm and storage of ../tridiagonal.ts, which stays the
// reference and the fallback): only the upper triangle of w (row-major n x n) is used; row k's tail
// receives v_k; beta[k] its scale; d, e the tridiagonal. p and wv are n-long scratch vectors.
// The BLAS-2 loops (symmetric mat-vec fused with the rank-2 update) run in f64x2 lanes, two rows per pass.
// Not LAPACK's blocked dsytrd/dlatrd: it was implemented and was no faster here (bench/NOTES.md).
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
// Two rows per pass: v[j] and p[j] are loaded (and p stored) once for both, so the loop is bound by
// its multiplies and adds rather than by loads and stores.
__attribute__((noinline)) static void symv(const double *w, int n, int s, const double *v, double *p) {
  for (int j = s; j < n; j++) p[j] = 0;
  int i = s;
  for (; i + 1 < n; i += 2) {
    const double *r0 = w + (long)i * n, *r1 = r0 + n;
    double v0 = v[i], v1 = v[i + 1];
    double acc0 = r0[i] * v0 + r0[i + 1] * v1, acc1 = r1[i + 1] * v1;
    p[i + 1] += r0[i + 1] * v0;
    v128_t a0 = wasm_f64x2_splat(0), a1 = a0, s0 = wasm_f64x2_splat(v0), s1 = wasm_f64x2_splat(v1);
    int j = i + 2;
    for (; j + 1 < n; j += 2) {
      v128_t u0 = wasm_v128_load(r0 + j), u1 = wasm_v128_load(r1 + j), x = wasm_v128_load(v + j);
      a0 = wasm_f64x2_add(a0, wasm_f64x2_mul(u0, x));
      a1 = wasm_f64x2_add(a1, wasm_f64x2_mul(u1, x));
      wasm_v128_store(p + j, wasm_f64x2_add(wasm_v128_load(p + j), wasm_f64x2_add(wasm_f64x2_mul(u0, s0), wasm_f64x2_mul(u1, s1))));
    }
    for (; j < n; j++) { acc0 += r0[j] * v[j]; acc1 += r1[j] * v[j]; p[j] += r0[j] * v0 + r1[j] * v1; }
    p[i] += acc0 + hsum(a0);
    p[i + 1] += acc1 + hsum(a1);
  }
  if (i < n) p[i] += w[(long)i * n + i] * v[i];
}

// Rows i and i+1 of the fused pass together (rank-2 update with v = vk, w = wv, then the dot with and
// the scatter along the next vector vn): wv, vk, vn and p are loaded once for both rows, halving the
// shared memory operations per flop, which bound the one-row loop.
__attribute__((noinline)) static void fusedPair(double *r0, int i, int n, const double *vk, const double *wv, const double *vn, double *p) {
  double *r1 = r0 + n;
  double v0 = vk[i], w0 = wv[i], v1 = vk[i + 1], w1 = wv[i + 1], n0 = vn[i], n1 = vn[i + 1];
  double a00 = r0[i] - 2 * v0 * w0;
  r0[i] = a00;
  double u01 = r0[i + 1] - v0 * wv[i + 1] - w0 * vk[i + 1];
  r0[i + 1] = u01;
  double a11 = r1[i + 1] - 2 * v1 * w1;
  r1[i + 1] = a11;
  double acc0 = a00 * n0 + u01 * n1, acc1 = a11 * n1;
  p[i + 1] += u01 * n0;
  v128_t sv0 = wasm_f64x2_splat(v0), sw0 = wasm_f64x2_splat(w0), sv1 = wasm_f64x2_splat(v1), sw1 = wasm_f64x2_splat(w1);
  v128_t sn0 = wasm_f64x2_splat(n0), sn1 = wasm_f64x2_splat(n1);
  v128_t c0 = wasm_f64x2_splat(0), c1 = c0;
  int j = i + 2;
  for (; j + 1 < n; j += 2) {
    v128_t x = wasm_v128_load(wv + j), y = wasm_v128_load(vk + j), z = wasm_v128_load(vn + j);
    v128_t u0 = wasm_f64x2_sub(wasm_f64x2_sub(wasm_v128_load(r0 + j), wasm_f64x2_mul(sv0, x)), wasm_f64x2_mul(sw0, y));
    v128_t u1 = wasm_f64x2_sub(wasm_f64x2_sub(wasm_v128_load(r1 + j), wasm_f64x2_mul(sv1, x)), wasm_f64x2_mul(sw1, y));
    wasm_v128_store(r0 + j, u0);
    wasm_v128_store(r1 + j, u1);
    c0 = wasm_f64x2_add(c0, wasm_f64x2_mul(u0, z));
    c1 = wasm_f64x2_add(c1, wasm_f64x2_mul(u1, z));
    wasm_v128_store(p + j, wasm_f64x2_add(wasm_v128_load(p + j), wasm_f64x2_add(wasm_f64x2_mul(u0, sn0), wasm_f64x2_mul(u1, sn1))));
  }
  for (; j < n; j++) {
    double u0 = r0[j] - v0 * wv[j] - w0 * vk[j], u1 = r1[j] - v1 * wv[j] - w1 * vk[j];
    r0[j] = u0;
    r1[j] = u1;
    acc0 += u0 * vn[j];
    acc1 += u1 * vn[j];
    p[j] += u0 * n0 + u1 * n1;
  }
  p[i] += acc0 + hsum(c0);
  p[i + 1] += acc1 + hsum(c1);
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
    int i0 = s + 1;
    if (fuse) for (; i0 + 1 < n; i0 += 2) fusedPair(w + (long)i0 * n, i0, n, vk, wv, vn, p);
    for (int i = i0; i < n; i++) {
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

