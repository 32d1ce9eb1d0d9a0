// Belsley on Kronecker-factored (K-FAC) Laplace blocks and on low-rank plus diagonal blocks, against
// independent references: the explicit Kronecker product of the damped factors inverted by
// Gauss-Jordan here and decomposed by the dense belsley(); the K-FAC factors against the exact GGN
// block where K-FAC is exact (one sample; a linear MSE layer) and against a float64 forward pass
// written out here; the low-rank block against belsleyLowRank; the digits network's first layer.
import { test } from 'node:test';
import * as path from 'path';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { NetworkSpec, denseFromFlat, randomDense } from '../../src/engine/model/denseChain';
import type { Graph } from '../../src/engine/model/graph';
import { numClasses, xTensor, yTensor, DataSplit } from '../../src/engine/data/dataset';
import { loadDataset, splitDataset } from '../../src/engine/data';
import { ggnLayerBlock } from '../../src/engine/curvature';
import { belsley } from '../../src/engine/relevance/belsley';
import { belsleyLowRank } from '../../src/engine/relevance/belsleyLowRank';
import { belsleyRelevance } from '../../src/engine/relevance/belsleyNetwork';
import { blockBelsley, CovBlock, LowRankCovBlock } from '../../src/engine/relevance/covariance/blockBelsley';
import { kronDamping, kronLaplaceBlock, KroneckerFactors } from '../../src/engine/relevance/covariance/kronecker';
import { graphKroneckerFactors } from '../../src/engine/relevance/covariance/kfacGraph';
import { gradientBlocks } from '../../src/engine/relevance/covariance/gradient';
import { orderParameters } from '../../src/engine/ordering/orderModel';
import { train } from '../../src/engine/train/train';
import { PruneScopeError } from '../../src/engine/errors';
import { Rng } from '../../src/engine/util/random';
import { linearRegression } from '../train/fixtures';
import { close, dampedPrecision, invert, kron, tinyNet } from './belsleyHelpers';
import { GraphBuilder } from '../prune/graphFixtures';
import { Graph as GraphClass } from '../../src/engine/model/graph';
import { relevanceCommand } from '../../src/cli/commands/relevance';
import { parseArgs } from '../../src/cli/args';
import { loadModel } from '../../src/engine/formats/modelFile';
import { belsleyView } from '../../src/worker/jobs/analysis';

/** A random symmetric positive semi-definite m x m matrix of rank r (B B^T, B m x r). */
function randomPsd(rng: Rng, m: number, r: number): Float64Array {
  const b = Array.from({ length: m * r }, () => rng.normal());
  const s = new Float64Array(m * m);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) {
      let v = 0;
      for (let k = 0; k < r; k++) v += b[i * r + k] * b[j * r + k];
      s[i * m + j] = v;
    }
  return s;
}

/** Smallest relative gap between sorted values (proportions are matched column by column only when they differ). */
function minGap(v: ArrayLike<number>): number {
  let g = Infinity;
  for (let i = 1; i < v.length; i++) g = Math.min(g, (v[i] - v[i - 1]) / Math.max(v[i], 1e-300));
  return g;
}

