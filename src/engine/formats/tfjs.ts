// TF.js LayersModel files (model.json + binary weight shards) to and from a GraphSpec. The
// topology is a Keras model config (keras/modelConfig.ts); the weights manifest is checked and
// read by model/weightsManifest.ts (paths confined to the folder, sizes budgeted before any
// read, float16 / int32 / quantized weights decoded); weights are matched to layers by name as
// TF.js and Keras name them (`<layer>/<weight>`, with any scope prefix and `:0` suffix).
import * as fs from 'fs';
import * as path from 'path';
import { PruneScopeError } from '../errors';
import type { WeightSpec } from '../graphSpec';
import { ManifestWeight, parseManifest, readWeights } from '../model/weightsManifest';
import { writeFolderAtomic } from '../util/atomicWrite';
import { clip, parseJsonBounded, preview } from '../util/jsonLimits';
import { VERSION } from '../util/version';
import { readKerasConfig } from './keras/modelConfig';
import { tfjsTopology } from './keras/configWrite';
import { attachMetadata, checkMetadataForWrite } from './metadata';
import { checkFinite, checkNames, checkOutput, checkWeightShapes } from './output';
import { nodeField, shapeText } from '../model/graphShapes';
import { DEFAULT_MAX_BYTES, ModelFile, ModelToWrite, ReadOptions, WriteOptions, WrittenModel } from './types';

/** model.json holds only the topology and manifest; anything this big is not a LayersModel. */
const MAX_JSON_BYTES = 64 * 1024 ** 2;
export const SHARD_NAME = 'group1-shard1of1.bin';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const norm = (n: string) => n.replace(/:\d+$/, '');

/** Index from every '/'-suffix of a weight's name (without `:0`) to the weights ending so. */
type WeightIndex = Map<string, ManifestWeight[]>;

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

/** The first few weight names, for messages that would otherwise list a whole manifest. */
function nameList(ws: ManifestWeight[], max = 8): string {
  return (
    ws
      .slice(0, max)
      .map((w) => clip(w.name))
      .join(', ') + (ws.length > max ? `, ... (${ws.length} in all)` : '')
  );
}

