// The physically smaller conv student: the same function as the masked teacher (float64 reference
// forward), really narrower layers, constant channels folded into the next layer's bias (checked
// against the closed form), and dead channels removed in cascade.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GraphSpec } from '../../src/engine/graphSpec';
import { flatLayout, graphToFlat, graphWithFlat } from '../../src/engine/model/graphFlat';
import { channelGroups, prunableGroups } from '../../src/engine/prune/groups';
import { structuredMask } from '../../src/engine/prune/structuredMask';
import { shrinkGraph } from '../../src/engine/prune/graphStudent';
import { applyMask } from '../../src/engine/prune/mask';
import { graphCost } from '../../src/engine/model/graphCost';
import { Rng } from '../../src/engine/util/random';
import { forward64 } from '../reference/forward64';
import { GraphBuilder, maxAbsDiff, randomBatch } from './graphFixtures';

function residualNet(seed: number): GraphSpec {
  const b = new GraphBuilder(seed, [8, 8, 3]);
  b.conv('stem', 'input', 3, 6, 3, { useBias: false });
  b.bn('stem_bn', 'stem', 6);
  b.relu('stem_r', 'stem_bn');
  // block 1: identity skip
  b.conv('b1c1', 'stem_r', 6, 5, 3, { useBias: false });
  b.bn('b1bn1', 'b1c1', 5);
  b.relu('b1r1', 'b1bn1');
  b.conv('b1c2', 'b1r1', 5, 6, 3, { useBias: false });
  b.bn('b1bn2', 'b1c2', 6);
  b.sum('b1add', ['stem_r', 'b1bn2']);
  b.relu('b1out', 'b1add');
  // block 2: stride-2 projection skip
  b.conv('b2c1', 'b1out', 6, 8, 3, { strides: 2, useBias: false });
  b.bn('b2bn1', 'b2c1', 8);
  b.relu('b2r1', 'b2bn1');
  b.conv('b2c2', 'b2r1', 8, 8, 3, { useBias: false });
  b.bn('b2bn2', 'b2c2', 8);
  b.conv('b2proj', 'b1out', 6, 8, 1, { strides: 2, useBias: false });
  b.bn('b2pbn', 'b2proj', 8);
  b.sum('b2add', ['b2bn2', 'b2pbn']);
  b.relu('b2out', 'b2add');
  b.gap('gap', 'b2out');
  b.dense('out', 'gap', 8, 4, 'softmax');
  return b.output('out');
}

const maskedTeacher = (spec: GraphSpec, mask: Uint8Array) => graphWithFlat(spec, applyMask(graphToFlat(spec), mask));

test('residual network with BN: the student of a channel mask equals the masked teacher to 1e-5', () => {
  const spec = residualNet(21);
  const g = channelGroups(spec);
  const groups = prunableGroups(g);
  // stem + block-1 stream (tied by the identity Add), b1c1, b2c1, block-2 stream (b2c2 + projection)
  assert.deepEqual(
    groups.map((x) => x.producers.join('+')),
    ['stem+b1c2', 'b1c1', 'b2c1', 'b2c2+b2proj'],
  );
  const rng = new Rng(3);
  const removed = new Map<number, number[]>();
  for (const grp of groups) {
    const order = Array.from(rng.permutation(grp.channels));
    removed.set(grp.id, order.slice(0, Math.floor(grp.channels / 2)));
  }
  const mask = structuredMask(spec, g, removed);
  const r = shrinkGraph(spec, { mask });
  const x = randomBatch(8, 12, [8, 8, 3]);
  const want = forward64(maskedTeacher(spec, mask), x).data;
  const got = forward64(r.spec, x).data;
  assert.ok(maxAbsDiff(got, want) <= 1e-5, `max diff ${maxAbsDiff(got, want)}`);
  // Really narrower: every group lost half its channels, in every member layer.
  const width = Object.fromEntries(r.layers.map((l) => [l.node, `${l.channelsBefore}->${l.channelsAfter}`]));
  assert.deepEqual(width, {
    stem: '6->3',
    b1c1: '5->3',
    b1c2: '6->3',
    b2c1: '8->4',
    b2c2: '8->4',
    b2proj: '8->4',
    out: '4->4',
  });
  assert.equal(r.spec.nodes.find((n) => n.name === 'b2pbn')!.weights[0].shape[0], 4);
  assert.ok(graphCost(r.spec).macs < graphCost(spec).macs / 2);
  // The unmasked teacher differs: the mask changed the function, the shrink did not.
  const teacher = forward64(spec, x).data;
  assert.ok(maxAbsDiff(teacher, want) > 1e-3);
});