test('Kronecker block: condition indices, proportions, zeta and the fast order equal dense belsley() on the explicit product (alone and beside a dense block)', () => {
  const rng = new Rng(5);
  const nA = 5,
    nG = 4,
    N = 37,
    tau = 2.5;
  // Flat indices interleaved with a dense block's, so the grid is not contiguous in the flat order.
  const paramIndex = Int32Array.from({ length: nA * nG }, (_, c) => 3 + 2 * c);
  const f: KroneckerFactors = {
    layer: 'k',
    a: randomPsd(rng, nA, 3), // rank-deficient: only the damping makes it invertible
    nA,
    g: randomPsd(rng, nG, 2),
    nG,
    paramIndex,
  };
  const { block, info } = kronLaplaceBlock(f, () => true, tau, N);
  assert.equal(info.prunedInside, 0);
  const n = nA * nG;
  const s = invert(dampedPrecision(f, tau, N), n);
  const ref = belsley(s, n, { ordering: 'fast' });
  assert.ok(minGap(ref.eigenvalues) > 1e-6, 'test set-up: distinct eigenvalues');
  const r = blockBelsley([block], { ordering: 'fast' });
  close(r.eigenvalues, ref.eigenvalues, 1e-9, 'lambda');
  close(r.conditionIndices, ref.conditionIndices, 1e-8, 'eta');
  close(r.conditionIndicesBKW, ref.conditionIndicesBKW, 1e-8, 'eta BKW');
  const sys = r.systems[0];
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      assert.ok(
        Math.abs(sys.q(i, j) - ref.proportions[i * n + j]) < 1e-8,
        `q[${i}][${j}] ${sys.q(i, j)} vs ${ref.proportions[i * n + j]}`,
      );
  assert.equal(r.zeta, paramIndex[ref.zeta]);
  assert.deepEqual(
    Array.from(r.order),
    Array.from(ref.order, (i) => paramIndex[i]),
  );

  // Beside a dense block: one global spectrum, the walk interleaves the two blocks.
  const m = 6;
  const dIdx = Int32Array.from({ length: m }, (_, i) => 4 + 2 * i); // even flat indices 4..14
  const dm = randomPsd(rng, m, m + 2);
  for (let i = 0; i < m; i++) dm[i * m + i] += 0.1;
  const dense: CovBlock = { name: 'd', indices: dIdx, matrix: dm };
  const flat = [...Array.from(paramIndex), ...Array.from(dIdx)].sort((a, b) => a - b);
  const pos = new Map(flat.map((v, p) => [v, p]));
  const t = n + m;
  const big = new Float64Array(t * t);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) big[pos.get(paramIndex[i])! * t + pos.get(paramIndex[j])!] = s[i * n + j];
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) big[pos.get(dIdx[i])! * t + pos.get(dIdx[j])!] = dm[i * m + j];
  const ref2 = belsley(big, t, { ordering: 'fast' });
  assert.ok(minGap(ref2.eigenvalues) > 1e-6, 'test set-up: distinct eigenvalues');
  const r2 = blockBelsley([block, dense], { ordering: 'fast' });
  close(r2.conditionIndices, ref2.conditionIndices, 1e-8, 'eta (two blocks)');
  assert.deepEqual(
    Array.from(r2.order),
    Array.from(ref2.order, (i) => flat[i]),
  );
  assert.throws(
    () => blockBelsley([block], { ordering: 'exact' }),
    (e: unknown) => e instanceof PruneScopeError && e.context.field === 'ordering',
  );
});

test('Kronecker block with pruned weights: fully pruned rows and columns leave the factors (exact conditioning); a pruned weight inside the grid is left out of the order', () => {
  const rng = new Rng(8);
  const nA = 4,
    nG = 3,
    N = 20,
    tau = 1.3;
  const f: KroneckerFactors = {
    layer: 'k',
    a: randomPsd(rng, nA, 4),
    nA,
    g: randomPsd(rng, nG, 3),
    nG,
    paramIndex: Int32Array.from({ length: nA * nG }, (_, c) => c),
  };
  // Row 1 (all of input 1) and column 2 pruned, plus the single cell (3, 0).
  const pruned = new Set([3, 4, 5, 2, 8, 11, 9]);
  const { block, info } = kronLaplaceBlock(f, (j) => !pruned.has(j), tau, N);
  assert.equal(info.rowsA, 3);
  assert.equal(info.rowsG, 2);
  assert.equal(info.prunedInside, 1);
  // Conditioning on whole rows/columns = restricting the precision's factors: rows {0, 2, 3}, columns {0, 1}.
  const rows = [0, 2, 3],
    cols = [0, 1];
  const subF: KroneckerFactors = {
    layer: 'k',
    a: Float64Array.from({ length: 9 }, (_, c) => f.a[rows[Math.floor(c / 3)] * nA + rows[c % 3]]),
    nA: 3,
    g: Float64Array.from({ length: 4 }, (_, c) => f.g[cols[Math.floor(c / 2)] * nG + cols[c % 2]]),
    nG: 2,
    paramIndex: Int32Array.from(rows.flatMap((i) => cols.map((j) => i * nG + j))),
  };
  const s = invert(dampedPrecision(subF, tau, N), 6);
  const d = kronDamping(subF.a, 3, subF.g, 2, tau, N);
  assert.ok(Math.abs(d.addA * d.addG - tau / N) < 1e-15 * (tau / N) * 10, 'pi d * d / pi = tau / N');
  const r = blockBelsley([block], { ordering: 'fast' });
  const ref = belsley(s, 6, { ordering: 'fast' });
  close(r.conditionIndices, ref.conditionIndices, 1e-8, 'eta');
  // The order: the explicit walk, skipping cell (3, 0) = flat 9 (grid position 4).
  const expected = Array.from(ref.order, (i) => subF.paramIndex[i]).filter((j) => j !== 9);
  assert.equal(r.order.length, 5);
  assert.ok(!Array.from(r.order).includes(9));
  // Components 0.. take the explicit walk's picks unless that pick is the pruned cell; with one cell
  // missing the walk can differ after it, so compare up to the first appearance of the pruned cell.
  const cut = Array.from(ref.order, (i) => subF.paramIndex[i]).indexOf(9);
  assert.deepEqual(Array.from(r.order).slice(0, cut), expected.slice(0, cut));
});

