// Float64 matrix multiply: C = alpha op(A) op(B) + beta C, row-major with leading dimensions and
// offsets (callers pass sub-blocks). Packed, register-tiled (the Goto/BLIS scheme), in WebAssembly
// SIMD when available and the product is big enough; gemmTs() is the reference. docs/DESIGN.md.
import { wasmKernels } from './wasmKernels';

const MR = 4;
const NR = 4;
const KC = 256;
const MC = 64;
const NC = 2048;

/** A view of a row-major matrix: element (i, j) is data[off + i * ld + j]. */
export interface MatView {
  data: Float64Array;
  off: number;
  ld: number;
}

export function view(data: Float64Array, ld: number, off = 0): MatView {
  return { data, off, ld };
}

const packA = new Float64Array(MC * KC);
let packB = new Float64Array(KC * NC);

/**
 * C (m x n) = alpha op(A) op(B) + beta C, op(X) = X or X^T (transA / transB). op(A) is m x k, op(B) is
 * k x n. With beta = 0, C is overwritten (its old contents, even NaN, are ignored).
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: MatView,
  b: MatView,
  beta: number,
  c: MatView,
): void {
  if (m <= 0 || n <= 0) return;
  // Below ~16^3 multiply-adds the copies and the call cost more than the SIMD gains.
  if (k > 0 && alpha !== 0 && m * n * k >= WASM_MIN_WORK && gemmWasm(transA, transB, m, n, k, alpha, a, b, beta, c))
    return;
  gemmTs(transA, transB, m, n, k, alpha, a, b, beta, c);
}

const WASM_MIN_WORK = 4096;

/** Copy the rows x cols block of `v` into f64 at `dst` (compact, leading dimension cols). */
function copyIn(f64: Float64Array, dst: number, v: MatView, rows: number, cols: number): void {
  const d = v.data;
  if (v.ld === cols) {
    f64.set(d.subarray(v.off, v.off + rows * cols), dst);
    return;
  }
  for (let i = 0; i < rows; i++) {
    const s = v.off + i * v.ld;
    f64.set(d.subarray(s, s + cols), dst + i * cols);
  }
}

/** The wasm route: operands copied compactly into linear memory. False when wasm is unavailable. */
export function gemmWasm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: MatView,
  b: MatView,
  beta: number,
  c: MatView,
): boolean {
  const w = wasmKernels();
  if (!w) return false;
  const aN = m * k,
    bN = k * n,
    cN = m * n;
  const pa = w.heap,
    pb = pa + 8 * aN,
    pc = pb + 8 * bN;
  try {
    w.ensure(8 * (aN + bN + cN));
  } catch {
    return false; // linear memory cannot grow that far: the TypeScript kernel needs no copies
  }
  const f = w.f64();
  if (transA) copyIn(f, pa / 8, a, k, m);
  else copyIn(f, pa / 8, a, m, k);
  if (transB) copyIn(f, pb / 8, b, n, k);
  else copyIn(f, pb / 8, b, k, n);
  if (beta !== 0) copyIn(f, pc / 8, c, m, n);
  w.ex.gemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, pa, transA ? m : k, pb, transB ? k : n, beta, pc, n);
  const cd = c.data,
    c0 = pc / 8;
  if (c.ld === n) cd.set(f.subarray(c0, c0 + cN), c.off);
  else for (let i = 0; i < m; i++) cd.set(f.subarray(c0 + i * n, c0 + i * n + n), c.off + i * c.ld);
  return true;
}

/** The TypeScript kernel (reference and fallback); same contract as gemm. */
export function gemmTs(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: MatView,
  b: MatView,
  beta: number,
  c: MatView,
): void {
  if (m <= 0 || n <= 0) return;
  const cd = c.data,
    co = c.off,
    ldc = c.ld;
  if (beta !== 1) {
    for (let i = 0; i < m; i++) {
      const r = co + i * ldc;
      if (beta === 0) cd.fill(0, r, r + n);
      else for (let j = 0; j < n; j++) cd[r + j] *= beta;
    }
  }
  if (k <= 0 || alpha === 0) return;
  const nc0 = Math.min(NC, roundUp(n, NR));
  if (packB.length < KC * nc0) packB = new Float64Array(KC * nc0);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packPanelsB(b, transB, pc, jc, kc, nc, packB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packPanelsA(a, transA, ic, pc, mc, kc, packA);
        macroKernel(mc, nc, kc, alpha, packA, packB, cd, co + ic * ldc + jc, ldc);
      }
    }
  }
}

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

/** Pack op(A)[i0 .. i0+mc, p0 .. p0+kc] into MR-row panels: panel q, depth p, row r at (q*kc + p)*MR + r. */
function packPanelsA(
  a: MatView,
  trans: boolean,
  i0: number,
  p0: number,
  mc: number,
  kc: number,
  out: Float64Array,
): void {
  const d = a.data,
    ld = a.ld,
    off = a.off;
  for (let q = 0; q * MR < mc; q++) {
    const base = q * kc * MR;
    const rows = Math.min(MR, mc - q * MR);
    for (let r = 0; r < MR; r++) {
      const i = i0 + q * MR + r;
      if (r >= rows) {
        for (let p = 0; p < kc; p++) out[base + p * MR + r] = 0;
      } else if (!trans) {
        const src = off + i * ld + p0; // row i of A, contiguous
        for (let p = 0; p < kc; p++) out[base + p * MR + r] = d[src + p];
      } else {
        const src = off + p0 * ld + i; // op(A)[i][p] = A[p][i]
        for (let p = 0; p < kc; p++) out[base + p * MR + r] = d[src + p * ld];
      }
    }
  }
}

