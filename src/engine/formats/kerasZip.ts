// Keras 3 `.keras` files: a zip of config.json (the model config), metadata.json (Keras version,
// and PruneScope's metadata under "prunescope") and model.weights.h5, where each layer's
// variables sit at `layers/<snake_case(class)>[_k]/vars/<i>`, addressed by class and position in
// model.layers (Keras's saving_lib), not by layer name.
import * as path from 'path';
import { strToU8, zipSync } from 'fflate';
import { PruneScopeError } from '../errors';
import { writeFileAtomic } from '../util/atomicWrite';
import { parseJsonBounded } from '../util/jsonLimits';
import { VERSION } from '../util/version';
import { H5WriteTree, buildHdf5, withHdf5 } from './hdf5/h5Client';
import { kerasTopology, keras3VarPaths } from './keras/configWrite';
import { readKerasConfig } from './keras/modelConfig';
import {
  Located,
  checkDataset,
  checkFiniteWeights,
  dtypeName,
  fillWeights,
  readFileBounded,
  slotWeight,
} from './keras/weightFill';
import { attachMetadata, checkMetadataForWrite } from './metadata';
import { checkFinite, checkNames, checkOutput, checkWeightShapes } from './output';
import { nodeField, sizeOf } from '../model/graphShapes';
import { DEFAULT_MAX_BYTES, ModelFile, ModelToWrite, ReadOptions, WriteOptions, WrittenModel } from './types';
import { ZipReader } from './zip';

const EXPECTED = 'a Keras 3 .keras file (a zip of config.json, metadata.json and model.weights.h5)';
const MAX_JSON = 64 * 1024 ** 2;
/** The Keras 3 version whose layout the written files follow. */
export const WRITTEN_KERAS3_VERSION = '3.5.0';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function readKerasZip(file: string, opts: ReadOptions = {}): Promise<ModelFile> {
  const abs = path.resolve(file);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const zip = new ZipReader(readFileBounded(abs, maxBytes, EXPECTED), abs);
  const json = (name: string, what: string) => {
    const text = Buffer.from(zip.read(name, MAX_JSON)).toString('utf8');
    return parseJsonBounded(text, `${abs} (${name})`, what);
  };
  const config = json('config.json', 'a Keras model config');
  const meta = zip.entries.has('metadata.json') ? json('metadata.json', 'Keras metadata') : undefined;
  const graph = readKerasConfig(config, abs, 'config.json');
  const warnings = [...graph.warnings];
  if (!zip.entries.has('model.weights.h5'))
    throw new PruneScopeError(
      zip.entries.has('model.weights.npz') ? 'unsupported' : 'bad-input',
      zip.entries.has('model.weights.npz') ? 'stores its weights as model.weights.npz' : 'has no model.weights.h5',
      { file: abs, field: 'zip entry model.weights.h5', expected: EXPECTED },
    );
  const weights = zip.read('model.weights.h5', maxBytes + 64 * 1024 ** 2);

  return withHdf5(weights, `${abs} (model.weights.h5)`, async (r) => {
    const h5file = `${abs} (model.weights.h5)`;
    // Keras 2.13 wrote `_layer_checkpoint_dependencies` where Keras 3 writes `layers`.
    const top =
      r.byPath.has('/layers') || !r.byPath.has('/_layer_checkpoint_dependencies')
        ? 'layers'
        : '_layer_checkpoint_dependencies';
    const varPath = new Map(
      keras3VarPaths(graph.layers.map((l) => l.className)).map((p, i) => [
        graph.layers[i].name,
        `/${top}${p.slice('layers'.length)}/vars`,
      ]),
    );
    const located: Located[] = [];
    const used: string[] = [];
    let weightBytes = 0;
    graph.spec.nodes.forEach((n, ni) => {
      const slots = graph.slots.get(n.name) ?? [];
      const given = graph.given.get(n.name);
      if (slots.length === 0) return;
      if (given) {
        for (const s of slots) located.push({ node: ni, slot: slotWeight(s), given: given.get(s.name) });
        return;
      }
      const vars = varPath.get(n.name)!;
      if (!r.byPath.has(vars))
        throw new PruneScopeError('bad-input', `has no variables group ${vars}`, {
          file: h5file,
          field: `${nodeField(n)} weights`,
          expected: `its ${slots.map((s) => s.name).join(', ')} under ${vars} (Keras addresses layers by class and position)`,
        });
      slots.forEach((s, k) => {
        const p = `${vars}/${k}`;
        const e = checkDataset(r, p, s.shape, n, s.name, h5file);
        used.push(dtypeName(e));
        weightBytes += (e.elementBytes ?? 4) * sizeOf(e.shape ?? []);
        located.push({ node: ni, slot: slotWeight(s), path: p });
      });
    });
    await fillWeights(graph, located, r, maxBytes);
    checkFiniteWeights(graph, abs);
    const { metadata, pruneMask } = attachMetadata(
      graph.spec,
      isObj(meta) ? meta.prunescope : undefined,
      abs,
      warnings,
    );
    return {
      spec: graph.spec,
      metadata,
      pruneMask,
      path: abs,
      warnings,
      format: {
        type: 'keras',
        modelClass: graph.modelClass,
        kerasVersion: isObj(meta) && typeof meta.keras_version === 'string' ? meta.keras_version : graph.kerasVersion,
        inputShape: graph.spec.inputs[0].shape.slice(),
        dtypes: [...new Set(used)].sort(),
        weightBytes,
      },
    };
  });
}

