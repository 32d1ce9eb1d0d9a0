// Back-transformation U = Q V for the Householder reduction of tridiagonal.ts (Q = H_0 H_1 ... H_{n-2}),
// applied in blocks of NB reflectors in compact WY form (LAPACK dlarft + dlarfb, "forward, columnwise"):
//   H_k0 H_k0+1 ... H_k0+nb-1 = I - Y T Y^T,  Y = [v_k0 ... v_k0+nb-1] (n x nb), T upper triangular,
// so each block costs three matrix multiplies (W = Y^T U, W = T W, U -= Y W) instead of nb rank-1
// updates: the 2 n^3 flops run in gemm.ts's packed kernel rather than as memory-bound vector loops.
//
// With the WebAssembly kernels, V stays in linear memory for all blocks (one copy in, one out); only
// each block's Y^T and T are copied in, O(n^2) in all against the 2 n^3 flops.
import { gemm, view } from './gemm';
import type { Tridiagonal } from './tridiagonal';
import { wasmKernels } from './wasmKernels';

const NB = 64;

/** Overwrite v (row-major n x cols, rows indexed like A) with Q v. */
export function applyQ(t: Tridiagonal, v: Float64Array, cols: number): void {
  const { n, work: w, beta } = t;
  const last = n - 2; // reflectors 0 .. n-2 (H_{n-2} is always the identity, see makeReflector)
  if (last < 0) return;
  const yt = new Float64Array(NB * n); // Y^T, nb x m, rows contiguous
  const tm = new Float64Array(NB * NB);
  const g = new Float64Array(NB * NB); // Y^T Y, nb x nb
  const w1 = new Float64Array(NB * cols);
  const w2 = new Float64Array(NB * cols);
  const nBlocks = Math.ceil((last + 1) / NB);
  // Wasm layout: V (n x cols), Y^T (NB x n), T, G (NB x NB), W1, W2 (NB x cols).
  let wk = wasmKernels();
  const pv = wk?.heap ?? 0,
    py = pv + 8 * n * cols,
    pt = py + 8 * NB * n,
    pg = pt + 8 * NB * NB;
  const pw1 = pg + 8 * NB * NB,
    pw2 = pw1 + 8 * NB * cols;
  if (wk) {
    try {
      wk.ensure(pw2 + 8 * NB * cols - pv);
      wk.f64().set(v, pv / 8);
    } catch {
      wk = undefined;
    }
  }
  for (let b = nBlocks - 1; b >= 0; b--) {
    const k0 = b * NB;
    const nb = Math.min(NB, last + 1 - k0);
    const s = k0 + 1; // Y's first row in A's indexing
    const m = n - s;
    // Y^T row c = v_{k0+c}: zero on indices < k0+c+1, then work row k0+c (its diagonal/lower part is
    // not reflector data, hence the explicit zeros).
    for (let c = 0; c < nb; c++) {
      const row = c * m;
      const k = k0 + c;
      yt.fill(0, row, row + c);
      if (beta[k] === 0) yt.fill(0, row + c, row + m);
      else yt.set(w.subarray(k * n + k + 1, k * n + n), row + c);
    }
    // T (dlarft): T[i][i] = beta_i, T[0:i, i] = -beta_i T[0:i, 0:i] (Y[:, 0:i]^T v_i). The inner products
    // Y^T Y are one GEMM (nb x nb x m, at GEMM speed; as dot loops in JS they cost a quarter of the phase),
    // the recursion itself is O(nb^3).
    if (wk) {
      const f = wk.f64();
      f.set(yt.subarray(0, nb * m), py / 8);
      wk.ex.gemm(0, 1, nb, nb, m, 1, py, m, py, m, 0, pg, nb);
      g.set(f.subarray(pg / 8, pg / 8 + nb * nb));
    } else {
      gemm(false, true, nb, nb, m, 1, view(yt, m), view(yt, m), 0, view(g, nb));
    }
    buildT(beta, k0, nb, g, tm);
    if (wk) {
      wk.f64().set(tm, pt / 8);
      const vsp = pv + 8 * s * cols;
      wk.ex.gemm(0, 0, nb, cols, m, 1, py, m, vsp, cols, 0, pw1, cols); // W1 = Y^T V_s
      wk.ex.gemm(0, 0, nb, cols, nb, 1, pt, NB, pw1, cols, 0, pw2, cols); // W2 = T W1
      wk.ex.gemm(1, 0, m, cols, nb, -1, py, m, pw2, cols, 1, vsp, cols); // V_s -= Y W2
      continue;
    }
    const vs = view(v, cols, s * cols);
    gemm(false, false, nb, cols, m, 1, view(yt, m), vs, 0, view(w1, cols)); // W1 = Y^T V_s
    gemm(false, false, nb, cols, nb, 1, view(tm, NB), view(w1, cols), 0, view(w2, cols)); // W2 = T W1
    gemm(true, false, m, cols, nb, -1, view(yt, m), view(w2, cols), 1, vs); // V_s -= Y W2
  }
  if (wk) v.set(wk.f64().subarray(pv / 8, pv / 8 + n * cols));
}

/**
 * The compact-WY factor of reflectors k0 .. k0+nb-1 from their Gram matrix g = Y^T Y (nb x nb, row-major):
 * column i of T (leading dimension NB) is beta_i e_i - beta_i T[0:i, 0:i] g[0:i, i].
 */
export function buildT(beta: Float64Array, k0: number, nb: number, g: Float64Array, tm: Float64Array): void {
  tm.fill(0);
  for (let i = 0; i < nb; i++) {
    const bi = beta[k0 + i];
    tm[i * NB + i] = bi;
    if (bi === 0) continue;
    // Upper triangular T[0:i, 0:i] times y = -beta_i g[0:i, i], top-down so y is read before overwritten.
    for (let r = 0; r < i; r++) {
      let acc = 0;
      for (let c = r; c < i; c++) acc += tm[r * NB + c] * g[c * nb + i];
      tm[r * NB + i] = -bi * acc;
    }
  }
}
