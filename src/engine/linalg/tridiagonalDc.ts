// Divide-and-conquer eigensolver for a symmetric tridiagonal matrix (Cuppen's method as in LAPACK's
// dstedc), eigenvectors included: about (4/3) n^3 flops, nearly all in matrix multiplies, with the
// Gu-Eisenstat safeguards for accuracy; the rank-one step runs in WebAssembly SIMD when available
// (rankOne is the reference). docs/DESIGN.md.
import { PruneScopeError } from '../errors';
import { gemm, view } from './gemm';
import { tridiagonalQl } from './tridiagonalQl';
import { wasmKernels } from './wasmKernels';

const EPS = 2 ** -52;
const SMALL = 24; // leaves up to this size are solved by QL

/**
 * Eigen-decomposition of the symmetric tridiagonal (d, e) (e[i] = T[i][i+1]). Overwrites d with the
 * eigenvalues (unsorted) and returns Q (row-major n x n) whose COLUMN j is the eigenvector for d[j].
 * e is not modified.
 */
export function tridiagonalDc(d: Float64Array, e0: Float64Array, n: number): Float64Array {
  const q = new Float64Array(n * n);
  if (n === 0) return q;
  // Scale to max |entry| ~ 1 (as dstedc): keeps the secular equation away from over/underflow.
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(d[i]), i < n - 1 ? Math.abs(e0[i]) : 0);
  if (scale === 0) {
    for (let i = 0; i < n; i++) q[i * n + i] = 1;
    return q;
  }
  // A power of two, so scaling is exact: small problems then give bit for bit what QL gives.
  scale = 2 ** Math.round(Math.log2(scale));
  const e = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] /= scale;
  for (let i = 0; i < n - 1; i++) {
    e[i] = e0[i] / scale;
    // Negligible couplings: splitting there is exact to working precision (as dstedc's test).
    if (Math.abs(e[i]) <= EPS * Math.sqrt(Math.abs(d[i])) * Math.sqrt(Math.abs(d[i + 1]))) e[i] = 0;
  }
  const ws = new Workspace(n);
  solve(d, e, q, n, 0, n, ws);
  for (let i = 0; i < n; i++) d[i] *= scale;
  return q;
}

class Workspace {
  constructor(n: number) {
    this.z = new Float64Array(n);
    this.mask = new Uint8Array(n);
  }
  z: Float64Array;
  mask: Uint8Array;
}

function solve(
  d: Float64Array,
  e: Float64Array,
  q: Float64Array,
  n: number,
  s: number,
  sz: number,
  ws: Workspace,
): void {
  if (sz <= SMALL) {
    const dd = d.slice(s, s + sz);
    const ee = e.slice(s, s + sz);
    const z = new Float64Array(sz * sz);
    for (let i = 0; i < sz; i++) z[i * sz + i] = 1;
    tridiagonalQl(dd, ee, sz, z); // row j of z = eigenvector j
    d.set(dd, s);
    for (let j = 0; j < sz; j++) for (let i = 0; i < sz; i++) q[(s + i) * n + s + j] = z[j * sz + i];
    return;
  }
  const n1 = sz >> 1;
  const rho = e[s + n1 - 1];
  const ar = Math.abs(rho);
  d[s + n1 - 1] -= ar;
  d[s + n1] -= ar;
  solve(d, e, q, n, s, n1, ws);
  solve(d, e, q, n, s + n1, sz - n1, ws);
  merge(d, q, n, s, sz, n1, rho, ws);
}

/**
 * Eigenpairs of diag(Q1, Q2) (D + |rho| z z^T) diag(Q1, Q2)^T for the block [s, s+sz): on entry the
 * block of q holds Q1 (n1 x n1) and Q2, d[s..] their eigenvalues; on exit q's block holds the
 * eigenvectors (columns) of the merged tridiagonal and d its eigenvalues.
 */
