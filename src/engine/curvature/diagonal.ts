// Diagonals of the GGN, the exact Hessian and the Monte-Carlo GGN of the mean loss, BackPACK style
// (DiagGGN, DiagHessian, DiagGGN-MC), as drivers of the one backward pass (model/backward.ts):
// - GGN: a square root S of each sample's loss Hessian w.r.t. the top tensor (K rows per sample) is
//   carried down by the layers' VJPs; each layer adds sum_r (row r's weight gradient)^2.
// - MC-GGN: the same with one sampled column per sample (c = 1; unbiased, for many classes).
// - Hessian: the GGN plus, for every element-wise non-linear op, the signed diagonal term
//   r = f''(x) * dL/dy at its input (its `residual`; dL/dy from a c = 1 gradient pass). A term is
//   carried down exactly as a diagonal through ops with diagonal Jacobians (diagonalThrough), used
//   by the weights it meets (weightDiagFromDiagonal), and below the first non-diagonal op either
//   (a) as the exact diagonal of J^T diag(r) J when the only weights left are one layer that needs
//   no more (diagonalSuffices: Dense), or (b) expanded into a signed factor (one row per element:
//   sqrt|r| e_j, sign(r)) and propagated like S. ReLU, max pooling and linear maps have no term,
//   so the Hessian of a ReLU network equals its GGN.
import * as tf from '@tensorflow/tfjs';
import type { Graph, Pass } from '../model/graph';
import { disposePass } from '../model/graph';
import type { PlannedOp } from '../model/graphPlan';
import { propagate, requiredTensors } from '../model/backward';
import { LossKind, lossHessianRoot, lossKindOf, sampleLosses, sampledHessianRoot, topDelta } from '../model/loss';
import { rowSquareSum, sizeOf } from '../layers/util';
import type { WeightSums } from './batch';

export type DiagonalMode = 'ggn' | 'hessian' | 'mc-ggn';

/** Weights at or below each tensor (some op with trainable weights produces it or feeds it). */
function weightsBelow(graph: Graph): boolean[] {
  return requiredTensors(graph, (op) => op.paramCount > 0);
}

const producer = (graph: Graph, t: number): PlannedOp | undefined => (t > 0 ? graph.ops[t - 1] : undefined);

/**
 * Collects one chunk's curvature per weight. For layers whose weight diagonal needs only the
 * diagonal of the output's Hessian (diagonalSuffices: Dense), every contribution (a factor's
 * signed row squares, an exact diagonal term, the diagonal below a curved layer) is first summed
 * as that diagonal, so the layer does ONE product with its squared inputs per chunk; that sum is
 * what weightStats' squares would give term by term.
 */
class Collector {
  private readonly pending = new Map<PlannedOp, tf.Tensor>();
  constructor(
    private readonly graph: Graph,
    private readonly pass: Pass,
    readonly sums: WeightSums,
  ) {}

  private pools(op: PlannedOp): boolean {
    return !!op.layer.diagonalSuffices && !!op.layer.weightDiagFromDiagonal;
  }

  /** diag(D) of the loss Hessian at op's output (owned by the caller). */
  diag(op: PlannedOp, D: tf.Tensor): void {
    if (!this.pools(op)) {
      const s = this.pass.saved[op.index];
      this.sums.addOp(op.weightIndex, op.layer.weightDiagFromDiagonal!(D, s, this.graph.vars[op.index]));
      return;
    }
    const old = this.pending.get(op);
    this.pending.set(op, old ? tf.add(old, D) : D.clone());
    old?.dispose();
  }

  /** Rows g [n*c, ...out] of a (signed) factor at op's output. */
  rows(op: PlannedOp, g: tf.Tensor, c: number, signs?: tf.Tensor2D): void {
    if (this.pools(op)) {
      const d = rowSquareSum(g, c, signs);
      this.diag(op, d);
      d.dispose();
      return;
    }
    const s = this.pass.saved[op.index];
    this.sums.addOp(
      op.weightIndex,
      op.layer.weightStats!(g, s, this.graph.vars[op.index], c, { squares: true, signs }).squares!,
    );
  }

  flush(): void {
    for (const [op, D] of this.pending) {
      const s = this.pass.saved[op.index];
      this.sums.addOp(op.weightIndex, op.layer.weightDiagFromDiagonal!(D, s, this.graph.vars[op.index]));
      D.dispose();
    }
    this.pending.clear();
  }

