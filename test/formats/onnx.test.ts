// ONNX read and write, against independent references: the fixtures were written by
// torch.onnx.export (scripts/make-onnx-fixtures.py, committed with PyTorch's float64 outputs), the
// reader's GraphSpec is run by the float64 reference forward, and what PruneScope writes is run
// by ONNX Runtime (onnxruntime-web in Node) on the same inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as ort from 'onnxruntime-web';
import { readModel, writeModel } from '../../src/engine/formats';
import type { GraphSpec, NodeSpec } from '../../src/engine/graphSpec';
import { Rng } from '../../src/engine/util/random';
import { forward64 } from '../reference/forward64';
import { tmpDir } from '../fixtures/models/tfjsFiles';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'onnx');
ort.env.wasm.numThreads = 1;

interface Fixture {
  model: string;
  files: string[];
  input_shape: number[];
  inputs: number[][];
  outputs: number[][];
  provenance: Record<string, string>;
}
const fixture = (name: string): Fixture =>
  JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as Fixture;

/** One NCHW row (PyTorch's order) to the engine's NHWC order for an input of engine shape s. */
function toNhwc(row: ArrayLike<number>, s: number[]): number[] {
  if (s.length !== 3) return Array.from(row);
  const [H, W, C] = s;
  const o = new Array<number>(row.length);
  for (let c = 0; c < C; c++)
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) o[(h * W + w) * C + c] = row[(c * H + h) * W + w];
  return o;
}
function toNchw(row: ArrayLike<number>, s: number[]): number[] {
  if (s.length !== 3) return Array.from(row);
  const [H, W, C] = s;
  const o = new Array<number>(row.length);
  for (let c = 0; c < C; c++)
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) o[(c * H + h) * W + w] = row[(h * W + w) * C + c];
  return o;
}

/** The reference forward on NHWC rows. */
function ours(spec: GraphSpec, nhwcRows: number[][]): Float64Array {
  return forward64(spec, { n: nhwcRows.length, shape: spec.inputs[0].shape, data: Float64Array.from(nhwcRows.flat()) })
    .data;
}

/** ONNX Runtime on NCHW rows. */
async function runtime(file: string, nchwRows: number[][], onnxShape: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(fs.readFileSync(file));
  const x = new ort.Tensor('float32', Float32Array.from(nchwRows.flat()), [nchwRows.length, ...onnxShape]);
  const r = await s.run({ [s.inputNames[0]]: x });
  const y = r[s.outputNames[0]].data as Float32Array;
  await s.release();
  return y;
}

function maxGap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let g = 0;
  for (let i = 0; i < a.length; i++) g = Math.max(g, Math.abs(a[i] - b[i]));
  return g;
}

const onnxShape = (s: number[]) => (s.length === 3 ? [s[2], s[0], s[1]] : s);

for (const name of ['mlp', 'lenet', 'dwbn', 'resnet']) {
  test(`${name}: every opset torch.onnx.export wrote reads with outputs equal to PyTorch's (1e-4); written back, ONNX Runtime agrees (1e-5)`, async () => {
    const fx = fixture(name);
    assert.match(fx.provenance.exporter, /torch\.onnx\.export/);
    for (const f of fx.files) {
      const m = await readModel(path.join(FIXTURES, f));
      assert.equal(m.format.type, 'onnx');
      assert.equal(m.spec.inputLayout, 'NCHW');
      assert.equal(m.format.opset, Number(/opset(\d+)/.exec(f)![1]));
      const s = m.spec.inputs[0].shape;
      const y = ours(
        m.spec,
        fx.inputs.map((r) => toNhwc(r, s)),
      );
      const gap = maxGap(y, fx.outputs.flat());
      assert.ok(gap < 1e-4, `${f}: max |ours - PyTorch| = ${gap}`);

      const out = path.join(tmpDir(`onnx-${name}`), 'student.onnx');
      await writeModel(out, { spec: m.spec }, 'onnx', { input: m.path });
      const rt = await runtime(out, fx.inputs, fx.input_shape);
      const rgap = maxGap(rt, y);
      assert.ok(rgap < 1e-5, `${f} written by PruneScope, run by ONNX Runtime: max gap to our forward ${rgap}`);
      // And read back: the same weights, bit for bit, and the same outputs.
      const back = await readModel(out);
      sameWeights(m.spec, back.spec, f);
      assert.equal(
        maxGap(
          ours(
            back.spec,
            fx.inputs.map((r) => toNhwc(r, s)),
          ),
          y,
        ),
        0,
      );
    }
  });
}

