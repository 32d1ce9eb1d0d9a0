// The panel's engine jobs (analysis, whatif, prune, export-student, gradient-variance) called
// through their handlers with a fake JobContext, on a 13-6-3 Wine classifier trained here. Every
// number is checked against an independent recomputation from the engine's building blocks
// (computeRelevance, pruneMaskAt/applyMask, evaluate, loadModel of the written files).
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backend, maxRelErr } from '../helpers';
import { gradientVarianceParams } from '../../src/extension/args';
import { NetworkSpec, denseLayout, randomDense } from '../../src/engine/model/denseChain';
import { Graph } from '../../src/engine/model/graph';
import { SHARD_NAME, loadModel, saveModel } from '../../src/engine/formats/modelFile';
import { loadDataset, splitDataset, splitForModel, numClasses, type DataSplit } from '../../src/engine/data';
import { train } from '../../src/engine/train/train';
import { evaluate } from '../../src/engine/train/metrics';
import { computeRelevance } from '../../src/engine/relevance/compute';
import { candidateMask, pruneMaskAt, applyMask, zeroMask, countOnes } from '../../src/engine/prune/mask';
import { PruneScopeError } from '../../src/engine/errors';
import type { JobContext } from '../../src/worker/jobTypes';
import { handlers } from '../../src/worker/registry';
import type { JobKind, JobParams, JobResult } from '../../src/protocol';

const spec: NetworkSpec = {
  inputSize: 13,
  layers: [
    { name: 'h1', units: 6, activation: 'tanh' },
    { name: 'out', units: 3, activation: 'softmax' },
  ],
};
/** Weights zeroed before saving: the model arrives already partly pruned. */
const PRE_ZEROED = [0, 7, 20, 45];

let dir: string;
let modelPath: string;
const cache = new Map<string, unknown>();

function ctx(signal = new AbortController().signal, onProgress?: (f: number | undefined) => void): JobContext {
  return { signal, progress: (f) => onProgress?.(f), log: () => undefined, cache };
}

async function run<K extends JobKind>(kind: K, params: unknown, c = ctx()): Promise<JobResult<K>> {
  const h = handlers[kind];
  return (await h.run(h.parse(params) as JobParams<K>, c)).result as JobResult<K>;
}

async function fails(kind: JobKind, params: unknown): Promise<PruneScopeError> {
  try {
    await run(kind, params);
  } catch (e) {
    assert.ok(e instanceof PruneScopeError, `expected a PruneScopeError, got ${e}`);
    return e;
  }
  assert.fail(`${kind} accepted ${JSON.stringify(params)}`);
}

/** The loaded model and split as an independent caller would build them. */
async function reference(): Promise<{ net: Graph; split: DataSplit }> {
  const m = await loadModel(modelPath);
  return { net: m.network, split: splitForModel(m.network, m.metadata, loadDataset('wine'), { seed: 0 }) };
}

function metricOf(net: Graph, split: DataSplit): number {
  return evaluate(net, split.test, split.dataset.task, numClasses(split.dataset)).accuracy!;
}

before(async () => {
  await backend();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-worker-'));
  const ds = loadDataset('wine');
  const split = splitDataset(ds, { seed: 0, standardize: true });
  const net = randomDense(spec, 5);
  await train(net, split, { epochs: 30, batchSize: 16, lr: 0.01, seed: 1, evalEvery: 0 });
  const flat = net.toFlat();
  for (const j of PRE_ZEROED) flat[j] = 0;
  net.setFlat(flat);
  const saved = await saveModel(path.join(dir, 'wine'), net, {
    task: 'classification',
    featureNames: ds.featureNames,
    labelNames: ds.labelNames,
    targetName: ds.targetName,
    preprocessing: { standardization: split.standardization! },
  });
  net.dispose();
  modelPath = saved.modelJson;
});