test('K-FAC factors of a dense graph: A (x) G equals the exact GGN block for one sample, and for a linear MSE layer on any batch', async () => {
  await backend();
  const spec: NetworkSpec = {
    inputSize: 3,
    layers: [
      { name: 'h', units: 4, activation: 'tanh' },
      { name: 'out', units: 2, activation: 'softmax' },
    ],
  };
  const rng = new Rng(11);
  const net = denseFromFlat(
    spec,
    Float32Array.from({ length: 3 * 4 + 4 + 4 * 2 + 2 }, () => rng.normal() * 0.8),
  );
  const x1 = tf.tensor2d([[0.3, -1.2, 0.7]]);
  const y1 = tf.tensor2d([[0, 1]]);
  const fs = await graphKroneckerFactors(net, x1, y1, [0, 1]);
  for (const [li, [f]] of fs.entries()) {
    const ggn = await ggnLayerBlock(net, x1, y1, li);
    const prod = kron(f.a, f.nA, f.g, f.nG);
    assert.equal(prod.length, ggn.values.length);
    let scale = 0;
    for (const v of ggn.values) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < prod.length; i++)
      assert.ok(
        Math.abs(prod[i] - ggn.values[i]) <= 1e-5 * scale,
        `layer ${li} [${i}]: ${prod[i]} vs ${ggn.values[i]}`,
      );
    const lay = net.layers()[li];
    assert.equal(f.paramIndex[0], lay.offset);
    assert.equal(f.paramIndex[f.nA * f.nG - 1], lay.offset + lay.size - 1);
  }
  tf.dispose([x1, y1]);
  net.dispose();

  const { split } = linearRegression(30, 3, 4);
  const lin = denseFromFlat(
    { inputSize: 3, layers: [{ name: 'out', units: 1, activation: 'linear' }] },
    Float32Array.of(0.5, -1, 2, 0.3),
  );
  const x = xTensor(split.train, 3);
  const y = yTensor(split.train, 'regression', 1);
  const [[f]] = await graphKroneckerFactors(lin, x, y, [0], { chunkSize: 7 }); // several chunks
  const ggn = await ggnLayerBlock(lin, x, y, 0);
  const prod = kron(f.a, f.nA, f.g, f.nG);
  for (let i = 0; i < prod.length; i++)
    assert.ok(Math.abs(prod[i] - ggn.values[i]) <= 1e-5 * Math.max(1, Math.abs(ggn.values[i])));
  tf.dispose([x, y]);
  lin.dispose();
});

/** K-FAC factors of the 3-2-1 tanh net's hidden layer in float64, from the forward pass written out here. */
function hiddenFactors(net: Graph, split: DataSplit): KroneckerFactors {
  const w = net.toFlat();
  const W1 = (i: number, j: number) => w[i * 2 + j];
  const b1 = (j: number) => w[6 + j];
  const W2 = (j: number) => w[8 + j];
  const N = split.train.rows;
  const a = new Float64Array(16);
  const g = new Float64Array(4);
  for (let n = 0; n < N; n++) {
    const xin = [0, 1, 2].map((i) => split.train.x[n * 3 + i]);
    const aug = [...xin, 1];
    for (let i = 0; i < 4; i++) for (let k = 0; k < 4; k++) a[i * 4 + k] += (aug[i] * aug[k]) / N;
    // MSE over K = 1 linear output: output factor sqrt(2); down through W2 and tanh'.
    const s = [0, 1].map((j) => {
      const z = xin.reduce((acc, v, i) => acc + v * W1(i, j), b1(j));
      return Math.SQRT2 * W2(j) * (1 - Math.tanh(z) ** 2);
    });
    for (let j = 0; j < 2; j++) for (let l = 0; l < 2; l++) g[j * 2 + l] += (s[j] * s[l]) / N;
  }
  return { layer: 'h', a, nA: 4, g, nG: 2, paramIndex: Int32Array.from({ length: 8 }, (_, c) => c) };
}

