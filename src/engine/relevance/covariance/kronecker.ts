// Kronecker-factored Laplace covariance of one layer (K-FAC, Martens and Grosse 2015, for dense
// layers; KFC, Grosse and Martens 2016, for convolutions), for Belsley on layers too large for a
// full block. The layer supplies two factors (KroneckerFactors) such that its GGN block of the MEAN
// training loss is approximated by A (x) G:
// - A: the second moment of the layer's inputs, with a trailing constant 1 for the bias (dense: the
//   input vector; convolution: the unfolded input patch), nA x nA;
// - G: the mean GGN of the loss with respect to the layer's outputs (pre-activations): the second
//   moment of the output gradients under the model's own predictive, nG x nG;
// - paramIndex: the flat index of the parameter at (row i of A, row j of G), i * nG + j.
// Precision. The Laplace precision of the layer is N * GGN + tau I (tau: the prior precision,
// laplace.ts). Adding tau I exactly (laplace-torch's KronLaplace default) keeps the eigenvectors
// u_a (x) v_b of the covariance but NOT those of its correlation matrix, which Belsley decomposes:
// diag(S) is then no Kronecker product. So the prior enters as K-FAC's factored Tikhonov damping
// (Martens and Grosse 2015, section 6.3; laplace-torch's KronDecomposed with damping=True is the
// same idea with pi = 1):
//   P = N (A + pi d I) (x) (G + d / pi I),   d = sqrt(tau / N),
//   pi = sqrt((tr A / nA) / (tr G / nG))   (balances the two factors; invariant to rescaling them),
// which equals N A (x) G + tau I plus the cross terms N d (pi I (x) G + A (x) I / pi). Then
// S = P^-1 = (1/N) S_A (x) S_G with S_A = (A + pi d I)^-1, S_G = (G + d / pi I)^-1, its correlation
// matrix is R_A (x) R_G, and Belsley is exact for it (kronSystem.ts).
// Pruned parameters: a row of A (an input, or the bias) whose weights are all pruned, and a row of G
// (an output unit) likewise, are removed from the factors before inverting: the precision restricted
// to the remaining rows is again a Kronecker product, so that conditioning is exact. A pruned weight
// inside the remaining grid cannot be conditioned on within the Kronecker structure: it stays in the
// factors (the covariance of the others is then the unpruned layer's marginal one) and is left out of
// the ordering; the layer info counts such weights.
import { badInput } from '../../errors';
import { inverseSpd } from '../../linalg/inverseSpd';
import type { KronCovBlock } from './kronSystem';

export interface KroneckerFactors {
  /** The layer's name (results and errors). */
  layer: string;
  /** Input-side factor A, nA x nA row-major, symmetric positive semi-definite. */
  a: Float64Array;
  nA: number;
  /** Output-side factor G, nG x nG row-major, symmetric positive semi-definite. */
  g: Float64Array;
  nG: number;
  /** Flat parameter index of cell (i, j) at i * nG + j. */
  paramIndex: Int32Array;
}

export interface KronDamping {
  /** d = sqrt(tau / N). */
  d: number;
  /** Balance pi of the factored damping. */
  pi: number;
  /** Added to A's and G's diagonals: pi d and d / pi. */
  addA: number;
  addG: number;
}

export interface KronLaplaceInfo {
  damping: KronDamping;
  /** Factor rows kept (rows of A, rows of G) after removing fully pruned ones. */
  rowsA: number;
  rowsG: number;
  /** Pruned weights inside the kept grid (marginal, not conditional, covariance for the others). */
  prunedInside: number;
  /** Largest and smallest eigenvalue of each damped factor. */
  rangeA: [number, number];
  rangeG: [number, number];
}

