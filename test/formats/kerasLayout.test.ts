// What PruneScope writes as .keras and .h5 has the layout Keras itself writes, checked against the
// real Keras files in ../shared/models: the same zip entries, the same config keys on every layer,
// the same HDF5 paths for every weight. In a .keras file Keras addresses a layer's variables by
// its class and position among model.layers (saving_lib), not by its name: a model with custom
// layer names shows the difference.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { unzipSync, strFromU8 } from 'fflate';
import { readModel, writeModel } from '../../src/engine/formats';
import { h5Service, withHdf5, H5Entry } from '../../src/engine/formats/hdf5/h5Client';
import { tmpDir } from '../fixtures/models/tfjsFiles';
import { SHARED_MODELS, SKIP_MESSAGE, sharedModels } from '../fixtures/models/sharedModels';
import type { JsonDoc } from '../helpers';

after(() => h5Service.stop());

type Json = Record<string, JsonDoc>;

async function listing(bytes: Uint8Array): Promise<H5Entry[]> {
  return withHdf5(bytes, 'listing', async (r) => r.entries);
}

/** Weight datasets by path with their shapes (the optimizer's state left out). */
const weightPaths = (es: H5Entry[]) =>
  Object.fromEntries(es.filter((e) => e.kind === 'dataset' && !/optimizer/.test(e.path)).map((e) => [e.path, e.shape]));

