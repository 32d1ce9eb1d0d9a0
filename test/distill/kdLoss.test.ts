import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend, maxRelErr } from '../helpers';
import { NetworkSpec, randomDense } from '../../src/engine/model/denseChain';
import { kdOutputDelta, kdSampleLosses } from '../../src/engine/distill/kdLoss';
import { Rng } from '../../src/engine/util/random';

// Float64 reference of the per-sample KD loss as a function of the student logits.
function softmax(z: number[], T = 1): number[] {
  const m = Math.max(...z.map((v) => v / T));
  const e = z.map((v) => Math.exp(v / T - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
function kdRef(zs: number[], zt: number[], y: number[], T: number, a: number): number {
  const pt = softmax(zt, T),
    ps = softmax(zs, T),
    p = softmax(zs);
  let kl = 0,
    ce = 0;
  for (let k = 0; k < zs.length; k++) {
    kl += pt[k] * (Math.log(pt[k]) - Math.log(ps[k]));
    ce -= y[k] * Math.log(p[k]);
  }
  return a * T * T * kl + (1 - a) * ce;
}

const clsSpec: NetworkSpec = { inputSize: 2, layers: [{ name: 'o', units: 4, activation: 'softmax' }] };

function sample(rng: Rng) {
  const zs = Array.from({ length: 4 }, () => 2 * rng.normal());
  const zt = Array.from({ length: 4 }, () => 2 * rng.normal());
  const y = [0, 0, 0, 0];
  y[rng.int(4)] = 1;
  return { zs, zt, y };
}

test('KD loss and its gradient w.r.t. the student logits match a float64 reference and central differences', async () => {
  await backend();
  const net = randomDense(clsSpec, 0);
  const rng = new Rng(3);
  for (const [T, a] of [
    [1, 0.7],
    [4, 0.7],
    [2, 0.3],
    [4, 1],
  ]) {
    const { zs, zt, y } = sample(rng);
    const Z = tf.tensor2d([zs]),
      P = tf.softmax(Z),
      PT = tf.softmax(tf.tensor2d([zt])),
      Y = tf.tensor2d([y]);
    const loss = kdSampleLosses(net, Z as tf.Tensor2D, P as tf.Tensor2D, PT as tf.Tensor2D, Y as tf.Tensor2D, {
      temperature: T,
      alpha: a,
    }).dataSync()[0];
    assert.ok(Math.abs(loss - kdRef(zs, zt, y, T, a)) < 1e-4 * Math.max(1, Math.abs(loss)));
    const delta = kdOutputDelta(net, Z as tf.Tensor2D, P as tf.Tensor2D, PT as tf.Tensor2D, Y as tf.Tensor2D, {
      temperature: T,
      alpha: a,
    }).dataSync();
    const h = 1e-5;
    const fd = zs.map((_, k) => {
      const up = zs.slice(),
        dn = zs.slice();
      up[k] += h;
      dn[k] -= h;
      return (kdRef(up, zt, y, T, a) - kdRef(dn, zt, y, T, a)) / (2 * h);
    });
    assert.ok(maxRelErr(delta, fd) < 1e-4, `T=${T} a=${a}: ${[...delta]} vs ${fd}`);
    tf.dispose([Z, P, PT, Y]);
  }
  net.dispose();
});

test('as T grows, the soft gradient tends to a (z_s - z_t)/K with zero-mean logits (Hinton et al.)', async () => {
  await backend();
  const net = randomDense(clsSpec, 0);
  const { zs, zt } = sample(new Rng(9));
  const center = (z: number[]) => {
    const m = z.reduce((p, q) => p + q, 0) / z.length;
    return z.map((v) => v - m);
  };
  const expected = center(zs).map((v, k) => (0.5 * (v - center(zt)[k])) / 4);
  const Z = tf.tensor2d([zs]),
    P = tf.softmax(Z),
    PT = tf.softmax(tf.tensor2d([zt]));
  const Y = tf.tensor2d([[1, 0, 0, 0]]);
  // alpha = 0.5; remove the hard part (1-a)(p - y) to isolate the soft term.
  const d = kdOutputDelta(net, Z as tf.Tensor2D, P as tf.Tensor2D, PT as tf.Tensor2D, Y as tf.Tensor2D, {
    temperature: 200,
    alpha: 0.5,
  }).dataSync();
  const hard = tf.sub(P, Y).dataSync();
  const soft = Array.from(d, (v, k) => v - 0.5 * hard[k]);
  assert.ok(maxRelErr(soft, expected) < 2e-2, `${soft} vs ${expected}`);
  tf.dispose([Z, P, PT, Y]);
  net.dispose();
});

test('with a = 0 the KD delta is the plain cross-entropy delta p - y, and for regression the plain MSE delta', async () => {
  await backend();
  const net = randomDense(clsSpec, 0);
  const { zs, zt, y } = sample(new Rng(4));
  const Z = tf.tensor2d([zs]),
    P = tf.softmax(Z),
    PT = tf.softmax(tf.tensor2d([zt])),
    Y = tf.tensor2d([y]);
  const d = kdOutputDelta(net, Z as tf.Tensor2D, P as tf.Tensor2D, PT as tf.Tensor2D, Y as tf.Tensor2D, {
    temperature: 3,
    alpha: 0,
  }).dataSync();
  assert.deepEqual([...d], [...tf.sub(P, Y).dataSync()]);
  const reg = randomDense({ inputSize: 2, layers: [{ name: 'o', units: 2, activation: 'linear' }] }, 0);
  const out = tf.tensor2d([[1, 2]]),
    t = tf.tensor2d([[0, 0]]),
    yy = tf.tensor2d([[3, 5]]);
  const dr = kdOutputDelta(reg, out as tf.Tensor2D, out as tf.Tensor2D, t as tf.Tensor2D, yy as tf.Tensor2D, {
    temperature: 1,
    alpha: 0.25,
  }).dataSync();
  // (2/K) (a (out - t) + (1 - a)(out - y)) with K = 2
  assert.deepEqual([...dr], [0.25 * 1 + 0.75 * -2, 0.25 * 2 + 0.75 * -3]);
  tf.dispose([Z, P, PT, Y, out, t, yy]);
  net.dispose();
  reg.dispose();
});
