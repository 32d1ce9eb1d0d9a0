// The variational regression fit's noise variance and its check against the teacher (issue: the
// Boston fit became a different model). References are written here in float64: the closed-form
// update s^2 = E_q[sum (y - f)^2] / (N K) at the RETURNED (mu, sigma), exactly for a linear model
// and by many Monte-Carlo draws for a tanh network; the teacher's and mu's metrics by evaluate().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { NetworkSpec, denseFromFlat, randomDense } from '../../src/engine/model/denseChain';
import { evaluate } from '../../src/engine/train/metrics';
import { train } from '../../src/engine/train/train';
import { posteriorMeanNetwork, variationalRelevance } from '../../src/engine/relevance/variational';
import { Rng } from '../../src/engine/util/random';
import { linearRegression } from '../train/fixtures';

test("linear model: noiseVariance is the closed-form update at the returned q, exactly; it starts from the teacher's train MSE", async () => {
  await backend();
  const { split } = linearRegression(40, 3, 31, 0.5);
  const net = denseFromFlat(
    { inputSize: 3, layers: [{ name: 'out', units: 1, activation: 'linear' }] },
    Float32Array.of(0.4, -0.9, 1.3, 0.2),
  );
  const r = await variationalRelevance(net, split, { epochs: 15, seed: 3 });
  const { mu, sigma } = r;
  const N = split.train.rows;
  let s = 0;
  for (let n = 0; n < N; n++) {
    let m = mu[3],
      v = sigma[3] ** 2;
    for (let i = 0; i < 3; i++) {
      const x = split.train.x[n * 3 + i];
      m += x * mu[i];
      v += x * x * sigma[i] ** 2;
    }
    s += (split.train.y[n] - m) ** 2 + v;
  }
  const ref = s / N;
  assert.ok(Math.abs(r.noiseVariance! - ref) <= 1e-5 * ref, `noiseVariance ${r.noiseVariance} vs ${ref}`);
  const teacherMse = evaluate(net, split.train, 'regression', 1).mse!;
  const lik = (r.provenance.options as { likelihood: { initial: number } }).likelihood;
  assert.ok(Math.abs(lik.initial - teacherMse) <= 1e-5 * teacherMse, `initial ${lik.initial} vs ${teacherMse}`);
  net.dispose();
});

test('tanh network: noiseVariance matches E_q[(y - f)^2] at the returned (mu, sigma) by 4,000 float64 Monte-Carlo draws', async () => {
  await backend();
  const { split } = linearRegression(30, 2, 32, 0.4);
  const spec: NetworkSpec = {
    inputSize: 2,
    layers: [
      { name: 'h', units: 3, activation: 'tanh' },
      { name: 'out', units: 1, activation: 'linear' },
    ],
  };
  const rng0 = new Rng(5);
  const net = denseFromFlat(
    spec,
    Float32Array.from({ length: 13 }, () => rng0.normal()),
  );
  const r = await variationalRelevance(net, split, { epochs: 20, seed: 4 });
  const { mu, sigma } = r;
  const rng = new Rng(99);
  const N = split.train.rows;
  const draws = 4000;
  let s = 0;
  for (let d = 0; d < draws; d++) {
    const w = Array.from(mu, (m, j) => m + sigma[j] * rng.normal()); // one weight draw per pass
    for (let n = 0; n < N; n++) {
      const x = [split.train.x[n * 2], split.train.x[n * 2 + 1]];
      let f = w[12];
      for (let j = 0; j < 3; j++) f += w[9 + j] * Math.tanh(w[6 + j] + x[0] * w[j] + x[1] * w[3 + j]);
      s += (split.train.y[n] - f) ** 2;
    }
  }
  const ref = s / (draws * N);
  assert.ok(Math.abs(r.noiseVariance! - ref) <= 0.03 * ref, `noiseVariance ${r.noiseVariance} vs ${ref}`);
  net.dispose();
});

test("every variational result carries mu's metrics beside the teacher's, and warns when they differ by more than 2x", async () => {
  await backend();
  const { split } = linearRegression(60, 3, 33, 0.3);
  const net = randomDense({ inputSize: 3, layers: [{ name: 'out', units: 1, activation: 'linear' }] }, 2);
  await train(net, split, { epochs: 200, batchSize: 16, lr: 0.05, seed: 2, evalEvery: 0 });
  const ok = await variationalRelevance(net, split, { epochs: 10, seed: 1 });
  const mu = posteriorMeanNetwork(net, ok);
  assert.equal(ok.fit.metric, 'mse');
  assert.equal(ok.fit.teacher.test!.mse, evaluate(net, split.test, 'regression', 1).mse);
  assert.equal(ok.fit.posteriorMean.test!.mse, evaluate(mu, split.test, 'regression', 1).mse);
  assert.equal(ok.fit.posteriorMean.train.mse, evaluate(mu, split.train, 'regression', 1).mse);
  assert.ok(Math.abs(ok.fit.ratio - ok.fit.posteriorMean.test!.mse! / ok.fit.teacher.test!.mse!) < 1e-12);
  assert.ok(ok.fit.ratio < 2 && ok.fit.ratio > 0.5, `ratio ${ok.fit.ratio}`);
  assert.equal(ok.fit.warning, undefined);
  mu.dispose();
  // A noise variance fixed far too large lets the prior pull mu towards 0: a different model.
  const smooth = await variationalRelevance(net, split, { epochs: 40, seed: 1, noiseVariance: 1000 });
  assert.ok(smooth.fit.ratio > 2, `ratio ${smooth.fit.ratio}`);
  assert.match(smooth.fit.warning!, /different model from the teacher/);
  assert.equal((smooth.extra as { warning: string }).warning, smooth.fit.warning);
  assert.ok(tf.memory().numTensors < 100);
  net.dispose();
});
