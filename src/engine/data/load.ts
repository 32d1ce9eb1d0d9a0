// The one entry point for data, whatever the user points at: a built-in name, a CSV file, a folder
// of class folders of images, a .npy (with its labels) or an .npz. The caller says what the model
// takes (input shape and layout, classes, pixel range) and how many rows it wants; it gets flat
// NHWC rows, labels matched to the model, class names and a record of what was done.
import * as fs from 'fs';
import * as path from 'path';
import { PruneScopeError, badInput } from '../errors';
import { DATA_DEFAULTS } from '../options';
import { isBuiltinDataset, isPixelBuiltin, loadDataset } from './builtins';
import type { Dataset, Task } from './dataset';
import { loadImageFolder } from './image/folder';
import { chwToHwc, elements, type InputSpec } from './inputSpec';
import { loadArrays } from './numpy/arrays';
import { sampleRows, type RowsRequest } from './sample';
import { DEFAULT_PIXEL_SCALE, pixelRange, type ModelInput, type PixelScale } from './targetsForModel';

export interface LoadDataOptions extends RowsRequest {
  /** CSV: the target column and task (built-ins have their own). Arrays without a model: the task of y. */
  target?: string;
  task?: Task;
  /** CSV byte budget. */
  maxCsvBytes?: number;
  /** .npy x: the labels' .npy. */
  labels?: string;
  /** .npz: the names of the x and y arrays (default x and y). */
  xKey?: string;
  yKey?: string;
  /** Images and uint8 arrays: pixels in [0, 1] (1) or 0..255 (255); default: the model's preference. */
  scale?: 1 | 255;
  /** Images of another size than the model's input are resized (default) or refused (false). */
  resize?: boolean;
}

export type DataKind = 'builtin' | 'csv' | 'image-folder' | 'npy' | 'npz';

const EXPECTED =
  'a built-in data set name, a .csv file, a folder of class folders of images, a .npy file (with --labels) or an .npz file';

/** What `source` names, from its form alone (a missing path is refused here). */
export function dataKind(source: string): DataKind {
  if (isBuiltinDataset(source)) return 'builtin';
  const ext = path.extname(source).toLowerCase();
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(source);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) return 'image-folder';
  if (ext === '.csv') return 'csv';
  if (ext === '.npy') return 'npy';
  if (ext === '.npz') return 'npz';
  if (!st)
    throw new PruneScopeError('not-found', `unknown data set "${source}"`, {
      field: 'data',
      expected: EXPECTED,
    });
  throw new PruneScopeError('unsupported', `cannot tell what kind of data "${path.basename(source)}" is`, {
    file: path.resolve(source),
    field: 'data',
    expected: EXPECTED,
  });
}

/**
 * Rows to read when the user did not say: analyses read a sample of image folders and arrays
 * (DATA_DEFAULTS.maxRowsAnalysis), built-ins and CSV files whole; predict and train read all.
 */
export function defaultMaxRows(kind: DataKind, purpose: 'analysis' | 'all'): number | undefined {
  return purpose === 'analysis' && (kind === 'image-folder' || kind === 'npy' || kind === 'npz')
    ? DATA_DEFAULTS.maxRowsAnalysis
    : undefined;
}

export async function loadData(
  source: string,
  model: ModelInput | undefined,
  o: LoadDataOptions = {},
): Promise<Dataset> {
  const kind = dataKind(source);
  const scale: PixelScale =
    o.scale !== undefined ? { scale: o.scale, reason: '--scale' } : (model?.pixelScale ?? DEFAULT_PIXEL_SCALE);
  const common = {
    input: model?.input,
    targets: model?.targets,
    maxRows: o.maxRows,
    seed: o.seed,
    requireLabels: o.requireLabels,
    maxBytes: o.maxBytes,
    signal: o.signal,
    onProgress: o.onProgress,
  };
  const wrongFor = (flag: string, what: string) =>
    badInput(`${flag} applies to ${what}`, {
      // A built-in is a name, not a file in the working folder.
      file: kind === 'builtin' ? undefined : path.resolve(source),
      field: flag,
      expected: `no ${flag} for ${kind} data`,
    });
  if (kind !== 'npy' && o.labels !== undefined) throw wrongFor('--labels', 'an x .npy file');
  if (kind !== 'npz' && kind !== 'npy' && (o.xKey !== undefined || o.yKey !== undefined))
    throw wrongFor(o.xKey !== undefined ? '--x-key' : '--y-key', 'an .npz file');
  if (kind !== 'image-folder' && o.resize === false) throw wrongFor('--no-resize', 'image folders');
  if (kind === 'image-folder') return loadImageFolder(source, { ...common, pixelScale: scale, resize: o.resize });
  if (kind === 'npy' || kind === 'npz')
    return loadArrays(source, {
      ...common,
      pixelScale: scale,
      pixelScaleExplicit: o.scale !== undefined,
      labels: o.labels,
      xKey: o.xKey,
      yKey: o.yKey,
      task: o.task,
    });
  const pixels = kind === 'builtin' && isPixelBuiltin(source);
  if (o.scale !== undefined && !pixels)
    throw wrongFor('--scale', 'images, uint8 arrays and the built-in images (mnist)');
  const ds = loadDataset(source, { target: o.target, task: o.task, maxBytes: o.maxCsvBytes });
  return fitTable(ds, kind, model?.input, o, pixels ? scale : undefined);
}

/**
 * A built-in or CSV table: a seeded sample of its rows when asked, pixels (mnist) in the range the
 * model takes, and rows read in the model's own order (C, H, W for an NCHW image model)
 * transposed to the engine's NHWC.
 */
function fitTable(
  ds: Dataset,
  kind: 'builtin' | 'csv',
  input: InputSpec | undefined,
  o: LoadDataOptions,
  pixelScale?: PixelScale,
): Dataset {
  const rows = sampleRows(ds.rows, o.maxRows, o.seed ?? 0);
  const conversions: string[] = [];
  let out = ds;
  if (rows.length < ds.rows) {
    const f = ds.features;
    const x = new Float32Array(rows.length * f);
    const y = new Float32Array(rows.length);
    rows.forEach((r, k) => {
      x.set(ds.x.subarray(r * f, (r + 1) * f), k * f);
      y[k] = ds.y[r];
    });
    out = { ...ds, x, y, rows: rows.length };
  }
  if (pixelScale?.scale === 255) {
    // Stored as k / 255 in float32: rounding gives back the 8-bit pixel k exactly.
    out = { ...out, x: out.x.map((v) => Math.round(v * 255)) };
    conversions.push(`pixels scaled to [0, 255] (${pixelScale.reason})`);
  }
  if (input && ds.features === elements(input.shape) && input.shape.length > 1) {
    out = { ...out, shape: [...input.shape] };
    const [h, w, c] = input.shape;
    if (input.shape.length === 3 && input.layout === 'NCHW' && c > 1) {
      const x = new Float32Array(out.x.length);
      for (let k = 0; k < out.rows; k++)
        chwToHwc(out.x.subarray(k * ds.features, (k + 1) * ds.features), c, h, w, x, k * ds.features);
      out = { ...out, x };
      conversions.push("rows read in the model's C, H, W order and transposed to NHWC");
    }
  }
  return {
    ...out,
    source: {
      kind,
      ...(kind === 'csv' ? { path: path.resolve(ds.name) } : {}),
      rowsAvailable: ds.rows,
      rowsLoaded: out.rows,
      ...(out.rows < ds.rows ? { sampleSeed: o.seed ?? 0 } : {}),
      ...(pixelScale ? { pixelRange: pixelRange(pixelScale) } : {}),
      conversions,
    },
  };
}
