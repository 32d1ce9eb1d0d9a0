// Dependency groups: one test per coupling. Each removes a channel of a group and checks that the
// structured mask covers exactly the weight entries the coupling ties to it (enumerated here from
// coordinates, by hand), that the student is really narrower, and that it computes the masked
// teacher's function (float64 reference forward) to 1e-5.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GraphSpec } from '../../src/engine/graphSpec';
import { graphToFlat, graphWithFlat } from '../../src/engine/model/graphFlat';
import { channelGroups, prunableGroups } from '../../src/engine/prune/groups';
import { structuredMask } from '../../src/engine/prune/structuredMask';
import { shrinkGraph } from '../../src/engine/prune/graphStudent';
import { applyMask } from '../../src/engine/prune/mask';
import { forward64 } from '../reference/forward64';
import { GraphBuilder, entries, maxAbsDiff, randomBatch } from './graphFixtures';

function maskIndices(m: Uint8Array): number[] {
  return Array.from(m.keys()).filter((i) => m[i]);
}

/** The group whose producers are exactly `producers`. */
function groupOf(spec: GraphSpec, producers: string[]) {
  const g = channelGroups(spec);
  const grp = g.groups.find((x) => x.producers.join() === producers.join());
  assert.ok(
    grp,
    `a group made by ${producers.join(', ')}; got ${g.groups.map((x) => x.producers.join('+')).join(' | ')}`,
  );
  return { g, grp };
}

/** Student of the channel-masked teacher: equal outputs to 1e-5 on a random batch; returns the student. */
function checkStudent(spec: GraphSpec, mask: Uint8Array): GraphSpec {
  const masked = graphWithFlat(spec, applyMask(graphToFlat(spec), mask));
  const r = shrinkGraph(spec, { mask });
  const x = randomBatch(5, 16, spec.inputs[0].shape);
  const want = forward64(masked, x).data;
  const got = forward64(r.spec, x).data;
  assert.ok(maxAbsDiff(got, want) <= 1e-5, `student vs masked teacher ${maxAbsDiff(got, want)}`);
  return r.spec;
}

const weightShape = (s: GraphSpec, node: string, weight: string) =>
  s.nodes.find((n) => n.name === node)!.weights.find((w) => w.name === weight)!.shape;

test('BN coupling: a conv filter goes with its bias, the BN channel and the next conv input slice', () => {
  const b = new GraphBuilder(1, [6, 6, 2]);
  b.conv('c1', 'input', 2, 4, 3);
  b.bn('bn', 'c1', 4);
  b.relu('r', 'bn');
  b.conv('c2', 'r', 4, 3, 3);
  b.gap('gap', 'c2');
  b.dense('out', 'gap', 3, 2, 'softmax');
  const spec = b.output('out');
  const { g, grp } = groupOf(spec, ['c1']);
  assert.equal(grp.channels, 4);
  assert.deepEqual(grp.tensors, ['c1', 'bn', 'r']);
  const bnMembers = grp.members.filter((m) => m.node === 'bn').map((m) => m.weight);
  assert.deepEqual(bnMembers, ['gamma', 'beta', 'moving_mean', 'moving_variance']);
  const mask = structuredMask(spec, g, new Map([[grp.id, [1]]]));
  const want = [
    ...entries(spec, 'c1', 'kernel', (c) => c[3] === 1),
    ...entries(spec, 'c1', 'bias', (c) => c[0] === 1),
    ...entries(spec, 'bn', 'gamma', (c) => c[0] === 1),
    ...entries(spec, 'bn', 'beta', (c) => c[0] === 1),
    ...entries(spec, 'c2', 'kernel', (c) => c[2] === 1),
  ].sort((a, b) => a - b);
  assert.deepEqual(maskIndices(mask), want);
  const s = checkStudent(spec, mask);
  assert.deepEqual(weightShape(s, 'c1', 'kernel'), [3, 3, 2, 3]);
  assert.deepEqual(weightShape(s, 'bn', 'moving_variance'), [3]);
  assert.deepEqual(weightShape(s, 'c2', 'kernel'), [3, 3, 3, 3]);
  // The student kept channels 0, 2, 3 of BN's moving statistics, in order.
  const mv = spec.nodes.find((n) => n.name === 'bn')!.weights[3].values;
  assert.deepEqual(Array.from(s.nodes.find((n) => n.name === 'bn')!.weights[3].values), [mv[0], mv[2], mv[3]]);
});