test('network laplace, auto: a layer over blockLimit is Kronecker-factored; the order equals dense belsley() on the assembled S (Kronecker block from float64 factors, full block from the GGN)', async () => {
  await backend();
  const { split } = linearRegression(40, 3, 13);
  const net = tinyNet(8);
  const w = net.toFlat();
  const N = split.train.rows;
  const f = hiddenFactors(net, split);
  const tauH = 8 / Array.from(w.subarray(0, 8)).reduce((s, v) => s + v * v, 0);
  const sH = invert(dampedPrecision(f, tauH, N), 8);
  const x = xTensor(split.train, 3);
  const y = yTensor(split.train, 'regression', numClasses(split.dataset));
  const ggn = await ggnLayerBlock(net, x, y, 1);
  tf.dispose([x, y]);
  const tauO = 3 / Array.from(w.subarray(8)).reduce((s, v) => s + v * v, 0);
  const h = Float64Array.from(ggn.values, (v) => N * v);
  for (let i = 0; i < 3; i++) h[i * 3 + i] += tauO;
  const sO = invert(h, 3);
  const s = new Float64Array(121);
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) s[i * 11 + j] = sH[i * 8 + j];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s[(8 + i) * 11 + 8 + j] = sO[i * 3 + j];
  const ref = belsley(s, 11, { ordering: 'fast' });
  const before = tf.memory().numTensors;
  const r = await belsleyRelevance(net, split, { blockLimit: 4 });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  assert.equal(r.variant, 'fast', 'a Kronecker block makes the default ordering fast');
  assert.deepEqual(Array.from(r.order), Array.from(ref.order));
  close((r.extra as { conditionIndices: number[] }).conditionIndices, ref.conditionIndices, 1e-4, 'eta');
  const layers = (r.extra!.construction as { layers: { layer: string; kind: string }[] }).layers;
  assert.deepEqual(
    layers.map((l) => l.kind),
    ['kron', 'full'],
  );
  assert.equal((r.provenance.options as { laplaceStructure: string }).laplaceStructure, 'auto');
  assert.equal(r.extra!.warning, undefined);
  net.dispose();
});

test("laplace structure: 'diag' only on request, and then the result says it carries no Belsley information; 'block' refuses an oversized layer", async () => {
  await backend();
  const { split } = linearRegression(40, 3, 13);
  const net = tinyNet(8);
  const r = await belsleyRelevance(net, split, { laplaceStructure: 'diag' });
  assert.deepEqual(
    Array.from(r.order),
    Array.from({ length: 11 }, (_, j) => j),
  );
  assert.equal(r.extra!.belsleyInformation, 'none');
  assert.match(String(r.extra!.warning), /no Belsley information/);
  assert.equal((r.provenance.options as { laplaceStructure: string }).laplaceStructure, 'diag');
  await assert.rejects(
    belsleyRelevance(net, split, { laplaceStructure: 'block', blockLimit: 4 }),
    (e: unknown) =>
      e instanceof PruneScopeError && e.context.field === 'laplaceStructure' && /kron/.test(e.context.expected ?? ''),
  );
  await assert.rejects(
    belsleyRelevance(net, split, { covariance: 'trajectory', laplaceStructure: 'kron' }),
    (e: unknown) => e instanceof PruneScopeError && e.context.field === 'laplaceStructure',
  );
  net.dispose();
});

