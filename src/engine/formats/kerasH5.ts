// Legacy Keras HDF5 files (`model.save('m.h5')`, Keras 2, and Keras 3 writing the legacy layout):
// the root attribute `model_config` holds the model config; `model_weights/<layer>` holds each
// layer's weights, listed in order by its `weight_names` attribute ('dense/kernel:0' in Keras 2,
// bare 'kernel' in Keras 3), stored at `model_weights/<layer>/<weight name>`.
import * as path from 'path';
import { PruneScopeError } from '../errors';
import { writeFileAtomic } from '../util/atomicWrite';
import { parseJsonBounded, preview } from '../util/jsonLimits';
import { VERSION } from '../util/version';
import { H5WriteTree, buildHdf5, withHdf5 } from './hdf5/h5Client';
import { kerasTopology } from './keras/configWrite';
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

const EXPECTED = 'a Keras .h5 model file (model.save in Keras 2, or the legacy format in Keras 3)';
/** The version whose layout the written files follow (Keras 3 reads it too). */
export const WRITTEN_KERAS2_VERSION = '2.15.0';

const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const asStrings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : typeof v === 'string' ? [v] : undefined;

/** The short name of a weight as Keras names it ('dense_1/kernel:0' -> 'kernel'). */
const shortName = (n: string) => n.replace(/:\d+$/, '').split('/').pop()!;

export async function readKerasH5(file: string, opts: ReadOptions = {}): Promise<ModelFile> {
  const abs = path.resolve(file);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const bytes = readFileBounded(abs, maxBytes, EXPECTED);
  return withHdf5(bytes, abs, async (r) => {
    const root = r.byPath.get('/')!.attrs;
    const configText = asString(root.model_config);
    if (configText === undefined)
      throw new PruneScopeError(
        'unsupported',
        root.model_config === undefined
          ? 'has no model_config attribute (a weights-only file?)'
          : 'has a model_config that is not text',
        { file: abs, field: 'model_config', expected: `${EXPECTED}, which stores its model config` },
      );
    const config = parseJsonBounded(configText, abs, 'a Keras model config in model_config');
    const graph = readKerasConfig(config, abs, 'model_config');
    const warnings = [...graph.warnings];
    const kerasVersion = asString(root.keras_version) ?? graph.kerasVersion;
    const weightsRoot = r.byPath.has('/model_weights') ? '/model_weights' : '';

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
      const group = `${weightsRoot}/${n.name}`;
      const g = r.byPath.get(group);
      const field = `${nodeField(n)} weights`;
      if (!g || g.kind !== 'group')
        throw new PruneScopeError('bad-input', `has no weight group ${group}`, {
          file: abs,
          field,
          expected: `the layer's weights under ${group}`,
        });
      const names = asStrings(g.attrs.weight_names);
      if (!names)
        throw new PruneScopeError('bad-input', `weight_names is ${preview(g.attrs.weight_names)}`, {
          file: abs,
          field: `${group} attribute weight_names`,
          expected: 'the list of the layer weight names',
        });
      // Normalization also stores `count`, which the graph does not use.
      const own = names.filter((w) => !(n.className === 'Normalization' && shortName(w) === 'count'));
      const byShort = new Map(own.map((w) => [shortName(w), w]));
      slots.forEach((s, k) => {
        // By name where the names say what they are; by position (Keras's own rule) otherwise.
        const wn = byShort.get(s.name) ?? (own.length === slots.length ? own[k] : undefined);
        if (wn === undefined)
          throw new PruneScopeError('bad-input', `lists weights ${preview(names, 200)}, none of them ${s.name}`, {
            file: abs,
            field: `${group} attribute weight_names`,
            expected: `the ${slots.map((x) => x.name).join(', ')} weights of a ${n.className}`,
          });
        const p = `${group}/${wn}`;
        const e = checkDataset(r, p, s.shape, n, s.name, abs);
        used.push(dtypeName(e));
        weightBytes += (e.elementBytes ?? 4) * sizeOf(e.shape ?? []);
        located.push({ node: ni, slot: slotWeight(s), path: p });
      });
    });
    await fillWeights(graph, located, r, maxBytes);
    checkFiniteWeights(graph, abs);
    const meta = asString(root.prunescope);
    const { metadata, pruneMask } = attachMetadata(
      graph.spec,
      meta === undefined ? undefined : parseJsonBounded(meta, abs, 'PruneScope metadata in the prunescope attribute'),
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
        type: 'h5',
        modelClass: graph.modelClass,
        kerasVersion,
        inputShape: graph.spec.inputs[0].shape.slice(),
        dtypes: [...new Set(used)].sort(),
        weightBytes,
      },
    };
  });
}

/**
 * Writes a GraphSpec as a legacy Keras .h5 file in the tf.keras 2 layout (which Keras 3's
 * load_model also reads): model_config, model_weights/<layer> with weight_names, one dataset per
 * weight. Atomic; never over the input model.
 */
export async function writeKerasH5(out: string, model: ModelToWrite, opts: WriteOptions = {}): Promise<WrittenModel> {
  const file = path.resolve(out);
  checkOutput(file, 'file', opts);
  const { spec, metadata } = model;
  checkNames(spec, file);
  checkFinite(spec, file);
  checkWeightShapes(spec, file);
  checkMetadataForWrite(spec, metadata, file);
  const t = kerasTopology(spec, 'keras2', file);
  // tf.keras 2 lists the InputLayer among model.layers of a Functional model, not of a Sequential one.
  const inputName = spec.inputs[0].name;
  const layerNames = [...(t.sequential ? [] : [inputName]), ...t.layers.map((l) => l.node.name)];
  const tree: H5WriteTree = {
    attrs: {
      backend: 'tensorflow',
      keras_version: WRITTEN_KERAS2_VERSION,
      model_config: JSON.stringify(t.topology),
      prunescope_version: VERSION,
      ...(metadata ? { prunescope: JSON.stringify(metadata) } : {}),
    },
    groups: [
      {
        path: 'model_weights',
        attrs: { backend: 'tensorflow', keras_version: WRITTEN_KERAS2_VERSION, layer_names: layerNames },
      },
    ],
    datasets: [],
  };
  if (!t.sequential) tree.groups.push({ path: `model_weights/${inputName}`, attrs: { weight_names: [] } });
  for (const l of t.layers) {
    const g = `model_weights/${l.node.name}`;
    const names = l.weights.map((w) => `${l.node.name}/${w.name}:0`);
    tree.groups.push({ path: g, attrs: { weight_names: names } });
    if (l.weights.length) tree.groups.push({ path: `${g}/${l.node.name}` });
    l.weights.forEach((w, k) =>
      tree.datasets.push({
        path: `${g}/${names[k]}`,
        shape: w.shape,
        dtype: w.values instanceof BigInt64Array ? '<q' : '<f',
        data: w.values,
      }),
    );
  }
  const bytes = await buildHdf5(tree, file);
  writeFileAtomic(file, bytes);
  return { path: file, bytes: bytes.byteLength, format: 'h5', warnings: t.warnings };
}