  dispose(): void {
    tf.dispose([...this.pending.values()]);
    this.pending.clear();
  }
}

/**
 * Starting below a non-diagonal op at tensor u: does a chain of single-input diagonal ops lead to
 * one layer with diagonalSuffices and no weights below it? Then the exact diagonal of J^T diag(r) J
 * serves every weight left, and no factor is needed.
 */
function diagonalServes(graph: Graph, below: boolean[], u: number): boolean {
  for (let op = producer(graph, u); op; op = producer(graph, op.inputs[0])) {
    if (op.inputs.length !== 1) return false;
    if (op.paramCount > 0)
      return !!op.layer.diagonalSuffices && !!op.layer.weightDiagFromDiagonal && !below[op.inputs[0]];
    if (!op.layer.diagonalThrough) return false;
  }
  return false;
}

/**
 * Adds sum_r sign_r (row r's weight gradient)^2 at every op with weights (except `skip`) for a block
 * entering at `start`.
 */
function propagateSquares(
  graph: Graph,
  pass: Pass,
  start: number,
  block: tf.Tensor,
  c: number,
  signs: tf.Tensor2D | undefined,
  col: Collector,
  skip?: PlannedOp,
): void {
  propagate(graph, pass, {
    start,
    block,
    c,
    wants: (op) => op.paramCount > 0 && op !== skip,
    visit: (op, g) => col.rows(op, g, c, signs),
  });
}

/** One element-wise op's residual diag(D) at tensor t (owned), carried down as described above. */
function residualTerm(graph: Graph, pass: Pass, t: number, D: tf.Tensor, col: Collector, below: boolean[]): void {
  let d = D;
  try {
    for (let op = producer(graph, t); op; op = producer(graph, t)) {
      const s = pass.saved[op.index];
      const w = graph.vars[op.index];
      if (op.paramCount > 0) {
        if (!op.layer.weightDiagFromDiagonal) {
          expandAt(graph, pass, t, d, col);
          return;
        }
        col.diag(op, d);
      }
      if (!op.inputs.some((u) => below[u])) return;
      if (op.layer.diagonalThrough && op.inputs.length === 1) {
        const next = tf.tidy(() => op.layer.diagonalThrough!(d, s, w));
        d.dispose();
        d = next;
        t = op.inputs[0];
        continue;
      }
      // A non-diagonal op: the exact diagonal below it if one Dense-like layer is all that is left,
      // else a signed factor (op's own weights, if any, already took the exact term).
      if (op.inputs.length === 1 && op.layer.squaredJacobianT && diagonalServes(graph, below, op.inputs[0]))
        diagonalBelow(graph, pass, op, d, col);
      else expandAt(graph, pass, t, d, col, op.paramCount > 0 ? op : undefined);
      return;
    }
  } finally {
    d.dispose();
  }
}

/** The exact diagonal of J^T diag(d) J below `op`, carried through diagonal ops to the one layer left. */
function diagonalBelow(graph: Graph, pass: Pass, op: PlannedOp, d: tf.Tensor, col: Collector): void {
  let e = tf.tidy(() => op.layer.squaredJacobianT!(d, pass.saved[op.index], graph.vars[op.index]));
  try {
    for (let q = producer(graph, op.inputs[0]); q; q = producer(graph, q.inputs[0])) {
      const sq = pass.saved[q.index];
      if (q.paramCount > 0) {
        col.diag(q, e);
        return;
      }
      const next = tf.tidy(() => q.layer.diagonalThrough!(e, sq, graph.vars[q.index]));
      e.dispose();
      e = next;
    }
  } finally {
    e.dispose();
  }
}

/**
 * diag(d) at tensor t as a signed factor, one row per element of t per sample (row j = sqrt|d_j| e_j,
 * sign(d_j)), propagated down. `done`: an op whose weights already took the exact term.
 */
function expandAt(graph: Graph, pass: Pass, t: number, d: tf.Tensor, col: Collector, done?: PlannedOp): void {
  const [n, ...shape] = d.shape;
  const m = sizeOf(shape);
  const [rows, signs] = tf.tidy(() => {
    const flat = tf.reshape(d, [n, m]);
    const root = tf.sqrt(tf.abs(flat));
    const r = tf.mul(root.expandDims(2), tf.eye(m).expandDims(0)).reshape([n * m, ...shape]);
    return [r, tf.sign(flat) as tf.Tensor2D] as const;
  });
  try {
    propagateSquares(graph, pass, t, rows, m, signs, col, done);
  } finally {
    tf.dispose([rows, signs]);
  }
}

