// NumPy arrays as a data set: x from a .npy (labels from --labels y.npy) or arrays x and y of an
// .npz (names chosen by xKey/yKey). Rows are matched to the model's input (NHWC or NCHW, as
// stored or transposed, or flat), labels to the model's classes; only the sampled rows of x are
// read, from disk or inflated on demand.
import * as fs from 'fs';
import * as path from 'path';
import { PruneScopeError, badInput, throwIfCancelled } from '../../errors';
import { labelFileNames } from '../../options';
import { FileStream, type ByteStream } from '../../util/byteStream';
import { openZipEntry, readZipDirectory, type ZipEntry } from '../../util/zip';
import type { Dataset, Task } from '../dataset';
import { chwToHwc, elements, featureNamesFor, formatShape, frameworkShape, type InputSpec } from '../inputSpec';
import { checkRowBudget, sampleRows, type RowsRequest } from '../sample';
import { listNames, pixelRange, type ModelTargets, type PixelScale } from '../targetsForModel';
import { decodeElements, forEachFortranRow, forEachNpyRow, readNpyHeader, type NpyHeader } from './npy';

export interface ArrayOptions extends RowsRequest {
  input?: InputSpec;
  targets?: ModelTargets;
  pixelScale: PixelScale;
  /** The pixel scale was asked for (--scale): refused for arrays that are not uint8 pixels. */
  pixelScaleExplicit?: boolean;
  /** The labels' .npy beside an x .npy. */
  labels?: string;
  /** Array names in an .npz (default x and y). */
  xKey?: string;
  yKey?: string;
  /** Without a model: the task of y (default: integer labels are classes). */
  task?: Task;
}

/** Labels are read whole (they are small); a y over this many bytes is refused. */
export const MAX_LABEL_BYTES = 256 * 2 ** 20;
/** Without a model, integer labels 0..max are classes; more classes than this is a mistake. */
export const MAX_INFERRED_CLASSES = 10_000;
/** A Fortran-order x is read whole; over this it is refused with a hint. */
export const MAX_FORTRAN_BYTES = 512 * 2 ** 20;
/** Inflating a compressed entry is bounded by its size; over this an .npz should be saved uncompressed. */
export const MAX_INFLATE_BYTES = 8 * 2 ** 30;

interface OpenArray {
  stream: ByteStream;
  header: NpyHeader;
  /** For messages: the file, or "archive.npz: x.npy". */
  name: string;
}

function openNpy(file: string): OpenArray {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    throw new PruneScopeError('not-found', 'cannot read the file', { file, expected: 'an existing .npy file' });
  }
  const stream = new FileStream(file, file);
  try {
    return { stream, header: readNpyHeader(stream, size), name: file };
  } catch (e) {
    stream.close();
    throw e;
  }
}

function openNpzArray(file: string, entries: ZipEntry[], key: string, flag: string): OpenArray {
  const e = entries.find((x) => x.name === `${key}.npy`);
  if (!e) {
    const keys = entries.filter((x) => x.name.endsWith('.npy')).map((x) => x.name.slice(0, -4));
    throw new PruneScopeError('not-found', `the archive has no array "${key}"`, {
      file,
      field: flag,
      expected: keys.length
        ? `one of its arrays ${listNames(keys)} (choose with ${flag})`
        : 'arrays saved by numpy.savez',
    });
  }
  if (e.method !== 0 && e.size > MAX_INFLATE_BYTES)
    throw new PruneScopeError('too-large', `the compressed array "${key}" inflates to ${e.size} bytes`, {
      file,
      expected: `at most ${MAX_INFLATE_BYTES} bytes compressed, or an archive written by numpy.savez (uncompressed, read in place)`,
    });
  const stream = openZipEntry(file, e);
  try {
    return { stream, header: readNpyHeader(stream, e.size), name: `${file}: ${e.name}` };
  } catch (err) {
    stream.close();
    throw err;
  }
}

