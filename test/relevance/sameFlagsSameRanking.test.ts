// The same ranking flags give the same ranking in every command and job that takes them: the CLI's
// relevance, prune, curves, export-student and distill --widths, and the worker's relevance, prune,
// export-student, what-if and distill jobs (the panel's and the notebook's calls). Observed from
// outside: the relevance order, the zeros prune writes, the student's outputs (it must compute
// exactly the pruned model's function: the defect was 0.46 apart on Wine 13-32-16-3 with
// `--method obd --fraction 0.8`), the curve's metric at the share, the rankings' provenance.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backend, type JsonDoc } from '../helpers';
import { tmpDir } from '../fixtures/models/tfjsFiles';
import { randomDense } from '../../src/engine/model/denseChain';
import { loadModel, saveModel } from '../../src/engine/formats/modelFile';
import { loadDataset, numClasses, splitDataset, splitForModel, type DataSplit } from '../../src/engine/data';
import { train } from '../../src/engine/train/train';
import { evaluate } from '../../src/engine/train/metrics';
import { candidateMask, pruneMaskAt, zeroMask } from '../../src/engine/prune/mask';
import { RELEVANCE_DEFAULTS } from '../../src/engine/options';
import { parseArgs } from '../../src/cli/args';
import type { CliContext, Command } from '../../src/cli/command';
import { relevanceCommand } from '../../src/cli/commands/relevance';
import { pruneCommand } from '../../src/cli/commands/prune';
import { curvesCommand } from '../../src/cli/commands/curves';
import { exportStudentCommand } from '../../src/cli/commands/export-student';
import { distillCommand } from '../../src/cli/commands/distill';
import { handlers } from '../../src/worker/registry';
import type { JobContext } from '../../src/worker/jobTypes';
import type { JobKind, JobResult } from '../../src/protocol';

const FRACTION = 0.8;
let dir: string;
let teacher: string;
let split: DataSplit;

async function cli(cmd: Command, argv: string[]): Promise<JsonDoc> {
  let out = '';
  const ctx: CliContext = { log: () => undefined, out: (t) => (out += t), signal: new AbortController().signal };
  await cmd.run(parseArgs([...argv, '--json'], cmd.flags, cmd.name), ctx);
  return JSON.parse(out);
}

const cache = new Map<string, unknown>();
const jobCtx: JobContext = {
  signal: new AbortController().signal,
  progress: () => undefined,
  log: () => undefined,
  cache,
};
async function job<K extends JobKind>(kind: K, params: Record<string, unknown>): Promise<JobResult<K>> {
  const h = handlers[kind];
  return (await h.run(h.parse({ modelPath: teacher, data: 'wine', seed: 0, ...params }) as never, jobCtx))
    .result as JobResult<K>;
}

