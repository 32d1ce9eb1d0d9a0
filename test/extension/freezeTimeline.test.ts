// The side panel's freeze timeline job on a 13-6-3 Wine classifier: the frozen count matches the
// schedule (share of the kernel weights, all at t0, no bias), the losses are finite, the frozen and
// plain curves agree bit for bit before t0 (freezing nothing yet is plain Adam on the same batches),
// step 1's loss equals a float64 cross-entropy of the saved model on the first seeded minibatch, and
// the webview's check accepts the message carrying the figure and rejects malformed ones.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backend } from '../helpers';
import { NetworkSpec, randomDense } from '../../src/engine/model/denseChain';
import { encodePruneMask, loadModel, saveModel } from '../../src/engine/formats/modelFile';
import { loadDataset, splitDataset, splitForModel } from '../../src/engine/data';
import { train } from '../../src/engine/train/train';
import { Rng } from '../../src/engine/util/random';
import { PruneScopeError } from '../../src/engine/errors';
import type { JobContext } from '../../src/worker/jobTypes';
import { freezeTimelineJob } from '../../src/worker/jobs/freezeTimeline';
import { parseGradientVarianceMessage } from '../../src/protocol';

const spec: NetworkSpec = {
  inputSize: 13,
  layers: [
    { name: 'h1', units: 6, activation: 'tanh' },
    { name: 'out', units: 3, activation: 'softmax' },
  ],
};
let modelPath: string;
const cache = new Map<string, unknown>();
const ctx = (signal = new AbortController().signal, onProgress?: (f: number | undefined) => void): JobContext => ({
  signal,
  progress: (f) => onProgress?.(f),
  log: () => undefined,
  cache,
});

before(async () => {
  await backend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-freeze-'));
  const ds = loadDataset('wine');
  const split = splitDataset(ds, { seed: 0, standardize: true });
  const net = randomDense(spec, 3);
  await train(net, split, { epochs: 5, batchSize: 16, lr: 0.01, seed: 1, evalEvery: 0 });
  modelPath = (
    await saveModel(path.join(dir, 'wine'), net, {
      task: 'classification',
      featureNames: ds.featureNames,
      labelNames: ds.labelNames,
      targetName: ds.targetName,
      preprocessing: { standardization: split.standardization! },
    })
  ).modelJson;
  net.dispose();
});

test('freeze-timeline: frozen count and step follow the schedule; curves identical before t0; finite losses', async () => {
  const fractions: number[] = [];
  const p = freezeTimelineJob.parse({ modelPath, data: 'wine', seed: 0, steps: 40, t0: 15, share: 0.5 });
  const r = (
    await freezeTimelineJob.run(
      p,
      ctx(undefined, (f) => {
        if (f !== undefined) fractions.push(f);
      }),
    )
  ).result;
  const weights = 13 * 6 + 6 * 3;
  assert.equal(r.weights, weights);
  assert.deepEqual(r.events, [{ step: 15, frozen: weights / 2, totalFrozen: weights / 2 }]);
  assert.equal(r.lossFrozen.length, 40);
  assert.equal(r.lossPlain.length, 40);
  for (const l of [...r.lossFrozen, ...r.lossPlain]) assert.ok(Number.isFinite(l) && l > 0, `loss ${l}`);
  for (let i = 0; i < 15; i++)
    assert.ok(Object.is(r.lossFrozen[i], r.lossPlain[i]), `step ${i + 1}: ${r.lossFrozen[i]} vs ${r.lossPlain[i]}`);
  assert.ok(
    r.lossFrozen.slice(15).some((l, i) => l !== r.lossPlain[15 + i]),
    'freezing half the weights changes the later steps',
  );
  assert.ok(
    fractions.length > 0 &&
      fractions.every((f, i) => i === 0 || f >= fractions[i - 1]) &&
      fractions[fractions.length - 1] === 1,
    'progress is monotone up to 1',
  );

  // The figure: one marker per frozen parameter, all at t0, all kernel weights (biases train).
  const marks = r.figure.data.find((t) => t.mode === 'markers')!;
  assert.equal(marks.x!.length, weights / 2);
  assert.ok(marks.x!.every((s) => s === 15));
  const biases = new Set([
    ...Array.from({ length: 6 }, (_, i) => 78 + i),
    ...Array.from({ length: 3 }, (_, i) => 102 + i),
  ]);
  assert.ok((marks.y as number[]).every((j) => Number.isInteger(j) && j >= 0 && j < 105 && !biases.has(j)));
  assert.equal(new Set(marks.y as number[]).size, weights / 2);
  const lines = r.figure.data.filter((t) => t.mode === 'lines');
  assert.deepEqual(
    lines.map((t) => t.y),
    [r.lossPlain, r.lossFrozen],
  );

  // Step 1 is the saved model's loss on the first minibatch: Rng(seed) permutation, 32 rows.
  const m = await loadModel(modelPath);
  try {
    const split = splitForModel(m.network, m.metadata, loadDataset('wine'), { seed: 0 });
    const rows = Array.from(new Rng(0).permutation(split.train.rows).subarray(0, 32));
    const flat = m.network.toFlat();
    let sum = 0;
    for (const row of rows) {
      const x = Array.from(split.train.x.subarray(row * 13, row * 13 + 13));
      const h = Array.from({ length: 6 }, (_, u) =>
        Math.tanh(x.reduce((s, v, i) => s + v * flat[i * 6 + u], flat[78 + u])),
      );
      const z = Array.from({ length: 3 }, (_, k) => h.reduce((s, v, i) => s + v * flat[84 + i * 3 + k], flat[102 + k]));
      const mx = Math.max(...z);
      const lse = mx + Math.log(z.reduce((s, v) => s + Math.exp(v - mx), 0));
      sum += lse - z[split.train.y[row]];
    }
    const ref = sum / rows.length;
    assert.ok(Math.abs(r.lossPlain[0] - ref) <= 1e-5 * ref, `step 1 loss ${r.lossPlain[0]} vs float64 ${ref}`);
  } finally {
    m.network.dispose();
  }
});

