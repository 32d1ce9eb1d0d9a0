// Every bad model file is refused with a PruneScopeError that names the file and the offending field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backend, type JsonDoc } from '../helpers';
import { loadModel } from '../../src/engine/formats/modelFile';
import { ErrorCode, PruneScopeError } from '../../src/engine/errors';
import { tmpDir, writeTfjsModel } from '../fixtures/models/tfjsFiles';

/** A small valid model: h (3 -> 4, tanh) then out (4 -> 2). 26 float32 parameters = 104 bytes. */
async function fixture(opts: { shardBytes?: number } = {}): Promise<{ dir: string; file: string; json: JsonDoc }> {
  await backend();
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [3], units: 4, activation: 'tanh', name: 'h' }),
      tf.layers.dense({ units: 2, name: 'out' }),
    ],
  });
  const dir = tmpDir('bad');
  const file = await writeTfjsModel(model, dir, opts);
  model.dispose();
  return { dir, file, json: JSON.parse(fs.readFileSync(file, 'utf8')) };
}

function rewrite(file: string, json: unknown): void {
  fs.writeFileSync(file, JSON.stringify(json));
}

async function refused(
  p: Promise<unknown>,
  code: ErrorCode,
  file: string,
  field: string | RegExp,
  what: RegExp,
): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof PruneScopeError, `not a PruneScopeError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.includes(file), `message does not name the file: ${e.message}`);
    if (typeof field === 'string') assert.ok(e.message.includes(field), `message does not name ${field}: ${e.message}`);
    else assert.match(e.message, field);
    assert.match(e.message, what);
    return true;
  });
}

test('shard paths that leave the model folder are refused: ../, absolute, symlink to outside', async () => {
  const { dir, file, json } = await fixture();
  const outside = tmpDir('outside');
  const stolen = path.join(outside, 'w.bin');
  fs.copyFileSync(path.join(dir, json.weightsManifest[0].paths[0]), stolen);

  json.weightsManifest[0].paths = [path.relative(dir, stolen)];
  assert.ok(json.weightsManifest[0].paths[0].startsWith('..'));
  rewrite(file, json);
  await refused(loadModel(file), 'bad-input', file, 'weightsManifest[0].paths[0]', /leaves the model folder/);

  json.weightsManifest[0].paths = [stolen];
  rewrite(file, json);
  await refused(loadModel(file), 'bad-input', file, 'weightsManifest[0].paths[0]', /absolute/);

  fs.symlinkSync(stolen, path.join(dir, 'linked.bin'));
  json.weightsManifest[0].paths = ['linked.bin'];
  rewrite(file, json);
  await refused(
    loadModel(file),
    'bad-input',
    file,
    'weightsManifest[0].paths[0]',
    /link to .*outside the model folder/,
  );

  // A symlink that stays inside the folder is fine.
  fs.symlinkSync(path.join(dir, 'group1-shard1of1.bin'), path.join(dir, 'inside.bin'));
  json.weightsManifest[0].paths = ['inside.bin'];
  rewrite(file, json);
  const m = await loadModel(file);
  assert.equal(m.network.nParams, 26);
  m.network.dispose();
});

test('a missing shard and a short shard name the shard with expected and actual bytes', async () => {
  const { dir, file } = await fixture();
  const shard = path.join(dir, 'group1-shard1of1.bin');
  fs.truncateSync(shard, 100);
  await refused(
    loadModel(file),
    'bad-input',
    file,
    'weightsManifest[0].paths[0]',
    /shard group1-shard1of1\.bin has 100 bytes but 104 were expected/,
  );
  fs.rmSync(shard);
  await refused(
    loadModel(file),
    'not-found',
    file,
    'weightsManifest[0].paths[0]',
    /group1-shard1of1\.bin.*does not exist/,
  );
});

test('with several shards, the one of the wrong size is named', async () => {
  const { dir, file, json } = await fixture({ shardBytes: 32 }); // 104 bytes = 32 + 32 + 32 + 8
  assert.equal(json.weightsManifest[0].paths.length, 4);
  fs.truncateSync(path.join(dir, 'group1-shard2of4.bin'), 30);
  await refused(
    loadModel(file),
    'bad-input',
    file,
    'weightsManifest[0].paths[1]',
    /shard group1-shard2of4\.bin has 30 bytes but 32 were expected/,
  );
});

test('a weight whose shape does not match its layer is named', async () => {
  const { file, json } = await fixture();
  json.weightsManifest[0].weights[0].shape = [4, 3]; // same byte count, wrong shape
  rewrite(file, json);
  await refused(loadModel(file), 'bad-input', file, 'h/kernel', /shape \[4, 3\].*expected \[3, 4\]/);
});

test('a missing weight names the weight it looked for', async () => {
  const { file, json } = await fixture();
  json.weightsManifest[0].weights[2].name = 'other/kernel';
  rewrite(file, json);
  await refused(loadModel(file), 'bad-input', file, 'out/kernel', /no weight kernel for layer out \(Dense\)/);
});

test('an unsupported layer class is named with its class and what is supported', async () => {
  const { file, json } = await fixture();
  json.modelTopology.config.layers.splice(1, 0, {
    class_name: 'LSTM',
    config: { name: 'rnn', units: 2 },
  });
  rewrite(file, json);
  await refused(loadModel(file), 'unsupported', file, 'layer rnn (LSTM)', /LSTM is not supported.*Dense.*Conv2D/);
});

test('softmax on a hidden layer is refused, also when it comes from an Activation layer', async () => {
  const { file, json } = await fixture();
  json.modelTopology.config.layers[0].config.activation = 'softmax';
  rewrite(file, json);
  await refused(loadModel(file), 'unsupported', file, 'layer h (Dense)', /applies softmax before the output/);
  json.modelTopology.config.layers[0].config.activation = 'linear';
  json.modelTopology.config.layers.splice(1, 0, {
    class_name: 'Activation',
    config: { name: 'act', activation: 'softmax' },
  });
  rewrite(file, json);
  await refused(loadModel(file), 'unsupported', file, 'layer act (Activation)', /applies softmax before the output/);
});

test('an unknown activation is refused, naming the layer and what is supported', async () => {
  const { file, json } = await fixture();
  json.modelTopology.config.layers[1].config.activation = 'gelu_approx';
  rewrite(file, json);
  await refused(loadModel(file), 'unsupported', file, 'out', /activation "gelu_approx" is not supported.*tanh/);
});

test('a non-finite weight is refused with the weight name', async () => {
  const { dir, file } = await fixture();
  const shard = path.join(dir, 'group1-shard1of1.bin');
  const buf = fs.readFileSync(shard);
  buf.writeFloatLE(NaN, 4 * 17); // h/kernel has 12 entries, h/bias 4: entry 17 is out/kernel[1]
  fs.writeFileSync(shard, buf);
  await refused(loadModel(file), 'numerical', file, 'out/kernel', /non-finite value \(NaN\) at entry 1/);
});

test('a model over the byte budget is refused before its shards are read', async () => {
  const { dir, file } = await fixture();
  await refused(
    loadModel(file, { maxBytes: 100 }),
    'too-large',
    file,
    'weightsManifest',
    /declares 104 bytes.*limit of 100 bytes/,
  );
  fs.rmSync(path.join(dir, 'group1-shard1of1.bin'));
  await refused(loadModel(file, { maxBytes: 100 }), 'too-large', file, 'weightsManifest', /104 bytes/);
});

test('a layer called twice (shared weights) is refused', async () => {
  await backend();
  const inp = tf.input({ shape: [3] });
  const shared = tf.layers.dense({ units: 3, name: 'shared' });
  const a = shared.apply(inp) as tf.SymbolicTensor;
  const b = shared.apply(a) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: b });
  const file = await writeTfjsModel(model, tmpDir('shared'));
  await refused(loadModel(file), 'unsupported', file, 'shared', /called 2 times|shared/);
});

test('metadata that does not fit the network names the field', async () => {
  const { file, json } = await fixture();
  json.userDefinedMetadata = { prunescope: { featureNames: ['a', 'b'] } };
  rewrite(file, json);
  await refused(
    loadModel(file),
    'bad-input',
    file,
    'userDefinedMetadata.prunescope.featureNames',
    /has 2 names.*expected 3/,
  );
  json.userDefinedMetadata = {
    prunescope: { pruneMask: { encoding: 'indices', pruned: [3, 99], nParams: 26, prunedCount: 2 } },
  };
  rewrite(file, json);
  await refused(
    loadModel(file),
    'bad-input',
    file,
    'userDefinedMetadata.prunescope.pruneMask',
    /index 99 is out of range/,
  );
});

test('a missing file, invalid JSON and a graph model are refused', async () => {
  const { dir, file, json } = await fixture();
  const missing = path.join(dir, 'nope.json');
  await refused(loadModel(missing), 'not-found', missing, missing, /does not exist/);
  fs.writeFileSync(file, '{ not json');
  await refused(loadModel(file), 'bad-input', file, file, /not valid JSON/);
  rewrite(file, { ...json, format: 'graph-model' });
  await refused(loadModel(file), 'unsupported', file, 'format', /graph model/);
});
