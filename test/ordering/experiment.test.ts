// runFreezeExperiment on a tiny run (shares 0 and 0.5, 2 seeds, a few steps), its CSV, its
// conclusion (computed from the numbers), and the plotly figure specs built from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { NetworkSpec, denseSpec, randomDense } from '../../src/engine/model/denseChain';
import { DataSplit } from '../../src/engine/data/dataset';
import { evaluate } from '../../src/engine/train/metrics';
import { trainWithFreezing } from '../../src/engine/ordering/freezeTrain';
import {
  concludeFreezeExperiment,
  FreezeExperimentResult,
  runFreezeExperiment,
  ShareRow,
} from '../../src/engine/ordering/experiment';
import {
  covarianceHeatmapFigure,
  freezeTimelineFigure,
  lossVsShareFigure,
  orderedVarianceFigure,
} from '../../src/engine/ordering/figures';
import { experimentCsv } from '../../src/cli/commands/experiment-freeze';
import { Rng } from '../../src/engine/util/random';

function regressionSplit(rows: number, features: number): DataSplit {
  const rng = new Rng(33);
  const part = (n: number) => {
    const x = new Float32Array(n * features);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      for (let f = 0; f < features; f++) x[i * features + f] = rng.normal();
      y[i] = x[i * features] - 0.5 * x[i * features + 1] + 0.1 * rng.normal();
    }
    return { x, y, rows: n };
  };
  const dataset = {
    name: 'synthetic',
    task: 'regression' as const,
    featureNames: Array.from({ length: features }, (_, i) => `f${i}`),
    targetName: 'y',
    x: new Float32Array(0),
    y: new Float32Array(0),
    rows,
    features,
  };
  return { dataset, train: part(rows), test: part(24), seed: 1, testFraction: 0.2 };
}

// 5-4-1: kernels 20 + 4 = 24 weights, biases 4 + 1 = 5, 29 parameters.
const SPEC: NetworkSpec = {
  inputSize: 5,
  layers: [
    { name: 'h', units: 4, activation: 'tanh' },
    { name: 'out', units: 1, activation: 'linear' },
  ],
};
const KERNEL_IDX = [...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 4 }, (_, i) => 24 + i)];
const BIAS_IDX = [20, 21, 22, 23, 28];
const OPTS = { spec: denseSpec(SPEC), steps: 8, t0: 4, shares: [0.5, 0], seeds: 2, batchSize: 8, lr: 0.02 };

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

test('tiny experiment: documented shape, share 0 identical for both policies, frozen = round(share x weights)', async () => {
  await backend();
  const split = regressionSplit(48, 5);
  const before = tf.memory().numTensors;
  const r = await runFreezeExperiment(split, OPTS);
  assert.equal(tf.memory().numTensors, before, 'leaked tensors');
  assert.deepEqual(
    r.rows.map((x) => [x.share, x.policy]),
    [
      [0, 'ordered'],
      [0, 'random'],
      [0.5, 'ordered'],
      [0.5, 'random'],
    ],
  );
  for (const row of r.rows) {
    assert.equal(row.train.length, 2);
    assert.equal(row.test.length, 2);
    assert.ok(Math.abs(row.testMean - mean(row.test)) < 1e-12);
    assert.ok(
      Math.abs(row.trainStd - Math.abs(row.train[0] - row.train[1]) / Math.SQRT2) < 1e-9,
      'sample std of two values',
    );
  }
  const at = (share: number, policy: string) => r.rows.find((x) => x.share === share && x.policy === policy)!;
  // Nothing frozen at share 0: both policies are the same run, seed by seed.
  assert.equal(at(0, 'ordered').frozen, 0);
  assert.deepEqual(at(0, 'ordered').test, at(0, 'random').test);
  assert.deepEqual(at(0, 'ordered').train, at(0, 'random').train);
  // Default candidates are kernel weights only: round(0.5 * 24) = 12, never a bias.
  assert.equal(at(0.5, 'ordered').frozen, 12);
  assert.equal(at(0.5, 'random').frozen, 12);
  assert.equal(r.timeline.share, 0.5);
  assert.equal(r.timeline.events[0].step, 4);
  assert.equal(r.timeline.events[0].frozen.length, 12);
  for (const j of r.timeline.events[0].frozen) assert.ok(KERNEL_IDX.includes(j), `froze ${j}, a bias`);
  assert.equal(r.timeline.freezeStep.filter((s) => s === 4).length, 12);
  assert.equal(r.timeline.lossFrozen.length, 8);
  assert.equal(r.timeline.lossPlain.length, 8);
  // Variances of every parameter; the order is over the candidates, least variance first.
  assert.equal(r.variances.length, 29);
  assert.deepEqual(
    [...r.order].sort((a, b) => a - b),
    KERNEL_IDX,
  );
  for (let i = 1; i < r.order.length; i++) assert.ok(r.variances[r.order[i - 1]] <= r.variances[r.order[i]]);
  assert.equal(r.provenance.options?.weightsOnly, true);
  assert.equal(r.savings.share, 0.5);
});