test('freeze-timeline on a pruned model file: candidates exclude the pruned weights, which stay unfrozen', async () => {
  const m = await loadModel(modelPath);
  const pruned = new Uint8Array(m.network.nParams);
  for (let j = 0; j < 13 * 6; j += 2) pruned[j] = 1; // every other first-layer weight: 39
  const flat = m.network.toFlat();
  pruned.forEach((b, j) => {
    if (b) flat[j] = 0;
  });
  m.network.setFlat(flat);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-freeze-pruned-'));
  const prunedPath = (
    await saveModel(path.join(dir, 'pruned'), m.network, {
      ...m.metadata!,
      pruneMask: encodePruneMask(pruned, { method: 'random', fraction: 0.5 }),
    })
  ).modelJson;
  m.network.dispose();
  const r = (
    await freezeTimelineJob.run(
      freezeTimelineJob.parse({ modelPath: prunedPath, data: 'wine', seed: 0, steps: 20, t0: 5, share: 0.5 }),
      ctx(),
    )
  ).result;
  const candidates = 13 * 6 + 6 * 3 - 39;
  assert.equal(r.weights, candidates);
  assert.equal(r.events[0].totalFrozen, Math.round(candidates / 2));
  const marks = r.figure.data.find((t) => t.mode === 'markers')!;
  assert.ok(
    (marks.y as number[]).every((j) => !pruned[j]),
    'a pruned weight was frozen',
  );
});

test('freeze-timeline: bad params name the field; a cancelled run rejects as cancelled', async () => {
  for (const [params, field] of [
    [{ steps: 10, t0: 11 }, 't0'],
    [{ share: 1.5 }, 'share'],
    [{ estimator: 'x' }, 'estimator'],
  ] as const) {
    try {
      freezeTimelineJob.parse({ modelPath, data: 'wine', ...params });
      assert.fail(`accepted ${JSON.stringify(params)}`);
    } catch (e) {
      assert.ok(e instanceof PruneScopeError && e.context.field === field, `${JSON.stringify(params)}: ${e}`);
    }
  }
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(
    freezeTimelineJob.run(freezeTimelineJob.parse({ modelPath, data: 'wine', steps: 40 }), ctx(ac.signal)),
    (e: unknown) => e instanceof PruneScopeError && e.code === 'cancelled',
  );
});

test('the webview accepts the gradient-variance message with the timeline and rejects malformed ones', async () => {
  const r = (await freezeTimelineJob.run(freezeTimelineJob.parse({ modelPath, data: 'wine', steps: 20, t0: 5 }), ctx()))
    .result;
  const variances = { data: [{ type: 'scatter', x: [1, 2], y: [1e-3, 1e-2] }] };
  const good = { type: 'gradientVariance', title: 'wine', figures: [variances], timeline: r.figure };
  const ok = parseGradientVarianceMessage(JSON.parse(JSON.stringify(good)));
  assert.ok(ok.ok, ok.ok ? '' : ok.reason);
  assert.deepEqual(ok.ok && ok.value.timeline, JSON.parse(JSON.stringify(r.figure)));
  assert.ok(
    parseGradientVarianceMessage({ type: 'gradientVariance', title: 'wine', figures: [variances] }).ok,
    'the timeline is optional',
  );
  const bad: unknown[] = [
    { ...good, timeline: { data: [{ type: 'scattergl', x: [1] }] } },
    { ...good, timeline: { data: 'x' } },
    { ...good, timeline: null },
    { ...good, figures: [variances, 3] },
    { ...good, figures: {} },
    { ...good, title: 7 },
    { ...good, title: 'x'.repeat(3000) },
    { ...good, extra: 1 },
    { ...good, type: 'figure' },
    null,
    [],
    'gradientVariance',
  ];
  for (const b of bad) assert.equal(parseGradientVarianceMessage(b).ok, false, JSON.stringify(b).slice(0, 120));
});
