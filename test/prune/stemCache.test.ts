// The structured what-if's cached stem: the metrics of a channel-masked model evaluated from the
// teacher's cached stem output equal, exactly, tfjs's plain evaluation of the same masked model
// (LeNet-5; a sigmoid + BN stem whose removed channels are not zero, read by Flatten; a residual
// Add reading inside the stem, which moves the cut), over several batches, with no tensor leaked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import type { GraphSpec } from '../../src/engine/graphSpec';
import type { SplitPart } from '../../src/engine/data/dataset';
import { Graph } from '../../src/engine/model/graph';
import { evaluate } from '../../src/engine/train/metrics';
import { channelGroups, prunableGroups } from '../../src/engine/prune/groups';
import { structuredMask, type RemovedChannels } from '../../src/engine/prune/structuredMask';
import { StemCache, stemEnd } from '../../src/engine/prune/stemCache';
import { Rng } from '../../src/engine/util/random';
import { GraphBuilder, lenet5 } from './graphFixtures';

const BATCH = 64;

function rowsOf(seed: number, rows: number, features: number, classes: number): SplitPart {
  const rng = new Rng(seed);
  return {
    x: Float32Array.from({ length: rows * features }, () => rng.uniform(-1, 1)),
    y: Float32Array.from({ length: rows }, () => Math.floor(rng.uniform(0, classes))),
    rows,
  };
}

/** Per prunable group, each removable channel with probability p (at least one channel kept). */
function randomRemoval(spec: GraphSpec, rng: Rng, p: number): RemovedChannels {
  const removed: RemovedChannels = new Map();
  for (const g of prunableGroups(channelGroups(spec))) {
    const free = g.fixed.flatMap((f, k) => (f ? [] : [k]));
    const pick = free.filter(() => rng.uniform(0, 1) < p);
    if (pick.length === g.channels) pick.pop();
    if (pick.length) removed.set(g.id, pick);
  }
  return removed;
}

async function checkExact(spec: GraphSpec, expectedEnd: number, classes: number): Promise<void> {
  await backend();
  const groups = channelGroups(spec);
  const teacher = Graph.fromSpec(spec);
  const masked = Graph.fromSpec(spec);
  const part = rowsOf(1, 3 * BATCH + 17, teacher.inputSize, classes);
  assert.equal(stemEnd(teacher), expectedEnd);
  const stem = StemCache.build(teacher, groups, part, BATCH);
  assert.ok(stem, 'the model has a stem to cache');
  const stemGroup = groups.tensorChannels.get(teacher.ops[expectedEnd - 1].node.name)!.group;
  const flat = teacher.toFlat();
  const rng = new Rng(7);
  let stemRemovals = 0;
  try {
    for (const p of [0, 0.3, 0.6, 0.9]) {
      const removed = randomRemoval(spec, rng, p);
      if (removed.has(stemGroup)) stemRemovals++;
      const mask = structuredMask(spec, groups, removed);
      masked.setFlat(flat.map((v, i) => (mask[i] ? 0 : v)));
      const want = evaluate(masked, part, 'classification', classes, BATCH);
      const before = tf.memory().numTensors;
      const got = stem.evaluate(masked, removed, 'classification', classes);
      assert.equal(tf.memory().numTensors, before, 'evaluate leaves no tensor behind');
      assert.equal(got.loss, want.loss, `loss at p = ${p}`);
      assert.equal(got.accuracy, want.accuracy, `accuracy at p = ${p}`);
      assert.equal(got.rows, part.rows);
    }
    assert.ok(stemRemovals >= 2, 'the stem group lost channels in some removals');
  } finally {
    stem.dispose();
    teacher.dispose();
    masked.dispose();
  }
}

test('LeNet-5: stem conv1 + relu + pool1, metrics of channel-masked models equal the plain evaluation', async () => {
  // Ops: conv1, its relu, pool1 -> the stem ends at tensor 3, read by conv2 only.
  await checkExact(lenet5(3), 3, 10);
});