/**
 * Writes a GraphSpec as a Keras 3 `.keras` file: config.json in Keras 3's serialisation,
 * metadata.json, and model.weights.h5 laid out as saving_lib reads it. Atomic; never over the
 * input model.
 */
export async function writeKerasZip(out: string, model: ModelToWrite, opts: WriteOptions = {}): Promise<WrittenModel> {
  const file = path.resolve(out);
  checkOutput(file, 'file', opts);
  const { spec, metadata } = model;
  checkNames(spec, file);
  checkFinite(spec, file);
  checkWeightShapes(spec, file);
  checkMetadataForWrite(spec, metadata, file);
  const t = kerasTopology(spec, 'keras3', file);
  // model.layers: the InputLayer belongs to a Functional model's layers, not to a Sequential's.
  const classes = [...(t.sequential ? [] : ['InputLayer']), ...t.layers.map((l) => l.class_name)];
  const paths = keras3VarPaths(classes);
  const tree: H5WriteTree = { groups: [{ path: 'layers' }], datasets: [] };
  const offset = t.sequential ? 0 : 1;
  paths.forEach((p, i) => {
    tree.groups.push({ path: p }, { path: `${p}/vars` });
    const l = i >= offset ? t.layers[i - offset] : undefined;
    l?.weights.forEach((w, k) =>
      tree.datasets.push({
        path: `${p}/vars/${k}`,
        shape: w.shape,
        dtype: w.values instanceof BigInt64Array ? '<q' : '<f',
        data: w.values,
      }),
    );
  });
  tree.groups.push({ path: 'vars' });
  const weights = await buildHdf5(tree, file);
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}@${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
  const meta = {
    keras_version: WRITTEN_KERAS3_VERSION,
    date_saved: stamp,
    generated_by: `PruneScope ${VERSION}`,
    ...(metadata ? { prunescope: metadata } : {}),
  };
  const zip = zipSync({
    'metadata.json': [strToU8(JSON.stringify(meta)), { level: 0 }],
    'config.json': [strToU8(JSON.stringify(t.topology)), { level: 0 }],
    'model.weights.h5': [weights, { level: 6 }],
  });
  writeFileAtomic(file, zip);
  return { path: file, bytes: zip.byteLength, format: 'keras', warnings: t.warnings };
}
