// Belsley's diagnostic on a Kronecker-factored covariance block S = c * S_A (x) S_G (K-FAC / KFC
// Laplace, kronecker.ts), exactly and without forming the (nA nG) x (nA nG) matrix:
// - diag(S) = c * diag(S_A) (x) diag(S_G), so the correlation matrix factorises too: R = R_A (x) R_G;
// - R_A = U diag(lambda) U^T, R_G = V diag(mu) V^T give R's eigenvectors u_a (x) v_b with eigenvalues
//   lambda_a mu_b (condition indices lambda_max mu_max / (lambda_a mu_b));
// - the proportions factorise: q_(ij),(ab) = (U_ia V_jb)^2 / (lambda_a mu_b) / sum_(a'b') (...)
//   = qA_ia * qG_jb, with qA, qG the proportions of the factors alone.
// Cost: two eigendecompositions, O(nA^3 + nG^3), and O(nA^2 + nG^2) memory.
// The fast ordering needs, per component (a, b), the untaken cell (i, j) with the largest
// qA_ia qG_jb: the cells are visited in decreasing product order from the two columns sorted once
// (a heap over the sorted lists, as for the k largest pairwise products), falling back to a scan of
// the untaken cells when the heap has visited more cells than remain untaken.
// The eigenvalue floor is applied to each factor (relative to its own largest eigenvalue), so the
// proportions stay a product; it only acts on a numerically singular factor.
import { TIE_TOL } from '../belsleyCore';
import { argmaxBy, BlockSystem, EIGEN_FLOOR, proportionsOf, squaredEigen, standardize, topK } from './blockSystem';

export interface KronCovBlock {
  kind: 'kron';
  /** Shown in errors and in the result (e.g. the layer name). */
  name: string;
  /** Input-side covariance factor S_A, nA x nA row-major, symmetric positive definite. */
  sa: Float64Array;
  nA: number;
  /** Output-side covariance factor S_G, nG x nG. */
  sg: Float64Array;
  nG: number;
  /** Flat parameter index of grid cell (i, j) at i * nG + j; -1 for a cell left out of the walk (pruned). */
  params: Int32Array;
}

export class KronSystem implements BlockSystem {
  readonly kind = 'kron';
  readonly name: string;
  readonly params: Int32Array;
  readonly nActive: number;
  readonly nA: number;
  readonly nG: number;
  /** Factor eigenvalues (ascending, unfloored) and squared loadings. */
  readonly lamA: Float64Array;
  readonly lamG: Float64Array;
  private readonly u2A: Float64Array;
  private readonly u2G: Float64Array;
  /** Proportions of each factor (row-major nA x nA, nG x nG), after the floor. */
  qA: Float64Array = new Float64Array(0);
  qG: Float64Array = new Float64Array(0);
  /** Local component c = the pair (colA[c], colB[c]); components ascending in lambda_a mu_b. */
  colA: Int32Array = new Int32Array(0);
  colB: Int32Array = new Int32Array(0);
  private lam: Float64Array = new Float64Array(0);
  /** Per factor column, the rows by decreasing proportion (column-major: listA[a * nA + t]). */
  private listA: Int32Array = new Int32Array(0);
  private listG: Int32Array = new Int32Array(0);
  /** Untaken cells as a swap-remove list, kept in step with `taken` through argmax. */
  private untaken: Int32Array;
  private untakenPos: Int32Array;
  private nUntaken: number;
  private heap = new Heap();

  constructor(b: KronCovBlock) {
    this.name = b.name;
    this.nA = b.nA;
    this.nG = b.nG;
    this.params = b.params;
    const rA = standardize(b.sa, b.nA, b.name, (i) => `input-factor row ${i}`);
    const rG = standardize(b.sg, b.nG, b.name, (j) => `output-factor row ${j}`);
    ({ lam: this.lamA, u2: this.u2A } = squaredEigen(rA, b.nA));
    ({ lam: this.lamG, u2: this.u2G } = squaredEigen(rG, b.nG));
    const n = b.nA * b.nG;
    this.untaken = new Int32Array(n);
    this.untakenPos = new Int32Array(n).fill(-1);
    let k = 0;
    for (let c = 0; c < n; c++)
      if (b.params[c] >= 0) {
        this.untakenPos[c] = k;
        this.untaken[k++] = c;
      }
    this.nActive = k;
    this.nUntaken = k;
  }

  largestEigenvalue(): number {
    const a = this.lamA,
      g = this.lamG;
    return a.length && g.length ? a[a.length - 1] * g[g.length - 1] : 0;
  }
  eigenvalues(): Float64Array {
    return this.lam;
  }
  multiplicity(): number {
    return 1;
  }

  finish(): void {
    const { nA, nG } = this;
    const fA = floorFactor(this.lamA);
    const fG = floorFactor(this.lamG);
    this.qA = proportionsOf(this.u2A, fA, nA, nA);
    this.qG = proportionsOf(this.u2G, fG, nG, nG);
    const n = nA * nG;
    const prod = new Float64Array(n);
    for (let a = 0; a < nA; a++) for (let b = 0; b < nG; b++) prod[a * nG + b] = fA[a] * fG[b];
    const cols = new Int32Array(n);
    for (let c = 0; c < n; c++) cols[c] = c;
    cols.sort((x, y) => prod[x] - prod[y] || x - y);
    this.colA = Int32Array.from(cols, (c) => Math.floor(c / nG));
    this.colB = Int32Array.from(cols, (c) => c % nG);
    this.lam = Float64Array.from(cols, (c) => prod[c]);
    this.listA = sortedColumns(this.qA, nA);
    this.listG = sortedColumns(this.qG, nG);
  }