test('a sigmoid + BN stem read by Flatten: removed channels are non-zero constants, still exact', async () => {
  const b = new GraphBuilder(5, [8, 8, 2]);
  b.conv('c1', 'input', 2, 4, 3, { activation: 'sigmoid' });
  b.bn('bn', 'c1', 4);
  b.flatten('f', 'bn');
  b.dense('out', 'f', 8 * 8 * 4, 3, 'softmax');
  await checkExact(b.output('out'), 3, 3);
});

test('a residual Add reading inside the stem moves the cut back to what it reads', async () => {
  const b = new GraphBuilder(11, [6, 6, 1]);
  b.conv('c1', 'input', 1, 3, 3, { useBias: false });
  b.bn('bn', 'c1', 3);
  b.relu('r', 'bn');
  b.conv('c2', 'r', 3, 3, 3);
  b.sum('add', ['bn', 'c2']);
  b.flatten('f', 'add');
  b.dense('out', 'f', 6 * 6 * 3, 4, 'softmax');
  // c1, bn, r would form the stem (tensor 3), but add reads bn's output (tensor 2).
  await checkExact(b.output('out'), 2, 4);
});

test('a removed channel the rest of the graph would overflow on takes the masked stem values', async () => {
  await backend();
  const b = new GraphBuilder(4, [5, 5, 1]);
  b.conv('c1', 'input', 1, 2, 3);
  b.act('s', 'c1', 'selu');
  b.conv('c2', 's', 2, 2, 3);
  b.sum('add', ['c1', 'c2']);
  b.flatten('f', 'add');
  b.dense('out', 'f', 5 * 5 * 2, 3, 'softmax');
  const spec = b.output('out');
  // Channel 0 of c1 is 3.3e38 everywhere, finite, but selu (x 1.0507) of it is Infinity, and zero
  // weights times Infinity are NaN: the teacher's values must not reach selu for a removed channel.
  const c1 = spec.nodes.find((n) => n.name === 'c1')!;
  c1.weights[0].values = c1.weights[0].values.map((v, i) => (i % 2 === 0 ? 0 : v));
  c1.weights[1].values[0] = 3.3e38;
  const groups = channelGroups(spec);
  const tc = groups.tensorChannels.get('c1')!;
  const removed: RemovedChannels = new Map([[tc.group, [tc.channel[0]]]]);
  const teacher = Graph.fromSpec(spec);
  const masked = Graph.fromSpec(spec);
  const part = rowsOf(2, 2 * BATCH + 5, 25, 3);
  const mask = structuredMask(spec, groups, removed);
  masked.setFlat(teacher.toFlat().map((v, i) => (mask[i] ? 0 : v)));
  const stem = StemCache.build(teacher, groups, part, BATCH);
  try {
    // c1, s would be the stem, but add reads c1's output: the cut is tensor 1, read by s and add.
    assert.equal(stemEnd(teacher), 1);
    assert.ok(stem);
    const want = evaluate(masked, part, 'classification', 3, BATCH);
    assert.ok(Number.isFinite(want.loss), 'the masked model is finite');
    const got = stem.evaluate(masked, removed, 'classification', 3);
    assert.equal(got.loss, want.loss);
    assert.equal(got.accuracy, want.accuracy);
  } finally {
    stem?.dispose();
    teacher.dispose();
    masked.dispose();
  }
});

test('no stem: a model whose first op mixes two inputs has none, and build says so', async () => {
  await backend();
  const b = new GraphBuilder(2, [4, 4, 1]);
  b.sum('add', ['input', 'input']);
  b.flatten('f', 'add');
  b.dense('out', 'f', 16, 2, 'softmax');
  const spec = b.output('out');
  const net = Graph.fromSpec(spec);
  try {
    assert.equal(stemEnd(net), 0);
    assert.equal(StemCache.build(net, channelGroups(spec), rowsOf(1, 8, 16, 2)), undefined);
  } finally {
    net.dispose();
  }
});