function merge(
  d: Float64Array,
  q: Float64Array,
  n: number,
  s: number,
  sz: number,
  n1: number,
  rhoIn: number,
  ws: Workspace,
): void {
  if (rhoIn === 0) return;
  const z = ws.z;
  const mask = ws.mask; // 1: column nonzero in the top n1 rows, 2: in the bottom rows
  const sign = rhoIn < 0 ? -1 : 1;
  // z = Q^T v / sqrt(2): last row of Q1, sign * first row of Q2; rho doubles to keep rho z z^T.
  const inv = Math.SQRT1_2;
  for (let j = 0; j < n1; j++) {
    z[j] = q[(s + n1 - 1) * n + s + j] * inv;
    mask[j] = 1;
  }
  for (let j = n1; j < sz; j++) {
    z[j] = sign * q[(s + n1) * n + s + j] * inv;
    mask[j] = 2;
  }
  const rho = 2 * Math.abs(rhoIn);
  const dl = d.subarray(s, s + sz);

  const order = Array.from({ length: sz }, (_, i) => i).sort((a, b) => dl[a] - dl[b]);
  let dmax = 0,
    zmax = 0;
  for (let j = 0; j < sz; j++) {
    dmax = Math.max(dmax, Math.abs(dl[j]));
    zmax = Math.max(zmax, Math.abs(z[j]));
  }
  const tol = 8 * EPS * Math.max(dmax, zmax);

  // Deflation (dlaed2). keep: columns (block-relative) entering the secular equation, ascending d.
  const keep: number[] = [];
  const deflated: number[] = [];
  if (rho * zmax <= tol) return; // every component deflates: Q and d stay as they are
  let pj = -1;
  for (const nj of order) {
    if (rho * Math.abs(z[nj]) <= tol) {
      deflated.push(nj);
      continue;
    }
    if (pj < 0) {
      pj = nj;
      continue;
    }
    // Close poles: a rotation in the (pj, nj) plane zeroes z[pj]; deflate pj if the fill-in is tiny.
    let c = z[nj],
      sn = z[pj];
    const tau = Math.hypot(c, sn);
    const t = dl[nj] - dl[pj];
    c /= tau;
    sn = -sn / tau;
    if (Math.abs(t * c * sn) <= tol) {
      z[nj] = tau;
      z[pj] = 0;
      rotateColumns(q, n, s, sz, s + pj, s + nj, c, sn);
      mask[pj] = mask[nj] = mask[pj] | mask[nj];
      const tt = dl[pj] * c * c + dl[nj] * sn * sn;
      dl[nj] = dl[pj] * sn * sn + dl[nj] * c * c;
      dl[pj] = tt;
      deflated.push(pj);
    } else {
      keep.push(pj);
    }
    pj = nj;
  }
  if (pj >= 0) keep.push(pj);
  const k = keep.length;
  if (k === 0) return;
  // The rotations can perturb the order by O(tol); the secular solver needs strictly ascending poles.
  keep.sort((a, b) => dl[a] - dl[b]);
  const dk = Float64Array.from(keep, (c) => dl[c]);
  const zk = Float64Array.from(keep, (c) => z[c]);
  for (let i = 1; i < k; i++) {
    if (!(dk[i] > dk[i - 1]))
      throw new PruneScopeError('numerical', 'divide and conquer: coincident poles survived deflation', {
        field: 'eigh',
      });
  }

  // Roots lambda and the rank-one eigenvectors, row j of sT = eigenvector j of D + rho z z^T.
  const { lambda, sT } = rankOneUpdate(dk, zk, rho);

  // New vectors = Q[:, keep] S (S = sT^T). A kept column is zero in the top (bottom) rows unless it came
  // from Q1 (Q2) or was rotated with one: multiply each half only by the columns that live there.
  const n2 = sz - n1;
  const out = new Float64Array(sz * k);
  for (const [r0, rows, bit] of [
    [0, n1, 1],
    [n1, n2, 2],
  ] as const) {
    const idx: number[] = [];
    for (let i = 0; i < k; i++) if (mask[keep[i]] & bit) idx.push(i);
    const kk = idx.length;
    if (kk === 0) continue;
    const qa = new Float64Array(rows * kk);
    for (let r = 0; r < rows; r++) {
      const src = (s + r0 + r) * n + s;
      for (let c = 0; c < kk; c++) qa[r * kk + c] = q[src + keep[idx[c]]];
    }
    const sb = new Float64Array(k * kk); // sT's columns idx: k x kk, so out = qa sb^T
    for (let j = 0; j < k; j++) {
      const src = j * k,
        dst = j * kk;
      for (let c = 0; c < kk; c++) sb[dst + c] = sT[src + idx[c]];
    }
    gemm(false, true, rows, k, kk, 1, view(qa, kk), view(sb, kk), 0, view(out, k, r0 * k));
  }
  // Write back: columns 0..k-1 the new vectors, then the deflated ones unchanged.
  const defVals = Float64Array.from(deflated, (c) => dl[c]);
  const defCols = new Float64Array(sz * deflated.length);
  const nd = deflated.length;
  for (let r = 0; r < sz; r++) {
    const src = (s + r) * n + s;
    for (let c = 0; c < nd; c++) defCols[r * nd + c] = q[src + deflated[c]];
  }
  for (let r = 0; r < sz; r++) {
    const dst = (s + r) * n + s;
    q.set(out.subarray(r * k, r * k + k), dst);
    q.set(defCols.subarray(r * nd, r * nd + nd), dst + k);
  }
  dl.set(lambda, 0);
  dl.set(defVals, k);
}

