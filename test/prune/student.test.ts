import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { NetworkSpec, denseLayout, flatIndex, randomDense } from '../../src/engine/model/denseChain';
import { shrinkToStudent } from '../../src/engine/prune/student';
import { HIDDEN_ACTIVATIONS } from '../../src/engine/model/activations';
import { Rng } from '../../src/engine/util/random';

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

for (const act of HIDDEN_ACTIVATIONS) {
  test(`student computes the masked network's function exactly and is smaller (${act})`, async () => {
    await backend();
    const rng = new Rng(11);
    const spec: NetworkSpec = {
      inputSize: 6,
      layers: [
        { name: 'h1', units: 8, activation: act },
        { name: 'h2', units: 5, activation: act },
        { name: 'out', units: 3, activation: 'softmax' },
      ],
    };
    const net = randomDense(spec, 5);
    const flat = net.toFlat();
    for (let i = 0; i < flat.length; i++) flat[i] += 0.3 * rng.normal(); // non-zero biases too
    const L = denseLayout(net)!;
    const kill = (l: number, i: number, u: number) => {
      flat[flatIndex(L, { layer: l, kind: 'kernel', input: i, unit: u })] = 0;
    };
    // h1 unit 2: all incoming pruned -> constant act(b) folded into h2's biases.
    for (let i = 0; i < 6; i++) kill(0, i, 2);
    // h1 unit 5: all outgoing pruned -> dead.
    for (let u = 0; u < 5; u++) kill(1, 5, u);
    // h2 unit 4: all outgoing pruned -> dead, which leaves nothing else dead.
    for (let u = 0; u < 3; u++) kill(2, 4, u);
    // input 3: unused.
    for (let u = 0; u < 8; u++) kill(0, 3, u);
    // plus random scattered pruning
    for (let k = 0; k < 20; k++) flat[rng.int(flat.length)] = 0;
    net.setFlat(flat);
    const x = tf.randomNormal([64, 6], 0, 2, 'float32', 3) as tf.Tensor2D;

    const s = shrinkToStudent(net);
    assert.ok(s.widthsAfter[0] <= 6 && s.widthsAfter[1] <= 4, `widths ${s.widthsAfter}`);
    assert.ok(s.paramsAfter < s.paramsBefore);
    assert.ok(s.unusedInputs.includes(3));
    assert.equal(s.network.inputSize, 6);
    assert.ok(maxAbsDiff(s.network.predict(x), net.predict(x)) <= 1e-5);

    const d = shrinkToStudent(net, { dropUnusedInputs: true });
    assert.ok(!d.keptInputs.includes(3));
    const xs = tf.gather(x, d.keptInputs, 1) as tf.Tensor2D;
    assert.ok(maxAbsDiff(d.network.predict(xs), net.predict(x)) <= 1e-5);
    tf.dispose([x, xs]);
    [net, s.network, d.network].forEach((n) => n.dispose());
  });
}

test('a fully pruned hidden layer collapses to a constant network', async () => {
  await backend();
  const spec: NetworkSpec = {
    inputSize: 3,
    layers: [
      { name: 'h', units: 4, activation: 'sigmoid' },
      { name: 'o', units: 2, activation: 'linear' },
    ],
  };
  const net = randomDense(spec, 1);
  const flat = net.toFlat();
  for (let i = 0; i < 12; i++) flat[i] = 0; // all input weights
  for (let i = 12; i < 16; i++) flat[i] = 0.5 * (i - 13); // biases
  net.setFlat(flat);
  const s = shrinkToStudent(net);
  assert.deepEqual(s.widthsAfter, [1, 2]);
  const x = tf.randomNormal([5, 3]) as tf.Tensor2D;
  // Independent reference: out = sum_u sigmoid(b_u) W2[u] + b2.
  const W2 = flat.subarray(16, 24),
    b2 = flat.subarray(24, 26);
  for (let j = 0; j < 2; j++) {
    let ref = b2[j];
    for (let u = 0; u < 4; u++) ref += W2[u * 2 + j] / (1 + Math.exp(-flat[12 + u]));
    const got = s.network.predict(x).arraySync() as number[][];
    for (const row of got) assert.ok(Math.abs(row[j] - ref) < 1e-5);
  }
  x.dispose();
  net.dispose();
  s.network.dispose();
});

import { selectNeurons } from '../../src/engine/prune/neuronSelect';

test('neuron selection keeps the neurons with the largest summed relevance and reaches the widths', async () => {
  await backend();
  const spec: NetworkSpec = {
    inputSize: 4,
    layers: [
      { name: 'h1', units: 6, activation: 'tanh' },
      { name: 'h2', units: 5, activation: 'relu' },
      { name: 'o', units: 2, activation: 'linear' },
    ],
  };
  const net = randomDense(spec, 2);
  const L = denseLayout(net)!;
  const scores = new Float64Array(net.nParams).fill(1);
  // Make h1 units 1 and 4 and h2 unit 0 clearly most relevant via one incoming weight each.
  scores[flatIndex(L, { layer: 0, kind: 'kernel', input: 0, unit: 1 })] = 100;
  scores[flatIndex(L, { layer: 0, kind: 'kernel', input: 2, unit: 4 })] = 50;
  scores[flatIndex(L, { layer: 2, kind: 'kernel', input: 0, unit: 1 })] = 70; // outgoing of h2 unit 0
  const sel = selectNeurons(net, scores, { widths: [2, 1] });
  assert.deepEqual(sel.kept, [[1, 4], [0]]);
  const flat = net.toFlat();
  for (let i = 0; i < flat.length; i++) if (sel.mask[i]) flat[i] = 0;
  net.setFlat(flat);
  const s = shrinkToStudent(net, { mask: sel.mask });
  assert.deepEqual(s.widthsAfter, [2, 1, 2]);
  assert.deepEqual(s.keptUnits.slice(0, 2), [[1, 4], [0]]);
  assert.throws(() => selectNeurons(net, scores, { widths: [7, 1] }), /widths.*\[1, 6\]/);
  net.dispose();
  s.network.dispose();
});