test('a written .keras has the entries, config keys and weight paths of the Keras 3 files it was read from', async (t) => {
  if (!sharedModels()) return t.skip(SKIP_MESSAGE);
  for (const name of ['k3_resnet_bn_ibukye.keras', 'k3_bn_rescaling_alexej.keras', 'k3_cnn_moonflower.keras']) {
    const src = path.join(SHARED_MODELS, name);
    const m = await readModel(src);
    const out = path.join(tmpDir('layout'), name);
    await writeModel(out, { spec: m.spec }, 'keras', { input: src });
    const a = unzipSync(new Uint8Array(fs.readFileSync(src)));
    const b = unzipSync(new Uint8Array(fs.readFileSync(out)));
    assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort(), `${name}: zip entries`);
    const ca = JSON.parse(strFromU8(a['config.json'])) as Json;
    const cb = JSON.parse(strFromU8(b['config.json'])) as Json;
    for (const k of ['module', 'class_name', 'config', 'registered_name', 'build_config'])
      assert.ok(k in cb, `${name}: config.json lacks ${k}`);
    assert.equal(cb.class_name, ca.class_name);
    assert.equal(cb.module, ca.module);
    const la = ca.config.layers as Json[];
    const lb = cb.config.layers as Json[];
    assert.deepEqual(
      lb.map((l) => [l.class_name, l.config.name]),
      la.map((l) => [l.class_name, l.config.name]),
      `${name}: layers`,
    );
    lb.forEach((l, i) => {
      // Every key Keras puts on a layer entry, and no other; build_config Keras leaves out on
      // layers it never built from a shape (ReLU), and it is optional on loading.
      const keys = (x: Json) =>
        Object.keys(x)
          .filter((k) => k !== 'build_config')
          .sort();
      assert.deepEqual(keys(l), keys(la[i]), `${name}: keys of layer ${l.config.name}`);
      for (const k of Object.keys(l.config))
        assert.ok(k in la[i].config, `${name}: ${l.class_name} config key ${k} unknown to Keras`);
      if (la[i].inbound_nodes)
        assert.deepEqual(
          l.inbound_nodes.map((n: Json) => JSON.stringify(n.args).match(/keras_history":\["[^"]+"/g)),
          la[i].inbound_nodes.map((n: Json) => JSON.stringify(n.args).match(/keras_history":\["[^"]+"/g)),
          `${name}: inbound tensors of ${l.config.name}`,
        );
    });
    const wa = weightPaths(await listing(a['model.weights.h5']));
    const wb = weightPaths(await listing(b['model.weights.h5']));
    assert.deepEqual(wb, wa, `${name}: model.weights.h5 datasets`);
    const meta = JSON.parse(strFromU8(b['metadata.json'])) as Json;
    assert.match(meta.keras_version, /^3\./);
  }
});

test('a written .h5 has the root attributes, layer_names, weight_names and dataset paths of a Keras 2 file', async (t) => {
  if (!sharedModels()) return t.skip(SKIP_MESSAGE);
  for (const name of ['k2_dw_bn_tinymaix.h5', 'k2_cnn_7oksh.h5']) {
    const src = path.join(SHARED_MODELS, name);
    const m = await readModel(src);
    const out = path.join(tmpDir('layout-h5'), name);
    await writeModel(out, { spec: m.spec }, 'h5', { input: src });
    const a = await listing(new Uint8Array(fs.readFileSync(src)));
    const b = await listing(new Uint8Array(fs.readFileSync(out)));
    const root = (es: H5Entry[]) => es.find((e) => e.path === '/')!.attrs;
    for (const k of ['model_config', 'keras_version', 'backend'])
      assert.ok(k in root(b), `${name}: root attribute ${k}`);
    const group = (es: H5Entry[], p: string) => es.find((e) => e.path === p)!;
    assert.deepEqual(group(b, '/model_weights').attrs.layer_names, group(a, '/model_weights').attrs.layer_names);
    // Same layers with the same weights in the same order; Keras 2 scoped names ('bn0_1/gamma:0')
    // differ from ours ('bn0/gamma:0') only in the scope, which Keras 2 and 3 both ignore.
    const short = (ns: unknown) => (ns as string[]).map((n) => n.split('/').pop());
    for (const l of group(a, '/model_weights').attrs.layer_names as string[]) {
      const ga = group(a, `/model_weights/${l}`);
      const gb = group(b, `/model_weights/${l}`);
      assert.deepEqual(short(gb.attrs.weight_names), short(ga.attrs.weight_names), `${name}: weights of ${l}`);
      (gb.attrs.weight_names as string[]).forEach((w, k) => {
        const wa = (ga.attrs.weight_names as string[])[k];
        assert.deepEqual(
          group(b, `/model_weights/${l}/${w}`).shape,
          group(a, `/model_weights/${l}/${wa}`).shape,
          `${name}: ${l}/${w}`,
        );
      });
    }
    const cfg = JSON.parse(root(b).model_config as string) as Json;
    const orig = JSON.parse(root(a).model_config as string) as Json;
    assert.equal(cfg.class_name, orig.class_name);
    (cfg.config.layers as Json[]).forEach((l, i) => {
      const o = (orig.config.layers as Json[])[i];
      assert.deepEqual([l.class_name, l.config.name], [o.class_name, o.config.name]);
      for (const k of Object.keys(l.config))
        assert.ok(k in o.config, `${name}: ${l.class_name} config key ${k} unknown to Keras 2`);
    });
  }
});

test('.keras weights go to layers/<class>[_k]/vars/<i> by class and position, whatever the layer names', async (t) => {
  if (!sharedModels()) return t.skip(SKIP_MESSAGE);
  // TinyMaix's layers are named ftr0a, bn0, ftr0b, ...: Keras's paths ignore that.
  const src = path.join(SHARED_MODELS, 'k2_dw_bn_tinymaix.h5');
  const m = await readModel(src);
  const out = path.join(tmpDir('keras-paths'), 'dw.keras');
  await writeModel(out, { spec: m.spec }, 'keras');
  const z = unzipSync(new Uint8Array(fs.readFileSync(out)));
  const w = weightPaths(await listing(z['model.weights.h5']));
  assert.deepEqual(w, {
    '/layers/conv2d/vars/0': [3, 3, 1, 4], // ftr0a
    '/layers/conv2d/vars/1': [4],
    '/layers/batch_normalization/vars/0': [4], // bn0: gamma, beta, moving mean, moving variance
    '/layers/batch_normalization/vars/1': [4],
    '/layers/batch_normalization/vars/2': [4],
    '/layers/batch_normalization/vars/3': [4],
    '/layers/depthwise_conv2d/vars/0': [3, 3, 4, 1], // ftr0b
    '/layers/depthwise_conv2d/vars/1': [4],
    '/layers/batch_normalization_1/vars/0': [4], // batch_normalization (the layer so named)
    '/layers/batch_normalization_1/vars/1': [4],
    '/layers/batch_normalization_1/vars/2': [4],
    '/layers/batch_normalization_1/vars/3': [4],
    '/layers/conv2d_1/vars/0': [3, 3, 4, 16], // ftr1a
    '/layers/conv2d_1/vars/1': [16],
    '/layers/batch_normalization_2/vars/0': [16], // bn1
    '/layers/batch_normalization_2/vars/1': [16],
    '/layers/batch_normalization_2/vars/2': [16],
    '/layers/batch_normalization_2/vars/3': [16],
    '/layers/depthwise_conv2d_1/vars/0': [3, 3, 16, 2], // ftr1b
    '/layers/depthwise_conv2d_1/vars/1': [32],
    '/layers/batch_normalization_3/vars/0': [32], // batch_normalization_1
    '/layers/batch_normalization_3/vars/1': [32],
    '/layers/batch_normalization_3/vars/2': [32],
    '/layers/batch_normalization_3/vars/3': [32],
    '/layers/dense/vars/0': [32, 10], // fc1
    '/layers/dense/vars/1': [10],
  });
  const back = await readModel(out);
  const k = (s: typeof m.spec, n: string) => s.nodes.find((x) => x.name === n)!.weights[0].values;
  assert.deepEqual(Array.from(k(back.spec, 'ftr1b')), Array.from(k(m.spec, 'ftr1b')));
});