test('digits 64-40-10: the first layer (2,600 weights, over the block limit) is Kronecker-factored and its Belsley order is not the index order', async () => {
  await backend();
  const split = splitDataset(loadDataset('digits'), { seed: 0, standardize: true });
  const spec: NetworkSpec = {
    inputSize: 64,
    layers: [
      { name: 'hidden', units: 40, activation: 'tanh' },
      { name: 'output', units: 10, activation: 'softmax' },
    ],
  };
  const net = randomDense(spec, 0);
  await train(net, split, { epochs: 3, batchSize: 64, lr: 0.01, seed: 0, evalEvery: 0 });
  const r = await belsleyRelevance(net, split);
  const lay = net.layers()[0];
  const first = Array.from(r.order).filter((j) => j >= lay.offset && j < lay.offset + lay.size);
  const active = Array.from(net.toFlat().subarray(lay.offset, lay.offset + lay.size)).filter((v) => v !== 0).length;
  assert.equal(first.length, 64 * 40 + 40);
  // The pruned (zero) parameters go first by flat index; the active ones follow in Belsley's order.
  const ranked = first.slice(first.length - active);
  const sorted = ranked.slice().sort((a, b) => a - b);
  assert.notDeepEqual(ranked, sorted, 'first layer ranked by flat index');
  const layers = (r.extra!.construction as { layers: { layer: string; kind: string }[] }).layers;
  assert.deepEqual(
    layers.map((l) => l.kind),
    ['kron', 'full'],
  );
  net.dispose();
});

test('low-rank plus diagonal block: blockBelsley equals belsleyLowRank on the same snapshots (uncentred)', () => {
  const rng = new Rng(17);
  const k = 6,
    m = 15;
  const snaps = Float64Array.from({ length: k * m }, () => rng.normal());
  // Two parameters nearly collinear across snapshots.
  for (let a = 0; a < k; a++) snaps[a * m + 7] = 2 * snaps[a * m + 3] + 0.01 * rng.normal();
  const params = Int32Array.from({ length: m }, (_, i) => 10 + 3 * i);
  const block: LowRankCovBlock = { kind: 'low-rank', name: 'l', params, snaps, k, rho: 0.05, center: false };
  const ref = belsleyLowRank(snaps, k, m, 0.05, { center: false });
  const r = blockBelsley([block], { ordering: 'fast' });
  close(r.conditionIndices, ref.conditionIndices, 1e-9, 'eta');
  assert.deepEqual(Array.from(r.multiplicity), Array.from(ref.multiplicity));
  assert.deepEqual(
    Array.from(r.order),
    Array.from(ref.order, (i) => params[i]),
  );
  const c = ref.nComponents;
  for (let i = 0; i < m; i++)
    for (let j = 0; j < c; j++) assert.ok(Math.abs(r.systems[0].q(i, j) - ref.proportions[i * c + j]) < 1e-10);
});

test("gradient source over blockLimit: low-rank plus diagonal; the recorded rank-one terms reproduce the tracker's variances when every step is kept", async () => {
  await backend();
  const { split } = linearRegression(50, 3, 15);
  const net = tinyNet(10);
  const w = net.toFlat();
  const opts = { steps: 12, batchSize: 8, lr: 1e-3, seed: 2 };
  const ref = await orderParameters(net, split, { ...opts, mode: 'diag' });
  const g = await gradientBlocks(net, split, w, new Uint8Array(11), {
    ...opts,
    blockLimit: 4,
    estimator: 'essay',
    snapshots: 12,
  });
  assert.deepEqual(
    g.layers.map((l) => l.kind),
    ['low-rank', 'block'],
  );
  const lr = g.blocks.find((b) => 'kind' in b && b.kind === 'low-rank') as LowRankCovBlock;
  assert.equal(lr.k, 12);
  for (let t = 0; t < lr.params.length; t++) {
    let s = 0;
    for (let a = 0; a < lr.k; a++) s += lr.snaps[a * lr.params.length + t] ** 2;
    const v = ref.variances[lr.params[t]];
    assert.ok(Math.abs(s / lr.k - v) <= 1e-4 * v, `C_jj of ${lr.params[t]}: ${s / lr.k} vs ${v}`);
  }
  const before = tf.memory().numTensors;
  const r = await belsleyRelevance(net, split, { covariance: 'gradient', ...opts, blockLimit: 4, snapshots: 12 });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  assert.equal(r.variant, 'fast');
  assert.equal(new Set(r.order).size, 11);
  net.dispose();
});

