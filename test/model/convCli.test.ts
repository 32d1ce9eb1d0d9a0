// The model commands on conv graphs end to end: a LeNet-5 file and the MNIST images, digits
// (8x8x1) on a small conv net, and a data set whose rows do not fit the model's input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { backend, type JsonDoc } from '../helpers';
import { relevanceCommand } from '../../src/cli/commands/relevance';
import { PruneScopeError } from '../../src/engine/errors';
import { saveModel } from '../../src/engine/formats/modelFile';
import { Graph } from '../../src/engine/model/graph';
import { lenet5Spec, resnet8Spec } from '../../src/engine/model/architectures';
import { tmpDir } from '../fixtures/models/tfjsFiles';
import { runCommand } from '../cliRun';

async function relevanceJson(argv: string[]): Promise<JsonDoc> {
  return JSON.parse(await runCommand(relevanceCommand, argv));
}

async function savedGraph(spec: Parameters<typeof Graph.random>[0], tag: string): Promise<string> {
  const net = Graph.random(spec, 3);
  const { modelJson } = await saveModel(path.join(tmpDir(tag), 'm'), net);
  net.dispose();
  return modelJson;
}

test('relevance --json on a LeNet-5 file with mnist: one score per trainable value, indexed as the manifest', async () => {
  await backend();
  const file = await savedGraph(lenet5Spec([28, 28, 1], 10, 'relu', 'classification'), 'lenet');
  const doc = await relevanceJson([file, '--data', 'mnist', '--max-rows', '120', '--method', 'obd', '--json']);
  // The flat index read from the file itself: every weight in manifest order, row-major.
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')).weightsManifest[0].weights as {
    name: string;
    shape: number[];
  }[];
  let offset = 0;
  const expected = manifest.map((w) => {
    const e = { name: w.name, layer: w.name.split('/')[0], offset, shape: w.shape };
    offset += w.shape.reduce((a, b) => a * b, 1);
    return e;
  });
  assert.deepEqual(doc.weights, expected);
  assert.deepEqual(doc.weights[0].shape, [5, 5, 1, 6]); // conv1/kernel [kh, kw, in, out]
  assert.equal(doc.scores.length, offset);
  assert.ok(doc.scores.every((s: number) => Number.isFinite(s) && s >= 0));
  assert.equal(new Set(doc.order).size, offset);
});

test('digits (8x8x1) serves a conv model; a data set of the wrong size names both sizes', async () => {
  await backend();
  const small = await savedGraph(resnet8Spec([8, 8, 1], 10, 'classification'), 'res');
  const doc = await relevanceJson([small, '--data', 'digits', '--method', 'obd', '--variant', 'ggn', '--json']);
  assert.equal(
    doc.scores.length,
    doc.weights.at(-1).offset + doc.weights.at(-1).shape.reduce((a: number, b: number) => a * b, 1),
  );
  assert.ok(doc.scores.some((s: number) => s > 0));
  const lenet = await savedGraph(lenet5Spec([28, 28, 1], 10, 'tanh', 'classification'), 'lenet-d');
  await assert.rejects(
    relevanceJson([lenet, '--data', 'digits', '--method', 'random', '--json']),
    (e: unknown) =>
      e instanceof PruneScopeError &&
      /64 features per row/.test(e.message) &&
      /784 values per row/.test(e.message) &&
      /\[28, 28, 1\]/.test(e.message),
  );
});
