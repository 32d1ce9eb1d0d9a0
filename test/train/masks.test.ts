// Seeding, prune and freeze masks, cancellation, tensor hygiene and the non-finite stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { NetworkSpec, randomDense } from '../../src/engine/model/denseChain';
import { Trainer } from '../../src/engine/train/trainer';
import { train } from '../../src/engine/train/train';
import { PruneScopeError, CancelledError } from '../../src/engine/errors';
import { Rng } from '../../src/engine/util/random';
import { bits, blobs, linearRegression } from './fixtures';

const SPEC: NetworkSpec = {
  inputSize: 5,
  layers: [
    { name: 'h', units: 8, activation: 'tanh' },
    { name: 'out', units: 3, activation: 'softmax' },
  ],
};
const OPTS = { epochs: 3, batchSize: 16, lr: 0.01 };

function randomMask(n: number, p: number, seed: number, only?: Uint8Array): Uint8Array {
  const rng = new Rng(seed);
  return Uint8Array.from({ length: n }, (_, j) => (only && !only[j] ? 0 : rng.next() < p ? 1 : 0));
}

async function trained(seed: number, extra: Partial<Parameters<typeof train>[2]> = {}): Promise<Float32Array> {
  const net = randomDense(SPEC, 1);
  await train(net, blobs(200, 5, 3, 4), { ...OPTS, seed, ...extra });
  const flat = net.toFlat();
  net.dispose();
  return flat;
}

test('same seed gives bit-identical parameters; another seed gives different ones', async () => {
  await backend();
  const a = await trained(7),
    b = await trained(7),
    c = await trained(8);
  assert.deepEqual(bits(a), bits(b));
  const init = randomDense(SPEC, 1);
  assert.notDeepEqual(bits(a), bits(init.toFlat())); // training moved the parameters
  init.dispose();
  let differ = 0;
  for (let j = 0; j < a.length; j++) if (a[j] !== c[j]) differ++;
  assert.ok(differ > a.length / 2, `only ${differ} of ${a.length} parameters differ between seeds`);
});

test('an all-zero freeze mask (and all-zero prune mask) trains exactly like no mask', async () => {
  await backend();
  const n = randomDense(SPEC, 1).nParams;
  const plain = await trained(3);
  const masked = await trained(3, { freezeMask: new Uint8Array(n), pruneMask: new Uint8Array(n) });
  assert.deepEqual(bits(masked), bits(plain));
});

test('pruned parameters are exactly zero after every step, with zero Adam moments', async () => {
  await backend();
  const split = blobs(200, 5, 3, 4);
  const net = randomDense(SPEC, 1);
  const prune = randomMask(net.nParams, 0.4, 9, net.kernelMask());
  const pruned = [...prune.keys()].filter((j) => prune[j]);
  assert.ok(pruned.length > 10);
  // Through train(): check inside the hook (before each update) and at the end.
  let checked = 0;
  await train(net, split, {
    ...OPTS,
    seed: 1,
    pruneMask: prune,
    onStep: ({ step }) => {
      if (step % 5 !== 0) return;
      const f = net.toFlat();
      for (const j of pruned) assert.equal(f[j], 0, `step ${step}: parameter ${j} = ${f[j]}`);
      checked++;
    },
  });
  assert.ok(checked > 3);
  const f = net.toFlat();
  for (const j of pruned) assert.equal(f[j], 0);
  const live = [...prune.keys()].filter((j) => !prune[j] && net.kernelMask()[j]);
  assert.ok(
    live.every((j) => f[j] !== 0),
    'unpruned weights should be non-zero',
  );
  // Through the Trainer: moments of pruned parameters stay 0 while the others are non-zero.
  const trainer = new Trainer(net, { lr: 0.01, pruneMask: prune });
  const x = tf.tensor2d(split.train.x.subarray(0, 32 * 5), [32, 5]);
  const y = tf.oneHot(tf.tensor1d(Int32Array.from(split.train.y.subarray(0, 32)), 'int32'), 3).toFloat() as tf.Tensor2D;
  for (let s = 0; s < 4; s++) trainer.step(x, y).dispose();
  const { m, v } = trainer.moments();
  for (const j of pruned) {
    assert.equal(m[j], 0);
    assert.equal(v[j], 0);
  }
  assert.ok(live.every((j) => v[j] > 0));
  const after = net.toFlat();
  for (const j of pruned) assert.equal(after[j], 0);
  trainer.dispose();
  tf.dispose([x, y]);
  net.dispose();
});

