// TF.js LayersModel files (model.json + binary weight shards) of dense chains to and from a PruneScope
// graph (until the formats readers and writers of every layer class replace this module).
// Topology parsing lives in topology.ts, the weights manifest in weightsManifest.ts, PruneScope's
// own metadata in metadata.ts; this module ties them together and owns the user-facing API.
import * as fs from 'fs';
import * as path from 'path';
import { PruneScopeError } from '../errors';
import type { Graph } from './graph';
import { NetworkSpec, computeLayout, denseFromFlat, networkSpecOf, requireDense } from './denseChain';
import { parseTopology, toNetworkSpec } from './topology';
import { ManifestWeight, parseManifest, readWeights } from './weightsManifest';
import { PruneScopeMetadata, decodePruneMask, validateMetadata } from './metadata';
import { writeFolderAtomic } from '../util/atomicWrite';
import { clip, parseJsonBounded } from '../util/jsonLimits';
import { describeParam, firstNonFinite } from '../util/finite';
import { VERSION } from '../util/version';

export type { PruneScopeMetadata, PruneMask } from './metadata';
export { encodePruneMask, decodePruneMask } from './metadata';

export const DEFAULT_MAX_BYTES = 2 * 1024 ** 3;
/** model.json holds only the topology and manifest; anything this big is not a LayersModel. */
const MAX_JSON_BYTES = 64 * 1024 ** 2;
export const SHARD_NAME = 'group1-shard1of1.bin';