test('prunescope relevance --laplace-structure: kron on a small model matches the engine; diag says it carries no Belsley information; a bad value names the flag', async () => {
  await backend();
  const model = path.join(__dirname, '..', '..', '..', 'test', 'e2e', 'fixtures', 'model.json');
  const run = async (extra: string[]) => {
    let out = '';
    const argv = [model, '--data', 'iris', '--method', 'belsley', ...extra, '--json'];
    await relevanceCommand.run(parseArgs(argv, relevanceCommand.flags, 'relevance'), {
      log: () => undefined,
      out: (t: string) => {
        out += t;
      },
      signal: new AbortController().signal,
    });
    return JSON.parse(out);
  };
  const kron = await run(['--laplace-structure', 'kron']);
  assert.deepEqual(
    kron.extra.construction.layers.map((l: { kind: string }) => l.kind),
    ['kron', 'kron'],
  );
  assert.equal(kron.provenance.options.laplaceStructure, 'kron');
  assert.equal(kron.variant, 'fast');
  const m = await loadModel(model);
  const split = splitDataset(loadDataset('iris'), { seed: 0, standardize: false });
  const ref = await belsleyRelevance(m.network, split, { laplaceStructure: 'kron' });
  m.network.dispose();
  assert.deepEqual(kron.order, Array.from(ref.order));
  const limited = await run(['--block-limit', '30']);
  assert.deepEqual(
    limited.extra.construction.layers.map((l: { kind: string }) => l.kind),
    ['kron', 'full'],
  );
  assert.equal(limited.provenance.options.blockLimit, 30);
  const diag = await run(['--laplace-structure', 'diag']);
  assert.equal(diag.extra.belsleyInformation, 'none');
  await assert.rejects(
    run(['--laplace-structure', 'blocks']),
    (e: unknown) => e instanceof PruneScopeError && /laplace-structure/.test(e.message),
  );
});

test('the side panel and the demo name the proportion rows by proportionParameters (pruned parameters are not rows)', async () => {
  await backend();
  const { split } = linearRegression(40, 3, 13);
  const net = tinyNet(8);
  const w = net.toFlat();
  w[0] = 0;
  w[4] = 0;
  net.setFlat(w);
  const r = await belsleyRelevance(net, split);
  const names = Array.from({ length: 11 }, (_, j) => `p${j}`);
  const v = belsleyView(r, names)!;
  const rows = (r.extra as { proportionParameters: number[] }).proportionParameters;
  assert.equal(rows.length, 9);
  assert.deepEqual(
    v.names,
    rows.map((j) => `p${j}`),
  );
  assert.ok(!v.names.includes('p0') && !v.names.includes('p4'));
  net.dispose();
});

test('KFC factors of a Conv2D layer through the graph: with one sample and one output position A (x) G is the exact GGN block, in the flat order (kernel [kh, kw, cin, cout], then bias)', async () => {
  await backend();
  const b = new GraphBuilder(12, [3, 3, 2]);
  b.conv('c', 'input', 2, 4, 3, { padding: 'valid', activation: 'tanh' });
  b.flatten('f', 'c');
  b.dense('out', 'f', 4, 3, 'softmax');
  const g = GraphClass.fromSpec(b.output('out'));
  const rng = new Rng(2);
  const x = tf.tensor2d([Array.from({ length: 18 }, () => rng.normal())]);
  const y = tf.tensor2d([[0, 0, 1]]);
  const [[f]] = await graphKroneckerFactors(g, x, y, [0]);
  assert.deepEqual([f.nA, f.nG], [3 * 3 * 2 + 1, 4]);
  const ggn = await ggnLayerBlock(g, x, y, 0);
  const P = ggn.size;
  assert.equal(P, 76);
  const prod = kron(f.a, f.nA, f.g, f.nG);
  // prod is indexed by grid cells; the GGN block by flat index - offset.
  const off = g.layers()[0].offset;
  let scale = 0;
  for (const v of ggn.values) scale = Math.max(scale, Math.abs(v));
  for (let c = 0; c < P; c++)
    for (let d = 0; d < P; d++) {
      const ref = ggn.values[(f.paramIndex[c] - off) * P + f.paramIndex[d] - off];
      assert.ok(Math.abs(prod[c * P + d] - ref) <= 1e-5 * scale, `cell (${c}, ${d}): ${prod[c * P + d]} vs ${ref}`);
    }
  assert.deepEqual(
    Array.from(f.paramIndex).sort((p, q) => p - q),
    Array.from({ length: P }, (_, j) => off + j),
  );
  tf.dispose([x, y]);
});
