// Graph-level Belsley relevance: the block-diagonal route against the dense belsley() on the
// assembled matrix built independently here (GGN blocks x N + prior, inverted by Gauss-Jordan in this
// file); pruned parameters; the trajectory path against the explicit (1 - rho) Z Z^T + rho I; the
// gradient source against the ordering module's own blocks; refusals; provenance; the dispatcher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { denseFromFlat, denseLayout } from '../../src/engine/model/denseChain';
import { Graph } from '../../src/engine/model/graph';
import { numClasses, xTensor, yTensor, DataSplit } from '../../src/engine/data/dataset';
import { ggnLayerBlock } from '../../src/engine/curvature';
import { belsley } from '../../src/engine/relevance/belsley';
import { belsleyRelevance, VARIATIONAL_FULL_REFUSAL } from '../../src/engine/relevance/belsleyNetwork';
import { blockBelsley, CovBlock } from '../../src/engine/relevance/covariance/blockBelsley';
import { fromSnapshots, trajectoryBelsley } from '../../src/engine/relevance/covariance/trajectory';
import { gradientBlocks } from '../../src/engine/relevance/covariance/gradient';
import { computeRelevance } from '../../src/engine/relevance/compute';
import { orderByScore } from '../../src/engine/util/order';
import { orderParameters } from '../../src/engine/ordering/orderModel';
import { PruneScopeError } from '../../src/engine/errors';
import type { BelsleyCovariance } from '../../src/engine/options';
import { Rng } from '../../src/engine/util/random';
import { linearRegression } from '../train/fixtures';
import { close, invert, tinyNet } from './belsleyHelpers';

/**
 * The dense Laplace covariance over the active parameters (ascending flat order): per layer,
 * (N * GGN + tau I) restricted to the active rows/columns, tau = (#active) / sum w^2, inverted;
 * diagonalLayers get an identity block (what a diagonal block standardises to).
 */
async function denseLaplace(
  net: Graph,
  split: DataSplit,
  diagonalLayers: number[] = [],
): Promise<{ s: Float64Array; active: number[] }> {
  const w = net.toFlat();
  const active = Array.from(w.keys()).filter((j) => w[j] !== 0);
  const n = active.length;
  const s = new Float64Array(n * n);
  const x = xTensor(split.train, split.dataset.features);
  const y = yTensor(split.train, split.dataset.task, numClasses(split.dataset));
  const N = split.train.rows;
  for (const lay of denseLayout(net)!) {
    const pos = active
      .map((j, p) => [j, p])
      .filter(([j]) => j >= lay.kernelOffset && j < lay.biasOffset + lay.biasSize);
    const m = pos.length;
    if (diagonalLayers.includes(lay.index)) {
      for (const [, p] of pos) s[p * n + p] = 1;
      continue;
    }
    const g = await ggnLayerBlock(net, x, y, lay.index);
    const P = g.size;
    const tau = m / pos.reduce((acc, [j]) => acc + w[j] * w[j], 0);
    const h = new Float64Array(m * m);
    for (let a = 0; a < m; a++) {
      for (let b = 0; b < m; b++)
        h[a * m + b] = N * g.values[(pos[a][0] - lay.kernelOffset) * P + pos[b][0] - lay.kernelOffset];
      h[a * m + a] += tau;
    }
    const inv = invert(h, m);
    for (let a = 0; a < m; a++)
      for (let b = 0; b < m; b++) s[pos[a][1] * n + pos[b][1]] = 0.5 * (inv[a * m + b] + inv[b * m + a]);
  }
  x.dispose();
  y.dispose();
  return { s, active };
}

function isPermutation(order: ArrayLike<number>, n: number): boolean {
  const seen = new Uint8Array(n);
  for (const j of Array.from(order)) {
    if (j < 0 || j >= n || seen[j]) return false;
    seen[j] = 1;
  }
  return order.length === n;
}