test('depthwise coupling: input channel c takes the depthwise filters and outputs c*mult..c*mult+mult-1', () => {
  const b = new GraphBuilder(2, [5, 5, 2]);
  b.conv('c1', 'input', 2, 3, 1, { activation: 'tanh' });
  b.depthwise('dw', 'c1', 3, 2, 3);
  b.bn('bn', 'dw', 6);
  b.conv('c2', 'bn', 6, 2, 1);
  b.flatten('f', 'c2');
  b.dense('out', 'f', 50, 3);
  const spec = b.output('out');
  const { g, grp } = groupOf(spec, ['c1']);
  assert.equal(grp.channels, 3);
  const mask = structuredMask(spec, g, new Map([[grp.id, [2]]]));
  const want = [
    ...entries(spec, 'c1', 'kernel', (c) => c[3] === 2),
    ...entries(spec, 'c1', 'bias', (c) => c[0] === 2),
    ...entries(spec, 'dw', 'depthwise_kernel', (c) => c[2] === 2),
    ...entries(spec, 'dw', 'bias', (c) => c[0] === 4 || c[0] === 5),
    ...entries(spec, 'bn', 'gamma', (c) => c[0] === 4 || c[0] === 5),
    ...entries(spec, 'bn', 'beta', (c) => c[0] === 4 || c[0] === 5),
    ...entries(spec, 'c2', 'kernel', (c) => c[2] === 4 || c[2] === 5),
  ].sort((a, b) => a - b);
  assert.deepEqual(maskIndices(mask), want);
  const s = checkStudent(spec, mask);
  assert.deepEqual(weightShape(s, 'dw', 'depthwise_kernel'), [3, 3, 2, 2]);
  assert.deepEqual(weightShape(s, 'bn', 'gamma'), [4]);
  assert.deepEqual(weightShape(s, 'c2', 'kernel'), [1, 1, 4, 2]);
});

test('Flatten -> Dense coupling: channel c takes the Dense rows p * C + c for every position p (NHWC)', () => {
  const b = new GraphBuilder(3, [4, 4, 1]);
  b.conv('c1', 'input', 1, 3, 3, { padding: 'valid', activation: 'relu' }); // 2 x 2 x 3
  b.flatten('f', 'c1'); // 12 = 4 positions x 3 channels
  b.dense('d1', 'f', 12, 5, 'tanh');
  b.dense('out', 'd1', 5, 2);
  const spec = b.output('out');
  const { g, grp } = groupOf(spec, ['c1']);
  assert.equal(grp.channels, 3);
  const mask = structuredMask(spec, g, new Map([[grp.id, [0, 2]]]));
  const want = [
    ...entries(spec, 'c1', 'kernel', (c) => c[3] !== 1),
    ...entries(spec, 'c1', 'bias', (c) => c[0] !== 1),
    ...entries(spec, 'd1', 'kernel', (c) => [0, 2, 3, 5, 6, 8, 9, 11].includes(c[0])),
  ].sort((a, b) => a - b);
  assert.deepEqual(maskIndices(mask), want);
  const s = checkStudent(spec, mask);
  assert.deepEqual(weightShape(s, 'd1', 'kernel'), [4, 5]);
  // The Dense's units form their own group: its rows go with the next Dense's inputs.
  const { grp: d } = groupOf(spec, ['d1']);
  assert.deepEqual(
    d.members.map((m) => `${m.node}.${m.weight}@${m.axis}`),
    ['d1.kernel@1', 'd1.bias@0', 'out.kernel@0'],
  );
});

test('global pooling -> Dense coupling: channel c takes Dense row c', () => {
  const b = new GraphBuilder(4, [5, 5, 2]);
  b.conv('c1', 'input', 2, 4, 3, { activation: 'relu' });
  b.gap('gap', 'c1');
  b.dense('out', 'gap', 4, 3, 'softmax');
  const spec = b.output('out');
  const { g, grp } = groupOf(spec, ['c1']);
  const mask = structuredMask(spec, g, new Map([[grp.id, [3]]]));
  const want = [
    ...entries(spec, 'c1', 'kernel', (c) => c[3] === 3),
    ...entries(spec, 'c1', 'bias', (c) => c[0] === 3),
    ...entries(spec, 'out', 'kernel', (c) => c[0] === 3),
  ].sort((a, b) => a - b);
  assert.deepEqual(maskIndices(mask), want);
  const s = checkStudent(spec, mask);
  assert.deepEqual(weightShape(s, 'out', 'kernel'), [3, 3]);
});

test('Add coupling: channel c of every branch meeting at an Add goes together', () => {
  const b = new GraphBuilder(5, [5, 5, 2]);
  b.conv('stem', 'input', 2, 4, 3, { activation: 'relu' });
  b.conv('a', 'stem', 4, 4, 3);
  b.bn('abn', 'a', 4);
  b.conv('bconv', 'stem', 4, 4, 1);
  b.sum('add', ['abn', 'bconv']);
  b.relu('r', 'add');
  b.conv('c', 'r', 4, 2, 3, { padding: 'valid' });
  b.flatten('f', 'c');
  b.dense('out', 'f', 18, 2);
  const spec = b.output('out');
  const { g, grp } = groupOf(spec, ['a', 'bconv']);
  assert.equal(grp.channels, 4);
  const mask = structuredMask(spec, g, new Map([[grp.id, [0]]]));
  const want = [
    ...entries(spec, 'a', 'kernel', (c) => c[3] === 0),
    ...entries(spec, 'a', 'bias', (c) => c[0] === 0),
    ...entries(spec, 'abn', 'gamma', (c) => c[0] === 0),
    ...entries(spec, 'abn', 'beta', (c) => c[0] === 0),
    ...entries(spec, 'bconv', 'kernel', (c) => c[3] === 0),
    ...entries(spec, 'bconv', 'bias', (c) => c[0] === 0),
    ...entries(spec, 'c', 'kernel', (c) => c[2] === 0),
  ].sort((a, b) => a - b);
  assert.deepEqual(maskIndices(mask), want);
  const s = checkStudent(spec, mask);
  for (const n of ['a', 'bconv']) assert.equal(weightShape(s, n, 'kernel')[3], 3);
  // The stem feeds both branches: its group has the two convolutions' input slices as consumers.
  const { grp: stem } = groupOf(spec, ['stem']);
  assert.deepEqual(
    stem.members.filter((m) => m.role === 'consumer').map((m) => m.node),
    ['a', 'bconv'],
  );
});

