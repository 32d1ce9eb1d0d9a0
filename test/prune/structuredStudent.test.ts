// The structured student's bookkeeping: LeNet-5 at half of its channels counted by hand, and the
// multiply-adds each channel takes with it against the cost of the student without that channel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flatLayout } from '../../src/engine/model/graphFlat';
import { graphCost } from '../../src/engine/model/graphCost';
import { channelGroups, prunableGroups } from '../../src/engine/prune/groups';
import { costWithRemoved, macsPerChannel } from '../../src/engine/prune/channelCost';
import { Rng } from '../../src/engine/util/random';
import { structuredStudent, studentForChannels } from '../../src/engine/prune/structuredStudent';
import { groupsReport } from '../../src/engine/prune/groupsReport';
import { GraphBuilder, lenet5 } from './graphFixtures';

test("LeNet-5 with half of every layer's channels removed: widths, parameters and multiply-adds by hand", () => {
  const spec = lenet5(3);
  const scores = Float64Array.from({ length: flatLayout(spec).total }, (_, i) => (i * 7919) % 104729);
  const s = structuredStudent(spec, scores, { share: 0.5 });
  const row = Object.fromEntries(s.layers.map((l) => [l.node, l]));
  assert.deepEqual(
    ['conv1', 'conv2', 'fc1', 'fc2', 'out'].map((n) => `${row[n].channelsBefore}->${row[n].channelsAfter}`),
    ['6->3', '16->8', '120->60', '84->42', '10->10'],
  );
  assert.equal(row.conv1.macsAfter, 28 * 28 * 3 * 25);
  assert.equal(row.conv2.macsAfter, 10 * 10 * 8 * 25 * 3);
  assert.equal(row.fc1.macsAfter, 5 * 5 * 8 * 60);
  assert.equal(row.fc2.macsAfter, 60 * 42);
  assert.equal(row.out.macsAfter, 42 * 10);
  assert.equal(row.conv1.paramsAfter, 3 * 25 + 3);
  assert.equal(row.conv2.paramsAfter, 8 * 75 + 8);
  assert.equal(row.fc1.paramsAfter, 200 * 60 + 60);
  assert.equal(row.fc1.weightBytesAfter, 4 * (200 * 60 + 60));
  const macsAfter = 58800 + 60000 + 12000 + 2520 + 420;
  assert.equal(s.studentCost.macs, macsAfter);
  assert.ok(Math.abs(s.shares.macs - (1 - macsAfter / 416520)) < 1e-12);
  assert.equal(s.shares.channels, (3 + 8 + 60 + 42) / (6 + 16 + 120 + 84));
});

/** BN, depthwise, a residual Add and Flatten -> Dense. */
function mixedNet() {
  const b = new GraphBuilder(9, [6, 6, 2]);
  b.conv('c1', 'input', 2, 3, 3, { strides: 2 });
  b.bn('bn', 'c1', 3);
  b.relu('r', 'bn');
  b.depthwise('dw', 'r', 3, 2, 3);
  b.conv('c2', 'dw', 6, 4, 1, { activation: 'relu' });
  b.conv('c3', 'r', 3, 4, 3, { activation: 'relu' });
  b.sum('add', ['c2', 'c3']);
  b.flatten('f', 'add');
  b.dense('d', 'f', 36, 5, 'relu');
  b.dense('out', 'd', 5, 2);
  return b.output('out');
}

test('multiply-adds per channel = teacher cost - cost of the student without that one channel', () => {
  const spec = mixedNet();
  const g = channelGroups(spec);
  const per = macsPerChannel(spec, g);
  const full = graphCost(spec).macs;
  let checked = 0;
  for (const grp of prunableGroups(g))
    for (let k = 0; k < grp.channels; k++) {
      const s = studentForChannels(spec, g, new Map([[grp.id, [k]]]));
      assert.equal(per.get(grp.id)![k], full - s.studentCost.macs, `group ${grp.producers} channel ${k}`);
      checked++;
    }
  assert.equal(checked, 3 + 4 + 5);
});

test('groups report: LeNet-5 has four removable groups; the output layer is fixed', () => {
  const r = groupsReport(lenet5(1));
  assert.deepEqual(
    r.groups.map((g) => `${g.producers.join('+')}:${g.channels}/${g.removable}`),
    ['conv1:6/6', 'conv2:16/16', 'fc1:120/120', 'fc2:84/84', 'out:10/0'],
  );
  assert.equal(r.removableChannels, 6 + 16 + 120 + 84);
  const conv2 = r.groups[1];
  // A conv2 filter: 5 x 5 x 6 weights + bias, and 25 rows of fc1 (5 x 5 positions) x 120 units.
  assert.equal(conv2.paramsPerChannel[0], 150 + 1 + 25 * 120);
  // Its multiply-adds: 10 x 10 positions x 150 in conv2, and 25 x 120 in fc1.
  assert.equal(conv2.macsPerChannel[0], 100 * 150 + 25 * 120);
  assert.ok(r.groups[4].fixedBecause[0].includes('model output'));
});

test('the what-if cost from kept channel counts equals the student graph cost', () => {
  const rng = new Rng(4);
  for (let trial = 0; trial < 10; trial++) {
    const spec = trial % 2 ? lenet5(5) : mixedNet();
    const g = channelGroups(spec);
    const removed = new Map<number, number[]>();
    for (const grp of prunableGroups(g)) {
      const ks = Array.from(rng.permutation(grp.channels)).slice(0, rng.int(grp.channels));
      if (ks.length) removed.set(grp.id, ks);
    }
    const s = studentForChannels(spec, g, removed);
    const c = costWithRemoved(spec, g, removed);
    assert.deepEqual(c, { params: s.studentCost.params, state: s.studentCost.state, macs: s.studentCost.macs });
  }
});

test('units: only the Dense layers of LeNet-5 lose units; the convolutions keep their filters', () => {
  const spec = lenet5(3);
  const scores = Float64Array.from({ length: flatLayout(spec).total }, (_, i) => (i * 7919) % 104729);
  const s = structuredStudent(spec, scores, { share: 0.5, unit: 'units' });
  assert.deepEqual(
    s.layers.filter((l) => l.className !== 'MaxPooling2D' && l.className !== 'Flatten').map((l) => l.channelsAfter),
    [6, 16, 60, 42, 10],
  );
  assert.equal(s.shares.channels, (60 + 42) / (120 + 84));
});
