// BatchNormalization (inference), pooling, global pooling, ZeroPadding2D, Rescaling and
// Normalization modules through the layer harness (float64 finite differences of the integrator's
// forward64), and BatchNormalization in train mode against a float64 batch reference of its own.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { NodeSpec, LayerClass, LayerConfigs, Shape } from '../../src/engine/graphSpec';
import { layerModule } from '../../src/engine/layers/registry';
import type { Saved } from '../../src/engine/layers/layer';
import { PruneScopeError } from '../../src/engine/errors';
import { Rng } from '../../src/engine/util/random';
import { backend, maxRelErr } from '../helpers';
import { checkLayer, nodeReference } from './harness';

function build<C extends LayerClass>(className: C, config: LayerConfigs[C], inputShape: Shape, statShape?: Shape) {
  const nd: NodeSpec = { name: 'l', className, config, inputs: ['x'], weights: [] };
  if (statShape)
    nd.weights = ['mean', 'variance'].map((name) => ({
      name,
      shape: statShape,
      trainable: false,
      values: new Float32Array(0),
    }));
  const layer = layerModule(className)!.create(nd, [inputShape]);
  nd.weights = layer.weights.map((d) => ({ ...d, values: new Float32Array(0) }));
  return { layer, reference: nodeReference(nd, inputShape) };
}

/** Harness weights with positive variances where the layer has them. */
function weightsFor(layer: ReturnType<typeof build>['layer'], seed: number): Float32Array[] {
  const rng = new Rng(seed);
  return layer.weights.map((d) => {
    const k = d.shape.reduce((a, b) => a * b, 1);
    const positive = /variance/.test(d.name);
    return Float32Array.from({ length: k }, () => (positive ? 0.5 + Math.abs(rng.normal()) : rng.normal()));
  });
}

test('BatchNormalization (inference) on images and on vectors, with and without gamma / beta', async () => {
  await backend();
  for (const [scale, center] of [
    [true, true],
    [false, true],
    [true, false],
  ])
    for (const shape of [[3, 2, 4], [5]]) {
      const { layer, reference } = build('BatchNormalization', { epsilon: 1e-3, momentum: 0.99, center, scale }, shape);
      const r = checkLayer({ layer, reference, weights: weightsFor(layer, 2), kfacOneRow: false });
      for (const k of [
        'weightStats.squares c=2 signed',
        'diagonalThrough',
        'weightDiagFromDiagonal',
        'variational d variance',
      ])
        assert.ok(k in r.errors, `${k} checked`);
    }
});

test('MaxPooling2D and AveragePooling2D: same / valid, strides, overlapping windows', async () => {
  await backend();
  const cases: [[number, number], [number, number], 'same' | 'valid', Shape][] = [
    [[2, 2], [2, 2], 'valid', [4, 6, 3]],
    [[3, 3], [2, 2], 'same', [5, 5, 2]],
    [[3, 2], [1, 2], 'same', [4, 5, 2]],
  ];
  for (const [poolSize, strides, padding, shape] of cases) {
    const mx = build('MaxPooling2D', { poolSize, strides, padding }, shape);
    const rm = checkLayer({ ...mx, kfacOneRow: false });
    assert.ok('diagonalThrough' in rm.errors, 'max pooling passes diagonal terms through');
    const av = build('AveragePooling2D', { poolSize, strides, padding }, shape);
    const ra = checkLayer({ ...av, kfacOneRow: false });
    assert.ok('squaredJacobianT' in ra.errors);
  }
});

test('GlobalAveragePooling2D and GlobalMaxPooling2D, with and without keepdims', async () => {
  await backend();
  for (const keepdims of [false, true]) {
    const a = build('GlobalAveragePooling2D', { keepdims }, [3, 4, 2]);
    assert.deepEqual(a.layer.outputShape, keepdims ? [1, 1, 2] : [2]);
    checkLayer(a);
    const m = build('GlobalMaxPooling2D', { keepdims }, [3, 4, 2]);
    assert.deepEqual(m.layer.outputShape, keepdims ? [1, 1, 2] : [2]);
    checkLayer(m);
  }
});

test('ZeroPadding2D, Rescaling (scalar and per channel), Normalization (per channel and scalar)', async () => {
  await backend();
  const zp = build(
    'ZeroPadding2D',
    {
      padding: [
        [1, 2],
        [0, 3],
      ],
    },
    [2, 3, 2],
  );
  assert.deepEqual(zp.layer.outputShape, [5, 6, 2]);
  checkLayer(zp);
  checkLayer(build('Rescaling', { scale: 1 / 255, offset: -0.5 }, [2, 2, 3]));
  checkLayer(build('Rescaling', { scale: [2, -1, 0.5], offset: [0, 1, 2] }, [2, 2, 3]));
  const nc = build('Normalization', { epsilon: 1e-7 }, [2, 2, 3], [3]);
  assert.equal(nc.layer.weights[0].outputAxis, 0);
  checkLayer({ ...nc, weights: weightsFor(nc.layer, 4) });
  const ns = build('Normalization', { epsilon: 1e-7 }, [4], []);
  assert.equal(ns.layer.weights[0].outputAxis, null);
  checkLayer({ ...ns, weights: weightsFor(ns.layer, 5) });
});