test('parameters frozen from a hook at step t0 keep their values bit for bit; their moments stop', async () => {
  await backend();
  const split = blobs(200, 5, 3, 4);
  const net = randomDense(SPEC, 1);
  const freeze = randomMask(net.nParams, 0.5, 3);
  const frozen = [...freeze.keys()].filter((j) => freeze[j]);
  let atFreeze: Float32Array | undefined;
  let momentsAtFreeze: { m: Float32Array; v: Float32Array } | undefined;
  let lastMoments: { m: Float32Array; v: Float32Array } | undefined;
  const t0 = 10;
  await train(net, split, {
    ...OPTS,
    seed: 2,
    onStep: ({ step, trainer }) => {
      if (step === t0) {
        // The hook runs before this step's update: these are the values at freeze time.
        atFreeze = net.toFlat();
        momentsAtFreeze = trainer.moments();
        trainer.setFreezeMask(freeze);
      }
      if (step > t0) lastMoments = trainer.moments();
    },
  });
  assert.ok(atFreeze && momentsAtFreeze && lastMoments);
  const end = net.toFlat();
  const endBits = bits(end),
    freezeBits = bits(atFreeze);
  for (const j of frozen) {
    assert.equal(endBits[j], freezeBits[j], `frozen parameter ${j}: ${atFreeze[j]} -> ${end[j]}`);
    assert.equal(lastMoments.m[j], momentsAtFreeze.m[j]);
    assert.equal(lastMoments.v[j], momentsAtFreeze.v[j]);
  }
  const free = [...freeze.keys()].filter((j) => !freeze[j] && atFreeze![j] !== 0);
  const moved = free.filter((j) => end[j] !== atFreeze![j]).length;
  assert.ok(moved > free.length * 0.9, `only ${moved} of ${free.length} free parameters moved`);
  net.dispose();
});

test('cancellation stops before the next step and leaves the network usable, with no leaked tensors', async () => {
  await backend();
  const split = blobs(200, 5, 3, 4);
  const net = randomDense(SPEC, 1);
  const before = tf.memory().numTensors;
  const ac = new AbortController();
  const seen: number[] = [];
  await assert.rejects(
    train(net, split, {
      ...OPTS,
      epochs: 50,
      seed: 1,
      signal: ac.signal,
      onStep: ({ step }) => {
        seen.push(step);
        if (step === 4) ac.abort();
      },
    }),
    (e: unknown) => e instanceof CancelledError && (e as PruneScopeError).code === 'cancelled',
  );
  assert.deepEqual(seen, [1, 2, 3, 4]);
  assert.equal(tf.memory().numTensors, before);
  const out = net.predict(tf.tensor2d(split.test.x.subarray(0, 10), [2, 5]));
  const p = out.dataSync();
  assert.ok(p.every(Number.isFinite));
  assert.ok(Math.abs(p[0] + p[1] + p[2] - 1) < 1e-5);
  tf.dispose(out);
  // And it trains on afterwards.
  const r = await train(net, split, { ...OPTS, seed: 1 });
  assert.ok(r.final.test.accuracy! > 0.9);
  net.dispose();
});

test('no tensor leak across epochs', async () => {
  await backend();
  const split = blobs(300, 5, 3, 4);
  const net = randomDense(SPEC, 1);
  const counts: number[] = [];
  const start = tf.memory().numTensors;
  await train(net, split, {
    ...OPTS,
    epochs: 6,
    seed: 1,
    l2: 1e-3,
    freezeMask: randomMask(net.nParams, 0.2, 1),
    onEpoch: () => counts.push(tf.memory().numTensors),
  });
  assert.equal(counts.length, 6);
  assert.ok(
    counts.every((c) => c === counts[0]),
    `tensor count per epoch: ${counts}`,
  );
  assert.equal(tf.memory().numTensors, start);
  net.dispose();
});

test('a non-finite loss stops training with a numerical error naming the step and epoch', async () => {
  await backend();
  const { split } = linearRegression(64, 3, 1);
  split.train.y.fill(1e30, 40); // squared error overflows float32 on the batch that holds these rows
  const net = randomDense({ inputSize: 3, layers: [{ name: 'out', units: 1, activation: 'linear' }] }, 1);
  const before = tf.memory().numTensors;
  await assert.rejects(
    train(net, split, { epochs: 3, batchSize: 64, lr: 0.01, seed: 1 }),
    (e: unknown) => e instanceof PruneScopeError && e.code === 'numerical' && /step 1 \(epoch 1\)/.test(e.message),
  );
  assert.equal(tf.memory().numTensors, before);
  net.dispose();
});

test('masks of the wrong length are refused naming the mask', async () => {
  await backend();
  const net = randomDense(SPEC, 1);
  assert.throws(() => new Trainer(net, { lr: 0.01, freezeMask: new Uint8Array(3) }), /freezeMask.*expected \d+/);
  net.dispose();
});

test('an abort from outside the loop (a timer, like SIGINT) is delivered while training runs', async () => {
  await backend();
  const split = blobs(400, 5, 3, 4);
  const net = randomDense(SPEC, 1);
  const ac = new AbortController();
  let steps = 0;
  setTimeout(() => ac.abort(), 100);
  const t0 = performance.now();
  await assert.rejects(
    train(net, split, {
      ...OPTS,
      epochs: 100000,
      seed: 1,
      signal: ac.signal,
      onStep: () => {
        steps++;
      },
    }),
    CancelledError,
  );
  assert.ok(steps > 0 && performance.now() - t0 < 5000, `${steps} steps in ${performance.now() - t0} ms`);
  net.dispose();
});