/** The model file's outputs on the test rows (a student may read fewer columns: it reads its own). */
async function outputs(modelJson: string): Promise<Float32Array> {
  const m = await loadModel(modelJson);
  const x = tf.tensor2d(split.test.x, [split.test.rows, split.dataset.features]);
  try {
    return (await m.network.predict(x).data()) as Float32Array;
  } finally {
    x.dispose();
    m.network.dispose();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The zeros a pruned model file holds. */
async function zerosOf(modelJson: string): Promise<Uint8Array> {
  const m = await loadModel(modelJson);
  try {
    return zeroMask(m.network.toFlat());
  } finally {
    m.network.dispose();
  }
}

/** The mask `fraction` of the active weights by `order` gives (independent of prune's code path). */
async function expectedMask(order: number[]): Promise<Uint8Array> {
  const m = await loadModel(teacher);
  try {
    const already = zeroMask(m.network.toFlat());
    return pruneMaskAt(order, candidateMask(m.network, { alreadyPruned: already }), FRACTION, already);
  } finally {
    m.network.dispose();
  }
}

before(async () => {
  await backend();
  dir = tmpDir('same-ranking');
  const ds = loadDataset('wine');
  const s = splitDataset(ds, { seed: 0, standardize: true });
  const net = randomDense(
    {
      inputSize: 13,
      layers: [
        { name: 'h1', units: 32, activation: 'tanh' },
        { name: 'h2', units: 16, activation: 'tanh' },
        { name: 'out', units: 3, activation: 'softmax' },
      ],
    },
    3,
  );
  await train(net, s, { epochs: 40, batchSize: 16, lr: 0.01, seed: 0, evalEvery: 0 });
  teacher = (
    await saveModel(path.join(dir, 'teacher'), net, {
      task: 'classification',
      featureNames: ds.featureNames,
      labelNames: ds.labelNames,
      preprocessing: { standardization: s.standardization! },
    })
  ).modelJson;
  net.dispose();
  const m = await loadModel(teacher);
  split = splitForModel(m.network, m.metadata, ds, { seed: 0 });
  m.network.dispose();
});

for (const flags of [[], ['--variant', 'ggn'], ['--method', 'random', '--seed', '3']]) {
  const method = flags.includes('random') ? 'random' : 'obd';
  const argv = flags.includes('--method') ? flags : ['--method', 'obd', ...flags];
  const name = argv.join(' ');
  test(`CLI ${name}: relevance, prune, export-student, curves and distill --widths rank alike`, async () => {
    const tag = name.replace(/[^a-z0-9]+/g, '-');
    const common = [teacher, '--data', 'wine', ...argv];
    const rel = await cli(relevanceCommand, common);
    assert.equal(rel.method, method);
    if (method === 'obd') assert.equal(rel.variant, flags[1] ?? RELEVANCE_DEFAULTS.variant);

    const prunedDir = path.join(dir, `pruned-${tag}`);
    const pr = await cli(pruneCommand, [...common, '--fraction', String(FRACTION), '--out', prunedDir]);
    assert.equal(pr.variant, rel.variant);
    assert.deepEqual(await zerosOf(pr.modelJson), await expectedMask(rel.order), 'prune zeroed the head of the order');

    const studentDir = path.join(dir, `student-${tag}`);
    const st = await cli(exportStudentCommand, [...common, '--fraction', String(FRACTION), '--out', studentDir]);
    assert.equal(st.provenance.variant ?? null, rel.variant);
    assert.ok(st.paramsAfter < st.paramsBefore, `a smaller student: ${st.paramsBefore} -> ${st.paramsAfter}`);
    const gap = maxAbsDiff(await outputs(st.files.modelJson), await outputs(pr.modelJson));
    assert.ok(gap < 1e-5, `student vs pruned model: max |difference| ${gap}`);

    const cv = await cli(curvesCommand, [
      ...common.filter((a, i) => a !== '--method' && common[i - 1] !== '--method'),
      '--methods',
      method,
      '--seeds',
      '1',
      '--step',
      '0.2',
      '--out',
      path.join(dir, `curves-${tag}`),
    ]);
    const at = cv.shares.findIndex((s: number) => Math.abs(s - FRACTION) < 1e-9);
    assert.ok(Math.abs(cv.curves[method].mean[at] - pr.testAfter.accuracy) < 1e-9, 'curve at 0.8 = pruned accuracy');

    if (method === 'obd') {
      const ds = await cli(distillCommand, [
        '--teacher',
        teacher,
        '--widths',
        '8,4',
        '--data',
        'wine',
        ...argv,
        '--epochs',
        '1',
        '--seeds',
        '1',
        '--init',
        'teacher',
        '--out',
        path.join(dir, `distill-${tag}`),
      ]);
      assert.equal(ds.student.ranking.variant, rel.variant, 'distill --widths ranks by the same curvature');
      assert.equal(ds.student.ranking.modelHash, rel.provenance.modelHash);
    }
  });
}

test('worker jobs (panel, notebook): relevance, prune, export-student, what-if and distill rank as the CLI does', async () => {
  for (const params of [{ method: 'obd' }, { method: 'obd', variant: 'ggn' }]) {
    const flags = ['--method', 'obd', ...(params.variant ? ['--variant', params.variant] : [])];
    const tag = `job-${params.variant ?? 'default'}`;
    const rel = await cli(relevanceCommand, [teacher, '--data', 'wine', ...flags]);
    const r = await job('relevance', params);
    assert.deepEqual(r.order, rel.order, `${tag}: relevance job = relevance CLI`);

    const p = await job('prune', { ...params, fraction: FRACTION, out: path.join(dir, `${tag}-pruned`) });
    assert.deepEqual(await zerosOf(p.modelJson), await expectedMask(rel.order), `${tag}: prune job`);

    const e = await job('export-student', { ...params, fraction: FRACTION, out: path.join(dir, `${tag}-student`) });
    const gap = maxAbsDiff(await outputs(e.modelJson), await outputs(p.modelJson));
    assert.ok(gap < 1e-5, `${tag}: exported student vs pruned model: ${gap}`);

    const w = await job('whatif', { ...params, share: FRACTION });
    const pm = await loadModel(p.modelJson);
    const acc = evaluate(pm.network, split.test, 'classification', numClasses(split.dataset)).accuracy!;
    pm.network.dispose();
    assert.ok(Math.abs(w.value - acc) < 1e-9, `${tag}: what-if at 0.8 = the pruned file's accuracy`);

    await job('distill', {
      teacherPath: teacher,
      widths: [8, 4],
      ...params,
      epochs: 1,
      seeds: 1,
      out: path.join(dir, `${tag}-distill`),
    });
    const doc = JSON.parse(fs.readFileSync(path.join(dir, `${tag}-distill`, 'distill.json'), 'utf8'));
    assert.equal(doc.student.ranking.variant, rel.variant, `${tag}: distill job`);
  }
});