test('Concatenate coupling: input i channel c is output channel offset_i + c', () => {
  const b = new GraphBuilder(6, [4, 4, 2]);
  b.conv('a', 'input', 2, 2, 3, { activation: 'relu' });
  b.conv('bconv', 'input', 2, 3, 1, { activation: 'relu' });
  b.concat('cat', ['a', 'bconv']);
  b.conv('c', 'cat', 5, 2, 3);
  b.gap('gap', 'c');
  b.dense('out', 'gap', 2, 2);
  const spec = b.output('out');
  const { g, grp } = groupOf(spec, ['a', 'bconv']);
  assert.equal(grp.channels, 5);
  // Channel 3 is bconv's filter 1, read by c's input slice 2 + 1.
  const mask = structuredMask(spec, g, new Map([[grp.id, [3]]]));
  const want = [
    ...entries(spec, 'bconv', 'kernel', (c) => c[3] === 1),
    ...entries(spec, 'bconv', 'bias', (c) => c[0] === 1),
    ...entries(spec, 'c', 'kernel', (c) => c[2] === 3),
  ].sort((a, b) => a - b);
  assert.deepEqual(maskIndices(mask), want);
  const s = checkStudent(spec, mask);
  assert.equal(weightShape(s, 'bconv', 'kernel')[3], 2);
  assert.equal(weightShape(s, 'a', 'kernel')[3], 2);
  assert.deepEqual(weightShape(s, 'c', 'kernel'), [3, 3, 4, 2]);
});

test('the input, the outputs and channels under a softmax are fixed', () => {
  const b = new GraphBuilder(7, [4, 4, 2]);
  b.conv('c1', 'input', 2, 3, 3);
  b.sum('skip', ['c1', 'c1']);
  b.flatten('f', 'skip');
  b.dense('h', 'f', 48, 4, 'softmax'); // softmax over h's units: coupled
  b.dense('out', 'h', 4, 2);
  const spec = b.output('out');
  const g = channelGroups(spec);
  const find = (t: string) => g.groups[g.tensorChannels.get(t)!.group];
  assert.ok(find('input').fixed.every(Boolean));
  assert.ok(find('out').fixed.every(Boolean));
  assert.ok(find('h').fixed.every(Boolean));
  assert.ok(find('h').fixedBecause.some((r) => r.includes('softmax')));
  assert.ok(find('c1').fixed.every((f) => !f));
  assert.deepEqual(
    prunableGroups(g).map((x) => x.producers),
    [['c1']],
  );
  assert.throws(() => structuredMask(spec, g, new Map([[find('h').id, [0]]])), /cannot be removed/);
});

test('per-channel maps pass channels through: Normalization statistics and Rescaling vectors are sliced', () => {
  const b = new GraphBuilder(8, [5, 5, 2]);
  b.conv('c1', 'input', 2, 3, 3);
  b.spec.nodes.push(
    {
      name: 'norm',
      className: 'Normalization',
      config: { epsilon: 1e-7 },
      inputs: ['c1'],
      weights: [
        { name: 'mean', shape: [3], trainable: false, values: Float32Array.from([0.1, -0.2, 0.3]) },
        { name: 'variance', shape: [3], trainable: false, values: Float32Array.from([0.5, 2, 1.5]) },
      ],
    },
    {
      name: 'scale',
      className: 'Rescaling',
      config: { scale: [2, -1, 0.5], offset: [0.1, 0.2, 0.3] },
      inputs: ['norm'],
      weights: [],
    },
  );
  b.act('t', 'scale', 'tanh');
  b.avgPool('p', 't', 2, 'same');
  b.conv('c2', 'p', 3, 2, 1);
  b.flatten('f', 'c2');
  b.dense('out', 'f', 18, 2);
  const spec = b.output('out');
  const { g, grp } = groupOf(spec, ['c1']);
  assert.deepEqual(grp.tensors, ['c1', 'norm', 'scale', 't', 'p']);
  const s = checkStudent(spec, structuredMask(spec, g, new Map([[grp.id, [1]]])));
  const node = (n: string) => s.nodes.find((x) => x.name === n)!;
  assert.deepEqual(Array.from(node('norm').weights[1].values), [0.5, 1.5]);
  assert.deepEqual(node('scale').config, { scale: [2, 0.5], offset: [0.1, 0.3] });
});
