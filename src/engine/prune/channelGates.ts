// Channel gates: a scalar alpha_k on every channel k of a dependency group, multiplying the weights
// that read it (the consumers' input slices), so alpha_k = 1 is the model and alpha_k = 0 removes the
// channel. The gate derivative of row r is sum_e w_e dl_r/dw_e over those slices, which equals
// sum over the consumers' input positions of x * dl_r/dx restricted to the channel: one product of
// each consumer's input and its input gradient, summed over positions. From rows of gate
// derivatives over the data come the channel-level second moments Belsley needs natively:
//   gradient: the covariance of per-sample gate gradients (rows = samples, c = 1);
//   laplace:  (sum_n J_n^T H_n J_n + tau I)^-1, the Gauss-Newton posterior of the gates (rows = the
//             loss Hessian's square-root factor propagated, c = classes), tau = 1 / mean(alpha^2) = 1.
import * as tf from '@tensorflow/tfjs';
import { throwIfCancelled } from '../errors';
import { propagate } from '../model/backward';
import { disposePass, Graph } from '../model/graph';
import type { PlannedOp } from '../model/graphPlan';
import { LossKind, lossHessianRoot, lossKindOf, topDelta } from '../model/loss';
import { repeatRows } from '../layers/util';
import { inverseSpd } from '../linalg/inverseSpd';
import { ChannelGroups, prunableGroups } from './groups';

export type GateSource = 'gradient' | 'laplace';

export interface GateMoments {
  source: GateSource;
  /** Per group id: sum over rows of the gate-derivative outer products (C x C, row-major). */
  outer: Map<number, Float64Array>;
  /** Per group id: sum over rows of the gate derivatives (C). */
  sum: Map<number, Float64Array>;
  /** Samples seen. */
  samples: number;
}

interface Consumer {
  op: PlannedOp;
  group: number;
  /** Channel of the group for each position of the consumer's input channel axis. */
  channel: Int32Array;
}

function consumers(graph: Graph, groups: ChannelGroups, ids: Set<number>): Consumer[] {
  const out: Consumer[] = [];
  for (const op of graph.ops) {
    if (op.role !== 'layer' || (op.node.className !== 'Dense' && op.node.className !== 'Conv2D')) continue;
    const tc = groups.tensorChannels.get(op.node.inputs[0]);
    if (tc && ids.has(tc.group)) out.push({ op, group: tc.group, channel: tc.channel });
  }
  return out;
}

/**
 * Accumulates gate-derivative moments over the rows of x (inputs [N, ...]) and targets y (one-hot or
 * values, [N, K]) in batches. Groups: the prunable ones (channels mode).
 */
export function gateMoments(
  graph: Graph,
  groups: ChannelGroups,
  x: Float32Array,
  y: Float32Array,
  rows: number,
  source: GateSource,
  opts: { batchSize?: number; signal?: AbortSignal } = {},
): GateMoments {
  const kind: LossKind = lossKindOf(graph);
  const ids = new Set(prunableGroups(groups).map((g) => g.id));
  const cons = consumers(graph, groups, ids);
  const outer = new Map<number, Float64Array>();
  const sum = new Map<number, Float64Array>();
  for (const id of ids) {
    const C = groups.groups[id].channels;
    outer.set(id, new Float64Array(C * C));
    sum.set(id, new Float64Array(C));
  }
  const features = graph.inputSize;
  const K = graph.outputSize;
  const B = opts.batchSize ?? 128;
  for (let start = 0; start < rows; start += B) {
    throwIfCancelled(opts.signal, 'channel gates');
    const n = Math.min(B, rows - start);
    const xb = tf.tensor2d(x.subarray(start * features, (start + n) * features), [n, features]);
    const yb = tf.tensor2d(y.subarray(start * K, (start + n) * K), [n, K]);
    const pass = graph.forward(xb);
    const c = source === 'gradient' ? 1 : K;
    const block =
      source === 'gradient'
        ? topDelta(kind, pass.output as tf.Tensor2D, yb)
        : lossHessianRoot(kind, pass.output as tf.Tensor2D);
    const R = n * c;
    const rowsOf = new Map<number, Float64Array>();
    for (const id of ids) rowsOf.set(id, new Float64Array(R * groups.groups[id].channels));
    const byOp = new Map(cons.map((k) => [k.op.index, k]));
    try {
      propagate(graph, pass, {
        start: graph.plan.top,
        block,
        c,
        wants: (op) => byOp.has(op.index),
        visit: (op, g, s) => {
          const k = byOp.get(op.index)!;
          const need = op.inputs.map((_, i) => i === 0);
          const prod = tf.tidy(() => {
            const gx = op.layer.inputGrads(g, s, graph.vars[op.index], c, need)[0]!;
            const xi = repeatRows(s.inputs[0], c);
            const cin = gx.shape[gx.shape.length - 1];
            return tf.sum(tf.reshape(tf.mul(gx, xi), [R, -1, cin]), 1);
          });
          const v = prod.dataSync();
          prod.dispose();
          const cin = k.channel.length;
          const C = groups.groups[k.group].channels;
          const acc = rowsOf.get(k.group)!;
          for (let r = 0; r < R; r++) for (let j = 0; j < cin; j++) acc[r * C + k.channel[j]] += v[r * cin + j];
        },
      });
    } finally {
      disposePass(pass);
      tf.dispose([xb, yb, block]);
    }
    for (const id of ids) {
      const C = groups.groups[id].channels;
      const G = rowsOf.get(id)!;
      const M = outer.get(id)!;
      const s = sum.get(id)!;
      for (let r = 0; r < R; r++) {
        const row = G.subarray(r * C, (r + 1) * C);
        for (let a = 0; a < C; a++) {
          s[a] += row[a];
          const ra = row[a];
          if (ra === 0) continue;
          for (let b = 0; b < C; b++) M[a * C + b] += ra * row[b];
        }
      }
    }
  }
  return { source, outer, sum, samples: rows };
}

/** The gates' covariance for a group (C x C, row-major) from the accumulated moments. */
export function gateCovariance(m: GateMoments, id: number, priorPrecision = 1): Float64Array {
  const M = m.outer.get(id)!;
  const C = m.sum.get(id)!.length;
  if (m.source === 'gradient') {
    const s = m.sum.get(id)!;
    const N = m.samples;
    return Float64Array.from(M, (v, i) => v / N - (s[Math.floor(i / C)] * s[i % C]) / (N * N));
  }
  const P = Float64Array.from(M);
  for (let a = 0; a < C; a++) P[a * C + a] += priorPrecision;
  return inverseSpd(P, C).s;
}
