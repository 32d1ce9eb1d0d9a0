// The hand-written local-reparameterisation backward against tf autodiff of the same sampled
// objective (same eps): nll_batch / B + KL / N.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend, maxRelErr } from '../helpers';
import { NetworkSpec, denseLayout, randomDense } from '../../src/engine/model/denseChain';
import { apply } from '../../src/engine/model/activations';
import { Rng } from '../../src/engine/util/random';
import {
  elboStep,
  fillNormal,
  initPosterior,
  disposePosterior,
  posteriorVariables,
  Likelihood,
} from '../../src/engine/relevance/variationalPosterior';

for (const head of ['softmax', 'sigmoid', 'linear'] as const) {
  test(`explicit variational gradients equal tf autodiff (tanh/relu hidden, ${head} head)`, async () => {
    await backend();
    const spec: NetworkSpec = {
      inputSize: 4,
      layers: [
        { name: 'h1', units: 5, activation: 'tanh' },
        { name: 'h2', units: 3, activation: 'relu' },
        { name: 'out', units: 3, activation: head },
      ],
    };
    const net = randomDense(spec, 11);
    net.setFlat(Float32Array.from(net.toFlat(), (v, i) => v + 0.1 * Math.sin(i)));
    const rng = new Rng(5);
    const B = 16,
      N = 200;
    const q = initPosterior(net, [0.2, 0.2, 0.2]);
    // Different rho per entry so a mix-up of kernel entries would show.
    tf.tidy(() =>
      q.rho.forEach((r, k) =>
        r.assign(tf.add(r, tf.mul(0.3, (k % 2 ? tf.cos : tf.sin)(tf.reshape(tf.range(0, r.size), r.shape))))),
      ),
    );
    // Per layer: kernel and bias (the flat order of a dense chain).
    const layer = (i: number) => ({
      muW: q.mu[2 * i],
      muB: q.mu[2 * i + 1],
      rhoW: q.rho[2 * i],
      rhoB: q.rho[2 * i + 1],
    });
    const x = tf.tensor2d(
      Array.from({ length: B * 4 }, () => rng.normal()),
      [B, 4],
    );
    const yArr = new Float32Array(B * 3);
    for (let i = 0; i < B; i++) {
      if (head === 'softmax') yArr[i * 3 + rng.int(3)] = 1;
      else for (let k = 0; k < 3; k++) yArr[i * 3 + k] = head === 'sigmoid' ? rng.next() : rng.normal();
    }
    const y = tf.tensor2d(yArr, [B, 3]);
    const eps = denseLayout(net)!.map((l) =>
      tf.tensor2d(fillNormal(rng, new Float32Array(B * l.outSize)), [B, l.outSize]),
    );
    const prior = [0.5, 2, 0.7];
    const lik: Likelihood = head === 'softmax' ? { kind: 'categorical' } : { kind: 'gaussian', noiseVariance: 0.3 };
    const vars = posteriorVariables(q);

    const objective = (): tf.Scalar => {
      let a: tf.Tensor2D = x;
      let z: tf.Tensor2D = x;
      denseLayout(net)!.forEach((l, i) => {
        const p = layer(i);
        const m = tf.add(tf.matMul(a, p.muW as tf.Tensor2D), p.muB);
        const v = tf.add(
          tf.matMul(tf.square(a), tf.square(tf.softplus(p.rhoW)) as tf.Tensor2D),
          tf.square(tf.softplus(p.rhoB)),
        );
        z = tf.add(m, tf.mul(tf.sqrt(v), eps[i])) as tf.Tensor2D;
        a = apply(l.activation, z);
      });
      const nll =
        head === 'softmax'
          ? tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(z))))
          : tf.div(tf.sum(tf.square(tf.sub(a, y))), 2 * 0.3);
      let kl: tf.Scalar = tf.scalar(0);
      prior.forEach((_, l) => {
        const p = layer(l);
        for (const [mu, rho] of [
          [p.muW, p.rhoW],
          [p.muB, p.rhoB],
        ] as const) {
          const s2 = tf.square(tf.softplus(rho));
          kl = tf.add(
            kl,
            tf.mul(
              0.5,
              tf.sum(tf.sub(tf.sub(tf.div(tf.add(s2, tf.square(mu)), prior[l]), tf.log(tf.div(s2, prior[l]))), 1)),
            ),
          );
        }
      });
      return tf.add(tf.div(nll, B), tf.div(kl, N)) as tf.Scalar;
    };
    const before = tf.memory().numTensors;
    const ref = tf.variableGrads(objective, vars);
    const mine = tf.tidy(() => elboStep(net, q, x, y, eps, lik, prior, N).grads.map((g) => tf.keep(g)));
    vars.forEach((v, i) => {
      const r = ref.grads[v.name].dataSync();
      const e = maxRelErr(mine[i].dataSync(), r, 1e-6);
      assert.ok(
        e < 2e-4,
        `variable ${i} (${i < q.mu.length ? 'mu' : 'rho'} of ${net.weights[i % q.mu.length].name}): rel err ${e}`,
      );
    });
    ref.value.dispose();
    for (const g of Object.values(ref.grads)) g.dispose();
    for (const g of mine) g.dispose();
    assert.equal(tf.memory().numTensors, before);
    for (const t of [x, y, ...eps]) t.dispose();
    disposePosterior(q);
    net.dispose();
  });
}
