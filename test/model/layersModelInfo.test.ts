// `prunescope info`: counts checked against tfjs's own view of the model (countParams, getWeights).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as tf from '@tensorflow/tfjs';
import { backend } from '../helpers';
import { infoCommand, InfoReport } from '../../src/cli/commands/info';
import { tmpDir, writeTfjsModel } from '../fixtures/models/tfjsFiles';
import { runCommand } from '../cliRun';

async function prunedModel(): Promise<{ file: string; model: tf.LayersModel }> {
  await backend();
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [2, 5] }),
      tf.layers.dense({ units: 6, activation: 'relu', name: 'hidden' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'head' }),
    ],
  });
  // Zero every third kernel entry (a pruned model) and give the biases values.
  model.setWeights(
    model.getWeights().map((w) =>
      tf.tidy(() => {
        const v = w.dataSync().map((x, i) => (w.shape.length === 2 && i % 3 === 0 ? 0 : x + 0.1));
        return tf.tensor(v, w.shape);
      }),
    ),
  );
  const file = await writeTfjsModel(model, tmpDir('info'), {
    userDefinedMetadata: {
      prunescope: {
        task: 'classification',
        featureNames: Array.from({ length: 10 }, (_, i) => `f${i}`),
        labelNames: ['a', 'b', 'c'],
        note: 'x',
      },
    },
  });
  return { file, model };
}

async function run(argv: string[]): Promise<string> {
  return await runCommand(infoCommand, argv);
}

test('info --json reports layers and counts that agree with tfjs', async () => {
  const { file, model } = await prunedModel();
  const r = JSON.parse(await run([file, '--json'])) as InfoReport;
  const weights = model.getWeights();
  const nonZero = weights.reduce((a, w) => a + Array.from(w.dataSync()).filter((x) => x !== 0).length, 0);
  assert.equal(r.totalParams, model.countParams());
  assert.equal(r.activeParams, nonZero);
  assert.equal(r.prunedParams, model.countParams() - nonZero);
  // Every layer of the file's graph, in order: the Flatten of the [2, 5] input first (no parameters).
  const flatten = model.layers[0];
  assert.equal(flatten.getClassName(), 'Flatten');
  assert.deepEqual(
    r.layers.map((l) => [l.name, l.in, l.out, l.activation, l.kernelShape, l.params]),
    [
      [flatten.name, 10, 10, '-', [], 0],
      ['hidden', 10, 6, 'relu', [10, 6], model.getLayer('hidden').countParams()],
      ['head', 6, 3, 'softmax', [6, 3], model.getLayer('head').countParams()],
    ],
  );
  assert.equal(r.metadata?.features, 10);
  assert.deepEqual(r.metadata?.labelNames, ['a', 'b', 'c']);
  assert.deepEqual(r.metadata?.otherKeys, ['note']);
  assert.deepEqual(r.format.inputShape, [2, 5]);
  model.dispose();
});

test('info text output and the CLI entry point', async () => {
  const { file, model } = await prunedModel();
  const text = await run([file]);
  assert.match(text, /hidden\s+Dense\s+10\s+6\s+relu\s+10x6\s+66/);
  assert.match(text, new RegExp(`parameters: ${model.countParams()} total`));
  const main = path.join(__dirname, '..', '..', 'src', 'cli', 'run.js');
  const ok = spawnSync(process.execPath, [main, 'info', file, '--json'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal((JSON.parse(ok.stdout) as InfoReport).totalParams, model.countParams());
  const bad = spawnSync(process.execPath, [main, 'info', path.join(path.dirname(file), 'missing.json')], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /prunescope info: .*missing\.json: model file does not exist/);
  model.dispose();
});
