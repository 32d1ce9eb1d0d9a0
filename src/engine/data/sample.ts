// Which rows a loader reads when a source has more than it was asked for: a seeded uniform
// subset, in file order, so every source (built-in, CSV, image folder, arrays) of the same rows
// yields the same sample, and only the chosen rows are ever decoded.
import { PruneScopeError, badInput } from '../errors';
import { Rng } from '../util/random';

/** How many rows a loader reads, how it reports progress and stops: shared by every loader. */
export interface RowsRequest {
  /** Load at most this many rows (a seeded uniform sample, in file order); default all. */
  maxRows?: number;
  /** Seed of that sample. */
  seed?: number;
  /** Labels may be absent (predictions): image files without class folders, an .npy without --labels. */
  requireLabels?: boolean;
  /** Bytes of float32 rows the loader may allocate (default 2 GiB). */
  maxBytes?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, what: string) => void;
}

/** Row indices to load: all of 0..n-1, or `max` of them chosen with `seed`, ascending. */
export function sampleRows(n: number, max: number | undefined, seed = 0): Int32Array {
  if (max !== undefined && !(Number.isInteger(max) && max >= 1))
    throw badInput(`maxRows is ${max}`, { field: 'maxRows', expected: 'a positive integer' });
  if (max === undefined || max >= n) return Int32Array.from({ length: n }, (_, i) => i);
  // Floyd's algorithm: max draws and O(max) memory whatever n is.
  const rng = new Rng((seed ^ 0x51ed270b) >>> 0);
  const chosen = new Set<number>();
  for (let j = n - max; j < n; j++) {
    const t = rng.int(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return Int32Array.from(chosen).sort();
}

/** Bytes of float32 rows a loader may allocate unless told otherwise. */
export const DEFAULT_MAX_ROW_BYTES = 2 * 2 ** 30;

/** Refuses, before allocating, rows that would take more than `budget` bytes as float32. */
export function checkRowBudget(rows: number, shape: number[], budget = DEFAULT_MAX_ROW_BYTES, file?: string): void {
  const bytes = rows * shape.reduce((a, b) => a * b, 1) * 4;
  if (bytes > budget)
    throw new PruneScopeError('too-large', `${rows} rows of (${shape.join(', ')}) take ${bytes} bytes as float32`, {
      file,
      expected: `at most ${budget} bytes: ask for fewer rows (--max-rows)`,
    });
}
