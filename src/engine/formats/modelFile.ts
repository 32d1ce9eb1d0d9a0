// Model files to and from the engine's Graph: the readers and writers of this folder (TF.js, Keras
// .keras and .h5, ONNX) turn files into GraphSpecs and back; this module builds the Graph and is
// the API every command, job and notebook call uses (loadModel, saveModel, saveModelAs).
import * as path from 'path';
import { PruneScopeError } from '../errors';
import { Graph } from '../model/graph';
import type { PruneScopeMetadata } from '../model/metadata';
import { readModel, writeModel } from './index';
import type { FormatInfo, ModelFormat, WrittenModel } from './types';

export type { PruneScopeMetadata, PruneMask } from '../model/metadata';
export { encodePruneMask, decodePruneMask } from '../model/metadata';
export type { FormatInfo, ModelFormat } from './types';
export { DEFAULT_MAX_BYTES } from './types';
export { SHARD_NAME } from './tfjs';

export interface LoadedModel {
  network: Graph;
  metadata?: PruneScopeMetadata;
  /** The decoded prune mask (1 = pruned) over the flat index, when the metadata has one. */
  pruneMask?: Uint8Array;
  /** Absolute path of the file read (model.json for a TF.js folder). */
  path: string;
  warnings: string[];
  format: FormatInfo;
}

/** An error from building the graph names the file it came from (the layer modules do not know it). */
function inFile(e: unknown, file: string): unknown {
  if (!(e instanceof PruneScopeError) || e.context.file) return e;
  return new PruneScopeError(e.code, e.message, { file });
}

/**
 * Reads a model file of any supported format (a TF.js model.json or its folder, .keras, .h5,
 * .onnx) into the engine's Graph, with PruneScope's metadata and prune mask.
 */
export async function loadModel(modelPath: string, opts: { maxBytes?: number } = {}): Promise<LoadedModel> {
  const file = await readModel(modelPath, opts);
  let network: Graph;
  try {
    network = Graph.fromSpec(file.spec);
  } catch (e) {
    throw inFile(e, file.path);
  }
  return {
    network,
    metadata: file.metadata,
    pruneMask: file.pruneMask,
    path: file.path,
    warnings: file.warnings,
    format: file.format,
  };
}

export interface SaveOptions {
  /** Replace an existing output (never the input model). */
  replace?: boolean;
  /** The model file the graph was read from: writing over it (or into its folder) is refused. */
  input?: string;
}

/**
 * Writes `network` as a TF.js LayersModel (model.json + one float32 shard) into a new folder
 * `dir`, atomically. Refuses an existing non-empty folder unless `replace`, and the input model's
 * own folder always. `bytes` is the total size written.
 */
export async function saveModel(
  dir: string,
  network: Graph,
  metadata?: PruneScopeMetadata,
  opts: SaveOptions = {},
): Promise<{ modelJson: string; bytes: number }> {
  const w = await saveModelAs(dir, network, metadata, 'tfjs', opts);
  return { modelJson: w.path, bytes: w.bytes };
}

/**
 * Writes `network` in `format`: for 'tfjs' `out` is the folder (a path ending in model.json means
 * its folder), otherwise the .keras / .h5 / .onnx file. Same guards as saveModel.
 */
export async function saveModelAs(
  out: string,
  network: Graph,
  metadata: PruneScopeMetadata | undefined,
  format: ModelFormat,
  opts: SaveOptions = {},
): Promise<WrittenModel> {
  return writeModel(path.resolve(out), { spec: network.toSpec(), metadata }, format, opts);
}