/** Finds the manifest weight `<layer>/<kind>`, allowing a scope prefix and a `:0` suffix. */
function findWeight(index: WeightIndex, layer: string, kind: string, file: string): ManifestWeight | undefined {
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

/** Reads a TF.js LayersModel (path to model.json) into a GraphSpec with its metadata. */
export async function readTfjs(modelJsonPath: string, opts: ReadOptions = {}): Promise<ModelFile> {
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

  const graph = readKerasConfig(json.modelTopology, file, 'modelTopology');
  const warnings = [...graph.warnings];
  const manifest = parseManifest(json.weightsManifest, file, maxBytes);

  // Match every node's weights by name and check shapes before reading any shard.
  const index = indexWeights(manifest.weights);
  const used = new Set<string>();
  const plan: { node: number; slot: WeightSpec; from?: ManifestWeight; given?: number[] }[] = [];
  graph.spec.nodes.forEach((n, ni) => {
    // Normalization keeps a `count` weight Keras no longer uses; it is not part of the graph.
    const count = n.className === 'Normalization' ? findWeight(index, n.name, 'count', file) : undefined;
    if (count) used.add(count.name);
    for (const s of graph.slots.get(n.name) ?? []) {
      const slot: WeightSpec = { name: s.name, shape: s.shape, trainable: s.trainable, values: new Float32Array(0) };
      const given = graph.given.get(n.name)?.get(s.name);
      if (given) {
        plan.push({ node: ni, slot, given });
        continue;
      }
      const w = findWeight(index, n.name, s.name, file);
      if (!w)
        throw new PruneScopeError(
          'bad-input',
          `no weight ${s.name} for ${nodeField(n)}; the manifest has ${nameList(manifest.weights) || 'no weights'}`,
          { file, field: `weightsManifest weight ${n.name}/${s.name}`, expected: `a weight named ${n.name}/${s.name}` },
        );
      const want = s.shape;
      // A Normalization over one axis may store its statistics with the broadcast ones kept.
      const sameSize = w.shape.reduce((a, b) => a * b, 1) === want.reduce((a, b) => a * b, 1);
      const ok =
        (w.shape.length === want.length && w.shape.every((d, i) => d === want[i])) ||
        (n.className === 'Normalization' && sameSize);
      if (!ok)
        throw new PruneScopeError('bad-input', `weight ${w.name} has shape ${shapeText(w.shape)}`, {
          file,
          field: `weightsManifest weight ${w.name}.shape`,
          expected: `${shapeText(want)} for ${nodeField(n)}`,
        });
      used.add(w.name);
      plan.push({ node: ni, slot, from: w });
    }
  });
  const unused = manifest.weights.filter((w) => !used.has(w.name));
  if (unused.length > 0)
    warnings.push(
      `ignored ${unused.length} weight(s) the graph does not use: ${unused
        .slice(0, 5)
        .map((w) => clip(w.name))
        .join(', ')}${unused.length > 5 ? ', ...' : ''}`,
    );

  const values = await readWeights(manifest, file, warnings);
  for (const p of plan) {
    p.slot.values = p.from ? Float32Array.from(values.get(p.from.name)!.values) : Float32Array.from(p.given!);
    graph.spec.nodes[p.node].weights.push(p.slot);
  }

  const udm = json.userDefinedMetadata;
  const { metadata, pruneMask } = attachMetadata(graph.spec, isObj(udm) ? udm.prunescope : undefined, file, warnings);
  const dtypes = new Set(plan.filter((p) => p.from).map((p) => p.from!.quantization?.dtype ?? p.from!.dtype));
  return {
    spec: graph.spec,
    metadata,
    pruneMask,
    path: file,
    warnings,
    format: {
      type: 'tfjs',
      modelClass: graph.modelClass,
      kerasVersion: graph.kerasVersion,
      generatedBy: typeof json.generatedBy === 'string' ? json.generatedBy : undefined,
      convertedBy: typeof json.convertedBy === 'string' ? json.convertedBy : undefined,
      inputShape: graph.spec.inputs[0].shape.slice(),
      dtypes: [...dtypes].sort(),
      weightBytes: manifest.totalBytes,
      weightGroups: manifest.groups.length,
      shards: manifest.groups.reduce((a, g) => a + g.files.length, 0),
    },
  };
}

/**
 * Writes a GraphSpec as a TF.js LayersModel (model.json + one float32 shard) into a new folder,
 * atomically; tf.loadLayersModel reads it. Never over the input model, nor over an existing
 * non-empty folder unless `replace`.
 */
export async function writeTfjs(dir: string, model: ModelToWrite, opts: WriteOptions = {}): Promise<WrittenModel> {
  const out = path.resolve(dir);
  const jsonPath = path.join(out, 'model.json');
  checkOutput(out, 'folder', opts);
  const { spec, metadata } = model;
  checkNames(spec, jsonPath);
  checkFinite(spec, jsonPath);
  checkWeightShapes(spec, jsonPath);
  checkMetadataForWrite(spec, metadata, jsonPath);
  const { topology, weights, warnings } = tfjsTopology(spec, jsonPath);
  const total = weights.reduce((a, w) => a + w.values.length, 0);
  const flat = new Float32Array(total);
  let off = 0;
  for (const w of weights) {
    flat.set(w.values as Float32Array, off);
    off += w.values.length;
  }
  const shard = new Uint8Array(flat.buffer);
  const modelJson = {
    format: 'layers-model',
    generatedBy: `PruneScope ${VERSION}`,
    convertedBy: null,
    modelTopology: topology,
    weightsManifest: [
      {
        paths: [SHARD_NAME],
        weights: weights.map((w) => ({ name: `${w.layer}/${w.name}`, shape: w.shape, dtype: 'float32' })),
      },
    ],
    ...(metadata ? { userDefinedMetadata: { prunescope: metadata } } : {}),
  };
  const text = JSON.stringify(modelJson);
  try {
    writeFolderAtomic(out, { 'model.json': text, [SHARD_NAME]: shard }, { replace: opts.replace });
  } catch (e) {
    throw new PruneScopeError('bad-input', `cannot write the model: ${preview((e as Error).message, 300)}`, {
      file: out,
      expected: 'a writable folder',
    });
  }
  return { path: jsonPath, bytes: Buffer.byteLength(text) + shard.byteLength, format: 'tfjs', warnings };
}