test('a channel whose filter is pruned but not its bias is a constant after BN: folded into the next bias', () => {
  const b = new GraphBuilder(31, [6, 6, 2]);
  b.conv('c1', 'input', 2, 4, 3);
  b.bn('bn', 'c1', 4);
  b.act('t', 'bn', 'tanh');
  b.conv('c2', 't', 4, 3, 3, { padding: 'valid' }); // valid: a constant input gives a constant sum
  b.flatten('f', 'c2');
  b.dense('out', 'f', 48, 2);
  const spec = b.output('out');
  const L = flatLayout(spec);
  const k = L.weights.find((w) => w.node === 'c1' && w.weight === 'kernel')!;
  const mask = new Uint8Array(L.total);
  for (let i = 0; i < k.size; i++) if (i % 4 === 2) mask[k.offset + i] = 1; // filter 2, bias kept
  const r = shrinkGraph(spec, { mask });
  assert.equal(r.removedConstant, 1);
  assert.equal(r.layers.find((l) => l.node === 'c1')!.channelsAfter, 3);
  const x = randomBatch(9, 10, [6, 6, 2]);
  assert.ok(maxAbsDiff(forward64(r.spec, x).data, forward64(maskedTeacher(spec, mask), x).data) <= 1e-5);
  // Closed form: c2's bias gains tanh(gamma (b - mean) / sqrt(var + eps) + beta) * sum_p K2[p, 2, o].
  const w = (node: string, name: string) =>
    spec.nodes.find((n) => n.name === node)!.weights.find((v) => v.name === name)!.values;
  const z =
    (w('bn', 'gamma')[2] * (w('c1', 'bias')[2] - w('bn', 'moving_mean')[2])) /
      Math.sqrt(w('bn', 'moving_variance')[2] + 1e-3) +
    w('bn', 'beta')[2];
  const K2 = w('c2', 'kernel');
  const b2 = r.spec.nodes.find((n) => n.name === 'c2')!.weights.find((v) => v.name === 'bias')!.values;
  for (let o = 0; o < 3; o++) {
    let s = 0;
    for (let p = 0; p < 9; p++) s += K2[(p * 4 + 2) * 3 + o];
    assert.ok(Math.abs(b2[o] - (w('c2', 'bias')[o] + Math.tanh(z) * s)) < 1e-6);
  }
});

test('a constant channel read through zero padding is kept unless the constant is zero', () => {
  const build = (beta: number) => {
    const b = new GraphBuilder(41, [5, 5, 1]);
    b.conv('c1', 'input', 1, 3, 3, { useBias: false });
    b.bn('bn', 'c1', 3);
    b.relu('r', 'bn');
    b.conv('c2', 'r', 3, 2, 3, { padding: 'same', useBias: false }); // border windows read padding
    b.gap('gap', 'c2');
    b.dense('out', 'gap', 2, 2);
    const spec = b.output('out');
    const bn = spec.nodes.find((n) => n.name === 'bn')!;
    bn.weights[0].values[1] = 0; // gamma 0: channel 1 is beta after BN, whatever the input
    bn.weights[1].values[1] = beta;
    return spec;
  };
  const x = randomBatch(4, 6, [5, 5, 1]);
  for (const [beta, removed] of [
    [0.7, 0],
    [-0.7, 1],
  ] as const) {
    const spec = build(beta);
    const r = shrinkGraph(spec, { mask: new Uint8Array(flatLayout(spec).total) });
    assert.equal(r.removedConstant, removed, `beta ${beta}`);
    assert.equal(r.layers.find((l) => l.node === 'c1')!.channelsAfter, 3 - removed);
    assert.ok(maxAbsDiff(forward64(r.spec, x).data, forward64(spec, x).data) <= 1e-5);
  }
});