export async function loadArrays(file: string, o: ArrayOptions): Promise<Dataset> {
  const root = path.resolve(file);
  const isNpz = /\.npz$/i.test(root);
  const requireLabels = o.requireLabels ?? true;
  let x: OpenArray | undefined;
  let y: OpenArray | undefined;
  let paired: string | undefined;
  try {
    if (isNpz) {
      const entries = readZipDirectory(root);
      x = openNpzArray(root, entries, o.xKey ?? 'x', '--x-key');
      const yKey = o.yKey ?? 'y';
      if (requireLabels || o.yKey !== undefined || entries.some((e) => e.name === `${yKey}.npy`))
        y = openNpzArray(root, entries, yKey, '--y-key');
    } else {
      if (o.xKey !== undefined || o.yKey !== undefined)
        throw badInput('--x-key and --y-key name arrays inside an .npz', {
          file: root,
          field: o.xKey !== undefined ? '--x-key' : '--y-key',
          expected: 'an .npz file, or --labels y.npy beside an x .npy',
        });
      x = openNpy(root);
      const tried = labelFileNames(path.basename(root, path.extname(root))).map((n) =>
        path.join(path.dirname(root), `${n}.npy`),
      );
      // Without --labels, the labels beside x under the usual name (x_test.npy -> y_test.npy).
      paired = o.labels === undefined && requireLabels ? tried.find((f) => fs.existsSync(f)) : undefined;
      const labels = o.labels ?? paired;
      if (labels !== undefined) y = openNpy(path.resolve(labels));
      else if (requireLabels)
        throw badInput('the .npy file holds inputs only', {
          file: root,
          field: '--labels',
          expected: `the labels as a second file: --labels y.npy${tried.length ? `, or ${tried.map((f) => path.basename(f)).join(' or ')} beside it` : ''}`,
        });
    }
    const ds = await readRows(root, isNpz ? 'npz' : 'npy', x, y, o);
    if (paired)
      ds.source!.conversions.unshift(`labels read from ${path.basename(paired)} beside ${path.basename(root)}`);
    return ds;
  } finally {
    x?.stream.close();
    y?.stream.close();
  }
}

async function readRows(
  root: string,
  kind: 'npy' | 'npz',
  x: OpenArray,
  y: OpenArray | undefined,
  o: ArrayOptions,
): Promise<Dataset> {
  const xh = x.header;
  if (xh.shape.length === 0)
    throw badInput('x is a single number (a 0-d array)', {
      file: x.name,
      expected: 'an array of rows: shape (N, ...)',
    });
  if (xh.rows === 0)
    throw badInput(`x has no rows (shape ${formatShape(xh.shape)})`, { file: x.name, expected: 'at least one row' });
  if (y && y.header.rows !== xh.rows)
    throw badInput(`x has ${xh.rows} rows but the labels have ${y.header.rows}`, {
      file: y.name,
      expected: `${xh.rows} labels, one per row of ${x.name}`,
    });
  const conversions: string[] = [];
  const layout = rowLayout(xh.shape.slice(1), o.input, x.name, conversions);
  const isPixels = xh.dtype.kind === 'u' && xh.dtype.bytes === 1;
  if (o.pixelScaleExplicit && !isPixels)
    throw badInput(
      `--scale applies to images and uint8 pixel arrays; x holds ${xh.dtype.descr} values, used as stored`,
      {
        file: x.name,
        field: '--scale',
        expected: 'no --scale for this array (scale it in NumPy if needed)',
      },
    );
  const toValue = isPixels ? (v: number) => (v * o.pixelScale.scale) / 255 : (v: number) => v;
  if (isPixels) conversions.push(`uint8 pixels scaled to ${pixelRange(o.pixelScale).range} (${o.pixelScale.reason})`);

  const rows = sampleRows(xh.rows, o.maxRows, o.seed ?? 0);
  const labels = y ? readLabels(y, o, rows) : undefined;
  const features = elements(layout.shape);
  checkRowBudget(rows.length, layout.shape, o.maxBytes, x.name);
  const out = new Float32Array(rows.length * features);
  const tmp = new Float32Array(features);
  let k = 0;
  const onRow = (r: number, v: Float64Array) => {
    for (let j = 0; j < v.length; j++)
      if (!Number.isFinite(v[j]))
        throw badInput(`row ${r}, value ${j} is ${v[j]}`, {
          file: x.name,
          expected: 'finite numbers (missing data is not supported)',
        });
    if (layout.chw) {
      for (let j = 0; j < v.length; j++) tmp[j] = toValue(v[j]);
      chwToHwc(tmp, layout.chw[0], layout.chw[1], layout.chw[2], out, k * features);
    } else for (let j = 0; j < v.length; j++) out[k * features + j] = toValue(v[j]);
    k++;
    if (k % 256 === 0) o.onProgress?.(k, rows.length, 'reading arrays');
  };
  if (xh.fortranOrder && xh.shape.length > 1) {
    conversions.push('Fortran-order array read whole and transposed to C order');
    forEachFortranRow(x.stream, xh, rows, MAX_FORTRAN_BYTES, onRow);
  } else forEachNpyRow(x.stream, xh, rows, onRow);
  o.onProgress?.(rows.length, rows.length, 'reading arrays');
  await new Promise((r) => setImmediate(r));
  throwIfCancelled(o.signal, 'loading arrays');

  const task = labels?.task ?? o.targets?.task ?? 'classification';
  return {
    name: root,
    task,
    featureNames: featureNamesFor(layout.shape),
    targetName: y ? (kind === 'npz' ? (o.yKey ?? 'y') : path.basename(y.name)) : 'label',
    labelNames: labels?.labelNames ?? o.targets?.labelNames,
    x: out,
    y: labels?.y ?? new Float32Array(rows.length).fill(NaN),
    rows: rows.length,
    features,
    shape: layout.shape,
    ...(labels ? {} : { unlabelled: true }),
    provenance: `NumPy ${kind === 'npz' ? 'archive' : 'file'} ${root}: x ${formatShape(xh.shape)} ${xh.dtype.descr}, ${rows.length} rows loaded.`,
    source: {
      kind,
      path: root,
      rowsAvailable: xh.rows,
      rowsLoaded: rows.length,
      ...(rows.length < xh.rows ? { sampleSeed: o.seed ?? 0 } : {}),
      ...(isPixels ? { pixelRange: pixelRange(o.pixelScale) } : {}),
      conversions,
    },
  };
}

