// Do the fitted sigmas mean something? On the paper's Wine network (13-13-3 tanh, softmax) the
// mean-field posterior should follow the Laplace view, posterior variance ~ 1 / (N h_jj + 1/alpha^2),
// with the GGN diagonal of the curvature engine (an independent code path) as h. And the stopping
// rule of the step budget against series whose answer is known by construction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { loadDataset, splitDataset, xTensor, yTensor } from '../../src/engine/data';
import { NetworkSpec, denseLayout, randomDense } from '../../src/engine/model/denseChain';
import { train } from '../../src/engine/train/train';
import { curvatureDiagonal } from '../../src/engine/curvature';
import { Rng } from '../../src/engine/util/random';
import { posteriorMeanNetwork, variationalRelevance } from '../../src/engine/relevance/variational';
import { ElboTracker } from '../../src/engine/relevance/variationalConvergence';
import { classificationSplit } from './variationalHelpers';

/** Average ranks (ties share the mean rank), then Pearson on the ranks. */
function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ranks = (v: ArrayLike<number>) => {
    const idx = Array.from({ length: v.length }, (_, i) => i).sort((p, q) => v[p] - v[q]);
    const r = new Float64Array(v.length);
    for (let i = 0; i < idx.length;) {
      let j = i;
      while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
      for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const ra = ranks(a),
    rb = ranks(b);
  const n = ra.length;
  const ma = ra.reduce((s, v) => s + v, 0) / n,
    mb = rb.reduce((s, v) => s + v, 0) / n;
  let sab = 0,
    saa = 0,
    sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) ** 2;
    sbb += (rb[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

function cv(a: ArrayLike<number>): number {
  const v = Array.from(a);
  const m = v.reduce((s, x) => s + x, 0) / v.length;
  return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / v.length) / m;
}

test('Wine 13-13-3: sigma^-2 follows the Laplace precision N ggn_jj + 1/alpha^2 (Spearman), and the sigmas spread', async () => {
  await backend();
  const ds = loadDataset('wine');
  const split = splitDataset(ds, { seed: 0, testFraction: 0.2, standardize: true });
  const spec: NetworkSpec = {
    inputSize: 13,
    layers: [
      { name: 'hidden1', units: 13, activation: 'tanh' },
      { name: 'output', units: 3, activation: 'softmax' },
    ],
  };
  const net = randomDense(spec, 0);
  // The paper1 teacher (PAPER1_SETUPS.wine): 200 epochs, batch 16, lr 0.01.
  await train(net, split, { epochs: 200, batchSize: 16, lr: 0.01, seed: 0, evalEvery: 0 });
  const res = await variationalRelevance(net, split, { seed: 0 });
  const N = split.train.rows;
  const x = xTensor(split.train, 13);
  const y = yTensor(split.train, 'classification', 3);
  const meanNet = posteriorMeanNetwork(net, res);
  // Mean cross-entropy curvature at the posterior mean; the ELBO's likelihood is its N-fold sum.
  const ggn = (await curvatureDiagonal(meanNet, x, y, 'ggn')).values;
  const layerOf = (j: number) => denseLayout(net)!.findIndex((l) => j < l.biasOffset + l.biasSize);
  const laplacePrecision = Array.from(ggn, (g, j) => N * g + 1 / res.priorVariances[layerOf(j)]);
  const precision = Array.from(res.sigma, (s) => s ** -2);
  const rho = spearman(precision, laplacePrecision);
  // Measured 0.90-0.93 (seeds 0, 1 of the fit); the old defaults gave equal sigmas (no ranking at all).
  assert.ok(rho > 0.7, `Spearman(sigma^-2, N ggn + 1/alpha^2) = ${rho}`);
  // Not lockstep: the initial sigmas are one value per layer (CV 0 within a layer). Measured
  // within-layer CV: hidden ~0.15, output ~0.06.
  const hidden = res.sigma.subarray(0, denseLayout(net)![0].biasOffset + denseLayout(net)![0].biasSize);
  const output = res.sigma.subarray(denseLayout(net)![1].kernelOffset);
  assert.ok(cv(hidden) > 0.08, `hidden-layer sigma CV ${cv(hidden)}`);
  assert.ok(cv(output) > 0.03, `output-layer sigma CV ${cv(output)}`);
  // The spread follows the curvature, not the fit's noise: sigma range within the hidden layer.
  assert.ok(
    Math.max(...hidden) / Math.min(...hidden) > 1.8,
    `hidden sigma range ${Math.min(...hidden)}..${Math.max(...hidden)}`,
  );
  // Counted in steps: Wine has ceil(142 / 32) = 5 steps per epoch, and the default budget is >= 2000 steps.
  assert.ok(res.steps >= 2000 && res.steps === res.epochs * 5, `steps ${res.steps}, epochs ${res.epochs}`);
  console.log(
    `wine: spearman ${rho.toFixed(3)}, cv hidden ${cv(hidden).toFixed(3)} output ${cv(output).toFixed(3)}, steps ${res.steps}, converged ${res.converged}`,
  );
  for (const t of [x, y]) t.dispose();
  meanNet.dispose();
  net.dispose();
});

test('stopping rule: a flat noisy ELBO converges after minSteps; a steadily rising one runs to maxSteps', () => {
  const o = { windowSteps: 100, minSteps: 500, maxSteps: 3000, tolerance: 1e-3 };
  const rng = new Rng(1);
  const flat = new ElboTracker(o);
  let stopAt = -1;
  for (let s = 0; s < 3000 && stopAt < 0; s++) {
    flat.push(-80 + 10 * rng.normal());
    if ((s + 1) % 5 === 0 && flat.check().stop) stopAt = s + 1;
  }
  // Noise sd 10 per step: the difference of two 100-step means has sd 1.4 nats, under 2 SE ~95 % of the time.
  assert.ok(stopAt >= 500 && stopAt <= 1000, `flat series stopped at ${stopAt}`);
  // +0.05 nats per step = +5 nats per window, 3.5 SE above the noise: never converged.
  const rising = new ElboTracker(o);
  let last = { stop: false, converged: false };
  for (let s = 0; s < 3000; s++) {
    rising.push(-500 + 0.05 * s + 10 * rng.normal());
    if ((s + 1) % 5 === 0) {
      last = rising.check();
      if (last.stop) {
        assert.equal(s + 1, 3000, `rising series stopped early at ${s + 1}`);
        break;
      }
    }
  }
  assert.ok(last.stop && !last.converged);
});

test('default budget on a small problem: stops by the rule between minSteps and maxSteps, no tensor leak', async () => {
  await backend();
  const split = classificationSplit(new Rng(3), 60, 4, 3);
  const net = randomDense(
    {
      inputSize: 4,
      layers: [
        { name: 'h', units: 5, activation: 'tanh' },
        { name: 'out', units: 3, activation: 'softmax' },
      ],
    },
    8,
  );
  await train(net, split, { epochs: 100, batchSize: 16, lr: 0.02, seed: 0, evalEvery: 0 });
  const before = tf.memory().numTensors;
  const seen: number[] = [];
  const res = await variationalRelevance(net, split, {
    seed: 2,
    batchSize: 16,
    minSteps: 400,
    maxSteps: 20000,
    windowSteps: 100,
    onEpoch: (e) => seen.push(e.steps),
  });
  assert.equal(tf.memory().numTensors, before);
  assert.ok(res.converged, `not converged after ${res.steps} steps`);
  assert.ok(res.steps >= 400 && res.steps < 20000, `steps ${res.steps}`);
  // 60 rows, batch 16: 4 steps per epoch.
  assert.deepEqual(
    seen,
    Array.from({ length: res.epochs }, (_, i) => 4 * (i + 1)),
  );
  assert.equal(res.provenance.options?.steps, res.steps);
  net.dispose();
});
