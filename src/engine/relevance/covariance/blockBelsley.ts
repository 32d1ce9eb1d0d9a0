// Belsley's diagnostic on a BLOCK-DIAGONAL covariance (one block per layer: Laplace, gradient):
// the eigen-system is the union of the blocks', so condition indices are global and a parameter's
// proportions live on its own block. Equals the dense belsley() at sum_b m_b^3 instead of n^3 per
// decomposition. docs/DESIGN.md.
import { badInput, PruneScopeError, throwIfCancelled } from '../../errors';
import { eighRows } from '../../linalg/eigh';
import { TIE_TOL, type BelsleyOrdering } from '../belsleyCore';

/** One diagonal block of S: the parameters `indices` (flat indices, any order) and their m x m covariance. */
export interface CovBlock {
  /** Shown in errors and in the result (e.g. the layer name). */
  name: string;
  /** Flat parameter index of each row/column. */
  indices: Int32Array;
  /** m x m symmetric, row-major; positive diagonal. */
  matrix: Float64Array;
}

export interface BlockBelsleyOptions {
  ordering: BelsleyOrdering;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface BlockBelsleyResult {
  /** Number of parameters (= number of components). */
  n: number;
  /** Global components sorted by increasing eigenvalue = decreasing condition index (column order below). */
  eigenvalues: Float64Array;
  conditionIndices: Float64Array;
  conditionIndicesBKW: Float64Array;
  /** Block of each global component. */
  componentBlock: Int32Array;
  /**
   * Per block: its parameters' flat indices, its components' global column indices, and q (m x m, row = parameter,
   * column = component in increasing global column order).
   */
  blocks: { name: string; indices: Int32Array; columns: Int32Array; proportions: Float64Array }[];
  /** Component with the largest condition index (global column 0). */
  xi: number;
  /** Flat index of zeta. */
  zeta: number;
  /** Flat indices, least relevant first. */
  order: Int32Array;
  ordering: BelsleyOrdering;
}

const FLOOR = 2 ** -52;

interface BlockEig {
  /** Flat indices of the block's current parameters. */
  idx: number[];
  /** |lambda| (unfloored), ascending. */
  lam: Float64Array;
  /** u2[i * m + j] = u_ij^2 for parameter i, component j. */
  u2: Float64Array;
}

/** Standardise a covariance block to a correlation block (checks the diagonal). */
export function standardizeBlock(b: CovBlock): Float64Array {
  const m = b.indices.length;
  if (b.matrix.length !== m * m)
    throw badInput(`block ${b.name} has ${b.matrix.length} entries`, {
      field: 'covariance block',
      expected: `${m} x ${m}`,
    });
  const inv = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const d = b.matrix[i * m + i];
    if (!(d > 0) || !Number.isFinite(d))
      throw new PruneScopeError('numerical', `block ${b.name}: variance of parameter ${b.indices[i]} is ${d}`, {
        field: 'covariance',
        expected: 'a positive, finite variance',
      });
    inv[i] = 1 / Math.sqrt(d);
  }
  const r = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    r[i * m + i] = 1;
    for (let j = i + 1; j < m; j++) {
      const v = 0.5 * (b.matrix[i * m + j] + b.matrix[j * m + i]) * inv[i] * inv[j];
      if (!Number.isFinite(v))
        throw new PruneScopeError('numerical', `block ${b.name}: entry (${i}, ${j}) is ${v}`, {
          field: 'covariance',
          expected: 'finite numbers',
        });
      r[i * m + j] = v;
      r[j * m + i] = v;
    }
  }
  return r;
}

function decompose(r: Float64Array, m: number, idx: number[]): BlockEig {
  if (m === 1) return { idx, lam: Float64Array.of(Math.abs(r[0])), u2: Float64Array.of(1) };
  const { values, rowVectors } = eighRows(r, m);
  const u2 = new Float64Array(m * m);
  for (let j = 0; j < m; j++) for (let i = 0; i < m; i++) u2[i * m + j] = rowVectors![j * m + i] ** 2;
  const lam = Float64Array.from(values, Math.abs);
  // |lambda| can reorder near-zero negative values; keep the columns ascending in |lambda|.
  const cols = Array.from({ length: m }, (_, j) => j).sort((a, b) => lam[a] - lam[b] || a - b);
  if (cols.every((c, j) => c === j)) return { idx, lam, u2 };
  const lam2 = Float64Array.from(cols, (c) => lam[c]);
  const u2s = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) u2s[i * m + j] = u2[i * m + cols[j]];
  return { idx, lam: lam2, u2: u2s };
}

const floorOf = (lmax: number) => (l: number) => Math.max(l, lmax * FLOOR, Number.MIN_VALUE);

/** q for one block (m x m) with eigenvalues floored at the global floor. */
function proportions(e: BlockEig, floor: (l: number) => number): Float64Array {
  const m = e.idx.length;
  const lam = Float64Array.from(e.lam, floor);
  const q = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < m; j++) {
      const t = e.u2[i * m + j] / lam[j];
      q[i * m + j] = t;
      s += t;
    }
    if (s > 0) for (let j = 0; j < m; j++) q[i * m + j] /= s;
  }
  return q;
}

/** Row i with the largest q[i][col] among rows not taken; ties (TIE_TOL) to the lower flat index. */
function argmaxRow(q: Float64Array, m: number, col: number, idx: ArrayLike<number>, taken?: Uint8Array): number {
  let best = -1;
  let bv = -Infinity;
  for (let i = 0; i < m; i++) {
    if (taken && taken[i]) continue;
    const v = q[i * m + col];
    const tol = TIE_TOL * Math.max(Math.abs(v), Math.abs(bv));
    if (best < 0 || v > bv + tol || (Math.abs(v - bv) <= tol && idx[i] < idx[best])) {
      best = i;
      bv = v;
    }
  }
  return best;
}

