// Channel-gate moments against float64 central differences: the gate of channel k multiplies the
// consumers' input slices of k; its per-sample derivative (gradient source) and its Gauss-Newton
// rows J^T H J (laplace source) are differenced through the float64 reference forward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backend } from '../helpers';
import type { GraphSpec } from '../../src/engine/graphSpec';
import { Graph } from '../../src/engine/model/graph';
import { channelGroups, prunableGroups } from '../../src/engine/prune/groups';
import { gateCovariance, gateMoments } from '../../src/engine/prune/channelGates';
import { channelBelsley } from '../../src/engine/prune/channelBelsley';
import { flatParams64, forward64 } from '../reference/forward64';
import { flatLayout } from '../../src/engine/model/graphFlat';
import { GraphBuilder, randomBatch } from './graphFixtures';

function net(): GraphSpec {
  const b = new GraphBuilder(17, [5, 5, 1]);
  b.conv('c1', 'input', 1, 3, 3);
  b.bn('bn', 'c1', 3);
  b.act('r', 'bn', 'tanh');
  b.conv('c2', 'r', 3, 4, 3, { padding: 'valid', activation: 'tanh' }); // 3 x 3 x 4
  b.flatten('f', 'c2');
  b.dense('out', 'f', 36, 3, 'softmax');
  return b.output('out');
}

/** The flat parameters (float64) with channel k's consumer slices scaled by a (hand-written for this graph). */
function gated(spec: GraphSpec, group: 'c1' | 'c2', k: number, a: number): Float64Array {
  const flat = flatParams64(spec);
  const at = (node: string) => flatLayout(spec).weights.find((w) => w.node === node && w.weight === 'kernel')!.offset;
  if (group === 'c1') {
    const o = at('c2'); // kernel [3, 3, 3, 4]
    for (let p = 0; p < 9; p++) for (let q = 0; q < 4; q++) flat[o + (p * 3 + k) * 4 + q] *= a;
  } else {
    const o = at('out'); // kernel [36, 3]
    for (let p = 0; p < 9; p++) for (let q = 0; q < 3; q++) flat[o + (p * 4 + k) * 3 + q] *= a;
  }
  return flat;
}

const logitsSpec = (s: GraphSpec): GraphSpec => {
  const c = structuredClone(s);
  const out = c.nodes.find((n) => n.name === 'out')!;
  out.config = { ...(out.config as object), activation: 'linear' } as never;
  return c;
};