test('the experiment reproduces an independent ordered run and a plain run (same init, batches, seed)', async () => {
  await backend();
  const split = regressionSplit(48, 5);
  const r = await runFreezeExperiment(split, { ...OPTS, shares: [0, 0.5], seeds: 1 });
  // Seed 0: init randomDense(spec, 1000), shuffling seed 0 (documented in the provenance).
  const plain = randomDense(SPEC, 1000);
  await trainWithFreezing(plain, split, { steps: 8, batchSize: 8, lr: 0.02, seed: 0, policy: 'random' });
  const ordered = randomDense(SPEC, 1000);
  await trainWithFreezing(ordered, split, {
    steps: 8,
    batchSize: 8,
    lr: 0.02,
    seed: 0,
    weightsOnly: true,
    stages: [{ atStep: 4, share: 0.5 }],
  });
  const at = (share: number, policy: string) => r.rows.find((x) => x.share === share && x.policy === policy)!;
  assert.equal(at(0, 'random').test[0], evaluate(plain, split.test, 'regression', 0).loss);
  assert.equal(at(0.5, 'ordered').test[0], evaluate(ordered, split.test, 'regression', 0).loss);
  assert.notEqual(at(0.5, 'ordered').test[0], at(0, 'ordered').test[0], 'freezing half the weights changed nothing');
  plain.dispose();
  ordered.dispose();
});

test('weightsOnly false: biases are candidates and the share counts all 29 parameters', async () => {
  await backend();
  const r = await runFreezeExperiment(regressionSplit(48, 5), { ...OPTS, shares: [0.5], seeds: 1, weightsOnly: false });
  assert.equal(r.rows[0].frozen, Math.round(0.5 * 29));
  assert.deepEqual(
    [...r.order].sort((a, b) => a - b),
    [...KERNEL_IDX, ...BIAS_IDX].sort((a, b) => a - b),
  );
});

test('CSV: a header and one row per share x policy, values as in the result', async () => {
  await backend();
  const r = await runFreezeExperiment(regressionSplit(48, 5), OPTS);
  const lines = experimentCsv(r).trimEnd().split('\n');
  assert.equal(lines[0], 'share,policy,frozen,train_mean,train_std,test_mean,test_std,seeds');
  assert.equal(lines.length, 1 + 2 * 2);
  const cells = lines.slice(1).map((l) => l.split(','));
  assert.deepEqual(
    cells.map((c) => [Number(c[0]), c[1], Number(c[2]), Number(c[7])]),
    [
      [0, 'ordered', 0, 2],
      [0, 'random', 0, 2],
      [0.5, 'ordered', 12, 2],
      [0.5, 'random', 12, 2],
    ],
  );
  cells.forEach((c, i) => assert.equal(Number(c[5]), r.rows[i].testMean));
});

function row(share: number, policy: 'ordered' | 'random', test: number[]): ShareRow {
  const m = mean(test);
  const s = Math.sqrt(test.reduce((a, v) => a + (v - m) ** 2, 0) / (test.length - 1));
  return { share, policy, frozen: 0, train: test, test, trainMean: m, trainStd: s, testMean: m, testStd: s };
}

