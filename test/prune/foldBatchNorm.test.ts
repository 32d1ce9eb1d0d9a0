// --fold-bn: BatchNormalization folded into the layer before it (or replaced by a 1x1 depthwise
// convolution where nothing can absorb it): no BN layer left and the same function to 1e-5
// (float64 reference forward), also after channel pruning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldBatchNorm } from '../../src/engine/prune/foldBatchNorm';
import { channelGroups, prunableGroups } from '../../src/engine/prune/groups';
import { structuredMask } from '../../src/engine/prune/structuredMask';
import { shrinkGraph } from '../../src/engine/prune/graphStudent';
import { graphToFlat, graphWithFlat } from '../../src/engine/model/graphFlat';
import { applyMask } from '../../src/engine/prune/mask';
import { forward64 } from '../reference/forward64';
import { GraphBuilder, maxAbsDiff, randomBatch } from './graphFixtures';

function net() {
  const b = new GraphBuilder(71, [6, 6, 2]);
  b.conv('c1', 'input', 2, 4, 3, { useBias: false });
  b.bn('bn1', 'c1', 4); // folds into c1 (which gains a bias)
  b.relu('r1', 'bn1');
  b.depthwise('dw', 'r1', 4, 2, 3);
  b.bn('bn2', 'dw', 8); // folds into the depthwise (multiplier 2)
  b.relu('r2', 'bn2');
  b.bn('bn3', 'r2', 8); // after an activation: becomes a 1x1 depthwise
  b.conv('c2', 'bn3', 8, 4, 1);
  b.sum('add', ['c2', 'r1']);
  b.gap('gap', 'add');
  b.dense('d', 'gap', 4, 5, 'linear');
  b.bn('bn4', 'd', 5); // folds into the Dense
  b.act('t', 'bn4', 'tanh');
  b.dense('out', 't', 5, 3);
  return b.output('out');
}

test('fold-bn: no BatchNormalization left, same function to 1e-5', () => {
  const spec = net();
  const r = foldBatchNorm(spec);
  assert.deepEqual(r.folded, [
    { batchNorm: 'bn1', into: 'c1' },
    { batchNorm: 'bn2', into: 'dw' },
    { batchNorm: 'bn4', into: 'd' },
  ]);
  assert.deepEqual(r.replaced, ['bn3']);
  assert.deepEqual(r.kept, []);
  assert.ok(r.spec.nodes.every((n) => n.className !== 'BatchNormalization'));
  assert.equal(r.spec.nodes.find((n) => n.name === 'r1')!.inputs[0], 'c1');
  const x = randomBatch(1, 10, [6, 6, 2]);
  const d = maxAbsDiff(forward64(r.spec, x).data, forward64(spec, x).data);
  assert.ok(d <= 1e-5, `max diff ${d}`);
  // The original is untouched.
  assert.equal(spec.nodes.filter((n) => n.className === 'BatchNormalization').length, 4);
});

test('fold-bn after channel pruning: the folded student equals the masked teacher to 1e-5', () => {
  const spec = net();
  const g = channelGroups(spec);
  const removed = new Map(prunableGroups(g).map((grp) => [grp.id, [1]]));
  const mask = structuredMask(spec, g, removed);
  const student = foldBatchNorm(shrinkGraph(spec, { mask }).spec).spec;
  assert.ok(student.nodes.every((n) => n.className !== 'BatchNormalization'));
  const x = randomBatch(2, 10, [6, 6, 2]);
  const masked = graphWithFlat(spec, applyMask(graphToFlat(spec), mask));
  const d = maxAbsDiff(forward64(student, x).data, forward64(masked, x).data);
  assert.ok(d <= 1e-5, `max diff ${d}`);
});

test('a BN on a rank-1 tensor with nothing to fold into is kept and reported', () => {
  const b = new GraphBuilder(81, [3]);
  b.dense('d', 'input', 3, 4, 'relu');
  b.bn('bn', 'd', 4);
  b.dense('out', 'bn', 4, 2);
  const r = foldBatchNorm(b.output('out'));
  assert.deepEqual(r.kept, ['bn']);
  assert.equal(r.spec.nodes.length, 3);
});