/**
 * Eigenpairs of D + rho z z^T (d ascending, distinct; rho > 0): lambda ascending, and sT (k x k) whose
 * row j is the unit eigenvector for lambda_j. The reference of wasm/secular_f64.c's secularVectors.
 */
export function rankOne(dk: Float64Array, zk: Float64Array, rho: number): { lambda: Float64Array; sT: Float64Array } {
  const k = dk.length;
  // Row j of sT first holds d_i - lambda_j (root j as origin + tau, no cancellation).
  const sT = new Float64Array(k * k);
  const lambda = new Float64Array(k);
  for (let j = 0; j < k; j++) lambda[j] = secularRoot(j, dk, zk, rho, sT, k);
  // Gu-Eisenstat: z_hat_i^2 = -prod_j (d_i - lambda_j) / prod_{j != i} (d_i - d_j), factors in j order.
  const zh = new Float64Array(k);
  for (let i = 0; i < k; i++) zh[i] = sT[i * k + i];
  for (let j = 0; j < k; j++) {
    const r = j * k,
      dj = dk[j];
    for (let i = 0; i < k; i++) if (i !== j) zh[i] *= sT[r + i] / (dk[i] - dj);
  }
  for (let i = 0; i < k; i++) zh[i] = Math.sqrt(Math.max(0, -zh[i])) * (zk[i] < 0 ? -1 : 1);
  // Eigenvector j: z_hat_i / (d_i - lambda_j), normalised.
  for (let j = 0; j < k; j++) {
    const r = j * k;
    let norm = 0;
    for (let i = 0; i < k; i++) {
      const x = zh[i] / sT[r + i];
      sT[r + i] = x;
      norm += x * x;
    }
    norm = 1 / Math.sqrt(norm);
    for (let i = 0; i < k; i++) sT[r + i] *= norm;
  }
  return { lambda, sT };
}

/** rankOne in WebAssembly SIMD when the kernels are available, else in TypeScript. */
export function rankOneUpdate(
  dk: Float64Array,
  zk: Float64Array,
  rho: number,
): { lambda: Float64Array; sT: Float64Array } {
  return rankOneWasm(dk, zk, rho) ?? rankOne(dk, zk, rho);
}

/** rankOne in WebAssembly (wasm/secular_f64.c), or undefined when the kernels are off or too small. */
function rankOneWasm(
  dk: Float64Array,
  zk: Float64Array,
  rho: number,
): { lambda: Float64Array; sT: Float64Array } | undefined {
  const k = dk.length;
  const w = k >= WASM_MIN_K ? wasmKernels() : undefined;
  if (!w) return undefined;
  // Layout: d, z, lambda, zh (k each), then sT (k x k).
  const pd = w.heap,
    pz = pd + 8 * k,
    pl = pz + 8 * k,
    ph = pl + 8 * k,
    ps = ph + 8 * k;
  try {
    w.ensure(8 * (4 * k + k * k));
  } catch {
    return undefined;
  }
  let f = w.f64();
  f.set(dk, pd / 8);
  f.set(zk, pz / 8);
  w.ex.secularVectors(k, pd, pz, rho, pl, ps, ph);
  f = w.f64();
  return { lambda: f.slice(pl / 8, pl / 8 + k), sT: f.slice(ps / 8, ps / 8 + k * k) };
}

/** Below this many secular roots the copies in and out cost more than the SIMD saves. */
const WASM_MIN_K = 16;