test('gate moments (gradient and laplace sources) match float64 central differences', async () => {
  await backend();
  const spec = net();
  const N = 6;
  const x = randomBatch(2, N, [5, 5, 1]);
  const labels = [0, 2, 1, 1, 0, 2];
  const y = new Float32Array(N * 3);
  labels.forEach((l, i) => (y[i * 3 + l] = 1));
  const graph = Graph.fromSpec(spec);
  const groups = channelGroups(spec);
  const byName = new Map(prunableGroups(groups).map((g) => [g.producers[0] as 'c1' | 'c2', g]));
  const grad = gateMoments(graph, groups, Float32Array.from(x.data), y, N, 'gradient', { batchSize: 4 });
  const ggn = gateMoments(graph, groups, Float32Array.from(x.data), y, N, 'laplace', { batchSize: 4 });
  const h = 1e-4;
  for (const name of ['c1', 'c2'] as const) {
    const g = byName.get(name)!;
    const C = g.channels;
    // d logits_n / d alpha_k and d loss_n / d alpha_k, per sample.
    const J: number[][][] = []; // [k][n][o]
    const dl: number[][] = []; // [k][n]
    for (let k = 0; k < C; k++) {
      const up = forward64(logitsSpec(spec), x, gated(spec, name, k, 1 + h)).data;
      const dn = forward64(logitsSpec(spec), x, gated(spec, name, k, 1 - h)).data;
      const z = forward64(logitsSpec(spec), x).data;
      J.push([]);
      dl.push([]);
      for (let n = 0; n < N; n++) {
        const row = [0, 1, 2].map((o) => (up[n * 3 + o] - dn[n * 3 + o]) / (2 * h));
        J[k].push(row);
        const zs = [0, 1, 2].map((o) => z[n * 3 + o]);
        const m = Math.max(...zs);
        const e = zs.map((v) => Math.exp(v - m));
        const p = e.map((v) => v / e.reduce((a, b) => a + b, 0));
        // d CE / d logits = p - y
        dl[k].push(row.reduce((a, r, o) => a + r * (p[o] - (o === labels[n] ? 1 : 0)), 0));
      }
    }
    const z = forward64(logitsSpec(spec), x).data;
    let worstG = 0;
    let worstH = 0;
    let scaleG = 0;
    let scaleH = 0;
    const Mg = grad.outer.get(g.id)!;
    const Mh = ggn.outer.get(g.id)!;
    for (let a = 0; a < C; a++)
      for (let b = 0; b < C; b++) {
        let rg = 0;
        let rh = 0;
        for (let n = 0; n < N; n++) {
          rg += dl[a][n] * dl[b][n];
          const zs = [0, 1, 2].map((o) => z[n * 3 + o]);
          const m = Math.max(...zs);
          const e = zs.map((v) => Math.exp(v - m));
          const p = e.map((v) => v / e.reduce((u, w) => u + w, 0));
          for (let o = 0; o < 3; o++)
            for (let q = 0; q < 3; q++) rh += J[a][n][o] * ((o === q ? p[o] : 0) - p[o] * p[q]) * J[b][n][q];
        }
        worstG = Math.max(worstG, Math.abs(Mg[a * C + b] - rg));
        worstH = Math.max(worstH, Math.abs(Mh[a * C + b] - rh));
        scaleG = Math.max(scaleG, Math.abs(rg));
        scaleH = Math.max(scaleH, Math.abs(rh));
      }
    assert.ok(worstG / scaleG < 1e-4, `${name} gradient outer: ${worstG / scaleG}`);
    assert.ok(worstH / scaleH < 1e-4, `${name} GGN: ${worstH / scaleH}`);
    // sum of the gradient rows = N * d(mean loss)/d alpha
    const s = grad.sum.get(g.id)!;
    for (let k = 0; k < C; k++) assert.ok(Math.abs(s[k] - dl[k].reduce((a, b) => a + b, 0)) < 1e-3 * (1 + scaleG));
    // The laplace covariance is the inverse of M + I.
    const S = gateCovariance(ggn, g.id);
    for (let a = 0; a < C; a++) {
      let e = 0;
      for (let b = 0; b < C; b++) e += S[a * C + b] * (Mh[b * C + a] + (a === b ? 1 : 0));
      assert.ok(Math.abs(e - 1) < 1e-9);
    }
  }
  graph.dispose();
});

// (Under the laplace source the prior dominates the sloppy direction at this data size: eta ~ 100
// with or without the duplicate, so only the gradient covariance is asserted here.)
test('native channel Belsley: of two channels that carry the same signal, one goes first', async () => {
  await backend();
  for (const source of ['gradient'] as const) {
    const b = new GraphBuilder(23, [6, 6, 1]);
    b.conv('c1', 'input', 1, 5, 3, { activation: 'tanh' });
    b.conv('c2', 'c1', 5, 4, 3, { padding: 'valid', activation: 'relu' });
    b.gap('gap', 'c2');
    b.dense('out', 'gap', 4, 3, 'softmax');
    const spec = b.output('out');
    // c1's channel 3 duplicates channel 1 (same filter and bias); c2 reads it with twice the weights,
    // so the gate of channel 3 moves the loss exactly as twice the gate of channel 1.
    const c1 = spec.nodes[0].weights;
    const c2 = spec.nodes[1].weights[0].values; // [3, 3, 5, 4]
    for (let p = 0; p < 9; p++) c1[0].values[p * 5 + 3] = c1[0].values[p * 5 + 1];
    c1[1].values[3] = c1[1].values[1];
    for (let p = 0; p < 9; p++) for (let o = 0; o < 4; o++) c2[(p * 5 + 3) * 4 + o] = 2 * c2[(p * 5 + 1) * 4 + o];
    const N = 256;
    const x = randomBatch(5, N, [6, 6, 1]);
    const y = new Float32Array(N * 3);
    for (let i = 0; i < N; i++) y[i * 3 + (i % 3)] = 1;
    const graph = Graph.fromSpec(spec);
    const groups = channelGroups(spec);
    const r = channelBelsley(graph, groups, { x: Float32Array.from(x.data), y, rows: N }, { source });
    const g = prunableGroups(groups).find((v) => v.producers[0] === 'c1')!;
    const res = r.results.get(g.id)!;
    assert.ok(res.belsley.conditionIndices[0] > 1e4, `${source}: eta_max ${res.belsley.conditionIndices[0]}`);
    const first = res.channels[res.belsley.order[0]];
    assert.ok(first === 1 || first === 3, `${source}: first removed ${first}`);
    const s = r.scores.get(g.id)!;
    assert.equal(Math.min(...s), s[first]);
    graph.dispose();
  }
});
