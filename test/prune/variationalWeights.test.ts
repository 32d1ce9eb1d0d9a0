// Variational pruning at w = mu (METHODS.md 2.5): the curves, the prune command's model and the
// paper1 experiment prune the posterior mean by default, the teacher's weights on request, and say
// which. References are computed here: the posterior-mean network masked by the order's head.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backend } from '../helpers';
import { NetworkSpec, denseFromFlat } from '../../src/engine/model/denseChain';
import type { Graph } from '../../src/engine/model/graph';
import { qualityCurves, Ranker } from '../../src/engine/prune/curves';
import { pruneNetwork } from '../../src/engine/prune/pruneModel';
import { pruningBase } from '../../src/engine/prune/variationalWeights';
import { variationalRelevance, VariationalResult } from '../../src/engine/relevance/variational';
import { evaluate } from '../../src/engine/train/metrics';
import { candidateMask, candidateOrder } from '../../src/engine/prune/mask';
import { runPaper1 } from '../../src/engine/experiments/paper1';
import { paper1Markdown } from '../../src/engine/experiments/paper1Report';
import { Rng } from '../../src/engine/util/random';
import { linearRegression } from '../train/fixtures';

const SPEC: NetworkSpec = {
  inputSize: 3,
  layers: [
    { name: 'h', units: 4, activation: 'tanh' },
    { name: 'out', units: 1, activation: 'linear' },
  ],
};

function net(seed: number): Graph {
  const rng = new Rng(seed);
  return denseFromFlat(
    SPEC,
    Float32Array.from({ length: 21 }, () => rng.normal() * 0.7),
  );
}

/** Test MSE of the flat weights `w` with the first k candidates of `order` zeroed, on a fresh network. */
function maskedMse(
  w: Float32Array,
  order: Int32Array,
  k: number,
  split: ReturnType<typeof linearRegression>['split'],
): number {
  const ranked = candidateOrder(order, candidateMask(net(0)));
  const m = Float32Array.from(w);
  for (let i = 0; i < k; i++) m[ranked[i]] = 0;
  const n = denseFromFlat(SPEC, m);
  const v = evaluate(n, split.test, 'regression', 1).mse!;
  n.dispose();
  return v;
}

test('curves: the variational curve prunes mu by default (share 0 = the posterior mean), the teacher on request; provenance says which', async () => {
  await backend();
  const { split } = linearRegression(80, 3, 21);
  const teacher = net(2);
  const v = (await variationalRelevance(teacher, split, { epochs: 30, seed: 1 })) as VariationalResult;
  const teacherFlat = teacher.toFlat();
  const rankers: Ranker[] = [
    { name: 'variational', rank: async () => v },
    { name: 'variational-teacher', variationalWeights: 'teacher', rank: async () => v },
  ];
  const r = await qualityCurves(teacher, split, rankers, { shares: [0, 0.25, 0.5] });
  const nCand = 3 * 4 + 4 * 1;
  for (const [i, s] of [0, 0.25, 0.5].entries()) {
    const k = Math.round(s * nCand);
    const atMu = maskedMse(v.mu, v.order, k, split);
    const atTeacher = maskedMse(teacherFlat, v.order, k, split);
    assert.ok(
      Math.abs(r.curves.variational.mean[i] - atMu) <= 1e-6 * atMu,
      `mu at ${s}: ${r.curves.variational.mean[i]} vs ${atMu}`,
    );
    assert.ok(Math.abs(r.curves['variational-teacher'].mean[i] - atTeacher) <= 1e-6 * atTeacher);
  }
  assert.notEqual(r.curves.variational.mean[0], r.baseline, 'mu is a different model from the teacher');
  assert.equal(r.curves['variational-teacher'].mean[0], r.baseline);
  assert.deepEqual(r.prunedWeights, { variational: 'mu', 'variational-teacher': 'network' });
  assert.deepEqual((r.provenance.options as { prunedWeights: unknown }).prunedWeights, r.prunedWeights);
  teacher.dispose();
});

test("pruneNetwork: a variational ranking prunes mu by default, keeps the model's zeros, and records the weights in the mask provenance", async () => {
  await backend();
  const { split } = linearRegression(80, 3, 22);
  const teacher = net(3);
  const w = teacher.toFlat();
  w[1] = 0; // already pruned: stays 0 even though mu moved it
  teacher.setFlat(w);
  const req = { method: 'variational' as const, epochs: 20, seed: 2, fraction: 0.25 };
  const a = await pruneNetwork(teacher, split, undefined, req);
  const mu = (a.relevance as VariationalResult).mu;
  const out = a.network.toFlat();
  for (let j = 0; j < out.length; j++) assert.equal(out[j], a.mask[j] ? 0 : mu[j], `parameter ${j}`);
  assert.equal(out[1], 0);
  assert.equal(a.metadata.pruneMask!.provenance!.options!.prunedWeights, 'mu');
  const b = await pruneNetwork(teacher, split, undefined, { ...req, variationalWeights: 'teacher' });
  const outB = b.network.toFlat();
  for (let j = 0; j < outB.length; j++) assert.equal(outB[j], b.mask[j] ? 0 : w[j]);
  assert.equal(b.metadata.pruneMask!.provenance!.options!.prunedWeights, 'network');
  assert.equal(pruningBase(w, a.relevance, 'teacher').weights, 'network');
  for (const n of [teacher, a.network, b.network]) n.dispose();
});

test('paper1 draws both variational curves and records the choice in its provenance', async () => {
  await backend();
  const r = await runPaper1('wine', {
    seeds: [0],
    methods: ['variational'],
    step: 0.5,
    epochs: 5,
    variationalEpochs: 3,
  });
  assert.deepEqual(Object.keys(r.curves).sort(), ['variational', 'variational-teacher']);
  assert.equal(r.curves['variational-teacher'].mean[0], r.baseline.mean);
  const o = r.provenance.options as { variationalWeights: string; prunedWeights: Record<string, string> };
  assert.equal(o.variationalWeights, 'mu');
  assert.deepEqual(o.prunedWeights, { variational: 'mu', 'variational-teacher': 'network' });
  const md = paper1Markdown(r);
  assert.match(md, /variational curve prunes the posterior mean mu .*variational-teacher prunes the teacher's weights/);
  // mu's own metric beside the teacher's, per seed.
  const fit = (r.runs[0].rankings.variational as VariationalResult).fit;
  const row = md.split('\n').find((l) => l.startsWith('| 0 |'))!;
  const cells = row.split('|').map((c) => c.trim());
  assert.equal(Number(cells[3]), Number(fit.teacher.test!.accuracy!.toPrecision(3)));
  assert.equal(Number(cells[5]), Number(fit.posteriorMean.test!.accuracy!.toPrecision(3)));
  const t = await runPaper1('wine', {
    seeds: [0],
    methods: ['variational'],
    step: 0.5,
    epochs: 5,
    variationalEpochs: 3,
    variationalWeights: 'teacher',
  });
  assert.deepEqual(Object.keys(t.curves).sort(), ['variational', 'variational-mu']);
  assert.equal(t.curves.variational.mean[0], t.baseline.mean);
  for (const x of [...r.runs, ...t.runs]) x.network.dispose();
});