/** Pack op(B)[p0 .. p0+kc, j0 .. j0+nc] into NR-column panels: panel q, depth p, column c at (q*kc + p)*NR + c. */
function packPanelsB(
  b: MatView,
  trans: boolean,
  p0: number,
  j0: number,
  kc: number,
  nc: number,
  out: Float64Array,
): void {
  const d = b.data,
    ld = b.ld,
    off = b.off;
  for (let q = 0; q * NR < nc; q++) {
    const base = q * kc * NR;
    const cols = Math.min(NR, nc - q * NR);
    const j = j0 + q * NR;
    if (!trans) {
      if (cols === NR) {
        for (let p = 0; p < kc; p++) {
          const src = off + (p0 + p) * ld + j;
          const o = base + p * NR;
          out[o] = d[src];
          out[o + 1] = d[src + 1];
          out[o + 2] = d[src + 2];
          out[o + 3] = d[src + 3];
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const src = off + (p0 + p) * ld + j;
          const o = base + p * NR;
          for (let cc = 0; cc < NR; cc++) out[o + cc] = cc < cols ? d[src + cc] : 0;
        }
      }
    } else {
      // op(B)[p][j] = B[j][p]: read rows of B contiguously.
      for (let cc = 0; cc < NR; cc++) {
        if (cc >= cols) {
          for (let p = 0; p < kc; p++) out[base + p * NR + cc] = 0;
        } else {
          const src = off + (j + cc) * ld + p0;
          for (let p = 0; p < kc; p++) out[base + p * NR + cc] = d[src + p];
        }
      }
    }
  }
}

function macroKernel(
  mc: number,
  nc: number,
  kc: number,
  alpha: number,
  pa: Float64Array,
  pb: Float64Array,
  cd: Float64Array,
  co: number,
  ldc: number,
): void {
  for (let jq = 0; jq * NR < nc; jq++) {
    const cols = Math.min(NR, nc - jq * NR);
    const bo = jq * kc * NR;
    for (let iq = 0; iq * MR < mc; iq++) {
      const rows = Math.min(MR, mc - iq * MR);
      const cOff = co + iq * MR * ldc + jq * NR;
      if (rows === MR && cols === NR) kernel4x4(kc, alpha, pa, iq * kc * MR, pb, bo, cd, cOff, ldc);
      else kernelEdge(kc, alpha, pa, iq * kc * MR, pb, bo, cd, cOff, ldc, rows, cols);
    }
  }
}

function kernel4x4(
  kc: number,
  alpha: number,
  pa: Float64Array,
  ao: number,
  pb: Float64Array,
  bo: number,
  cd: Float64Array,
  co: number,
  ldc: number,
): void {
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0;
  let c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0;
  let c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  const end = ao + kc * 4;
  for (let i = ao, j = bo; i < end; i += 4, j += 4) {
    const a0 = pa[i],
      a1 = pa[i + 1],
      a2 = pa[i + 2],
      a3 = pa[i + 3];
    const b0 = pb[j],
      b1 = pb[j + 1],
      b2 = pb[j + 2],
      b3 = pb[j + 3];
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
  }
  let r = co;
  cd[r] += alpha * c00;
  cd[r + 1] += alpha * c01;
  cd[r + 2] += alpha * c02;
  cd[r + 3] += alpha * c03;
  r += ldc;
  cd[r] += alpha * c10;
  cd[r + 1] += alpha * c11;
  cd[r + 2] += alpha * c12;
  cd[r + 3] += alpha * c13;
  r += ldc;
  cd[r] += alpha * c20;
  cd[r + 1] += alpha * c21;
  cd[r + 2] += alpha * c22;
  cd[r + 3] += alpha * c23;
  r += ldc;
  cd[r] += alpha * c30;
  cd[r + 1] += alpha * c31;
  cd[r + 2] += alpha * c32;
  cd[r + 3] += alpha * c33;
}

/** Partial tile at the bottom / right edge: the packs are zero-padded, so compute 4 x 4 and store part. */
const edgeTile = new Float64Array(MR * NR);
function kernelEdge(
  kc: number,
  alpha: number,
  pa: Float64Array,
  ao: number,
  pb: Float64Array,
  bo: number,
  cd: Float64Array,
  co: number,
  ldc: number,
  rows: number,
  cols: number,
): void {
  edgeTile.fill(0);
  kernel4x4(kc, 1, pa, ao, pb, bo, edgeTile, 0, NR);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) cd[co + r * ldc + c] += alpha * edgeTile[r * NR + c];
}