/** The factored damping of A and G for prior precision tau and likelihood scale N (see above). */
export function kronDamping(a: Float64Array, nA: number, g: Float64Array, nG: number, tau: number, N: number) {
  let ta = 0,
    tg = 0;
  for (let i = 0; i < nA; i++) ta += a[i * nA + i];
  for (let j = 0; j < nG; j++) tg += g[j * nG + j];
  const d = Math.sqrt(tau / N);
  const pi = ta > 0 && tg > 0 ? Math.sqrt(ta / nA / (tg / nG)) : 1;
  return { d, pi, addA: pi * d, addG: d / pi };
}

function checkFactors(f: KroneckerFactors): void {
  const bad = (field: string, msg: string, expected: string) =>
    badInput(`layer ${f.layer}: ${msg}`, { field: `kronecker factors: ${field}`, expected });
  if (!(f.nA > 0 && f.nG > 0) || f.a.length !== f.nA * f.nA || f.g.length !== f.nG * f.nG)
    throw bad('sizes', `A has ${f.a.length} entries for nA ${f.nA}, G ${f.g.length} for nG ${f.nG}`, 'square factors');
  if (f.paramIndex.length !== f.nA * f.nG)
    throw bad('paramIndex', `${f.paramIndex.length} entries`, `nA * nG = ${f.nA * f.nG}`);
  for (const [name, m] of [
    ['A', f.a],
    ['G', f.g],
  ] as const) {
    const k = m.findIndex((v) => !Number.isFinite(v));
    if (k >= 0) throw bad(name, `entry ${k} is ${m[k]}`, 'finite numbers');
  }
}

/**
 * The layer's Kronecker covariance block for Belsley: S_A and S_G over the rows that hold an active
 * parameter, with the factored damping of prior precision tau at likelihood scale N.
 */
export function kronLaplaceBlock(
  f: KroneckerFactors,
  active: (flat: number) => boolean,
  tau: number,
  N: number,
): { block: KronCovBlock; info: KronLaplaceInfo } {
  checkFactors(f);
  if (!(tau > 0) || !(N > 0))
    throw badInput(`prior precision ${tau}, N ${N}`, { field: 'laplace', expected: 'positive numbers' });
  const { nA, nG, paramIndex } = f;
  const rowUsed = new Uint8Array(nA);
  const colUsed = new Uint8Array(nG);
  for (let i = 0; i < nA; i++)
    for (let j = 0; j < nG; j++)
      if (active(paramIndex[i * nG + j])) {
        rowUsed[i] = 1;
        colUsed[j] = 1;
      }
  const rows = Array.from(rowUsed.keys()).filter((i) => rowUsed[i]);
  const cols = Array.from(colUsed.keys()).filter((j) => colUsed[j]);
  const a = sub(f.a, nA, rows);
  const g = sub(f.g, nG, cols);
  const ra = rows.length,
    rg = cols.length;
  const damping = kronDamping(a, ra, g, rg, tau, N);
  for (let i = 0; i < ra; i++) a[i * ra + i] += damping.addA;
  for (let j = 0; j < rg; j++) g[j * rg + j] += damping.addG;
  const sa = inverseSpd(a, ra);
  const sg = inverseSpd(g, rg);
  const params = new Int32Array(ra * rg);
  let prunedInside = 0;
  rows.forEach((i, p) =>
    cols.forEach((j, r) => {
      const flat = paramIndex[i * nG + j];
      const on = active(flat);
      if (!on) prunedInside++;
      params[p * rg + r] = on ? flat : -1;
    }),
  );
  return {
    block: { kind: 'kron', name: f.layer, sa: sa.s, nA: ra, sg: sg.s, nG: rg, params },
    info: { damping, rowsA: ra, rowsG: rg, prunedInside, rangeA: sa.range, rangeG: sg.range },
  };
}

function sub(m: Float64Array, n: number, keep: number[]): Float64Array {
  const k = keep.length;
  const out = new Float64Array(k * k);
  for (let p = 0; p < k; p++)
    for (let r = 0; r < k; r++) out[p * k + r] = 0.5 * (m[keep[p] * n + keep[r]] + m[keep[r] * n + keep[p]]);
  return out;
}
