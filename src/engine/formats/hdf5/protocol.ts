// Messages between the HDF5 client (h5Client.ts) and the worker thread that owns h5wasm
// (h5Worker.ts). Files travel as bytes: the worker's HDF5 library sees only its in-memory file
// system, so a link inside a file can never reach the user's disk.

/** A group or dataset of an opened file, with its attributes read as JSON-compatible values. */
export interface H5Entry {
  /** Absolute path inside the file, e.g. '/model_weights/dense/dense/kernel:0'. */
  path: string;
  kind: 'group' | 'dataset' | 'other';
  attrs: Record<string, unknown>;
  /** Datasets: shape (null for a null dataspace), h5wasm dtype string, bytes per element. */
  shape?: number[] | null;
  dtype?: string;
  elementBytes?: number;
  /** Datasets: HDF5 type class (0 integer, 1 float, 3 string, ...). */
  typeClass?: number;
}

export interface H5Limits {
  /** Groups + datasets listed before the walk stops with an error. */
  maxEntries: number;
  /** Deepest group nesting followed. */
  maxDepth: number;
  /** Largest attribute (declared bytes) read. */
  maxAttrBytes: number;
}

export type AttrValue = string | string[] | number;

export interface H5WriteTree {
  attrs?: Record<string, AttrValue>;
  /** Groups in creation order (parents before children); paths without a leading '/'. */
  groups: { path: string; attrs?: Record<string, AttrValue> }[];
  datasets: { path: string; shape: number[]; dtype: '<f' | '<q'; data: Float32Array | BigInt64Array }[];
}

export type H5Request =
  | { id: number; op: 'open'; bytes: Uint8Array; limits: H5Limits }
  | { id: number; op: 'read'; handle: number; paths: string[]; maxBytes: number }
  | { id: number; op: 'close'; handle: number }
  | { id: number; op: 'write'; tree: H5WriteTree };

export type H5Result =
  | { handle: number; entries: H5Entry[] }
  | { values: { path: string; data: Float32Array }[] }
  | { bytes: Uint8Array }
  | Record<string, never>;

export type H5Response =
  | { id: number; ok: true; result: H5Result }
  | {
      id: number;
      ok: false;
      message: string;
      /** The library trapped (wasm abort): the worker exits and a new one serves the next call. */
      trap: boolean;
      /** The innermost message of the HDF5 error stack, when the library printed one. */
      diag?: string;
      /** Which dataset or attribute the failure concerns, when known. */
      where?: string;
      kind?: 'too-large' | 'unsupported' | 'bad-input';
    };
