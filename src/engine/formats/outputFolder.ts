// A new model in a new output folder, in the format the user asked for (default: the input's):
// TF.js as the folder itself (model.json + shard), .keras / .h5 / .onnx as one file inside it
// named after the input. Prune (CLI and worker) and export-student write their models this way.
import * as path from 'path';
import type { Graph } from '../model/graph';
import type { PruneScopeMetadata } from '../model/metadata';
import type { ModelFormat } from '../options';
import { saveModelAs } from './modelFile';
import type { WrittenModel } from './types';

export const FORMAT_EXTENSIONS: Record<ModelFormat, string> = {
  tfjs: '.json',
  keras: '.keras',
  h5: '.h5',
  onnx: '.onnx',
};

/** The name a model read from `input` keeps: a TF.js model.json is named by its folder. */
export function modelStem(input: string): string {
  const base = path.basename(input);
  if (base === 'model.json') return path.basename(path.dirname(path.resolve(input)));
  return base.replace(/\.(json|keras|h5|hdf5|onnx)$/i, '') || 'model';
}

/** Where a model in `format` goes inside the output folder `dir`. */
export function modelFileIn(dir: string, input: string, format: ModelFormat): string {
  const out = path.resolve(dir);
  return format === 'tfjs'
    ? path.join(out, 'model.json')
    : path.join(out, modelStem(input) + FORMAT_EXTENSIONS[format]);
}

/**
 * Writes `network` into the new folder `dir` in `format` (atomically; never over `input`, which
 * also may not lie inside `dir`). The folder must be new or empty: the caller checked that before its work.
 */
export async function saveModelInto(
  dir: string,
  network: Graph,
  metadata: PruneScopeMetadata | undefined,
  format: ModelFormat,
  input: string,
): Promise<WrittenModel> {
  const target = format === 'tfjs' ? path.resolve(dir) : modelFileIn(dir, input, format);
  return saveModelAs(target, network, metadata, format, { input });
}