test('analysis: curves on the requested grid, one heatmap per layer per method, share 0 is the baseline', async () => {
  const fractions: number[] = [];
  const r = await run(
    'analysis',
    { modelPath, data: 'wine', seed: 0, methods: ['random', 'obd'], step: 0.1 },
    ctx(undefined, (f) => {
      if (f !== undefined) fractions.push(f);
    }),
  );
  assert.deepEqual(r.curves.shares, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
  assert.deepEqual(Object.keys(r.curves.methods).sort(), ['obd', 'random']);
  assert.deepEqual(Object.keys(r.figures.heatmaps).sort(), ['obd', 'random']);
  for (const figs of Object.values(r.figures.heatmaps)) assert.equal(figs.length, 2);
  assert.equal(r.figures.belsleyCondition, undefined);
  assert.equal(r.figures.variational, undefined);
  assert.equal(r.figures.curves.data.length >= 2, true);

  const { net, split } = await reference();
  try {
    const baseline = metricOf(net, split);
    assert.equal(r.summary.baseline, baseline);
    for (const c of Object.values(r.curves.methods)) assert.equal(c.mean[0], baseline);
    const weights = denseLayout(net)!.reduce((s, l) => s + l.kernelSize, 0);
    const n = net.nParams;
    assert.equal(r.summary.params, n);
    assert.equal(r.summary.pruned, countOnes(zeroMask(net.toFlat())));
    assert.equal(r.summary.pruned >= PRE_ZEROED.length, true);
    assert.equal(r.summary.active, n - r.summary.pruned);
    assert.ok(weights < n);
    assert.deepEqual(
      r.summary.layers.map((l) => [l.inSize, l.outSize, l.activation]),
      [
        [13, 6, 'tanh'],
        [6, 3, 'softmax'],
      ],
    );
    assert.equal(r.summary.metric, 'accuracy');
    assert.ok(
      fractions.length > 0 && fractions.every((f, i) => i === 0 || f >= fractions[i - 1]),
      'progress is monotone',
    );
    assert.equal(fractions[fractions.length - 1], 1);
  } finally {
    net.dispose();
  }
});

test('whatif equals an independent recomputation (pruneMaskAt + applyMask + evaluate)', async () => {
  const { net, split } = await reference();
  try {
    const ranking = await computeRelevance(net, split, { method: 'obd', seed: 0 });
    const flat = net.toFlat();
    const already = zeroMask(flat);
    const cand = candidateMask(net, { alreadyPruned: already });
    const probe = Graph.fromSpec(net.toSpec());
    try {
      const times: number[] = [];
      for (const share of [0, 0.25, 0.5, 0.8, 1]) {
        const r = await run('whatif', { modelPath, data: 'wine', seed: 0, method: 'obd', share });
        probe.setFlat(applyMask(flat, pruneMaskAt(ranking.order, cand, share, already)));
        assert.equal(r.value, metricOf(probe, split), `share ${share}`);
        assert.equal(r.baseline, metricOf(net, split));
        assert.equal(r.candidates, countOnes(cand));
        assert.equal(r.pruned, Math.round(share * countOnes(cand)));
        assert.equal(r.metric, 'accuracy');
        times.push(r.ms);
      }
      console.log(`whatif ms (Wine 13-6-3, cached ranking): ${times.map((t) => t.toFixed(2)).join(', ')}`);
    } finally {
      probe.dispose();
    }
  } finally {
    net.dispose();
  }
});

test('prune writes a new model with round(fraction * active weights) more zeros and never touches the input', async () => {
  const before = new Map(
    fs.readdirSync(path.dirname(modelPath)).map((f) => [f, fs.readFileSync(path.join(path.dirname(modelPath), f))]),
  );
  const out = path.join(dir, 'wine-pruned-obd-40');
  const r = await run('prune', { modelPath, data: 'wine', seed: 0, method: 'obd', fraction: 0.4, out });
  const { net, split } = await reference();
  const pruned = await loadModel(path.join(out, 'model.json'));
  try {
    const zerosBefore = countOnes(zeroMask(net.toFlat()));
    const activeWeights = countOnes(candidateMask(net, { alreadyPruned: zeroMask(net.toFlat()) }));
    const zerosAfter = countOnes(zeroMask(pruned.network.toFlat()));
    assert.equal(zerosAfter, Math.round(0.4 * activeWeights) + zerosBefore);
    assert.equal(r.prunedNow, Math.round(0.4 * activeWeights));
    assert.equal(r.prunedTotal, zerosAfter);
    assert.equal(r.candidates, activeWeights);
    assert.equal(r.nParams, net.nParams);
    assert.equal(r.modelJson, path.join(out, 'model.json'));
    assert.equal(r.testBefore, metricOf(net, split));
    assert.equal(r.testAfter, metricOf(pruned.network, split));
    // The biases are untouched (weights only by default).
    const a = net.toFlat(),
      b = pruned.network.toFlat();
    for (const l of denseLayout(net)!)
      for (let j = l.biasOffset; j < l.biasOffset + l.biasSize; j++) assert.equal(b[j], a[j]);
    for (const [f, bytes] of before)
      assert.ok(fs.readFileSync(path.join(path.dirname(modelPath), f)).equals(bytes), `${f} unchanged`);
    assert.deepEqual(fs.readdirSync(path.dirname(modelPath)).sort(), [...before.keys()].sort());
    // A second prune into the same (now non-empty) folder is refused.
    const e = await fails('prune', { modelPath, data: 'wine', seed: 0, method: 'obd', fraction: 0.1, out });
    assert.equal(e.context.field, 'out');
  } finally {
    net.dispose();
    pruned.network.dispose();
  }
});

test('bad params name the field', async () => {
  const p = (extra: Record<string, unknown>) => ({ modelPath, data: 'wine', seed: 0, ...extra });
  const cases: [JobKind, unknown, string, string][] = [
    ['prune', p({ method: 'magic', fraction: 0.2, out: path.join(dir, 'x1') }), 'bad-input', 'method'],
    ['prune', p({ method: 'obd', fraction: 1.5, out: path.join(dir, 'x2') }), 'bad-input', 'fraction'],
    ['prune', p({ method: 'obd', fraction: 0.2, out: path.dirname(modelPath) }), 'bad-input', 'out'],
    ['prune', p({ method: 'obd', fraction: 0.2 }), 'bad-input', 'out'],
    [
      'prune',
      {
        ...p({ method: 'obd', fraction: 0.2, out: path.join(dir, 'x3') }),
        modelPath: path.join(dir, 'nope', 'model.json'),
      },
      'not-found',
      'modelPath',
    ],
    ['whatif', p({ method: 'obd', share: -0.1 }), 'bad-input', 'share'],
    ['whatif', p({ method: 'belsly', share: 0.1 }), 'bad-input', 'method'],
    ['analysis', p({ methods: ['obd', 'magic'], step: 0.1 }), 'bad-input', 'methods'],
    ['analysis', p({ methods: ['obd'], step: 0.3 }), 'bad-input', 'step'],
    ['analysis', { ...p({ step: 0.1 }), data: '' }, 'bad-input', 'data'],
  ];
  for (const [kind, params, code, field] of cases) {
    const e = await fails(kind, params);
    assert.equal(e.code, code, `${kind} ${JSON.stringify(params)}: ${e.message}`);
    assert.equal(e.context.field, field, `${kind} ${JSON.stringify(params)}: ${e.message}`);
  }
  for (const x of ['x1', 'x2', 'x3']) assert.equal(fs.existsSync(path.join(dir, x)), false);
});

test('a prune cancelled mid-way leaves no output folder and no staging files', async () => {
  const ac = new AbortController();
  const out = path.join(dir, 'cancelled-prune');
  const siblings = fs.readdirSync(dir).sort();
  // variational reports progress per epoch: abort at its first report, inside the engine.
  let reports = 0;
  const c = ctx(ac.signal, (f) => {
    if (f !== undefined && f > 0 && reports++ === 0) ac.abort();
  });
  const h = handlers.prune;
  await assert.rejects(
    h.run(h.parse({ modelPath, data: 'wine', seed: 0, method: 'variational', fraction: 0.3, out }), c),
    (e: PruneScopeError) => e.code === 'cancelled',
  );
  assert.equal(reports, 1, 'aborted from inside the ranking');
  assert.equal(fs.existsSync(out), false);
  assert.deepEqual(fs.readdirSync(dir).sort(), siblings);
});

test('export-student writes a smaller model (counted from the written file); the input is untouched', async () => {
  const out = path.join(dir, 'student-obd');
  const inputBytes = fs.readFileSync(modelPath);
  const r = await run('export-student', { modelPath, data: 'wine', seed: 0, method: 'obd', widths: [3], out });
  assert.deepEqual(r.widthsBefore, [6, 3]);
  assert.deepEqual(r.widthsAfter, [3, 3]);
  const student = await loadModel(r.modelJson);
  const { net } = await reference();
  try {
    // Counted from the written file: 13*3+3 + 3*3+3 parameters, fewer bytes than the teacher's files.
    assert.equal(student.network.nParams, 13 * 3 + 3 + 3 * 3 + 3);
    assert.equal(r.paramsAfter, student.network.nParams);
    assert.equal(r.paramsBefore, net.nParams);
    const teacherBytes = fs
      .readdirSync(path.dirname(modelPath))
      .reduce((s, f) => s + fs.statSync(path.join(path.dirname(modelPath), f)).size, 0);
    assert.equal(r.bytesBefore, teacherBytes);
    assert.equal(
      r.bytesAfter,
      fs.statSync(r.modelJson).size + fs.statSync(path.join(out, 'group1-shard1of1.bin')).size,
    );
    // The weights shrink; on a model this small the student's richer metadata can outweigh that in model.json.
    assert.equal(fs.statSync(path.join(out, 'group1-shard1of1.bin')).size, 4 * student.network.nParams);
    assert.ok(
      fs.statSync(path.join(out, 'group1-shard1of1.bin')).size <
        fs.statSync(path.join(path.dirname(modelPath), 'group1-shard1of1.bin')).size,
    );
    assert.ok(fs.existsSync(r.studentJson));
    assert.ok(fs.readFileSync(modelPath).equals(inputBytes));
  } finally {
    net.dispose();
    student.network.dispose();
  }
  const e = await fails('export-student', {
    modelPath,
    data: 'wine',
    seed: 0,
    method: 'obd',
    fraction: 0.5,
    widths: [3],
    out: path.join(dir, 'both'),
  });
  assert.equal(e.context.field, 'fraction');
  assert.equal(
    (
      await fails('export-student', {
        modelPath,
        data: 'wine',
        seed: 0,
        method: 'obd',
        fraction: 1.5,
        out: path.join(dir, 'big'),
      })
    ).context.field,
    'fraction',
  );
});

test('an export-student cancelled mid-way leaves no output folder', async () => {
  const ac = new AbortController();
  const out = path.join(dir, 'cancelled-student');
  const siblings = fs.readdirSync(dir).sort();
  const tmpBefore = fs
    .readdirSync(os.tmpdir())
    .filter((f) => f.startsWith('prunescope-student-'))
    .sort();
  // The ranking is cached: the first progress report comes from inside exportStudent.
  let reports = 0;
  const c = ctx(ac.signal, (f) => {
    if (f !== undefined && f > 0.5 && reports++ === 0) ac.abort();
  });
  const h = handlers['export-student'];
  await assert.rejects(
    h.run(h.parse({ modelPath, data: 'wine', seed: 0, method: 'obd', fraction: 0.5, out }), c),
    (e: PruneScopeError) => e.code === 'cancelled',
  );
  assert.equal(reports, 1);
  assert.equal(fs.existsSync(out), false);
  assert.deepEqual(fs.readdirSync(dir).sort(), siblings);
  assert.deepEqual(
    fs
      .readdirSync(os.tmpdir())
      .filter((f) => f.startsWith('prunescope-student-'))
      .sort(),
    tmpBefore,
  );
});

test('gradient-variance returns a permutation with ranks its inverse and variances in flat order', async () => {
  const r = await run('gradient-variance', {
    modelPath,
    data: 'wine',
    seed: 0,
    estimator: 'essay',
    mode: 'block',
    steps: 20,
  });
  const n = 13 * 6 + 6 + 6 * 3 + 3;
  assert.equal(r.order.length, n);
  assert.deepEqual(
    [...r.order].sort((a, b) => a - b),
    Array.from({ length: n }, (_, i) => i),
  );
  r.order.forEach((j, i) => assert.equal(r.ranks[j], i + 1));
  for (let i = 1; i < n; i++) assert.ok(r.variances[r.order[i - 1]] <= r.variances[r.order[i]], 'least variance first');
  assert.ok(r.figures.covariance, 'block mode has a covariance figure');
  assert.equal(
    (
      await fails('gradient-variance', {
        modelPath,
        data: 'wine',
        seed: 0,
        estimator: 'magic',
        mode: 'diag',
        steps: 20,
      })
    ).context.field,
    'estimator',
  );
});

test('the Order by Gradient Variance command params give the variances plus a covariance heatmap of the first layer block', async () => {
  const params = gradientVarianceParams(modelPath, 'wine', 'essay');
  const r = await run('gradient-variance', params);
  const cov = r.figures.covariance;
  assert.ok(cov, 'the command requests a mode that yields a covariance block');
  // h1 has 13*6 + 6 = 84 parameters (under the 100 cap): the whole block, flat indices 0..83.
  const z = (cov.data[0] as { z: number[][] }).z;
  assert.equal(z.length, 84);
  for (let i = 0; i < 84; i++) {
    assert.equal(z[i].length, 84);
    for (let j = 0; j < i; j++)
      assert.ok(Math.abs(z[i][j] - z[j][i]) <= 1e-6 * Math.max(Math.abs(z[i][j]), 1e-12), `symmetric at ${i},${j}`);
  }
  // Independent path: the diag-mode tracker (per-layer sums, no block) on the same run gives the
  // same variances, and the block's diagonal is those variances of layer h1.
  const diag = await run('gradient-variance', { ...params, mode: 'diag' });
  const err = maxRelErr(Float64Array.from(r.variances), Float64Array.from(diag.variances));
  assert.ok(err < 1e-3, `block vs diag variances: max rel err ${err}`);
  const h1 = diag.variances.slice(0, 84);
  assert.ok(
    maxRelErr(
      z.map((row, i) => row[i]),
      h1,
    ) < 1e-3,
    'heatmap diagonal = the variances of h1',
  );
});

test('distill writes report.html, distill.json and distill.csv into a new folder; rows match the json', async () => {
  const out = path.join(dir, 'distill-w3');
  const r = await run('distill', {
    teacherPath: modelPath,
    widths: [3],
    data: 'wine',
    seed: 0,
    temperature: 4,
    alpha: 0.7,
    epochs: 3,
    seeds: 2,
    out,
  });
  const written = ['report.html', 'distill.json', 'distill.csv', 'model.json', SHARD_NAME];
  assert.deepEqual(fs.readdirSync(out).sort(), written.sort());
  assert.equal(r.report, path.join(out, 'report.html'));
  // The distilled student, in the teacher's format (TF.js) by default, or in `format`.
  assert.equal(r.modelFile, path.join(out, 'model.json'));
  assert.equal(r.format, 'tfjs');
  const student = await loadModel(r.modelFile);
  assert.equal(student.network.nParams, 13 * 3 + 3 + 3 * 3 + 3);
  student.network.dispose();
  const asOnnx = path.join(dir, 'distill-onnx');
  const o = await run('distill', {
    ...{ teacherPath: modelPath, widths: [3], data: 'wine', seed: 0, temperature: 4, alpha: 0.7, epochs: 1, seeds: 1 },
    ...{ out: asOnnx, format: 'onnx' },
  });
  assert.equal(o.format, 'onnx');
  assert.equal(path.dirname(o.modelFile), asOnnx);
  assert.match(path.basename(o.modelFile), /\.onnx$/);
  const onnx = await loadModel(o.modelFile);
  assert.equal(onnx.format.type, 'onnx');
  onnx.network.dispose();
  const badFormat = await fails('distill', {
    ...{ teacherPath: modelPath, widths: [3], data: 'wine', seed: 0, temperature: 4, alpha: 0.7, epochs: 1, seeds: 1 },
    ...{ out: path.join(dir, 'd-pt'), format: 'pt' },
  });
  assert.equal(badFormat.context.field, 'format');
  const doc = JSON.parse(fs.readFileSync(path.join(out, 'distill.json'), 'utf8'));
  assert.deepEqual(doc.studentSpec, [13, 3, 3]);
  assert.deepEqual(
    r.rows.map((x) => x.name),
    ['teacher', 'labels-only', 'distilled-scratch', 'labels-only-teacher-init', 'distilled-teacher-init'],
  );
  for (const row of r.rows) {
    const runs = doc.rows.find((x: { name: string }) => x.name === row.name).runs as { metric: number }[];
    assert.equal(runs.length, 2);
    assert.ok(Math.abs(row.mean - (runs[0].metric + runs[1].metric) / 2) < 1e-12);
  }
  // The teacher row is the unpruned model's test accuracy, recomputed here.
  const { net, split } = await reference();
  try {
    assert.equal(r.rows[0].mean, metricOf(net, split));
  } finally {
    net.dispose();
  }
  assert.equal(
    (
      await fails('distill', {
        teacherPath: modelPath,
        data: 'wine',
        seed: 0,
        temperature: 4,
        alpha: 0.7,
        epochs: 3,
        seeds: 2,
        out: path.join(dir, 'd2'),
      })
    ).context.field,
    'studentPath',
  );
  assert.equal(
    (
      await fails('distill', {
        teacherPath: modelPath,
        widths: [3],
        data: 'wine',
        seed: 0,
        temperature: 4,
        alpha: 1.5,
        epochs: 3,
        seeds: 2,
        out: path.join(dir, 'd3'),
      })
    ).context.field,
    'alpha',
  );
});
