// A "low-rank plus diagonal" covariance block (METHODS.md 2.6) for the block-wise walk: the
// correlation model R = (1 - rho) Z Z^T + rho I of belsleyLowRank.ts, where Z holds K snapshots of the
// block's parameters with rows standardised (a snapshot matrix whose second moment is the block's
// covariance estimate: gradient differences d_t for the gradient source). Its components: the r
// nonzero directions of Z Z^T (lambda_j = (1 - rho) s_j + rho) and one pooled complement
// (lambda = rho, multiplicity m - r) whose squared loadings are 1 - sum_j u_ij^2. Cost O(m K^2).
import { badInput } from '../../errors';
import { gramEig } from '../../linalg/gram';
import { argmaxBy, BlockSystem, topK } from './blockSystem';

export interface LowRankCovBlock {
  kind: 'low-rank';
  name: string;
  /** Flat parameter index of each of the m columns of `snaps`. */
  params: Int32Array;
  /** Row-major K x m: snapshot a of the block's parameters at snaps[a * m .. a * m + m). */
  snaps: Float64Array;
  k: number;
  /** Weight of the isotropic part, in (0, 1]. */
  rho: number;
  /** Subtract each parameter's mean over the snapshots first (false: the snapshots' second moment). */
  center: boolean;
}

export class LowRankSystem implements BlockSystem {
  readonly kind = 'low-rank';
  readonly name: string;
  readonly params: Int32Array;
  readonly nActive: number;
  /** Nonzero eigenvalues of Z Z^T kept, ascending, and their unit vectors as rows (r x m). */
  private readonly s: Float64Array;
  private readonly vT: Float64Array;
  private readonly r: number;
  private readonly rho: number;
  private lamF: Float64Array = new Float64Array(0);
  private mult: Int32Array;
  /** 1 / sum_c u2(i, c) / lambda_c per row, after the floor. */
  private rowScale: Float64Array = new Float64Array(0);
  /** Squared loading on the pooled complement per row. */
  private comp: Float64Array;

  constructor(b: LowRankCovBlock) {
    const m = b.params.length;
    const k = b.k;
    if (b.snaps.length !== k * m || k < 1 || m < 1)
      throw badInput(`block ${b.name}: snapshot buffer has ${b.snaps.length} entries`, {
        field: 'snapshots',
        expected: `K x m = ${k} x ${m}`,
      });
    if (!(b.rho > 0 && b.rho <= 1)) throw badInput(`rho is ${b.rho}`, { field: 'rho', expected: 'a number in (0, 1]' });
    this.name = b.name;
    this.params = b.params;
    this.nActive = m;
    this.rho = b.rho;
    const z = Float64Array.from(b.snaps);
    if (b.center) {
      const mean = new Float64Array(m);
      for (let a = 0; a < k; a++) for (let i = 0; i < m; i++) mean[i] += z[a * m + i];
      for (let a = 0; a < k; a++) for (let i = 0; i < m; i++) z[a * m + i] -= mean[i] / k;
    }
    const norm2 = new Float64Array(m);
    for (let a = 0; a < k; a++) for (let i = 0; i < m; i++) norm2[i] += z[a * m + i] ** 2;
    for (let i = 0; i < m; i++)
      if (!(norm2[i] > 0) || !Number.isFinite(norm2[i]))
        throw badInput(`block ${b.name}: parameter ${b.params[i]} has snapshot second moment ${norm2[i]}`, {
          field: 'snapshots',
          expected: 'a positive, finite value (set such parameters apart before)',
        });
    for (let i = 0; i < m; i++) {
      const inv = 1 / Math.sqrt(norm2[i]);
      for (let a = 0; a < k; a++) z[a * m + i] *= inv;
    }
    const g = gramEig(z, k, m);
    this.r = g.r;
    // gramEig gives descending values; components here are ascending.
    this.s = Float64Array.from({ length: g.r }, (_, j) => g.values[g.r - 1 - j]);
    this.vT = new Float64Array(g.r * m);
    for (let j = 0; j < g.r; j++) this.vT.set(g.vectorsT.subarray((g.r - 1 - j) * m, (g.r - j) * m), j * m);
    this.comp = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let t = 0;
      for (let j = 0; j < g.r; j++) t += this.vT[j * m + i] ** 2;
      this.comp[i] = Math.max(0, 1 - t); // clamp rounding below zero
    }
    this.mult = new Int32Array(0);
  }

  /** Whether the pooled complement exists (m > r): it is then local column 0 (lambda = rho is the smallest). */
  private get hasComplement(): boolean {
    return this.params.length > this.r;
  }

  largestEigenvalue(): number {
    return this.r ? (1 - this.rho) * this.s[this.r - 1] + this.rho : this.rho;
  }
  eigenvalues(): Float64Array {
    return this.lamF;
  }
  multiplicity(col: number): number {
    return this.mult[col];
  }

  finish(floor: (l: number) => number): void {
    const m = this.params.length;
    const c0 = this.hasComplement ? 1 : 0;
    const lam = new Float64Array(c0 + this.r);
    this.mult = new Int32Array(c0 + this.r).fill(1);
    if (c0) {
      lam[0] = this.rho;
      this.mult[0] = m - this.r;
    }
    for (let j = 0; j < this.r; j++) lam[c0 + j] = (1 - this.rho) * this.s[j] + this.rho;
    this.lamF = Float64Array.from(lam, floor);
    this.rowScale = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let t = 0;
      for (let c = 0; c < lam.length; c++) t += this.u2(i, c) / this.lamF[c];
      this.rowScale[i] = t > 0 ? 1 / t : 0;
    }
  }

  private u2(i: number, col: number): number {
    const c0 = this.hasComplement ? 1 : 0;
    if (col < c0) return this.comp[i];
    return this.vT[(col - c0) * this.params.length + i] ** 2;
  }

  q(row: number, col: number): number {
    return (this.u2(row, col) / this.lamF[col]) * this.rowScale[row];
  }
  argmax(col: number, taken: Uint8Array): number {
    return argmaxBy(
      this.params.length,
      (i) => this.q(i, col),
      (i) => this.params[i],
      taken,
    );
  }
  top(col: number, k: number): number[] {
    return topK(this.params.length, k, (i) => this.q(i, col));
  }
}