/** Columns a and b (absolute) of rows s..s+sz of q: (x, y) <- (c x + s y, c y - s x) (LAPACK drot). */
function rotateColumns(
  q: Float64Array,
  n: number,
  s: number,
  sz: number,
  a: number,
  b: number,
  c: number,
  sn: number,
): void {
  for (let r = s; r < s + sz; r++) {
    const o = r * n;
    const x = q[o + a],
      y = q[o + b];
    q[o + a] = c * x + sn * y;
    q[o + b] = c * y - sn * x;
  }
}

/**
 * Root j (0-based) of 1/rho + sum_i z_i^2 / (d_i - lambda) = 0, d ascending, rho > 0: lambda_j lies in
 * (d_j, d_j+1), or (d_k-1, d_k-1 + rho z^T z] for the last. Writes d_i - lambda_j into delta[j*k + i].
 * Iteration: the rational "middle way" step (two poles matched in value and slope, as dlaed4), kept
 * inside a bracket that every evaluation of f shrinks, with bisection whenever a step leaves it.
 */
function secularRoot(j: number, d: Float64Array, z: Float64Array, rho: number, delta: Float64Array, k: number): number {
  const rhoinv = 1 / rho;
  const last = j === k - 1;
  let org: number;
  let lo: number, hi: number;
  if (k === 1) {
    delta[j * k] = -rho * z[0] * z[0];
    return d[0] + rho * z[0] * z[0];
  }
  if (!last) {
    const half = (d[j + 1] - d[j]) / 2;
    // f at the midpoint decides which pole is nearer to the root.
    let f = rhoinv;
    for (let i = 0; i < k; i++) f += (z[i] * z[i]) / (d[i] - d[j] - half);
    if (f >= 0) {
      org = j;
      lo = 0;
      hi = half;
    } else {
      org = j + 1;
      lo = -half;
      hi = 0;
    }
  } else {
    let zz = 0;
    for (let i = 0; i < k; i++) zz += z[i] * z[i];
    org = j;
    lo = 0;
    hi = rho * zz;
  }
  const dOrg = d[org];
  // Poles adjacent to the root: a = j, b = j+1 (interior); for the last root a = j-1, b = j (model uses
  // only the largest pole, see below).
  let tau = last ? hi : (lo + hi) / 2;
  let iter = 0;
  for (;;) {
    let psi = 0,
      dpsi = 0,
      phi = 0,
      dphi = 0;
    for (let i = 0; i <= j; i++) {
      const dl = d[i] - dOrg - tau;
      const t = z[i] / dl;
      psi += z[i] * t;
      dpsi += t * t;
    }
    for (let i = j + 1; i < k; i++) {
      const dl = d[i] - dOrg - tau;
      const t = z[i] / dl;
      phi += z[i] * t;
      dphi += t * t;
    }
    const f = rhoinv + psi + phi;
    const erretm = 8 * (phi - psi) + 2 * rhoinv + 3 * Math.abs(tau) * (dpsi + dphi);
    if (Math.abs(f) <= EPS * erretm || iter >= 200) break;
    iter++;
    if (f > 0) hi = tau;
    else lo = tau;
    if (!(hi - lo > EPS * Math.max(Math.abs(lo), Math.abs(hi)))) break;
    let eta: number;
    if (!last) {
      const da = d[j] - dOrg - tau,
        db = d[j + 1] - dOrg - tau;
      const c = f - da * dpsi - db * dphi;
      const a = (da + db) * f - da * db * (dpsi + dphi);
      const b = da * db * f;
      if (c === 0) eta = a === 0 ? NaN : b / a;
      else {
        const disc = Math.sqrt(Math.abs(a * a - 4 * b * c));
        eta = a <= 0 ? (a - disc) / (2 * c) : (2 * b) / (a + disc);
      }
      if (f * eta >= 0) eta = -f / (dpsi + dphi); // wrong direction: Newton step instead
    } else {
      // Single pole at d_j with matched value and slope: more concave than f, so from the right of the
      // root (where we start) the iterates decrease monotonically onto it.
      const da = d[j] - dOrg - tau;
      const dw = dpsi + dphi;
      const c = f - da * dw;
      eta = c === 0 ? NaN : da + (da * da * dw) / c;
    }
    let next = tau + eta;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (next === tau) break;
    tau = next;
  }
  for (let i = 0; i < k; i++) delta[j * k + i] = d[i] - dOrg - tau;
  return dOrg + tau;
}