test('the conclusion follows the numbers, whichever way they go', () => {
  const base = [row(0, 'ordered', [1, 1.1]), row(0, 'random', [1, 1.1])];
  const orderedWins = concludeFreezeExperiment([
    ...base,
    row(0.5, 'ordered', [1.0, 1.02]),
    row(0.5, 'random', [2.0, 2.02]),
  ]);
  assert.match(orderedWins, /lower mean final test loss than random freezing at 1 of 1 shares/);
  assert.match(orderedWins, /carries information/);
  const randomWins = concludeFreezeExperiment([
    ...base,
    row(0.5, 'ordered', [2.0, 2.02]),
    row(0.5, 'random', [1.0, 1.02]),
  ]);
  assert.match(randomWins, /at 0 of 1 shares/);
  assert.match(randomWins, /random freezing did better/);
  const tie = concludeFreezeExperiment([...base, row(0.5, 'ordered', [1.0, 2.0]), row(0.5, 'random', [1.1, 2.1])]);
  assert.match(tie, /not distinguishable/);
});

test('figures: SVG trace types only, lengths follow the inputs, band = mean +- std', async () => {
  await backend();
  const r: FreezeExperimentResult = await runFreezeExperiment(regressionSplit(48, 5), OPTS);
  const svg = new Set(['scatter', 'bar', 'heatmap']);
  const loss = lossVsShareFigure(r, 'test');
  const vari = orderedVarianceFigure(r.variances, r.order);
  const timeline = freezeTimelineFigure(r.timeline);
  for (const f of [loss, vari, timeline]) for (const t of f.data) assert.ok(svg.has(t.type), `${f.id}: ${t.type}`);
  // Per policy: a band (shares forth and back) and a line over the 2 shares.
  assert.equal(loss.data.length, 4);
  const ordered = r.rows.filter((x) => x.policy === 'ordered');
  const [band, line] = loss.data;
  assert.deepEqual(line.x, [0, 0.5]);
  assert.deepEqual(
    line.y,
    ordered.map((x) => x.testMean),
  );
  assert.deepEqual(band.x, [0, 0.5, 0.5, 0]);
  assert.deepEqual(band.y, [
    ordered[0].testMean + ordered[0].testStd,
    ordered[1].testMean + ordered[1].testStd,
    ordered[1].testMean - ordered[1].testStd,
    ordered[0].testMean - ordered[0].testStd,
  ]);
  assert.equal(loss.table!.rows.length, 4);
  assert.equal(vari.data[0].x!.length, r.order.length);
  assert.deepEqual(vari.data[0].customdata, r.order);
  assert.equal(timeline.data[0].x!.length, 8);
  assert.equal(timeline.data[1].y!.length, 8);
  assert.equal(timeline.data[2].x!.length, 12, 'one marker per frozen parameter');
  // A big model: the variance curve is thinned to at most 5000 points, every k-th of the order.
  const n = 12001;
  const big = orderedVarianceFigure(
    Array.from({ length: n }, (_, j) => j + 1),
    Array.from({ length: n }, (_, j) => j),
  );
  assert.equal(big.data[0].x!.length, Math.ceil(n / Math.ceil(n / 5000)));
  assert.equal(big.data[0].x![1], 1 + Math.ceil(n / 5000));
  // Heatmap: capped at 100 x 100, the top-left corner of the block, row-major.
  const size = 130;
  const matrix = Float32Array.from({ length: size * size }, (_, k) => k);
  const heat = covarianceHeatmapFigure({ layer: 0, name: 'h', offset: 7, size, matrix });
  assert.equal(heat.data[0].type, 'heatmap');
  const z = heat.data[0].z!;
  assert.equal(z.length, 100);
  assert.ok(z.every((r) => r.length === 100));
  assert.equal(z[3][5], 3 * size + 5);
  assert.equal(heat.data[0].x![0], 7);
});
