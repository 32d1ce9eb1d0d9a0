// A LayersModel is recognised by content: the reference is a model.json written by tfjs itself.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { isLayersModelJson, modelIo } from '../../src/extension/modelDetect';
import { summarizeModelJson } from '../../src/worker/jobs/modelInfo';

// Written by tfjs-layers 4.22 (model.save with a save handler); see test/e2e/fixtures.
const fixture = fs.readFileSync(path.join(__dirname, '../../../test/e2e/fixtures/model.json'), 'utf8');

test('a model.json saved by tfjs is detected, whatever it is called', () => {
  assert.equal(isLayersModelJson(fixture), true);
  const wrapped = JSON.parse(fixture);
  wrapped.modelTopology = { model_config: wrapped.modelTopology, keras_version: 'tfjs' }; // converter layout
  assert.equal(isLayersModelJson(JSON.stringify(wrapped)), true);
});

test('other json is not: package.json, a graph model, a topology without weights, broken json', () => {
  assert.equal(isLayersModelJson('{"name":"x","version":"1.0.0"}'), false);
  assert.equal(isLayersModelJson('{"layers":[16,8]}'), false);
  assert.equal(isLayersModelJson('{"modelTopology":{"node":[]},"weightsManifest":[],"format":"graph-model"}'), false);
  const noWeights = JSON.parse(fixture);
  delete noWeights.weightsManifest;
  assert.equal(isLayersModelJson(JSON.stringify(noWeights)), false);
  assert.equal(isLayersModelJson(fixture.slice(0, fixture.length - 5)), false);
});

test('info summary counts parameters from the weights manifest (4*8+8 + 8*3+3)', () => {
  const info = summarizeModelJson(JSON.parse(fixture), 'model.json');
  assert.equal(info.totalParams, 67);
  assert.deepEqual(
    info.layers.map((l) => [l.name, l.className, l.units, l.activation, l.params]),
    [
      ['hidden', 'Dense', 8, 'tanh', 40],
      ['out', 'Dense', 3, 'softmax', 27],
    ],
  );
  assert.deepEqual(info.inputShape, [null, 4]);
  assert.deepEqual(info.weightFiles, ['weights.bin']);
  assert.throws(
    () => summarizeModelJson({ modelTopology: {} }, 'bad.json'),
    /bad\.json: modelTopology.*expected an array of layer configs/,
  );
});

test('modelIo: input width from batch_input_shape, outputs from the last Dense layer', () => {
  assert.deepEqual(modelIo(fixture), { inputs: 4, outputs: 3 });
  const wine = fs.readFileSync(path.join(__dirname, '../../../test/e2e/fixtures/wine/model.json'), 'utf8');
  assert.deepEqual(modelIo(wine), { inputs: 13, outputs: 3 });
  assert.deepEqual(modelIo('not json'), {});
  assert.deepEqual(modelIo('{"modelTopology": {"config": {"layers": []}}}'), {});
});

test('modelIo: an image model takes H x W x C inputs (not its channel count)', () => {
  const conv = fs.readFileSync(
    path.join(__dirname, '../../../test/e2e/fixtures/shapes/model/shapes-conv.json'),
    'utf8',
  );
  assert.deepEqual(modelIo(conv), { inputs: 256, outputs: 3, inputShape: [16, 16, 1] });
});