function sameWeights(a: GraphSpec, b: GraphSpec, what: string): void {
  const withWeights = (s: GraphSpec) => s.nodes.filter((n) => n.weights.length > 0);
  const wa = withWeights(a);
  const wb = withWeights(b);
  assert.deepEqual(
    wb.map((n) => [n.name, n.className, n.config]),
    wa.map((n) => [n.name, n.className, n.config]),
    `${what}: layers with weights`,
  );
  wa.forEach((n, i) =>
    n.weights.forEach((w, k) => {
      assert.deepEqual(wb[i].weights[k].shape, w.shape, `${what}: ${n.name}/${w.name} shape`);
      assert.ok(
        Buffer.from(wb[i].weights[k].values.buffer).equals(Buffer.from(w.values.buffer)),
        `${what}: ${n.name}/${w.name} values`,
      );
    }),
  );
}

/** Seeded weights for a node list, variances positive. */
function withWeights(spec: GraphSpec, seed: number): GraphSpec {
  const rng = new Rng(seed);
  for (const n of spec.nodes)
    for (const w of n.weights) {
      const count = w.shape.reduce((a, b) => a * b, 1);
      w.values = Float32Array.from({ length: count }, () =>
        /variance/.test(w.name) ? 0.5 + rng.uniform(0, 1) : rng.uniform(-0.8, 0.8),
      );
    }
  return spec;
}
const W = (name: string, shape: number[], trainable = true) => ({
  name,
  shape,
  trainable,
  values: new Float32Array(0),
});
const node = (
  name: string,
  className: NodeSpec['className'],
  config: unknown,
  inputs: string[],
  weights: ReturnType<typeof W>[] = [],
): NodeSpec => ({ name, className, config, inputs, weights }) as NodeSpec;

