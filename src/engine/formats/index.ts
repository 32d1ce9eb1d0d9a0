// One entry point for model files: readModel picks the reader by the file's content (and its
// name when the content does not say), writeModel the writer by the requested format.
import * as fs from 'fs';
import * as path from 'path';
import { PruneScopeError } from '../errors';
import { readKerasH5, writeKerasH5 } from './kerasH5';
import { readKerasZip, writeKerasZip } from './kerasZip';
import { readOnnx, writeOnnx } from './onnx';
import { readTfjs, writeTfjs } from './tfjs';
import { MODEL_FORMATS, ModelFile, ModelFormat, ModelToWrite, ReadOptions, WriteOptions, WrittenModel } from './types';

export * from './types';
export { readTfjs, writeTfjs } from './tfjs';
export { readKerasH5, writeKerasH5 } from './kerasH5';
export { readKerasZip, writeKerasZip } from './kerasZip';
export { readOnnx, writeOnnx } from './onnx';

const EXPECTED = 'a TF.js model.json (or its folder), a Keras .keras or .h5 file, or an ONNX .onnx file';

const EXTENSIONS: Record<string, ModelFormat> = {
  '.json': 'tfjs',
  '.keras': 'keras',
  '.h5': 'h5',
  '.hdf5': 'h5',
  '.onnx': 'onnx',
};

/** The usual file name ending of each format (TF.js writes a folder holding model.json). */
export const FORMAT_EXTENSION: Record<ModelFormat, string> = { tfjs: '', keras: '.keras', h5: '.h5', onnx: '.onnx' };

function head(file: string, n: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(n);
    const got = fs.readSync(fd, b, 0, n, 0);
    return b.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

const HDF5_MAGIC = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Which format a path holds, and the file to read: a folder means its model.json. Content wins
 * over the name (a zip is a .keras file whatever it is called); ONNX has no magic number, so a
 * protobuf is recognised by its name.
 */
export function detectFormat(p: string): { format: ModelFormat; file: string } {
  let file = path.resolve(p);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new PruneScopeError('not-found', 'model file does not exist', { file, expected: EXPECTED });
  }
  if (st.isDirectory()) {
    file = path.join(file, 'model.json');
    if (!fs.existsSync(file))
      throw new PruneScopeError('not-found', 'the folder has no model.json', {
        file: path.resolve(p),
        expected: EXPECTED,
      });
    return { format: 'tfjs', file };
  }
  if (!st.isFile()) throw new PruneScopeError('bad-input', 'is not a file', { file, expected: EXPECTED });
  const h = head(file, 8);
  if (h.length >= 4 && h[0] === 0x50 && h[1] === 0x4b && h[2] === 0x03 && h[3] === 0x04)
    return { format: 'keras', file };
  // HDF5 files may start with a user block of 512 * 2^k bytes; Keras writes none.
  if (h.length === 8 && h.equals(HDF5_MAGIC)) return { format: 'h5', file };
  const byName = EXTENSIONS[path.extname(file).toLowerCase()];
  if (byName) return { format: byName, file };
  const text = h.toString('latin1').trimStart();
  if (text.startsWith('{')) return { format: 'tfjs', file };
  throw new PruneScopeError('unsupported', 'is not a model file PruneScope recognises', { file, expected: EXPECTED });
}

/** Reads any supported model file into a GraphSpec with its metadata, format and warnings. */
export async function readModel(p: string, opts: ReadOptions = {}): Promise<ModelFile> {
  const { format, file } = detectFormat(p);
  switch (format) {
    case 'tfjs':
      return readTfjs(file, opts);
    case 'keras':
      return readKerasZip(file, opts);
    case 'h5':
      return readKerasH5(file, opts);
    case 'onnx':
      return readOnnx(file, opts);
  }
}

/**
 * Writes a GraphSpec in `format`: for 'tfjs' `out` is the folder to create (a path ending in
 * model.json means its folder); otherwise the file to write.
 */
export async function writeModel(
  out: string,
  model: ModelToWrite,
  format: ModelFormat,
  opts: WriteOptions = {},
): Promise<WrittenModel> {
  if (!(MODEL_FORMATS as readonly string[]).includes(format))
    throw new PruneScopeError('bad-input', `format ${JSON.stringify(format)} is not known`, {
      field: 'format',
      expected: MODEL_FORMATS.join(', '),
    });
  switch (format) {
    case 'tfjs':
      return writeTfjs(path.basename(out) === 'model.json' ? path.dirname(out) : out, model, opts);
    case 'keras':
      return writeKerasZip(out, model, opts);
    case 'h5':
      return writeKerasH5(out, model, opts);
    case 'onnx':
      return writeOnnx(out, model, opts);
  }
}