test('a constant channel read by a Dense through global pooling is folded; a bias is added when missing', () => {
  const b = new GraphBuilder(51, [4, 4, 2]);
  b.conv('c1', 'input', 2, 3, 3, { activation: 'sigmoid' });
  b.gap('gap', 'c1');
  b.dense('h', 'gap', 3, 2, 'linear', false);
  b.dense('out', 'h', 2, 2);
  const spec = b.output('out');
  const L = flatLayout(spec);
  const k = L.weights.find((w) => w.node === 'c1' && w.weight === 'kernel')!;
  const mask = new Uint8Array(L.total);
  for (let i = 0; i < k.size; i++) if (i % 3 === 0) mask[k.offset + i] = 1;
  const r = shrinkGraph(spec, { mask });
  assert.deepEqual(r.biasAdded, ['h']);
  const h = r.spec.nodes.find((n) => n.name === 'h')!;
  assert.equal((h.config as { useBias: boolean }).useBias, true);
  assert.deepEqual(
    h.weights.map((w) => `${w.name}[${w.shape}]`),
    ['kernel[2,2]', 'bias[2]'],
  );
  const x = randomBatch(2, 5, [4, 4, 2]);
  assert.ok(maxAbsDiff(forward64(r.spec, x).data, forward64(maskedTeacher(spec, mask), x).data) <= 1e-5);
});

test('dead channels cascade: a filter nobody reads frees the channels only it read', () => {
  const b = new GraphBuilder(61, [5, 5, 1]);
  b.conv('c1', 'input', 1, 3, 3, { activation: 'relu' });
  b.conv('c2', 'c1', 3, 2, 1, { activation: 'relu' });
  b.conv('c3', 'c2', 2, 2, 1);
  b.gap('gap', 'c3');
  b.dense('out', 'gap', 2, 2);
  const spec = b.output('out');
  const L = flatLayout(spec);
  const at = (node: string, weight: string) => L.weights.find((w) => w.node === node && w.weight === weight)!;
  const mask = new Uint8Array(L.total);
  // c3 never reads c2's channel 1; c1's channel 0 is read only by c2's filter 1.
  const k3 = at('c3', 'kernel'); // [1, 1, 2, 2]
  mask[k3.offset + 1 * 2 + 0] = mask[k3.offset + 1 * 2 + 1] = 1;
  const k2 = at('c2', 'kernel'); // [1, 1, 3, 2]
  mask[k2.offset + 0 * 2 + 0] = 1;
  const r = shrinkGraph(spec, { mask });
  assert.equal(r.removedDead, 2);
  assert.deepEqual(
    r.layers.map((l) => l.channelsAfter),
    [2, 1, 2, 2],
  );
  const x = randomBatch(3, 5, [5, 5, 1]);
  assert.ok(maxAbsDiff(forward64(r.spec, x).data, forward64(maskedTeacher(spec, mask), x).data) <= 1e-5);
});

test('on a Dense chain the graph shrink removes dead and constant neurons as the dense student does', () => {
  for (const act of ['tanh', 'relu', 'sigmoid', 'elu', 'softplus'] as const) {
    const b = new GraphBuilder(91, [6]);
    b.dense('h1', 'input', 6, 8, act);
    b.dense('h2', 'h1', 8, 5, act);
    b.dense('out', 'h2', 5, 3, 'softmax');
    const spec = b.output('out');
    const L = flatLayout(spec);
    const k = (node: string) => L.weights.find((w) => w.node === node && w.weight === 'kernel')!;
    const mask = new Uint8Array(L.total);
    for (let i = 0; i < 6; i++) mask[k('h1').offset + i * 8 + 2] = 1; // h1 unit 2: no input -> constant
    for (let u = 0; u < 5; u++) mask[k('h2').offset + 5 * 5 + u] = 1; // h1 unit 5: no output -> dead
    for (let u = 0; u < 3; u++) mask[k('out').offset + 4 * 3 + u] = 1; // h2 unit 4: no output -> dead
    const r = shrinkGraph(spec, { mask });
    assert.deepEqual(
      r.layers.map((l) => l.channelsAfter),
      [6, 4, 3],
      act,
    );
    assert.equal(r.removedConstant, 1);
    assert.equal(r.removedDead, 2);
    const x = randomBatch(6, 20, [6]);
    assert.ok(maxAbsDiff(forward64(r.spec, x).data, forward64(maskedTeacher(spec, mask), x).data) <= 1e-5, act);
  }
});