/** Compare a result's extras (full proportions, since n is small) with the dense belsley() result. */
function checkAgainstDense(
  r: Awaited<ReturnType<typeof belsleyRelevance>>,
  dense: ReturnType<typeof belsley>,
  active: number[],
): void {
  const ex = r.extra as {
    conditionIndices: number[];
    conditionIndicesBKW: number[];
    proportions: number[][];
    proportionParameters: number[];
    zeta: number;
  };
  close(ex.conditionIndices, dense.conditionIndices, 1e-7, 'eta');
  close(ex.conditionIndicesBKW, dense.conditionIndicesBKW, 1e-7, 'eta BKW');
  assert.deepEqual(ex.proportionParameters, active);
  const n = active.length;
  for (let i = 0; i < n; i++)
    close(ex.proportions[i], Array.from(dense.proportions.subarray(i * n, i * n + n)), 1e-6, `q row ${i}`);
  assert.equal(ex.zeta, active[dense.zeta]);
}

test('laplace, 3-2-1: block-wise condition indices, proportions and exact/fast orders equal dense belsley() on the assembled block-diagonal S', async () => {
  await backend();
  const { split } = linearRegression(40, 3, 11);
  const net = tinyNet();
  const { s, active } = await denseLaplace(net, split);
  assert.equal(active.length, 11);
  // The assembled S really couples parameters within a layer (otherwise the test would be vacuous).
  assert.ok(Math.abs(s[0 * 11 + 1]) > 1e-6 * Math.sqrt(s[0] * s[12]));
  for (const ordering of ['exact', 'fast'] as const) {
    const dense = belsley(s, 11, { ordering });
    const r = await belsleyRelevance(net, split, { covariance: 'laplace', ordering });
    checkAgainstDense(r, dense, active);
    assert.deepEqual(
      Array.from(r.order),
      Array.from(dense.order, (i) => active[i]),
      ordering,
    );
    assert.equal(r.variant, ordering);
  }
  // Default: 11 <= 200 active parameters, so exact.
  const def = await belsleyRelevance(net, split);
  assert.equal(def.variant, 'exact');
  assert.equal(def.covariance, 'laplace');
  net.dispose();
});

test('pruned (exactly zero) parameters go first by flat index and are excluded from S; scores are positions', async () => {
  await backend();
  const { split } = linearRegression(40, 3, 12);
  const net = tinyNet(5);
  const w = net.toFlat();
  w[9] = 0;
  w[1] = 0;
  w[7] = 0; // two in layer h (kernel 1, bias 7), one in out (kernel 9)
  net.setFlat(w);
  const { s, active } = await denseLaplace(net, split);
  assert.equal(active.length, 8);
  const dense = belsley(s, 8, { ordering: 'exact' });
  const before = tf.memory().numTensors;
  const r = await belsleyRelevance(net, split, { ordering: 'exact' });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  assert.deepEqual(Array.from(r.order.subarray(0, 3)), [1, 7, 9]);
  assert.deepEqual(
    Array.from(r.order.subarray(3)),
    Array.from(dense.order, (i) => active[i]),
  );
  checkAgainstDense(r, dense, active);
  assert.ok(isPermutation(r.order, 11));
  r.order.forEach((j, p) => assert.equal(r.scores[j], p));
  assert.deepEqual(Array.from(orderByScore(r.scores)), Array.from(r.order));
  assert.deepEqual(Array.from(net.toFlat()), Array.from(w), 'model changed');
  net.dispose();
});