export interface DiagonalChunkOptions {
  mode: DiagonalMode;
  kind?: LossKind;
  /** MC-GGN: the source of the sampled labels / noise. */
  draw?: { next(): number; normal(): number };
}

/** Adds this chunk's per-weight sums of the diagonal (not yet divided by N) and returns the chunk's summed loss. */
export function diagonalChunk(
  graph: Graph,
  x: tf.Tensor,
  target: tf.Tensor2D,
  sums: WeightSums,
  o: DiagonalChunkOptions,
): number {
  const kind = o.kind ?? lossKindOf(graph);
  const pass = graph.forward(x);
  const col = new Collector(graph, pass, sums);
  try {
    const out = pass.output as tf.Tensor2D;
    const K = out.shape[1];
    const mc = o.mode === 'mc-ggn';
    const root = mc ? sampledHessianRoot(kind, out, o.draw!) : lossHessianRoot(kind, out);
    try {
      propagateSquares(graph, pass, graph.plan.top, root, mc ? 1 : K, undefined, col);
    } finally {
      root.dispose();
    }
    if (o.mode === 'hessian') residualTerms(graph, pass, kind, target, col);
    col.flush();
    return tf.tidy(() => tf.sum(sampleLosses(kind, out, target)).dataSync()[0]);
  } finally {
    col.dispose();
    disposePass(pass);
  }
}

/** The Hessian's residual terms: a c = 1 gradient pass collects f''(x) dL/dy at every curved op. */
function residualTerms(graph: Graph, pass: Pass, kind: LossKind, target: tf.Tensor2D, col: Collector): void {
  const below = weightsBelow(graph);
  const curved = (op: PlannedOp) => !!op.layer.residual && op.inputs.length === 1 && below[op.inputs[0]];
  if (!graph.ops.some(curved)) return;
  const terms: { t: number; r: tf.Tensor }[] = [];
  const delta = topDelta(kind, pass.output as tf.Tensor2D, target);
  try {
    propagate(graph, pass, {
      start: graph.plan.top,
      block: delta,
      c: 1,
      wants: curved,
      visit: (op, g, s) => {
        const r = tf.tidy(() => op.layer.residual!(g, s, graph.vars[op.index]));
        if (r) terms.push({ t: op.inputs[0], r });
      },
    });
    // Each term is consumed (disposed) by residualTerm.
    while (terms.length) {
      const { t, r } = terms.shift()!;
      residualTerm(graph, pass, t, r, col, below);
    }
  } finally {
    delta.dispose();
    tf.dispose(terms.map((x) => x.r));
  }
}

/**
 * Rows per sample of the widest signed factor a curved op's residual expands into (0 when every
 * term stays a diagonal): the path residualTerm takes, traced without tensors.
 */
export function residualFactorWidth(graph: Graph): number {
  const below = weightsBelow(graph);
  let widest = 0;
  for (const r of graph.ops) {
    if (!r.layer.residual || r.inputs.length !== 1 || !below[r.inputs[0]]) continue;
    let t = r.inputs[0];
    for (let op = producer(graph, t); op; op = producer(graph, t)) {
      if (op.paramCount > 0 && !op.layer.weightDiagFromDiagonal) {
        widest = Math.max(widest, sizeOf(op.layer.outputShape));
        break;
      }
      if (!op.inputs.some((u) => below[u])) break;
      if (op.layer.diagonalThrough && op.inputs.length === 1) {
        t = op.inputs[0];
        continue;
      }
      if (!(op.inputs.length === 1 && op.layer.squaredJacobianT && diagonalServes(graph, below, op.inputs[0])))
        widest = Math.max(widest, sizeOf(op.layer.outputShape));
      break;
    }
  }
  return widest;
}

/** Per-sample floats of a chunk's largest blocks: c = K (GGN), 1 (MC), or an expanded residual factor. */
export function diagonalFloatsPerSample(graph: Graph, mode: DiagonalMode, factorWidth: (c: number) => number): number {
  const K = graph.outputSize;
  let c = mode === 'mc-ggn' ? 1 : K;
  if (mode === 'hessian') c = Math.max(c, residualFactorWidth(graph));
  return factorWidth(c);
}
