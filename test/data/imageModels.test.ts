// Image-shaped models on the user's files, at the engine level (the CLI opens TF.js dense models
// only until the model readers move to the layer graph): LeNet-5 and a model starting with
// Rescaling(1/255) read 300 MNIST digits from PNG class folders, an .npz and the built-in (the same
// seeded rows), and their OBD scores and GGN diagonals agree bit for bit. The Rescaling model gets
// 0..255 pixels from every source because its first layer says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { loadData, modelInputOf, splitForModel, xTensor, yTensor, type DataSplit } from '../../src/engine/data';
import { Graph } from '../../src/engine/model/graph';
import { lenet5Spec } from '../../src/engine/model/architectures';
import { withDeclaredWeights } from '../../src/engine/model/graphPlan';
import type { GraphSpec, NodeSpec } from '../../src/engine/graphSpec';
import { computeRelevance } from '../../src/engine/relevance/compute';
import { curvatureDiagonal } from '../../src/engine/curvature';
import { writeMnistFiles } from './mnistWrite';

const ROWS = 300;
const SEED = 5;
const maxOf = (x: Float32Array) => x.reduce((a, b) => Math.max(a, b), -Infinity);
const labelNames = Array.from({ length: 10 }, (_, i) => String(i));

function rescaledDense(): GraphSpec {
  const node = (name: string, className: NodeSpec['className'], config: unknown, inputs: string[]) =>
    ({ name, className, config, inputs, weights: [] }) as unknown as NodeSpec;
  return withDeclaredWeights({
    inputs: [{ name: 'input', shape: [28, 28, 1] }],
    nodes: [
      node('rescale', 'Rescaling', { scale: 1 / 255, offset: 0 }, ['input']),
      node('flat', 'Flatten', {}, ['rescale']),
      node('out', 'Dense', { units: 10, activation: 'softmax', useBias: true }, ['flat']),
    ],
    outputs: ['out'],
    inputLayout: 'NHWC',
  });
}

async function results(g: Graph, source: string, scale?: 1 | 255) {
  const input = modelInputOf({
    inputShape: g.inputShape,
    inputSize: g.inputSize,
    task: g.task,
    outputs: g.outputSize,
    metadata: { labelNames },
    graph: g.spec,
  });
  const ds = await loadData(source, input, { maxRows: ROWS, seed: SEED, scale });
  const split: DataSplit = splitForModel(g, undefined, ds, { seed: SEED });
  const obd = await computeRelevance(g, split, { method: 'obd', variant: 'ggn', seed: SEED });
  const x = xTensor(split.test, ds.features);
  const y = yTensor(split.test, ds.task, g.outputSize);
  try {
    const ggn = await curvatureDiagonal(g, x, y, 'ggn');
    return { ds, scores: Array.from(obd.scores), ggn: Array.from(ggn.values) };
  } finally {
    tf.dispose([x, y]);
  }
}

test('LeNet-5 and a Rescaling model read PNG folders, .npz and the built-in alike', { timeout: 600_000 }, async (t) => {
  await backend();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-image-models-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const f = writeMnistFiles(root, ROWS, SEED);
  for (const [name, spec] of [
    ['lenet5', lenet5Spec([28, 28, 1], 10, 'tanh', 'classification')],
    ['rescaling', rescaledDense()],
  ] as const) {
    const g = Graph.random(spec, 1);
    try {
      const [builtin, folder, npz] = [await results(g, 'mnist'), await results(g, f.folder), await results(g, f.npz)];
      for (const [what, r] of [
        ['png folder', folder],
        ['npz', npz],
      ] as const) {
        assert.deepEqual(r.scores, builtin.scores, `${name} ${what}: OBD scores`);
        assert.deepEqual(r.ggn, builtin.ggn, `${name} ${what}: GGN diagonal`);
        assert.deepEqual(r.ds.shape, [28, 28, 1]);
      }
      assert.ok(
        builtin.ggn.some((v) => v > 0),
        `${name}: GGN not all zero`,
      );
      const range = folder.ds.source!.pixelRange!;
      if (name === 'rescaling') {
        assert.equal(range.range, '[0, 255]');
        assert.match(range.reason, /leading Rescaling layer "rescale"/);
        assert.equal(maxOf(builtin.ds.x), 255);
        // Fed [0, 1] instead, the model sees other inputs: the scores differ.
        const wrong = await results(g, f.folder, 1);
        assert.notDeepEqual(wrong.scores, folder.scores);
      } else {
        assert.equal(range.range, '[0, 1]');
        assert.ok(maxOf(folder.ds.x) <= 1);
      }
    } finally {
      g.dispose();
    }
  }
});
