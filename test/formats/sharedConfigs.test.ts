// The model configs of the nine real Keras files (Keras 2 and 3, legacy h5 and .keras, written by
// Keras itself) parse into GraphSpecs whose layers, connections and parameter counts agree with
// the independent description of each file in ../shared/models (its .expected.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readKerasConfig } from '../../src/engine/formats/keras/modelConfig';
import { sizeOf } from '../../src/engine/model/graphShapes';
import { SHARED_FILES, SKIP_MESSAGE, expectedOf, rawConfig, sharedModels } from '../fixtures/models/sharedModels';

const IDENTITY = new Set(['Dropout', 'RandomRotation', 'RandomZoom', 'RandomTranslation']);

for (const file of SHARED_FILES) {
  test(`${file}: config parses with the layers, inbound layers and parameter counts of the reference`, async (t) => {
    if (!sharedModels()) return t.skip(SKIP_MESSAGE);
    const { config } = await rawConfig(file);
    const exp = expectedOf(file);
    const g = readKerasConfig(config, file, file.endsWith('.keras') ? 'config.json' : 'model_config');
    assert.equal(g.modelClass, exp.model_class);
    assert.deepEqual(g.spec.inputs[0].shape, exp.input_shape.slice(1));
    const layers = exp.layers.filter((l) => l.class !== 'InputLayer');
    assert.deepEqual(
      g.spec.nodes.map((n) => [n.name, n.className === 'Identity' ? (n.config as { kind: string }).kind : n.className]),
      layers.map((l) => [l.name, l.class]),
    );
    for (const l of layers)
      if (IDENTITY.has(l.class)) assert.equal(g.spec.nodes.find((n) => n.name === l.name)!.className, 'Identity');
    for (const l of layers.filter((x) => x.inbound))
      assert.deepEqual(g.spec.nodes.find((n) => n.name === l.name)!.inputs, l.inbound, `inputs of ${l.name}`);
    let trainable = 0;
    let frozen = 0;
    for (const slots of g.slots.values())
      for (const s of slots) {
        if (s.trainable) trainable += sizeOf(s.shape);
        else frozen += sizeOf(s.shape);
      }
    assert.equal(trainable, exp.params);
    assert.equal(frozen, exp.non_trainable_params);
    assert.equal(g.spec.outputs[0], layers[layers.length - 1].name);
  });
}