  q(row: number, col: number): number {
    const i = Math.floor(row / this.nG),
      j = row % this.nG;
    return this.qA[i * this.nA + this.colA[col]] * this.qG[j * this.nG + this.colB[col]];
  }

  argmax(col: number, taken: Uint8Array): number {
    const best = this.search(col, taken);
    if (best >= 0) this.removeUntaken(best);
    return best;
  }

  private search(col: number, taken: Uint8Array): number {
    if (this.nUntaken === 0) return -1;
    const { nA, nG, qA, qG, listA, listG, params } = this;
    const a = this.colA[col],
      b = this.colB[col];
    const va = (t: number) => qA[listA[a * nA + t] * nA + a];
    const vg = (t: number) => qG[listG[b * nG + t] * nG + b];
    const h = this.heap;
    h.clear();
    h.push(va(0) * vg(0), 0, 0);
    let best = -1;
    let bv = 0;
    let visited = 0;
    while (h.size > 0) {
      const v = h.topValue();
      if (best >= 0 && v < bv - TIE_TOL * bv) break;
      const p = h.topP(),
        r = h.topR();
      h.pop();
      const cell = listA[a * nA + p] * nG + listG[b * nG + r];
      if (!taken[cell] && (best < 0 || params[cell] < params[best])) {
        if (best < 0) bv = v;
        best = cell;
      }
      if (r + 1 < nG) h.push(va(p) * vg(r + 1), p, r + 1);
      if (r === 0 && p + 1 < nA) h.push(va(p + 1) * vg(0), p + 1, 0);
      // Late in the walk most high-product cells are taken (and ties at 0 can run long): scanning
      // what is left is then cheaper.
      if (++visited > this.nUntaken) return this.scan(col);
    }
    return best;
  }

  /** argmax over the untaken list (in step with the walk's `taken`: argmax is the only way a cell is taken). */
  private scan(col: number): number {
    const { untaken, params } = this;
    const t = argmaxBy(
      this.nUntaken,
      (k) => this.q(untaken[k], col),
      (k) => params[untaken[k]],
    );
    return t < 0 ? -1 : untaken[t];
  }

  private removeUntaken(cell: number): void {
    const k = this.untakenPos[cell];
    if (k < 0) return;
    const last = this.untaken[--this.nUntaken];
    this.untaken[k] = last;
    this.untakenPos[last] = k;
    this.untakenPos[cell] = -1;
  }

  top(col: number, k: number): number[] {
    const { nA, nG } = this;
    const a = this.colA[col],
      b = this.colB[col];
    // The top k cells lie within the top k rows of each factor column.
    const rows = topK(nA, k, (i) => this.qA[i * nA + a]);
    const units = topK(nG, k, (j) => this.qG[j * nG + b]);
    const cells = rows.flatMap((i) => units.map((j) => i * nG + j)).filter((c) => this.params[c] >= 0);
    return cells.sort((x, y) => this.q(y, col) - this.q(x, col) || x - y).slice(0, k);
  }
}

function floorFactor(lam: Float64Array): Float64Array {
  const top = lam.length ? lam[lam.length - 1] : 0;
  return Float64Array.from(lam, (l) => Math.max(l, top * EIGEN_FLOOR, Number.MIN_VALUE));
}

/** For each column c of the n x n matrix q, the rows sorted by decreasing q[row][c] (ties: lower row). */
function sortedColumns(q: Float64Array, n: number): Int32Array {
  const out = new Int32Array(n * n);
  const idx = new Int32Array(n);
  for (let c = 0; c < n; c++) {
    for (let i = 0; i < n; i++) idx[i] = i;
    idx.sort((x, y) => q[y * n + c] - q[x * n + c] || x - y);
    out.set(idx, c * n);
  }
  return out;
}

/** Binary max-heap of (value, p, r) in typed arrays, reused across searches. */
class Heap {
  private v = new Float64Array(64);
  private p = new Int32Array(64);
  private r = new Int32Array(64);
  size = 0;

  clear(): void {
    this.size = 0;
  }
  topValue(): number {
    return this.v[0];
  }
  topP(): number {
    return this.p[0];
  }
  topR(): number {
    return this.r[0];
  }
  push(value: number, p: number, r: number): void {
    if (this.size === this.v.length) this.grow();
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.v[parent] >= value) break;
      this.v[i] = this.v[parent];
      this.p[i] = this.p[parent];
      this.r[i] = this.r[parent];
      i = parent;
    }
    this.v[i] = value;
    this.p[i] = p;
    this.r[i] = r;
  }
  pop(): void {
    const n = --this.size;
    if (n === 0) return;
    const value = this.v[n],
      p = this.p[n],
      r = this.r[n];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.v[c + 1] > this.v[c]) c++;
      if (this.v[c] <= value) break;
      this.v[i] = this.v[c];
      this.p[i] = this.p[c];
      this.r[i] = this.r[c];
      i = c;
    }
    this.v[i] = value;
    this.p[i] = p;
    this.r[i] = r;
  }
  private grow(): void {
    const grow = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(a.length * 2);
      b.set(a);
      return b;
    };
    this.v = grow(this.v, (n) => new Float64Array(n));
    this.p = grow(this.p, (n) => new Int32Array(n));
    this.r = grow(this.r, (n) => new Int32Array(n));
  }
}