interface RowLayout {
  /** One row in the engine's layout. */
  shape: number[];
  /** Set when stored rows are [C, H, W] and must be transposed. */
  chw?: [number, number, number];
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** How a stored row of shape `rest` becomes a row of the model's input (see the file header). */
function rowLayout(rest: number[], spec: InputSpec | undefined, file: string, notes: string[]): RowLayout {
  if (!spec) {
    if (rest.length === 0) return { shape: [1] };
    if (rest.length === 2) return { shape: [...rest, 1] };
    if (rest.length <= 3) return { shape: rest };
    throw new PruneScopeError('unsupported', `rows of shape ${formatShape(rest)}`, {
      file,
      expected: 'rows of (features,), (H, W) or (H, W, C)',
    });
  }
  const s = spec.shape;
  const n = elements(s);
  const fw = frameworkShape(spec);
  const image = s.length === 3;
  const chw: [number, number, number] | undefined = image ? [s[2], s[0], s[1]] : undefined;
  // Transposing a single channel moves nothing.
  const transpose = (why: string) => {
    if (chw![0] > 1) notes.push(why);
    return { shape: s, ...(chw![0] > 1 ? { chw } : {}) };
  };
  if (same(rest, fw)) {
    if (image && spec.layout === 'NCHW') return transpose('NCHW rows (as the model takes them) transposed to NHWC');
    return { shape: s };
  }
  if (image && same(rest, spec.layout === 'NCHW' ? s : chw!)) {
    if (spec.layout === 'NCHW') {
      notes.push('NHWC rows taken as they are for an NCHW model');
      return { shape: s };
    }
    return transpose("NCHW rows transposed to the model's NHWC");
  }
  // Singleton axes move nothing: (28, 28) rows for a (28, 28, 1) input, or the reverse.
  const squeeze = (d: number[]) => d.filter((v) => v !== 1);
  if (same(squeeze(rest), squeeze(s))) return { shape: s };
  if (elements(rest) === n && (rest.length <= 1 || s.length === 1)) {
    if (rest.length > 1) notes.push(`rows of ${formatShape(rest)} flattened row-major for the model's flat input`);
    if (image && spec.layout === 'NCHW') return transpose("flat rows in the model's C, H, W order transposed to NHWC");
    return { shape: s };
  }
  throw badInput(`x has rows of shape ${formatShape(rest)} (${elements(rest)} values)`, {
    file,
    expected: `rows of ${formatShape(fw)}${image ? ` (${spec.layout})` : ''} = ${n} values, the model's input`,
  });
}

interface Labels {
  task: Task;
  y: Float32Array;
  labelNames?: string[];
}

/** Labels of every row are checked (a bad one anywhere is refused), then the sampled rows kept. */
function readLabels(a: OpenArray, o: ArrayOptions, rows: Int32Array): Labels {
  const h = a.header;
  const file = a.name;
  if (h.shape.length > 2 || h.shape.length === 0)
    throw badInput(`labels of shape ${formatShape(h.shape)}`, {
      file,
      expected: 'labels of shape (N,), (N, 1) or one-hot (N, classes)',
    });
  const bytes = h.rows * h.rowElements * h.dtype.bytes;
  if (bytes > MAX_LABEL_BYTES)
    throw new PruneScopeError('too-large', `the labels take ${bytes} bytes`, {
      file,
      expected: `at most ${MAX_LABEL_BYTES}`,
    });
  const all = new Float64Array(h.rows * h.rowElements);
  decodeElements(a.stream.read(bytes, 'the labels'), h.dtype, all);
  const K = h.rowElements;
  // A Fortran-order (N, K) array is K columns one after another.
  const at = (r: number, j: number) => (h.fortranOrder ? all[j * h.rows + r] : all[r * K + j]);
  const t = o.targets;
  const bad = (r: number, what: string, expected: string) => badInput(`row ${r}: ${what}`, { file, expected });
  const value = new Float64Array(h.rows);
  if (K > 1) {
    if (t && (t.task !== 'classification' || K !== t.outputs))
      throw badInput(`one-hot labels with ${K} columns`, {
        file,
        expected:
          t.task === 'classification'
            ? `${t.outputs} columns, one per class of the model`
            : 'one value per row for a regression model',
      });
    for (let r = 0; r < h.rows; r++) {
      let hot = -1;
      for (let j = 0; j < K; j++) {
        const v = at(r, j);
        if (v === 1 && hot < 0) hot = j;
        else if (v !== 0) hot = -2;
      }
      if (hot < 0) throw bad(r, 'the label row is not one-hot', 'a single 1 and zeros in each row of one-hot labels');
      value[r] = hot;
    }
    return pick(value, rows, 'classification', K, t);
  }
  for (let r = 0; r < h.rows; r++) value[r] = at(r, 0);
  const task: Task =
    t?.task ?? o.task ?? (h.dtype.kind !== 'f' || isSmallIntegerSet(value) ? 'classification' : 'regression');
  if (task === 'regression') {
    for (let r = 0; r < h.rows; r++)
      if (!Number.isFinite(value[r])) throw bad(r, `the target is ${value[r]}`, 'finite numbers');
    return pick(value, rows, task, 0, t);
  }
  let max = -1;
  for (let r = 0; r < h.rows; r++) {
    const v = value[r];
    const limit = t ? t.outputs : Infinity;
    if (!Number.isInteger(v) || v < 0 || v >= limit)
      throw bad(
        r,
        t ? `label ${v} is outside the model's ${t.outputs} classes` : `label ${v} is not a class index`,
        t
          ? `integers in [0, ${t.outputs})${t.labelNames ? ` naming ${listNames(t.labelNames)}` : ''}`
          : 'integers >= 0',
      );
    max = Math.max(max, v);
  }
  if (!t && max >= MAX_INFERRED_CLASSES)
    throw badInput(`the largest label is ${max}`, {
      file,
      expected: `class indices below ${MAX_INFERRED_CLASSES} (or --task regression for numeric targets)`,
    });
  const classes = t ? t.outputs : max + 1;
  if (!t && classes < 2)
    throw badInput(`every label is ${max}`, { file, expected: 'at least 2 classes (labels 0 and 1 at least)' });
  return pick(value, rows, task, classes, t);
}

function isSmallIntegerSet(v: Float64Array): boolean {
  const seen = new Set<number>();
  for (const x of v) {
    if (!Number.isInteger(x)) return false;
    seen.add(x);
    if (seen.size > 50) return false;
  }
  return true;
}

function pick(value: Float64Array, rows: Int32Array, task: Task, classes: number, t?: ModelTargets): Labels {
  const y = new Float32Array(rows.length);
  for (let k = 0; k < rows.length; k++) y[k] = value[rows[k]];
  if (task === 'regression') return { task, y };
  return { task, y, labelNames: t?.labelNames ?? Array.from({ length: classes }, (_, i) => String(i)) };
}
