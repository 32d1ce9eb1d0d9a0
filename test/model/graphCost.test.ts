// FLOPs (multiply-adds per example) and parameter counts, against LeNet-5 counted by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { graphCost } from '../../src/engine/model/graphCost';
import { GraphBuilder, lenet5 } from '../prune/graphFixtures';

test('LeNet-5 on 28x28x1: 416,520 multiply-adds and 61,706 parameters, counted by hand', () => {
  const c = graphCost(lenet5(1));
  const per = Object.fromEntries(c.layers.map((l) => [l.node, [l.macs, l.params]]));
  // conv1: 28 x 28 outputs (same) x 6 filters x 5 x 5 x 1 input channel; 6 * 25 + 6 parameters
  assert.deepEqual(per.conv1, [28 * 28 * 6 * 25, 156]);
  // conv2 on the 14 x 14 x 6 pooled map, valid: 10 x 10 x 16 x 5 x 5 x 6; 16 * 150 + 16
  assert.deepEqual(per.conv2, [10 * 10 * 16 * 150, 2416]);
  assert.deepEqual(per.pool1, [0, 0]);
  assert.deepEqual(per.fc1, [400 * 120, 48120]); // 5 x 5 x 16 = 400 inputs
  assert.deepEqual(per.fc2, [120 * 84, 10164]);
  assert.deepEqual(per.out, [84 * 10, 850]);
  assert.equal(c.macs, 117600 + 240000 + 48000 + 10080 + 840);
  assert.equal(c.macs, 416520);
  assert.equal(c.params, 61706);
  assert.equal(c.weightBytes, 4 * 61706);
});

test('depthwise, BN (one multiply-add per element) and per-position Dense', () => {
  const b = new GraphBuilder(2, [6, 6, 3]);
  b.depthwise('dw', 'input', 3, 2, 3, { padding: 'valid' }); // 4 x 4 x 6
  b.bn('bn', 'dw', 6);
  b.dense('pd', 'bn', 6, 5); // on every one of the 16 positions
  const c = graphCost(b.output('pd'));
  const per = Object.fromEntries(c.layers.map((l) => [l.node, l]));
  assert.equal(per.dw.macs, 4 * 4 * 3 * 2 * 9);
  assert.equal(per.bn.macs, 4 * 4 * 6);
  assert.equal(per.bn.params, 12);
  assert.equal(per.bn.state, 12);
  assert.equal(per.pd.macs, 16 * 6 * 5);
});
