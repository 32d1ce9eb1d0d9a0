// Where the shipped data files live. The same code runs from the tsc layout
// (build/src/engine/data/) and from a webpack bundle (dist/), so walk up until media/data appears.
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { PruneScopeError } from '../errors';

/** A file every copy of media/data has; a bare "media/data" folder elsewhere does not count. */
const MARKER = 'wine_data.csv';
let override: string | undefined;

/** The extension host knows its own install folder: it can pin the location explicitly. */
export function setDataDirectory(dir: string | undefined): void {
  override = dir;
}

export function dataDirectory(): string {
  if (override) return override;
  const fromEnv = process.env.PRUNESCOPE_DATA_DIR;
  if (fromEnv) return fromEnv;
  // __dirname can be mocked to "/" by bundlers; the entry script's folder is a second start.
  const starts = [__dirname, process.argv[1] ? path.dirname(path.resolve(process.argv[1])) : undefined];
  const tried: string[] = [];
  for (const start of starts) {
    if (!start) continue;
    for (let dir = start; ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, 'media', 'data');
      if (fs.existsSync(path.join(candidate, MARKER))) return candidate;
      tried.push(candidate);
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new PruneScopeError('not-found', 'cannot find the built-in data folder', {
    file: tried[0],
    expected: `media/data/${MARKER} in a parent folder of ${starts.filter(Boolean).join(' or ')} (or set PRUNESCOPE_DATA_DIR)`,
  });
}

/** A shipped file, read whole; gzip files (.gz) are inflated. */
export function readDataFile(name: string): Buffer {
  const file = path.join(dataDirectory(), name);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    throw new PruneScopeError('not-found', 'missing built-in data file', {
      file,
      expected: 'the file shipped in media/data',
    });
  }
  if (!name.endsWith('.gz')) return bytes;
  try {
    return zlib.gunzipSync(bytes);
  } catch (e) {
    throw new PruneScopeError('bad-input', `not a valid gzip file: ${(e as Error).message}`, {
      file,
      expected: 'gzip data',
    });
  }
}
