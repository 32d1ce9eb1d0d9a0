import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkSpec, randomDense } from '../../src/engine/model/denseChain';
import { backend } from '../helpers';
import {
  candidateMask,
  pruneMaskAt,
  applyMask,
  countOnes,
  maskToIndices,
  indicesToMask,
} from '../../src/engine/prune/mask';
import { orderByScore } from '../../src/engine/util/order';

const spec: NetworkSpec = {
  inputSize: 2,
  layers: [
    { name: 'h', units: 2, activation: 'tanh' },
    { name: 'o', units: 1, activation: 'linear' },
  ],
};
// flat: h kernel 0..3, h bias 4..5, o kernel 6..7, o bias 8
const model = async () => {
  await backend();
  return randomDense(spec, 0);
};

test('candidates are the weights only unless biases are included', async () => {
  const layout = await model();
  assert.deepEqual([...candidateMask(layout)], [1, 1, 1, 1, 0, 0, 1, 1, 0]);
  assert.equal(countOnes(candidateMask(layout, { includeBias: true })), 9);
});

test('share p prunes round(p * candidates) from the head of the order, skipping biases', async () => {
  const layout = await model();
  const order = Int32Array.from([4, 7, 0, 8, 3, 1, 2, 5, 6]); // biases 4, 8, 5 interleaved
  const cand = candidateMask(layout);
  const m = pruneMaskAt(order, cand, 0.5, undefined); // 6 weights -> 3 pruned: 7, 0, 3
  assert.deepEqual(maskToIndices(m), [0, 3, 7]);
  assert.equal(countOnes(pruneMaskAt(order, cand, 1)), 6);
  assert.equal(countOnes(pruneMaskAt(order, cand, 0)), 0);
  assert.throws(() => pruneMaskAt(order, cand, 1.5), /fraction.*\[0, 1\]/);
});

test('ties break by lower flat index', () => {
  assert.deepEqual([...orderByScore([2, 1, 1, 0, 2])], [3, 1, 2, 0, 4]);
});

test('applied masks give exact zeros and keep the rest bit for bit', () => {
  const flat = Float32Array.from([0.1, -0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
  const out = applyMask(flat, indicesToMask([1, 6], 9));
  assert.equal(Object.is(out[1], 0), true);
  assert.equal(out[6], 0);
  assert.equal(out[2], flat[2]);
  assert.throws(() => indicesToMask([9], 9), /\[0, 9\)/);
});