test('BatchNormalization in train mode: batch statistics, moving averages and the coupled input VJP', async () => {
  await backend();
  const [n, H, W, C] = [4, 2, 3, 2];
  const eps = 1e-3;
  const momentum = 0.9;
  const { layer } = build('BatchNormalization', { epsilon: eps, momentum, center: true, scale: true }, [H, W, C]);
  const rng = new Rng(9);
  const X = Float64Array.from({ length: n * H * W * C }, () => rng.normal() * 2 + 1);
  const G = Float64Array.from({ length: X.length }, () => rng.normal());
  const gamma = [1.5, -0.7];
  const beta = [0.2, 0.4];
  const mm = [0.1, -0.2];
  const mv = [1.3, 0.8];
  // float64 batch forward: per channel mean and biased variance over (n, h, w).
  const fwd = (x: Float64Array) => {
    const M = x.length / C;
    const mean = [0, 0];
    const v = [0, 0];
    for (let i = 0; i < x.length; i++) mean[i % C] += x[i] / M;
    for (let i = 0; i < x.length; i++) v[i % C] += (x[i] - mean[i % C]) ** 2 / M;
    const y = x.map((xi, i) => gamma[i % C] * ((xi - mean[i % C]) / Math.sqrt(v[i % C] + eps)) + beta[i % C]);
    return { y, mean, v };
  };
  const ref = fwd(X);
  const dxRef = new Float64Array(X.length);
  const h = 1e-5;
  for (let i = 0; i < X.length; i++) {
    const p = Float64Array.from(X);
    p[i] += h;
    const up = fwd(p).y.reduce((a, y, k) => a + y * G[k], 0);
    p[i] -= 2 * h;
    const down = fwd(p).y.reduce((a, y, k) => a + y * G[k], 0);
    dxRef[i] = (up - down) / (2 * h);
  }
  const before = tf.memory().numTensors;
  const x = tf.tensor4d(Float32Array.from(X), [n, H, W, C]);
  const w = [gamma, beta, mm, mv].map((v) => tf.tensor1d(v));
  const f = layer.forward([x], w, 'train');
  assert.ok(maxRelErr(f.output.dataSync(), ref.y) < 1e-5, 'train forward uses batch statistics');
  const upd = f.updates!;
  assert.equal(upd[0], undefined);
  assert.equal(upd[1], undefined);
  assert.ok(
    maxRelErr(
      upd[2]!.dataSync(),
      mm.map((m, j) => momentum * m + (1 - momentum) * ref.mean[j]),
    ) < 1e-6,
  );
  assert.ok(
    maxRelErr(
      upd[3]!.dataSync(),
      mv.map((v, j) => momentum * v + (1 - momentum) * ref.v[j]),
    ) < 1e-6,
  );
  const saved: Saved = {
    inputs: [x],
    output: f.output,
    cache: f.cache,
    mode: 'train',
    isGraphInput: [false],
    memo: new Map(),
  };
  const g = tf.tensor4d(Float32Array.from(G), [n, H, W, C]);
  const [dx] = layer.inputGrads(g, saved, w, 1, [true]);
  assert.ok(maxRelErr(dx!.dataSync(), dxRef) < 1e-3, `train-mode input VJP ${maxRelErr(dx!.dataSync(), dxRef)}`);
  // gamma / beta gradients of the batch objective sum G . y: sum of g xhat and of g.
  const st = layer.weightStats!(g, saved, w, 1, { sum: true });
  const xhat = X.map((xi, i) => (xi - ref.mean[i % C]) / Math.sqrt(ref.v[i % C] + eps));
  const dg = [0, 0];
  const db = [0, 0];
  G.forEach((gi, i) => {
    dg[i % C] += gi * xhat[i];
    db[i % C] += gi;
  });
  assert.ok(maxRelErr([...st.sum![0].dataSync(), ...st.sum![1].dataSync()], [...dg, ...db]) < 1e-4);
  const twice = tf.concat([g, g]);
  assert.throws(() => layer.inputGrads(twice, saved, w, 2, [true]), PruneScopeError);
  twice.dispose();
  tf.dispose([
    x,
    ...w,
    f.output,
    ...(upd.filter((u) => u) as tf.Tensor[]),
    ...Object.values(f.cache.shared!),
    g,
    dx!,
    ...st.sum!,
    ...saved.memo.values(),
  ]);
  assert.equal(tf.memory().numTensors, before);
});