export function blockBelsley(input: CovBlock[], opts: BlockBelsleyOptions): BlockBelsleyResult {
  const blocks = input.filter((b) => b.indices.length > 0);
  const n = blocks.reduce((s, b) => s + b.indices.length, 0);
  if (n === 0)
    throw badInput('no active parameters', { field: 'parameters', expected: 'at least one nonzero parameter' });
  const eigs = blocks.map((b) => decompose(standardizeBlock(b), b.indices.length, Array.from(b.indices)));

  // Global components: all blocks' eigenvalues, ascending (ties: lower block, then lower column).
  let lmax = 0;
  for (const e of eigs) lmax = Math.max(lmax, e.lam[e.lam.length - 1]);
  const floor = floorOf(lmax);
  const comps: { b: number; j: number; l: number }[] = [];
  eigs.forEach((e, b) => e.lam.forEach((l, j) => comps.push({ b, j, l: floor(l) })));
  comps.sort((x, y) => x.l - y.l || firstIndex(eigs[x.b]) - firstIndex(eigs[y.b]) || x.j - y.j);
  const eigenvalues = Float64Array.from(comps, (c) => c.l);
  const top = eigenvalues[n - 1];
  const conditionIndices = Float64Array.from(eigenvalues, (l) => top / l);
  const conditionIndicesBKW = Float64Array.from(conditionIndices, Math.sqrt);
  const componentBlock = Int32Array.from(comps, (c) => c.b);
  const columns = eigs.map(() => [] as number[]);
  comps.forEach((c, g) => columns[c.b].push(g)); // local columns are ascending too, so local j = position
  const qs = eigs.map((e) => proportions(e, floor));
  const x0 = comps[0];
  const zeta = eigs[x0.b].idx[argmaxRow(qs[x0.b], eigs[x0.b].idx.length, x0.j, eigs[x0.b].idx)];

  const order = opts.ordering === 'fast' ? fastOrder(eigs, qs, comps, n) : exactOrder(eigs, blocks, n, opts);
  return {
    n,
    eigenvalues,
    conditionIndices,
    conditionIndicesBKW,
    componentBlock,
    blocks: blocks.map((b, i) => ({
      name: b.name,
      indices: Int32Array.from(eigs[i].idx),
      columns: Int32Array.from(columns[i]),
      proportions: qs[i],
    })),
    xi: 0,
    zeta,
    order,
    ordering: opts.ordering,
  };
}

function firstIndex(e: BlockEig): number {
  return e.idx.length ? e.idx[0] : Infinity;
}

function fastOrder(eigs: BlockEig[], qs: Float64Array[], comps: { b: number; j: number }[], n: number): Int32Array {
  const taken = eigs.map((e) => new Uint8Array(e.idx.length));
  const order: number[] = [];
  for (const c of comps) {
    const e = eigs[c.b];
    const i = argmaxRow(qs[c.b], e.idx.length, c.j, e.idx, taken[c.b]);
    if (i < 0) continue; // cannot happen: a block has as many components as parameters
    taken[c.b][i] = 1;
    order.push(e.idx[i]);
  }
  if (order.length !== n)
    throw new PruneScopeError('internal', `fast ordering took ${order.length} of ${n} parameters`);
  return Int32Array.from(order);
}

/** Remove zeta of the globally smallest eigenvalue; re-decompose only its block; repeat. */
function exactOrder(eigs0: BlockEig[], blocks: CovBlock[], n: number, opts: BlockBelsleyOptions): Int32Array {
  const eigs = eigs0.slice();
  // Standardised blocks indexed by flat index, to take submatrices of R after removals.
  const rs = blocks.map((b) => ({
    r: standardizeBlock(b),
    pos: new Map(Array.from(b.indices, (f, i) => [f, i])),
    m: b.indices.length,
  }));
  const order: number[] = [];
  while (order.length < n) {
    throwIfCancelled(opts.signal, 'Belsley exact ordering');
    let lmax = 0;
    for (const e of eigs) if (e.idx.length) lmax = Math.max(lmax, e.lam[e.lam.length - 1]);
    const floor = floorOf(lmax);
    let bb = -1;
    for (let b = 0; b < eigs.length; b++) {
      if (!eigs[b].idx.length) continue;
      if (bb < 0) {
        bb = b;
        continue;
      }
      const l = floor(eigs[b].lam[0]),
        lb = floor(eigs[bb].lam[0]);
      if (l < lb || (l === lb && firstIndex(eigs[b]) < firstIndex(eigs[bb]))) bb = b;
    }
    const e = eigs[bb];
    const m = e.idx.length;
    const q = proportions(e, floor);
    const i = argmaxRow(q, m, 0, e.idx);
    order.push(e.idx[i]);
    opts.onProgress?.(order.length, n);
    const idx = e.idx.filter((_, k) => k !== i);
    const mm = idx.length;
    const { r, pos, m: full } = rs[bb];
    const sub = new Float64Array(mm * mm);
    for (let a = 0; a < mm; a++) {
      const pa = pos.get(idx[a])!;
      for (let c = 0; c < mm; c++) sub[a * mm + c] = r[pa * full + pos.get(idx[c])!];
    }
    eigs[bb] = mm ? decompose(sub, mm, idx) : { idx, lam: new Float64Array(0), u2: new Float64Array(0) };
  }
  return Int32Array.from(order);
}

/** The largest block size (the exact ordering costs about sum over blocks of m^4 / 4). */
export function largestBlock(blocks: CovBlock[]): number {
  return blocks.reduce((s, b) => Math.max(s, b.indices.length), 0);
}
