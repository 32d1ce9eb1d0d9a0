// Belsley's diagnostic on a BLOCK-DIAGONAL covariance (one block per layer: Laplace, gradient):
// the eigen-system is the union of the blocks', so condition indices are global and a parameter's
// proportions live on its own block. Blocks are dense, Kronecker-factored or low-rank plus diagonal
// (blockSystem.ts); with dense blocks only it equals the dense belsley() at sum_b m_b^3 instead of
// n^3 per decomposition. docs/DESIGN.md.
import { badInput, PruneScopeError, throwIfCancelled } from '../../errors';
import { TIE_TOL, type BelsleyOrdering } from '../belsleyCore';
import { BlockKind, BlockSystem, CovBlock, DenseSystem, floorOf, squaredEigen, standardize } from './blockSystem';
import { KronCovBlock, KronSystem } from './kronSystem';
import { LowRankCovBlock, LowRankSystem } from './lowRankSystem';

export type { CovBlock } from './blockSystem';
export type { KronCovBlock } from './kronSystem';
export type { LowRankCovBlock } from './lowRankSystem';

/** Any block of the block-diagonal covariance: dense (no kind), Kronecker-factored or low-rank. */
export type BelsleyBlock = CovBlock | KronCovBlock | LowRankCovBlock;

export interface BlockBelsleyOptions {
  ordering: BelsleyOrdering;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface BlockBelsleyResult {
  /** Number of parameters ranked. */
  n: number;
  /** Global components sorted by increasing eigenvalue = decreasing condition index (column order below). */
  eigenvalues: Float64Array;
  conditionIndices: Float64Array;
  conditionIndicesBKW: Float64Array;
  /** Eigenvalues each component stands for (1, except a low-rank block's pooled complement). */
  multiplicity: Int32Array;
  /** Block of each global component, and its column within the block. */
  componentBlock: Int32Array;
  componentColumn: Int32Array;
  /** The blocks' eigen-systems (proportions through q(row, local column)). */
  systems: BlockSystem[];
  /** Component with the largest condition index (global column 0). */
  xi: number;
  /** Flat index of zeta. */
  zeta: number;
  /** Flat indices, least relevant first. */
  order: Int32Array;
  ordering: BelsleyOrdering;
}

export function blockKind(b: BelsleyBlock): BlockKind {
  return 'kind' in b ? b.kind : 'dense';
}

function blockSize(b: BelsleyBlock): number {
  if ('kind' in b) return b.params.length;
  return b.indices.length;
}

function systemOf(b: BelsleyBlock): BlockSystem {
  if (!('kind' in b)) return DenseSystem.fromCovariance(b);
  return b.kind === 'kron' ? new KronSystem(b) : new LowRankSystem(b);
}

function firstIndex(s: BlockSystem): number {
  let f = Infinity;
  for (const p of s.params) if (p >= 0 && p < f) f = p;
  return f;
}

export function blockBelsley(input: BelsleyBlock[], opts: BlockBelsleyOptions): BlockBelsleyResult {
  const blocks = input.filter((b) => blockSize(b) > 0);
  if (opts.ordering === 'exact') {
    const other = blocks.find((b) => blockKind(b) !== 'dense');
    if (other)
      throw new PruneScopeError(
        'unsupported',
        `the exact ordering re-decomposes a block after each removal; block ${other.name} is ${blockKind(other)}, whose structure a removal breaks`,
        { field: 'ordering', expected: "ordering 'fast' (or dense blocks only)" },
      );
  }
  const systems = blocks.map(systemOf);
  const n = systems.reduce((s, b) => s + b.nActive, 0);
  if (n === 0)
    throw badInput('no active parameters', { field: 'parameters', expected: 'at least one nonzero parameter' });

  // Global lambda_max over the raw spectra, then the floor, then the global components.
  const lmax = systems.reduce((m, s) => Math.max(m, s.largestEigenvalue()), 0);
  const floor = floorOf(lmax);
  for (const s of systems) s.finish(floor);
  const firsts = systems.map(firstIndex);
  let c = 0;
  for (const s of systems) c += s.eigenvalues().length;
  const lam = new Float64Array(c);
  const cb = new Int32Array(c);
  const cc = new Int32Array(c);
  let at = 0;
  systems.forEach((s, b) =>
    s.eigenvalues().forEach((l, j) => {
      lam[at] = floor(l);
      cb[at] = b;
      cc[at++] = j;
    }),
  );
  const sorted = Uint32Array.from({ length: c }, (_, i) => i).sort(
    (x, y) => lam[x] - lam[y] || firsts[cb[x]] - firsts[cb[y]] || cc[x] - cc[y],
  );
  const eigenvalues = Float64Array.from(sorted, (i) => lam[i]);
  const componentBlock = Int32Array.from(sorted, (i) => cb[i]);
  const componentColumn = Int32Array.from(sorted, (i) => cc[i]);
  const multiplicity = Int32Array.from(sorted, (i) => systems[cb[i]].multiplicity(cc[i]));
  const top = eigenvalues[c - 1];
  const conditionIndices = Float64Array.from(eigenvalues, (l) => top / l);
  const conditionIndicesBKW = Float64Array.from(conditionIndices, Math.sqrt);

  const order =
    opts.ordering === 'fast'
      ? fastOrder(systems, componentBlock, componentColumn, n, opts.signal)
      : exactOrder(systems as DenseSystem[], blocks as CovBlock[], n, opts);
  // Both orderings start with the argmax on xi's component over all parameters: zeta.
  const zeta = order[0];
  return {
    n,
    eigenvalues,
    conditionIndices,
    conditionIndicesBKW,
    multiplicity,
    componentBlock,
    componentColumn,
    systems,
    xi: 0,
    zeta,
    order,
    ordering: opts.ordering,
  };
}

function initialTaken(s: BlockSystem): Uint8Array {
  return Uint8Array.from(s.params, (p) => (p < 0 ? 1 : 0));
}

function fastOrder(
  systems: BlockSystem[],
  componentBlock: Int32Array,
  componentColumn: Int32Array,
  n: number,
  signal?: AbortSignal,
): Int32Array {
  const taken = systems.map(initialTaken);
  const order: number[] = [];
  for (let g = 0; g < componentBlock.length && order.length < n; g++) {
    if ((g & 4095) === 0) throwIfCancelled(signal, 'Belsley ordering');
    const b = componentBlock[g];
    const i = systems[b].argmax(componentColumn[g], taken[b]);
    if (i < 0) continue; // a Kronecker grid with pruned cells has more components than parameters
    taken[b][i] = 1;
    order.push(systems[b].params[i]);
  }
  if (order.length < n) order.push(...leftovers(systems, taken, componentBlock, componentColumn));
  if (order.length !== n)
    throw new PruneScopeError('internal', `fast ordering took ${order.length} of ${n} parameters`);
  return Int32Array.from(order);
}

/**
 * Parameters no component took (only blocks with a pooled complement leave any): by decreasing
 * proportion on the components in global order (a parameter has proportion 0 on other blocks'
 * components), then by lower flat index.
 */
function leftovers(
  systems: BlockSystem[],
  taken: Uint8Array[],
  componentBlock: Int32Array,
  componentColumn: Int32Array,
): number[] {
  // Each block's columns in global order (global positions ascending).
  const cols = systems.map(() => [] as { g: number; c: number }[]);
  componentBlock.forEach((b, g) => cols[b].push({ g, c: componentColumn[g] }));
  const rest: { b: number; i: number }[] = [];
  systems.forEach((s, b) => s.params.forEach((p, i) => p >= 0 && !taken[b][i] && rest.push({ b, i })));
  const differ = (x: number, y: number) => Math.abs(x - y) > TIE_TOL * Math.max(Math.abs(x), Math.abs(y));
  rest.sort((x, y) => {
    const cx = cols[x.b],
      cy = cols[y.b];
    let p = 0,
      r = 0;
    while (p < cx.length || r < cy.length) {
      let vx = 0,
        vy = 0;
      const gx = p < cx.length ? cx[p].g : Infinity;
      const gy = r < cy.length ? cy[r].g : Infinity;
      if (x.b === y.b) {
        vx = systems[x.b].q(x.i, cx[p].c);
        vy = systems[y.b].q(y.i, cy[r].c);
        p++;
        r++;
      } else if (gx < gy) vx = systems[x.b].q(x.i, cx[p++].c);
      else vy = systems[y.b].q(y.i, cy[r++].c);
      if (differ(vx, vy)) return vy - vx;
    }
    return systems[x.b].params[x.i] - systems[y.b].params[y.i];
  });
  return rest.map(({ b, i }) => systems[b].params[i]);
}

/** Remove zeta of the globally smallest eigenvalue; re-decompose only its block; repeat (dense blocks). */
function exactOrder(systems0: DenseSystem[], blocks: CovBlock[], n: number, opts: BlockBelsleyOptions): Int32Array {
  const eigs = systems0.map((s) => ({ idx: Array.from(s.params), lam: s.lam, u2: s.u2 }));
  // Standardised blocks indexed by flat index, to take submatrices of R after removals.
  const rs = blocks.map((b) => ({
    r: standardize(b.matrix, b.indices.length, b.name, (i) => `parameter ${b.indices[i]}`),
    pos: new Map(Array.from(b.indices, (f, i) => [f, i])),
    m: b.indices.length,
  }));
  const first = (e: { idx: number[] }) => (e.idx.length ? e.idx[0] : Infinity);
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
      if (l < lb || (l === lb && first(eigs[b]) < first(eigs[bb]))) bb = b;
    }
    const e = eigs[bb];
    const m = e.idx.length;
    const sys = new DenseSystem('', Int32Array.from(e.idx), e.lam, e.u2);
    sys.finish(floor);
    const i = sys.argmax(0, new Uint8Array(m));
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
    eigs[bb] = mm ? { idx, ...squaredEigen(sub, mm) } : { idx, lam: new Float64Array(0), u2: new Float64Array(0) };
  }
  return Int32Array.from(order);
}

/** The largest dense block size (the exact ordering costs about sum over blocks of m^4 / 4). */
export function largestBlock(blocks: BelsleyBlock[]): number {
  return blocks.reduce((s, b) => Math.max(s, blockSize(b)), 0);
}
