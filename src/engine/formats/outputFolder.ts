// A new model in a new output folder, in the format the user asked for (default: the input's):
// TF.js as the folder itself (model.json + shard), .keras / .h5 / .onnx as one file inside it
// named after the input. Prune (CLI and worker) and export-student write their models this way;
// distill puts the model's files beside its report in one atomic folder (modelFiles).
import * as fs from 'fs';
import * as os from 'os';
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

/**
 * The files `network` makes in `format`, by their names inside an output folder (model.json and its
 * shard for TF.js, else the one file named after `input`), for writeFolderAtomic to put beside other
 * outputs in one rename. `main` names the model file among them.
 */
export async function modelFiles(
  network: Graph,
  metadata: PruneScopeMetadata | undefined,
  format: ModelFormat,
  input: string,
): Promise<{ files: Record<string, Uint8Array>; main: string; warnings: string[] }> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-model-'));
  try {
    const dir = path.join(scratch, 'out');
    const saved = await saveModelInto(dir, network, metadata, format, input);
    const files: Record<string, Uint8Array> = {};
    for (const name of fs.readdirSync(dir)) files[name] = fs.readFileSync(path.join(dir, name));
    return { files, main: path.basename(saved.path), warnings: saved.warnings };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