test('every layer class written as ONNX runs in ONNX Runtime with our outputs (1e-5), NHWC data fed as NCHW', async () => {
  const spec = withWeights(
    {
      inputs: [{ name: 'img', shape: [9, 7, 3] }],
      inputLayout: 'NHWC',
      outputs: ['out'],
      nodes: [
        node('scale', 'Rescaling', { scale: [0.5, 2, -1], offset: 0.25 }, ['img']),
        node('norm', 'Normalization', { epsilon: 1e-7 }, ['scale'], [W('mean', [3], false), W('variance', [3], false)]),
        node(
          'pad',
          'ZeroPadding2D',
          {
            padding: [
              [1, 0],
              [0, 2],
            ],
          },
          ['norm'],
        ),
        node(
          'c1',
          'Conv2D',
          {
            filters: 4,
            kernelSize: [3, 3],
            strides: [2, 2],
            padding: 'same',
            dilationRate: [1, 1],
            activation: 'relu',
            useBias: true,
          },
          ['pad'],
          [W('kernel', [3, 3, 3, 4]), W('bias', [4])],
        ),
        node(
          'bn',
          'BatchNormalization',
          { epsilon: 0.001, momentum: 0.99, center: true, scale: false },
          ['c1'],
          [W('beta', [4]), W('moving_mean', [4], false), W('moving_variance', [4], false)],
        ),
        node(
          'dw',
          'DepthwiseConv2D',
          {
            kernelSize: [3, 2],
            strides: [1, 1],
            padding: 'same',
            depthMultiplier: 2,
            dilationRate: [1, 1],
            activation: 'tanh',
            useBias: true,
          },
          ['bn'],
          [W('depthwise_kernel', [3, 2, 4, 2]), W('bias', [8])],
        ),
        node('lrelu', 'LeakyReLU', { alpha: 0.2 }, ['dw']),
        node('mp', 'MaxPooling2D', { poolSize: [2, 2], strides: [1, 1], padding: 'same' }, ['lrelu']),
        node('ap', 'AveragePooling2D', { poolSize: [3, 3], strides: [2, 2], padding: 'same' }, ['mp']),
        node(
          'c2',
          'Conv2D',
          {
            filters: 8,
            kernelSize: [1, 1],
            strides: [1, 1],
            padding: 'valid',
            dilationRate: [1, 1],
            activation: 'linear',
            useBias: false,
          },
          ['ap'],
          [W('kernel', [1, 1, 8, 8])],
        ),
        node('add', 'Add', {}, ['ap', 'c2']),
        node('relu6', 'ReLU', { maxValue: 0.7, negativeSlope: 0, threshold: 0 }, ['add']),
        node('cat', 'Concatenate', { axis: -1 }, ['relu6', 'add']),
        node('drop', 'Identity', { kind: 'SpatialDropout2D' }, ['cat']),
        node('gmp', 'GlobalMaxPooling2D', { keepdims: true }, ['drop']),
        node('flat1', 'Flatten', {}, ['gmp']),
        node('flat2', 'Flatten', {}, ['drop']),
        node(
          'd1',
          'Dense',
          { units: 5, activation: 'elu', useBias: true },
          ['flat2'],
          [W('kernel', [3 * 3 * 16, 5]), W('bias', [5])],
        ),
        node(
          'd0',
          'Dense',
          { units: 5, activation: 'selu', useBias: true },
          ['flat1'],
          [W('kernel', [16, 5]), W('bias', [5])],
        ),
        node('sum', 'Add', {}, ['d0', 'd1']),
        node('act', 'Activation', { activation: 'softplus' }, ['sum']),
        node('rs', 'Reshape', { targetShape: [1, 1, 5] }, ['act']),
        node(
          'c3',
          'Conv2D',
          {
            filters: 6,
            kernelSize: [1, 1],
            strides: [1, 1],
            padding: 'valid',
            dilationRate: [1, 1],
            activation: 'sigmoid',
            useBias: true,
          },
          ['rs'],
          [W('kernel', [1, 1, 5, 6]), W('bias', [6])],
        ),
        node('gap', 'GlobalAveragePooling2D', { keepdims: false }, ['c3']),
        node(
          'out',
          'Dense',
          { units: 3, activation: 'softmax', useBias: true },
          ['gap'],
          [W('kernel', [6, 3]), W('bias', [3])],
        ),
      ],
    },
    31,
  );
  const rng = new Rng(4);
  const rows = Array.from({ length: 5 }, () => Array.from({ length: 9 * 7 * 3 }, () => 2 * rng.normal()));
  const y = ours(spec, rows);
  const file = path.join(tmpDir('onnx-all'), 'm.onnx');
  const w = await writeModel(file, { spec }, 'onnx');
  assert.equal(w.format, 'onnx');
  const rt = await runtime(
    file,
    rows.map((r) => toNchw(r, [9, 7, 3])),
    [3, 9, 7],
  );
  const gap = maxGap(rt, y);
  assert.ok(gap < 1e-5, `ONNX Runtime vs our forward: ${gap}`);
  // Read back: NCHW now, and the same function of the (transposed) input.
  const back = await readModel(file);
  assert.equal(back.spec.inputLayout, 'NCHW');
  assert.deepEqual(back.spec.inputs[0].shape, [9, 7, 3]);
  const y2 = ours(back.spec, rows);
  assert.ok(maxGap(y2, y) < 1e-6, `read back: ${maxGap(y2, y)}`);
});

test('a Keras model from ../shared/models written as ONNX runs in ONNX Runtime like the Keras reading (1e-5)', async (t) => {
  const src = path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'models', 'k3_resnet_bn_ibukye.keras');
  if (!fs.existsSync(src)) return t.skip('../shared/models is absent');
  const m = await readModel(src);
  const file = path.join(tmpDir('onnx-keras'), 'resnet.onnx');
  await writeModel(file, { spec: m.spec, metadata: { task: 'classification' } }, 'onnx', { input: src });
  const rng = new Rng(8);
  const rows = Array.from({ length: 3 }, () => Array.from({ length: 784 }, () => rng.uniform(0, 1)));
  const y = ours(m.spec, rows);
  const rt = await runtime(
    file,
    rows.map((r) => toNchw(r, [28, 28, 1])),
    [1, 28, 28],
  );
  assert.ok(maxGap(rt, y) < 1e-5, `gap ${maxGap(rt, y)}`);
  const back = await readModel(file);
  assert.deepEqual(back.metadata, { task: 'classification' });
  assert.deepEqual(onnxShape(back.spec.inputs[0].shape), [1, 28, 28]);
});