test('blockBelsley equals dense belsley() for several random SPD blocks and a singleton (diagonal) block, in both orderings', () => {
  const rng = new Rng(21);
  // One singleton only: two singletons both have lambda = 1 exactly, and which of two tied columns
  // comes first is not defined, so matching proportions column by column would be ambiguous.
  const sizes = [5, 1, 7, 3, 2];
  const n = sizes.reduce((a, b) => a + b, 0);
  // Interleaved flat indices so blocks are not contiguous in the flat order.
  const perm = Array.from(rng.permutation(n)).map((v) => v * 2 + 1);
  const blocks: CovBlock[] = [];
  let at = 0;
  for (const m of sizes) {
    const idx = perm.slice(at, at + m).sort((a, b) => a - b);
    at += m;
    const b = Array.from({ length: m * (m + 2) }, () => rng.normal());
    const mat = new Float64Array(m * m);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < m; j++) {
        let v = 0;
        for (let k = 0; k < m + 2; k++) v += b[i * (m + 2) + k] * b[j * (m + 2) + k] * (1 + i + j) ** 0.5;
        mat[i * m + j] = v;
      }
    for (let i = 0; i < m; i++)
      for (let j = 0; j < i; j++) {
        const v = 0.5 * (mat[i * m + j] + mat[j * m + i]);
        mat[i * m + j] = v;
        mat[j * m + i] = v;
      }
    for (let i = 0; i < m; i++) mat[i * m + i] += 0.05;
    blocks.push({ name: `b${blocks.length}`, indices: Int32Array.from(idx), matrix: mat });
  }
  const flat = blocks.flatMap((b) => Array.from(b.indices)).sort((a, b) => a - b);
  const pos = new Map(flat.map((f, p) => [f, p]));
  const s = new Float64Array(n * n);
  for (const b of blocks) {
    const m = b.indices.length;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < m; j++) s[pos.get(b.indices[i])! * n + pos.get(b.indices[j])!] = b.matrix[i * m + j];
  }
  for (const ordering of ['exact', 'fast'] as const) {
    const dense = belsley(s, n, { ordering });
    const r = blockBelsley(blocks, { ordering });
    close(r.conditionIndices, dense.conditionIndices, 1e-8, 'eta');
    assert.deepEqual(
      Array.from(r.order),
      Array.from(dense.order, (i) => flat[i]),
      ordering,
    );
    assert.equal(r.zeta, flat[dense.zeta]);
    // Proportions, matched by component: global column g is column componentColumn[g] of block componentBlock[g].
    r.systems.forEach((b, bi) => {
      const m = b.params.length;
      const columns = Array.from(r.componentBlock.keys()).filter((g) => r.componentBlock[g] === bi);
      assert.deepEqual(
        columns.map((g) => r.componentColumn[g]),
        Array.from({ length: m }, (_, j) => j),
      );
      for (let i = 0; i < m; i++) {
        const row = pos.get(b.params[i])!;
        let sum = 0;
        for (let j = 0; j < m; j++) {
          const q = b.q(i, j);
          sum += q;
          assert.ok(Math.abs(q - dense.proportions[row * n + columns[j]]) < 1e-8, `${b.name} q[${i}][${j}]`);
        }
        assert.ok(Math.abs(sum - 1) < 1e-12);
      }
    });
  }
});

// A layer over blockLimit is Kronecker-factored now: belsleyKron.test.ts checks it (and 'diag' on request).

test('trajectory path: two parameters moving together are the worst near-dependency; low-rank route equals dense belsley() on (1 - rho) Z Z^T + rho I; a constant parameter is set apart', () => {
  const rng = new Rng(4);
  const active = Int32Array.from([0, 2, 3, 5, 7, 8]);
  const k = 14;
  const n = active.length;
  const raw = new Float64Array(k * n);
  for (let a = 0; a < k; a++) {
    const base = rng.normal();
    raw[a * n + 0] = rng.normal();
    raw[a * n + 1] = base; // flat 2
    raw[a * n + 2] = rng.normal();
    raw[a * n + 3] = 2 * base + 0.02 * rng.normal(); // flat 5 follows flat 2
    raw[a * n + 4] = rng.normal();
    raw[a * n + 5] = 0.75; // flat 8 never moves
  }
  const t = fromSnapshots(raw, k, active, k);
  assert.deepEqual(t.constant, [8]);
  assert.deepEqual(Array.from(t.moving), [0, 2, 3, 5, 7]);
  const rho = 0.05;
  // Dense reference, written here: centre, scale each parameter to unit length, R = (1 - rho) Z Z^T + rho I.
  const m = 5;
  const z = new Float64Array(k * m);
  for (let i = 0; i < m; i++) {
    let mean = 0;
    for (let a = 0; a < k; a++) mean += t.snaps[a * m + i] / k;
    let ss = 0;
    for (let a = 0; a < k; a++) ss += (t.snaps[a * m + i] - mean) ** 2;
    for (let a = 0; a < k; a++) z[a * m + i] = (t.snaps[a * m + i] - mean) / Math.sqrt(ss);
  }
  const R = new Float64Array(m * m);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) {
      let v = 0;
      for (let a = 0; a < k; a++) v += z[a * m + i] * z[a * m + j];
      R[i * m + j] = (1 - rho) * v + (i === j ? rho : 0);
    }
  for (const ordering of ['exact', 'fast'] as const) {
    const dense = belsley(R, m, { ordering, input: 'correlation' });
    const got = trajectoryBelsley(t, rho, ordering);
    assert.deepEqual(
      Array.from(got.order),
      Array.from(dense.order, (i) => t.moving[i]),
      ordering,
    );
    close(got.result!.conditionIndices, dense.conditionIndices, 1e-8, 'eta');
    // The strongly collinear pair owns the worst component: zeta and its partner are 2 and 5.
    assert.ok([2, 5].includes(t.moving[got.result!.zeta]));
    const q = got.result!.proportions;
    assert.ok(q[1 * m + 0] > 0.9 && q[3 * m + 0] > 0.9, `pair proportions ${q[m]} ${q[3 * m]}`);
  }
});

