import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend, batch, maxRelErr } from '../helpers';
import { NetworkSpec, computeLayout, flatIndex, locate, randomDense } from '../../src/engine/model/denseChain';
import { flatten } from '../../src/engine/model/graph';
import { lossGradients } from '../../src/engine/model/gradients';
import { HIDDEN_ACTIVATIONS } from '../../src/engine/model/activations';
import { meanLoss, lossKindOf } from '../../src/engine/model/loss';

test('flat index round trip: kernel row-major [in, out], then bias', () => {
  const spec: NetworkSpec = {
    inputSize: 3,
    layers: [
      { name: 'a', units: 2, activation: 'tanh' },
      { name: 'b', units: 4, activation: 'softmax' },
    ],
  };
  const layout = computeLayout(spec);
  assert.equal(layout[1].kernelOffset, 8);
  assert.deepEqual(locate(layout, 1), { layer: 0, kind: 'kernel', input: 0, unit: 1 });
  assert.deepEqual(locate(layout, 6), { layer: 0, kind: 'bias', input: -1, unit: 0 });
  for (let j = 0; j < 8 + 2 * 4 + 4; j++) assert.equal(flatIndex(layout, locate(layout, j)), j);
  assert.throws(() => locate(layout, 20), /outside/);
});

for (const act of HIDDEN_ACTIVATIONS) {
  for (const head of ['softmax', 'linear', 'sigmoid'] as const) {
    test(`explicit backward equals tf autodiff (${act} hidden, ${head} head)`, async () => {
      await backend();
      const spec: NetworkSpec = {
        inputSize: 4,
        layers: [
          { name: 'h1', units: 5, activation: act },
          { name: 'h2', units: 3, activation: act },
          { name: 'out', units: 3, activation: head },
        ],
      };
      const net = randomDense(spec, 3);
      net.setFlat(Float32Array.from(net.toFlat(), (v, i) => v + 0.1 * Math.sin(i))); // non-zero biases
      const { x, y } = batch(7, 16, 4, 3, head === 'softmax');
      const g = lossGradients(net, x, y);
      const ours = flatten(net, g.grads);
      const ref = tf.variableGrads(() => meanLoss(lossKindOf(net), net.predict(x), y), net.params);
      const refFlat = flatten(
        net,
        net.params.map((p) => ref.grads[p.name]),
      );
      assert.ok(maxRelErr(ours, refFlat) < 1e-4, `rel err ${maxRelErr(ours, refFlat)}`);
      assert.ok(Math.abs(g.loss - ref.value.dataSync()[0]) < 1e-5);
      tf.dispose([x, y, ref.value]);
      net.dispose();
    });
  }
}
