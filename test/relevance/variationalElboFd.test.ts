// The per-sample negative ELBO of one minibatch, F = nll_batch / B + sum_l KL_l(alpha_l^2) / N with
// the noise eps held fixed (the local-reparameterisation sample), written out in float64 here and
// differentiated by central finite differences: against elboStep's gradients in mu and rho, and in
// the prior variances against the closed form the fit uses (alpha_l^2 = mean over the layer of
// mu^2 + sigma^2 must make dF/dalpha_l^2 vanish) and layerStatistics' KL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend, maxRelErr } from '../helpers';
import { NetworkSpec, denseLayout, randomDense } from '../../src/engine/model/denseChain';
import { Rng } from '../../src/engine/util/random';
import {
  disposePosterior,
  elboStep,
  fillNormal,
  initPosterior,
  layerStatistics,
  Likelihood,
} from '../../src/engine/relevance/variationalPosterior';

interface Layer {
  inSize: number;
  outSize: number;
  act: 'tanh' | 'softmax' | 'linear';
  muW: number[];
  muB: number[];
  rhoW: number[];
  rhoB: number[];
}

const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** F in float64 for rows x [B, d], targets y [B, K], noise eps[l] [B, out_l]. */
function objective(
  layers: Layer[],
  x: number[][],
  y: number[][],
  eps: number[][][],
  lik: Likelihood,
  prior: number[],
  N: number,
): number {
  const B = x.length;
  let nll = 0;
  for (let i = 0; i < B; i++) {
    let a = x[i];
    let z: number[] = [];
    layers.forEach((L, l) => {
      z = Array.from({ length: L.outSize }, (_, o) => {
        let m = L.muB[o];
        let v = softplus(L.rhoB[o]) ** 2;
        for (let k = 0; k < L.inSize; k++) {
          m += a[k] * L.muW[k * L.outSize + o];
          v += a[k] * a[k] * softplus(L.rhoW[k * L.outSize + o]) ** 2;
        }
        return m + Math.sqrt(v) * eps[l][i][o];
      });
      a = L.act === 'tanh' ? z.map(Math.tanh) : z;
    });
    if (lik.kind === 'categorical') {
      const mx = Math.max(...z);
      const lse = mx + Math.log(z.reduce((s, v) => s + Math.exp(v - mx), 0));
      nll -= y[i].reduce((s, t, k) => s + t * (z[k] - lse), 0);
    } else {
      nll += a.reduce((s, v, k) => s + (v - y[i][k]) ** 2, 0) / (2 * lik.noiseVariance);
    }
  }
  let kl = 0;
  layers.forEach((L, l) => {
    const mus = [...L.muW, ...L.muB];
    [...L.rhoW, ...L.rhoB].forEach((r, j) => {
      const s2 = softplus(r) ** 2;
      kl += 0.5 * ((s2 + mus[j] ** 2) / prior[l] - 1 - Math.log(s2 / prior[l]));
    });
  });
  return (B > 0 ? nll / B : 0) + kl / N;
}

/** Central difference of f at the entry `get/set` addresses, in float64. */
function central(f: () => number, get: () => number, set: (v: number) => void): number {
  const v0 = get();
  const h = 1e-5 * Math.max(1, Math.abs(v0));
  set(v0 + h);
  const up = f();
  set(v0 - h);
  const down = f();
  set(v0);
  return (up - down) / (2 * h);
}