test('trajectory source end to end: a permutation, pruned first, model unchanged, no tensor leak, provenance names K, every and rho', async () => {
  await backend();
  const { split } = linearRegression(60, 3, 14);
  const net = tinyNet(9);
  const w = net.toFlat();
  w[4] = 0;
  net.setFlat(w);
  const before = tf.memory().numTensors;
  const r = await belsleyRelevance(net, split, { covariance: 'trajectory', snapshots: 30, every: 2, seed: 1 });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  assert.ok(isPermutation(r.order, 11));
  assert.equal(r.order[0], 4);
  assert.deepEqual(Array.from(net.toFlat()), Array.from(w), 'model changed');
  assert.equal(r.covariance, 'trajectory');
  assert.equal(r.provenance.covariance, 'trajectory');
  const o = r.provenance.options as Record<string, unknown>;
  assert.equal(o.snapshots, 30);
  assert.equal(o.every, 2);
  assert.equal(o.rho, 0.05);
  assert.equal(o.steps, 60);
  assert.equal(r.provenance.seed, 1);
  // A cancelled job stops with a 'cancelled' error and leaves no tensors behind.
  const ac = new AbortController();
  let calls = 0;
  await assert.rejects(
    belsleyRelevance(net, split, {
      covariance: 'trajectory',
      snapshots: 30,
      every: 2,
      signal: ac.signal,
      onProgress: () => {
        if (++calls === 5) ac.abort();
      },
    }),
    (e: unknown) => e instanceof PruneScopeError && e.code === 'cancelled',
  );
  assert.equal(tf.memory().numTensors, before, 'tensors leaked after cancel');
  // Same seed, same result (seeded minibatches).
  const again = await belsleyRelevance(net, split, { covariance: 'trajectory', snapshots: 30, every: 2, seed: 1 });
  assert.deepEqual(Array.from(again.order), Array.from(r.order));
  net.dispose();
});

test("gradient source: its blocks are the ordering tracker's blocks (same steps, seed, batches), and its order is dense belsley() on them", async () => {
  await backend();
  const { split } = linearRegression(50, 3, 15);
  const net = tinyNet(10);
  const w = net.toFlat();
  const opts = { steps: 40, batchSize: 8, lr: 1e-3, seed: 2 };
  const ref = await orderParameters(net, split, { ...opts, mode: 'block' });
  const g = await gradientBlocks(net, split, w, new Uint8Array(11), { ...opts, blockLimit: 2048, estimator: 'essay' });
  assert.equal(g.blocks.length, 2);
  const dense = g.blocks as CovBlock[];
  assert.ok(dense.every((b) => !('kind' in b)));
  for (const b of dense) {
    const rb = ref.blocks!.find((x) => x.name === b.name)!;
    assert.equal(rb.size, b.indices.length);
    const m = rb.size;
    let scale = 0;
    for (const v of rb.matrix) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < m * m; i++)
      assert.ok(
        Math.abs(b.matrix[i] - rb.matrix[i]) <= 1e-4 * scale,
        `${b.name}[${i}]: ${b.matrix[i]} vs ${rb.matrix[i]}`,
      );
  }
  const before = tf.memory().numTensors;
  const r = await belsleyRelevance(net, split, { covariance: 'gradient', ...opts, ordering: 'exact' });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  assert.ok(isPermutation(r.order, 11));
  const s = new Float64Array(121);
  for (const b of dense) {
    const m = b.indices.length;
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) s[b.indices[i] * 11 + b.indices[j]] = b.matrix[i * m + j];
  }
  const ref11 = belsley(s, 11, { ordering: 'exact' });
  assert.deepEqual(Array.from(r.order), Array.from(ref11.order));
  assert.equal(r.provenance.covariance, 'gradient');
  assert.equal((r.provenance.options as { steps: number }).steps, 40);
  net.dispose();
});

