// The rank-one update step of divide and conquer (../tridiagonalDc.ts, whose secularRoot and merge stay
// the reference and the fallback): the roots of the secular equation 1/rho + sum z_i^2 / (d_i - x) = 0,
// the Gu-Eisenstat z_hat and the normalised eigenvectors z_hat_i / (d_i - lambda_j) of D + rho z z^T.
// Same iteration, same operation order per value; the O(k) sums of every iteration and the O(k^2)
// loops run in f64x2 lanes (they are division-bound, and f64x2.div does two per instruction).
// Layout: row j of dt (k x k) holds d_i - lambda_j, then eigenvector j.
#include <wasm_simd128.h>

#define EPS 2.220446049250313e-16

static inline double hsum(v128_t v) { return wasm_f64x2_extract_lane(v, 0) + wasm_f64x2_extract_lane(v, 1); }
static inline double fabs_(double x) { return __builtin_fabs(x); }

// Over i in [from, to): f = sum z_i^2 / dl_i, df = sum (z_i / dl_i)^2, dl_i = (d_i - org) - tau.
__attribute__((noinline)) static void sums(const double *d, const double *z, double org, double tau, int from, int to, double *f, double *df) {
  v128_t vo = wasm_f64x2_splat(org), vt = wasm_f64x2_splat(tau), a = wasm_f64x2_splat(0), b = a;
  double s = 0, ds = 0;
  int i = from;
  for (; i + 1 < to; i += 2) {
    v128_t zz = wasm_v128_load(z + i);
    v128_t t = wasm_f64x2_div(zz, wasm_f64x2_sub(wasm_f64x2_sub(wasm_v128_load(d + i), vo), vt));
    a = wasm_f64x2_add(a, wasm_f64x2_mul(zz, t));
    b = wasm_f64x2_add(b, wasm_f64x2_mul(t, t));
  }
  for (; i < to; i++) {
    double t = z[i] / ((d[i] - org) - tau);
    s += z[i] * t;
    ds += t * t;
  }
  *f = s + hsum(a);
  *df = ds + hsum(b);
}

// Root j (d ascending, rho > 0) as origin pole + tau; writes d_i - lambda_j into row[i]. See secularRoot.
static double root(int j, const double *d, const double *z, double rho, int k, double *row) {
  double rhoinv = 1 / rho;
  int last = j == k - 1;
  if (k == 1) {
    row[0] = -rho * z[0] * z[0];
    return d[0] + rho * z[0] * z[0];
  }
  int org;
  double lo, hi, f, df;
  if (!last) {
    double half = (d[j + 1] - d[j]) / 2;
    sums(d, z, d[j], half, 0, k, &f, &df);
    f += rhoinv;
    if (f >= 0) { org = j; lo = 0; hi = half; } else { org = j + 1; lo = -half; hi = 0; }
  } else {
    double zz = 0;
    for (int i = 0; i < k; i++) zz += z[i] * z[i];
    org = j; lo = 0; hi = rho * zz;
  }
  double dOrg = d[org];
  double tau = last ? hi : (lo + hi) / 2;
  for (int iter = 0;; iter++) {
    double psi, dpsi, phi, dphi;
    sums(d, z, dOrg, tau, 0, j + 1, &psi, &dpsi);
    sums(d, z, dOrg, tau, j + 1, k, &phi, &dphi);
    f = rhoinv + psi + phi;
    double erretm = 8 * (phi - psi) + 2 * rhoinv + 3 * fabs_(tau) * (dpsi + dphi);
    if (fabs_(f) <= EPS * erretm || iter >= 200) break;
    if (f > 0) hi = tau; else lo = tau;
    double big = fabs_(lo) > fabs_(hi) ? fabs_(lo) : fabs_(hi);
    if (!(hi - lo > EPS * big)) break;
    double eta;
    if (!last) {
      double da = (d[j] - dOrg) - tau, db = (d[j + 1] - dOrg) - tau;
      double c = f - da * dpsi - db * dphi;
      double a = (da + db) * f - da * db * (dpsi + dphi);
      double b = da * db * f;
      if (c == 0) eta = a == 0 ? __builtin_nan("") : b / a;
      else {
        double disc = __builtin_sqrt(fabs_(a * a - 4 * b * c));
        eta = a <= 0 ? (a - disc) / (2 * c) : (2 * b) / (a + disc);
      }
      if (f * eta >= 0) eta = -f / (dpsi + dphi);
    } else {
      double da = (d[j] - dOrg) - tau, dw = dpsi + dphi;
      double c = f - da * dw;
      eta = c == 0 ? __builtin_nan("") : da + (da * da * dw) / c;
    }
    double next = tau + eta;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (next == tau) break;
    tau = next;
  }
  for (int i = 0; i < k; i++) row[i] = (d[i] - dOrg) - tau;
  return dOrg + tau;
}

// w[i] *= row[i] / (d[i] - dj) for i in [from, to).
__attribute__((noinline)) static void scaleBy(double *w, const double *row, const double *d, double dj, int from, int to) {
  v128_t vdj = wasm_f64x2_splat(dj);
  int i = from;
  for (; i + 1 < to; i += 2) {
    v128_t q = wasm_f64x2_div(wasm_v128_load(row + i), wasm_f64x2_sub(wasm_v128_load(d + i), vdj));
    wasm_v128_store(w + i, wasm_f64x2_mul(wasm_v128_load(w + i), q));
  }
  for (; i < to; i++) w[i] *= row[i] / (d[i] - dj);
}

/** lambda (k), dt rows = eigenvectors of D + rho z z^T (k x k), zh = z_hat (k). */
__attribute__((export_name("secularVectors")))
void secularVectors(int k, const double *d, const double *z, double rho, double *lambda, double *dt, double *zh) {
  for (int j = 0; j < k; j++) lambda[j] = root(j, d, z, rho, k, dt + (long)j * k);
  // Gu-Eisenstat: z_hat_i^2 = -prod_j (d_i - lambda_j) / prod_{j != i} (d_i - d_j), factors in j order.
  for (int i = 0; i < k; i++) zh[i] = dt[(long)i * k + i];
  for (int j = 0; j < k; j++) {
    const double *row = dt + (long)j * k;
    scaleBy(zh, row, d, d[j], 0, j);
    scaleBy(zh, row, d, d[j], j + 1, k);
  }
  for (int i = 0; i < k; i++) {
    double w = -zh[i];
    zh[i] = __builtin_sqrt(w > 0 ? w : 0) * (z[i] < 0 ? -1 : 1);
  }
  for (int j = 0; j < k; j++) {
    double *row = dt + (long)j * k;
    v128_t acc = wasm_f64x2_splat(0);
    double s = 0;
    int i = 0;
    for (; i + 1 < k; i += 2) {
      v128_t x = wasm_f64x2_div(wasm_v128_load(zh + i), wasm_v128_load(row + i));
      wasm_v128_store(row + i, x);
      acc = wasm_f64x2_add(acc, wasm_f64x2_mul(x, x));
    }
    for (; i < k; i++) { double x = zh[i] / row[i]; row[i] = x; s += x * x; }
    v128_t inv = wasm_f64x2_splat(1 / __builtin_sqrt(s + hsum(acc)));
    for (i = 0; i + 1 < k; i += 2) wasm_v128_store(row + i, wasm_f64x2_mul(wasm_v128_load(row + i), inv));
    for (; i < k; i++) row[i] *= wasm_f64x2_extract_lane(inv, 0);
  }
}