for (const head of ['softmax', 'linear'] as const) {
  test(`float64 finite differences of the minibatch ELBO: d/dmu, d/drho (${head} head), d/dalpha^2`, async () => {
    await backend();
    const spec: NetworkSpec = {
      inputSize: 3,
      layers: [
        { name: 'h', units: 4, activation: 'tanh' },
        { name: 'out', units: 3, activation: head },
      ],
    };
    const net = randomDense(spec, 5);
    const rng = new Rng(17);
    const B = 5,
      N = 40;
    const q = initPosterior(net, [0.3, 0.3]);
    // rho from -3 to 1 (sigma 0.05 to 1.3): both branches of softplus, entries distinguishable.
    tf.tidy(() =>
      q.rho.forEach((r, k) =>
        r.assign(tf.add(-1, tf.mul(2, (k % 2 ? tf.cos : tf.sin)(tf.reshape(tf.range(0, r.size), r.shape))))),
      ),
    );
    const x = Array.from({ length: B }, () => Array.from({ length: 3 }, () => rng.normal()));
    const y = Array.from({ length: B }, () => {
      const row = [0, 0, 0];
      if (head === 'softmax') row[rng.int(3)] = 1;
      else for (let k = 0; k < 3; k++) row[k] = rng.normal();
      return row;
    });
    const epsF = denseLayout(net)!.map((l) => fillNormal(rng, new Float32Array(B * l.outSize)));
    const eps = denseLayout(net)!.map((l, i) =>
      Array.from({ length: B }, (_, r) => Array.from(epsF[i].subarray(r * l.outSize, (r + 1) * l.outSize))),
    );
    const lik: Likelihood = head === 'softmax' ? { kind: 'categorical' } : { kind: 'gaussian', noiseVariance: 0.4 };
    const prior = [0.6, 1.7];
    // The float64 copy of exactly the float32 parameters elboStep sees.
    const layers: Layer[] = denseLayout(net)!.map((l, i) => ({
      inSize: l.inSize,
      outSize: l.outSize,
      act: l.activation as Layer['act'],
      muW: Array.from(q.mu[2 * i].dataSync()),
      muB: Array.from(q.mu[2 * i + 1].dataSync()),
      rhoW: Array.from(q.rho[2 * i].dataSync()),
      rhoB: Array.from(q.rho[2 * i + 1].dataSync()),
    }));
    const before = tf.memory().numTensors;
    const grads = tf.tidy(() => {
      const xt = tf.tensor2d(x.flat(), [B, 3]);
      const yt = tf.tensor2d(y.flat(), [B, 3]);
      const et = denseLayout(net)!.map((l, i) => tf.tensor2d(epsF[i], [B, l.outSize]));
      return elboStep(net, q, xt, yt, et, lik, prior, N).grads.map((g) => Array.from(g.dataSync()));
    });
    assert.equal(tf.memory().numTensors, before);

    const F = () => objective(layers, x, y, eps, lik, prior, N);
    layers.forEach((L, l) => {
      (['muW', 'muB', 'rhoW', 'rhoB'] as const).forEach((name, k) => {
        const arr = L[name];
        const fd = arr.map((_, j) =>
          central(
            F,
            () => arr[j],
            (v) => {
              arr[j] = v;
            },
          ),
        );
        // elboStep's gradients: [mu of each weight..., rho of each weight...], weights kernel then bias per layer.
        const W = 2 * layers.length;
        const g = grads[(k >= 2 ? W : 0) + 2 * l + (k % 2)];
        const e = maxRelErr(g, fd, 1e-6);
        assert.ok(e < 2e-4, `${name} of layer ${l}: rel err ${e} (elboStep ${g.slice(0, 3)} vs fd ${fd.slice(0, 3)})`);
      });
    });

    // Prior variances: layerStatistics' KL is the float64 KL, and the closed-form update (the mean
    // over the layer of mu^2 + sigma^2, from layerStatistics' second moment) is where dF/dalpha^2 = 0.
    const stats = layerStatistics(net, q, prior);
    const sizes = layers.map((L) => L.muW.length + L.muB.length);
    layers.forEach((L, l) => {
      const only = layers.map((_, i) => (i === l ? L : { ...L, muW: [], muB: [], rhoW: [], rhoB: [] }));
      const klRef = N * objective(only, [], [], eps, lik, prior, N);
      assert.ok(Math.abs(stats.kl[l] - klRef) / klRef < 1e-5, `KL of layer ${l}: ${stats.kl[l]} vs ${klRef}`);
      const fitted = stats.secondMoment[l] / sizes[l];
      const dF = (a2: number) => {
        const p = prior.slice();
        p[l] = a2;
        return central(
          () => objective(layers, x, y, eps, lik, p, N),
          () => p[l],
          (v) => {
            p[l] = v;
          },
        );
      };
      // Away from the fit the derivative is the closed form (n alpha^2 - sum(mu^2 + sigma^2)) / (2 N alpha^4) ...
      for (const a2 of [0.5 * fitted, 2 * fitted]) {
        const want = (sizes[l] * a2 - stats.secondMoment[l]) / (2 * N * a2 * a2);
        assert.ok(Math.abs(dF(a2) - want) < 1e-6 * Math.abs(want), `dF/dalpha^2 at ${a2}: ${dF(a2)} vs ${want}`);
      }
      // ... and at the fitted value it vanishes (relative to its size a factor 2 away).
      assert.ok(
        Math.abs(dF(fitted)) < 1e-5 * Math.abs(dF(2 * fitted)),
        `dF/dalpha^2 at the fitted ${fitted}: ${dF(fitted)}`,
      );
    });
    disposePosterior(q);
    net.dispose();
  });
}