export interface LoadedModel {
  network: Graph;
  metadata?: PruneScopeMetadata;
  /** The decoded prune mask (1 = pruned) over the flat index, when the metadata has one. */
  pruneMask?: Uint8Array;
  path: string;
  warnings: string[];
  format: {
    type: 'layers-model';
    /** Keras model class: Sequential, Model or Functional. */
    modelClass: string;
    kerasVersion?: string;
    generatedBy?: string;
    convertedBy?: string;
    /** Declared input shape without the batch dimension (e.g. [28, 28] before a Flatten). */
    inputShape: number[];
    weightGroups: number;
    shards: number;
    /** Stored dtypes of the weights the network uses (quantized ones as 'uint8' etc.). */
    dtypes: string[];
    weightBytes: number;
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Index from every '/'-suffix of a weight's name (without `:0`) to the weights ending so. */
type WeightIndex = Map<string, ManifestWeight[]>;
const norm = (n: string) => n.replace(/:\d+$/, '');

// Built once per model: a per-layer scan of the whole manifest is quadratic, which a model.json
// with thousands of layers turns into minutes of work.
function indexWeights(weights: ManifestWeight[]): WeightIndex {
  const index: WeightIndex = new Map();
  for (const w of weights) {
    const n = norm(w.name);
    const suffixes = new Set([n]);
    for (let i = n.indexOf('/'); i >= 0; i = n.indexOf('/', i + 1)) suffixes.add(n.slice(i + 1));
    for (const k of suffixes) {
      const list = index.get(k);
      if (list) list.push(w);
      else index.set(k, [w]);
    }
  }
  return index;
}

/** Finds the manifest weight `<layer>/<kind>`, allowing a scope prefix (`sequential/dense_1/kernel`) and a `:0` suffix. */
function findWeight(
  index: WeightIndex,
  layer: string,
  kind: 'kernel' | 'bias',
  file: string,
): ManifestWeight | undefined {
  const want = `${layer}/${kind}`;
  const hits = index.get(want) ?? [];
  if (hits.length > 1) {
    const exact = hits.filter((w) => norm(w.name) === want);
    if (exact.length === 1) return exact[0];
    throw new PruneScopeError('bad-input', `several weights match ${want}: ${nameList(hits)}`, {
      file,
      field: `weightsManifest weight ${want}`,
      expected: 'one weight per layer and kind',
    });
  }
  return hits[0];
}

/** The first few weight names, for messages that would otherwise list a whole manifest. */
function nameList(ws: ManifestWeight[], max = 8): string {
  return (
    ws
      .slice(0, max)
      .map((w) => clip(w.name))
      .join(', ') + (ws.length > max ? `, ... (${ws.length} in all)` : '')
  );
}

export async function loadModel(modelJsonPath: string, opts: { maxBytes?: number } = {}): Promise<LoadedModel> {
  const file = path.resolve(modelJsonPath);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new PruneScopeError('not-found', 'model file does not exist', { file, expected: 'a TF.js model.json' });
  }
  if (!stat.isFile()) throw new PruneScopeError('bad-input', 'is not a file', { file, expected: 'a TF.js model.json' });
  if (stat.size > MAX_JSON_BYTES)
    throw new PruneScopeError('too-large', `is ${stat.size} bytes`, {
      file,
      expected: `a model.json under ${MAX_JSON_BYTES} bytes`,
    });
  const json = parseJsonBounded(fs.readFileSync(file, 'utf8'), file, 'a TF.js model.json');
  if (!isObj(json))
    throw new PruneScopeError('bad-input', 'is not a JSON object', { file, expected: 'a TF.js model.json' });
  if (json.format === 'graph-model')
    throw new PruneScopeError('unsupported', 'is a TF.js graph model', {
      file,
      field: 'format',
      expected: 'layers-model',
    });
  if (json.modelTopology === undefined)
    throw new PruneScopeError('bad-input', 'is missing', {
      file,
      field: 'modelTopology',
      expected: 'a Keras model config',
    });

  const warnings: string[] = [];
  const topo = parseTopology(json.modelTopology, file);
  const spec: NetworkSpec = toNetworkSpec(topo);
  const manifest = parseManifest(json.weightsManifest, file, maxBytes);

  // Match every layer's weights by name and check shapes before reading any shard.
  const used = new Set<string>();
  const index = indexWeights(manifest.weights);
  const plan = topo.dense.map((d) => {
    const kernel = findWeight(index, d.name, 'kernel', file);
    if (!kernel) {
      throw new PruneScopeError(
        'bad-input',
        `no weight for Dense layer ${d.name}; the manifest has ${nameList(manifest.weights) || 'no weights'}`,
        { file, field: `weightsManifest weight ${d.name}/kernel`, expected: `a weight named ${d.name}/kernel` },
      );
    }
    const bias = d.useBias ? findWeight(index, d.name, 'bias', file) : undefined;
    if (d.useBias && !bias)
      throw new PruneScopeError('bad-input', `no bias weight for Dense layer ${d.name}, which has use_bias true`, {
        file,
        field: `weightsManifest weight ${d.name}/bias`,
        expected: `a weight named ${d.name}/bias`,
      });
    const check = (w: ManifestWeight, shape: number[]) => {
      if (w.shape.length !== shape.length || w.shape.some((s, i) => s !== shape[i])) {
        throw new PruneScopeError('bad-input', `weight ${w.name} has shape [${w.shape.join(', ')}]`, {
          file,
          field: `weightsManifest weight ${w.name}.shape`,
          expected: `[${shape.join(', ')}] for Dense layer ${d.name} (${d.inSize} inputs, ${d.units} units)`,
        });
      }
      used.add(w.name);
    };
    check(kernel, [d.inSize, d.units]);
    if (bias) check(bias, [d.units]);
    else warnings.push(`Dense layer ${d.name} has no bias; loaded with a zero bias`);
    return { kernel, bias };
  });
  const unused = manifest.weights.filter((w) => !used.has(w.name));
  if (unused.length > 0)
    warnings.push(
      `ignored ${unused.length} weight(s) not used by the dense chain: ${unused
        .slice(0, 5)
        .map((w) => clip(w.name))
        .join(', ')}${unused.length > 5 ? ', ...' : ''}`,
    );

  const values = await readWeights(manifest, file, warnings);
  const layout = computeLayout(spec);
  const flat = new Float32Array(layout[layout.length - 1].biasOffset + layout[layout.length - 1].biasSize);
  plan.forEach((p, i) => {
    flat.set(values.get(p.kernel.name)!.values, layout[i].kernelOffset);
    if (p.bias) flat.set(values.get(p.bias.name)!.values, layout[i].biasOffset);
  });

  let metadata: PruneScopeMetadata | undefined;
  let pruneMask: Uint8Array | undefined;
  const udm = json.userDefinedMetadata;
  if (isObj(udm) && udm.prunescope !== undefined) {
    const outputSize = spec.layers[spec.layers.length - 1].units;
    metadata = validateMetadata(udm.prunescope, { inputSize: spec.inputSize, outputSize }, file);
    if (
      metadata.task &&
      metadata.task !== (spec.layers[spec.layers.length - 1].activation === 'softmax' ? 'classification' : 'regression')
    ) {
      warnings.push(
        `metadata says task ${metadata.task} but the last layer's activation is ${spec.layers[spec.layers.length - 1].activation}`,
      );
    }
    if (metadata.pruneMask) {
      pruneMask = decodePruneMask(metadata.pruneMask, flat.length, file);
      // Pruned means held at zero: a non-zero value under the mask is forced to zero, with a warning.
      let forced = 0;
      for (let j = 0; j < flat.length; j++)
        if (pruneMask[j] && flat[j] !== 0) {
          flat[j] = 0;
          forced++;
        }
      if (forced > 0)
        warnings.push(`${forced} parameter(s) marked pruned in the metadata were non-zero and were set to zero`);
    }
  }

  const relevantDtypes = new Set(
    plan
      .flatMap((p) => [p.kernel, p.bias])
      .filter((w): w is ManifestWeight => !!w)
      .map((w) => w.quantization?.dtype ?? w.dtype),
  );
  return {
    network: denseFromFlat(spec, flat),
    metadata,
    pruneMask,
    path: file,
    warnings,
    format: {
      type: 'layers-model',
      modelClass: topo.modelClass,
      kerasVersion: topo.kerasVersion,
      generatedBy: typeof json.generatedBy === 'string' ? json.generatedBy : undefined,
      convertedBy: typeof json.convertedBy === 'string' ? json.convertedBy : undefined,
      inputShape: topo.inputShape,
      weightGroups: manifest.groups.length,
      shards: manifest.groups.reduce((a, g) => a + g.files.length, 0),
      dtypes: [...relevantDtypes].sort(),
      weightBytes: manifest.totalBytes,
    },
  };
}

/**
 * Writes `network` as a Sequential TF.js LayersModel (model.json + one float32 shard) into a new
 * folder `dir`, atomically. Refuses an existing non-empty folder unless `replace`. `bytes` is the
 * total size written (model.json + shard).
 */
export async function saveModel(
  dir: string,
  network: Graph,
  metadata?: PruneScopeMetadata,
  opts: { replace?: boolean } = {},
): Promise<{ modelJson: string; bytes: number }> {
  const layout = requireDense(network, 'saving a TF.js model (this writer)');
  const out = path.resolve(dir);
  if (fs.existsSync(out) && (!fs.statSync(out).isDirectory() || fs.readdirSync(out).length > 0) && !opts.replace) {
    throw new PruneScopeError('bad-input', 'output folder exists and is not empty', {
      file: out,
      expected: 'a new or empty folder (or replace: true)',
    });
  }
  const spec = networkSpecOf(network)!;
  const names = new Set<string>();
  for (const l of spec.layers) {
    // TF.js matches weights by `<layer>/kernel`, so names must be unique and free of '/'.
    if (!l.name || l.name.includes('/') || names.has(l.name))
      throw new PruneScopeError(
        'bad-input',
        `layer name ${JSON.stringify(l.name)} is empty, repeated or contains "/"`,
        { field: 'network.spec.layers.name', expected: 'unique names without "/"' },
      );
    names.add(l.name);
  }
  if (metadata) {
    validateMetadata(
      metadata,
      { inputSize: spec.inputSize, outputSize: network.outputSize },
      path.join(out, 'model.json'),
    );
    if (metadata.pruneMask) decodePruneMask(metadata.pruneMask, network.nParams, path.join(out, 'model.json'));
  }
  const flat = network.toFlat();
  // Never write a model full of NaN: refuse before anything touches the disk.
  const bad = firstNonFinite(flat);
  if (bad >= 0) {
    const l = layout.find((x) => bad < x.biasOffset + x.biasSize)!;
    throw new PruneScopeError(
      'numerical',
      `weight ${l.name}/${bad < l.biasOffset ? 'kernel' : 'bias'} has ${flat[bad]} at ${describeParam(network, bad)}; nothing was written`,
      { file: out, field: 'weights', expected: 'finite values' },
    );
  }
  const weights: { name: string; shape: number[]; dtype: 'float32' }[] = [];
  const parts: Float32Array[] = [];
  layout.forEach((l) => {
    weights.push({ name: `${l.name}/kernel`, shape: [l.inSize, l.outSize], dtype: 'float32' });
    weights.push({ name: `${l.name}/bias`, shape: [l.outSize], dtype: 'float32' });
    parts.push(
      flat.subarray(l.kernelOffset, l.kernelOffset + l.kernelSize),
      flat.subarray(l.biasOffset, l.biasOffset + l.biasSize),
    );
  });
  // The flat order is already kernel-then-bias per layer, exactly the shard layout.
  const shard = new Uint8Array(flat.buffer, flat.byteOffset, flat.byteLength);
  const modelTopology = {
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      layers: spec.layers.map((l, i) => ({
        class_name: 'Dense',
        config: {
          name: l.name,
          units: l.units,
          activation: l.activation,
          use_bias: true,
          trainable: true,
          dtype: 'float32',
          ...(i === 0 ? { batch_input_shape: [null, spec.inputSize] } : {}),
        },
      })),
    },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
  const modelJson = {
    format: 'layers-model',
    generatedBy: `PruneScope ${VERSION}`,
    convertedBy: null,
    modelTopology,
    weightsManifest: [{ paths: [SHARD_NAME], weights }],
    ...(metadata ? { userDefinedMetadata: { prunescope: metadata } } : {}),
  };
  const text = JSON.stringify(modelJson);
  writeFolderAtomic(out, { 'model.json': text, [SHARD_NAME]: shard }, { replace: opts.replace });
  return { modelJson: path.join(out, 'model.json'), bytes: Buffer.byteLength(text) + shard.byteLength };
}