test('variational-full is refused: mean-field posterior, diagonal S, R = I; suggests laplace or trajectory', async () => {
  await backend();
  const { split } = linearRegression(20, 3, 16);
  const net = tinyNet();
  await assert.rejects(belsleyRelevance(net, split, { covariance: 'variational-full' }), (e: unknown) => {
    assert.ok(e instanceof PruneScopeError);
    assert.equal(e.code, 'unsupported');
    assert.equal(e.context.field, 'covariance');
    assert.match(e.message, /mean-field/);
    assert.match(e.message, /identity/);
    assert.match(e.context.expected!, /laplace/);
    assert.match(e.context.expected!, /trajectory/);
    assert.ok(e.message.includes(VARIATIONAL_FULL_REFUSAL));
    return true;
  });
  await assert.rejects(
    belsleyRelevance(net, split, { covariance: 'hessian' as never }),
    (e: unknown) =>
      e instanceof PruneScopeError &&
      e.context.field === 'covariance' &&
      /laplace, trajectory, gradient/.test(e.context.expected ?? ''),
  );
  await assert.rejects(
    belsleyRelevance(net, split, { blockLimit: 0 }),
    (e: unknown) => e instanceof PruneScopeError && e.context.field === 'blockLimit',
  );
  await assert.rejects(
    belsleyRelevance(net, split, { covariance: 'trajectory', rho: 0 }),
    (e: unknown) => e instanceof PruneScopeError && e.context.field === 'rho',
  );
  const wide = denseFromFlat(
    {
      inputSize: 3,
      layers: [
        { name: 'h', units: 70, activation: 'tanh' },
        { name: 'out', units: 1, activation: 'linear' },
      ],
    },
    Float32Array.from({ length: 3 * 70 + 70 + 71 }, (_, j) => 0.1 + ((j * 37) % 11) / 20),
  );
  // Layer h has 280 active parameters > 256: the exact ordering (one re-decomposition per removal) is refused.
  await assert.rejects(
    belsleyRelevance(wide, split, { ordering: 'exact' }),
    (e: unknown) =>
      e instanceof PruneScopeError &&
      e.code === 'too-large' &&
      e.context.field === 'ordering' &&
      /256/.test(e.context.expected ?? ''),
  );
  wide.dispose();
  net.setFlat(new Float32Array(11));
  await assert.rejects(
    belsleyRelevance(net, split),
    (e: unknown) => e instanceof PruneScopeError && e.context.field === 'parameters',
  );
  net.dispose();
});

test('computeRelevance with method belsley: same order as belsleyRelevance, provenance names method, covariance, ordering and the prior', async () => {
  await backend();
  const { split } = linearRegression(40, 3, 17);
  const net = tinyNet(12);
  const viaDispatcher = await computeRelevance(net, split, { method: 'belsley', ordering: 'fast' });
  const direct = await belsleyRelevance(net, split, { ordering: 'fast' });
  assert.deepEqual(Array.from(viaDispatcher.order), Array.from(direct.order));
  assert.equal(viaDispatcher.method, 'belsley');
  const p = viaDispatcher.provenance;
  assert.equal(p.method, 'belsley');
  assert.equal(p.job, 'relevance');
  assert.equal(p.covariance, 'laplace');
  assert.equal(p.variant, 'fast');
  assert.equal((p.options as { ordering: string }).ordering, 'fast');
  assert.match(String((p.options as { prior: string }).prior), /mean\(w\^2\)/);
  assert.equal(p.data!.rows, 40);
  assert.ok(p.modelHash && p.modelHash.length === 16);
  await assert.rejects(
    computeRelevance(net, split, { method: 'belsley', covariance: 'nope' as BelsleyCovariance }),
    (e: unknown) => e instanceof PruneScopeError && e.context.field === 'covariance',
  );
  net.dispose();
});
