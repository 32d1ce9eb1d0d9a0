// What every model-file reader returns and every writer takes, whatever the format.
import type { GraphSpec } from '../graphSpec';
import type { PruneScopeMetadata } from '../model/metadata';

import type { ModelFormat } from '../options';

export { MODEL_FORMATS } from '../options';
export type { ModelFormat } from '../options';

export interface FormatInfo {
  type: ModelFormat;
  /** Keras model class (Sequential, Functional, Model) or 'graph' for ONNX. */
  modelClass: string;
  kerasVersion?: string;
  /** TF.js generatedBy, ONNX producer name and version. */
  generatedBy?: string;
  convertedBy?: string;
  /** Declared input shape without the batch dimension, in the engine's layout (NHWC). */
  inputShape: number[];
  /** Stored dtypes of the weights the graph uses (quantized ones as 'uint8' etc.). */
  dtypes: string[];
  /** Bytes of weight data the file declares. */
  weightBytes: number;
  /** TF.js: manifest groups and shard files. */
  weightGroups?: number;
  shards?: number;
  /** ONNX: the default-domain opset. */
  opset?: number;
}

/** A model read from a file: the graph, PruneScope's metadata (with the decoded prune mask) and what was noticed. */
export interface ModelFile {
  spec: GraphSpec;
  metadata?: PruneScopeMetadata;
  /** 1 = pruned, over the flat parameter index; pruned weights are already exactly 0 in `spec`. */
  pruneMask?: Uint8Array;
  /** Absolute path of the file read (model.json for TF.js). */
  path: string;
  warnings: string[];
  format: FormatInfo;
}

/** What a writer needs: the graph and, optionally, the metadata to keep with it. */
export interface ModelToWrite {
  spec: GraphSpec;
  metadata?: PruneScopeMetadata;
}

export interface WriteOptions {
  /** Replace an existing output (never the input model itself). */
  replace?: boolean;
  /** The model file the graph was read from: writing over it (or into its folder, for TF.js) is refused. */
  input?: string;
}

export interface WrittenModel {
  /** The main file written (model.json for TF.js, the .keras/.h5/.onnx file otherwise). */
  path: string;
  /** Total bytes written. */
  bytes: number;
  format: ModelFormat;
  warnings: string[];
}

export interface ReadOptions {
  /** Budget for the weight bytes a file may declare (default 2 GiB). */
  maxBytes?: number;
}

export const DEFAULT_MAX_BYTES = 2 * 1024 ** 3;
