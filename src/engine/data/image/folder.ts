// A folder of images sorted into class subfolders (DIR/<class>/**/*.png|jpg|jpeg|bmp), the
// layout of Keras's image_dataset_from_directory and torchvision's ImageFolder: classes in sorted
// name order, files in sorted path order within each class. Only the sampled rows are decoded.
import * as fs from 'fs';
import * as path from 'path';
import { PruneScopeError, badInput, throwIfCancelled } from '../../errors';
import { IMAGE_EXTENSIONS } from '../../options';
import type { Dataset } from '../dataset';
import { elements, featureNamesFor, formatShape, type InputSpec } from '../inputSpec';
import { checkRowBudget, sampleRows, type RowsRequest } from '../sample';
import { mapClassNames, pixelRange, type ModelTargets, type PixelScale } from '../targetsForModel';
import { decodeImage } from './decode';
import { DEFAULT_IMAGE_LIMITS, type DecodedImage, type ImageLimits } from './decoded';
import { imageToRow, LUMA, RESIZE_METHOD, type RowTarget } from './toRow';

export const MAX_FOLDER_FILES = 2_000_000;
const MAX_DEPTH = 16;

export interface ImageFolderListing {
  /** Class folder names, sorted; empty for a flat folder of images (unlabelled). */
  classes: string[];
  /** Image paths in load order and the class index of each. */
  files: string[];
  classOf: Int32Array;
  /** Images directly in the folder, ignored when it has class folders. */
  ignoredTopLevel: number;
}

const isImage = (name: string) => (IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(name).toLowerCase());
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Lists the folder without reading any image. */
export function listImageFolder(dir: string): ImageFolderListing {
  const top = readDir(dir, dir);
  const classes = top
    .filter((e) => !e.name.startsWith('.') && isDir(path.join(dir, e.name), e))
    .map((e) => e.name)
    .sort(byName);
  const topImages = top.filter((e) => isImage(e.name) && !isDir(path.join(dir, e.name), e)).map((e) => e.name);
  const files: string[] = [];
  const classOf: number[] = [];
  if (classes.length === 0) {
    for (const f of topImages.sort(byName)) files.push(path.join(dir, f));
    return { classes, files, classOf: new Int32Array(files.length).fill(-1), ignoredTopLevel: 0 };
  }
  classes.forEach((c, k) => {
    for (const f of walk(path.join(dir, c), dir, 0)) {
      files.push(f);
      classOf.push(k);
      if (files.length > MAX_FOLDER_FILES)
        throw new PruneScopeError('too-large', `the folder holds more than ${MAX_FOLDER_FILES} images`, {
          file: dir,
          expected: 'a smaller folder (a subset of the images)',
        });
    }
  });
  return { classes, files, classOf: Int32Array.from(classOf), ignoredTopLevel: topImages.length };
}

function readDir(d: string, root: string): fs.Dirent[] {
  try {
    return fs.readdirSync(d, { withFileTypes: true });
  } catch {
    throw new PruneScopeError('not-found', 'cannot list the folder', {
      file: d === root ? root : d,
      expected: 'a readable folder',
    });
  }
}

/** A symlink counts as what it points to; a broken one as neither. */
function isDir(p: string, e: fs.Dirent): boolean {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Images under `d`, sorted by path; symlinked folders are not followed (no cycles). */
function walk(d: string, root: string, depth: number): string[] {
  if (depth > MAX_DEPTH)
    throw badInput(`folders nest deeper than ${MAX_DEPTH} levels`, { file: d, expected: 'class folders of images' });
  const out: string[] = [];
  const entries = readDir(d, root)
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => byName(a.name, b.name));
  for (const e of entries) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) out.push(...walk(p, root, depth + 1));
    else if (isImage(e.name) && (e.isFile() || e.isSymbolicLink())) out.push(p);
  }
  return out;
}

export interface ImageFolderOptions extends RowsRequest {
  input?: InputSpec;
  targets?: ModelTargets;
  pixelScale: PixelScale;
  /** Resize images whose size differs from the target (default true); false refuses them. */
  resize?: boolean;
  limits?: ImageLimits;
}

export async function loadImageFolder(dir: string, o: ImageFolderOptions): Promise<Dataset> {
  const root = path.resolve(dir);
  const list = listImageFolder(root);
  const requireLabels = o.requireLabels ?? true;
  if (list.files.length === 0)
    throw badInput(
      list.classes.length ? `the ${list.classes.length} class folders hold no images` : 'the folder holds no images',
      {
        file: root,
        expected: `class folders of ${IMAGE_EXTENSIONS.join('/')} images: ${path.join(root, '<class>', '*.png')}`,
      },
    );
  if (list.classes.length === 0 && requireLabels)
    throw badInput('the images are not sorted into class folders', {
      file: root,
      expected: `one subfolder per class: ${path.join(root, '<class>', '*.png')}`,
    });
  if (list.classes.length === 1)
    throw badInput(`the folder has one class folder ("${list.classes[0]}")`, {
      file: root,
      expected: 'at least 2 class folders (one per class)',
    });
  const labels = list.classes.length ? mapClassNames(list.classes, o.targets, root) : undefined;
  const limits = o.limits ?? DEFAULT_IMAGE_LIMITS;
  const rows = sampleRows(list.files.length, o.maxRows, o.seed ?? 0);
  const conversions: string[] = [];
  if (list.ignoredTopLevel)
    conversions.push(`${list.ignoredTopLevel} images directly in the folder ignored (not in a class folder)`);

  const first = readImage(list.files[rows[0]], limits);
  const target = rowTarget(first, o, list.files[rows[0]]);
  const shape = [target.height, target.width, target.channels];
  const features = elements(shape);
  if (o.input && o.input.shape.length === 1)
    conversions.push(`images read as ${formatShape(shape)} for the model's flat input of ${features} values`);
  checkRowBudget(rows.length, shape, o.maxBytes, root);
  const x = new Float32Array(rows.length * features);
  const y = new Float32Array(rows.length);
  let resized = 0;
  const channelChanges = { toGray: 0, toRgb: 0 };
  for (let k = 0; k < rows.length; k++) {
    const file = list.files[rows[k]];
    const img = k === 0 ? first : readImage(file, limits);
    if (img.width !== target.width || img.height !== target.height) {
      if (o.resize === false)
        throw badInput(`the image is ${img.width} x ${img.height} pixels`, {
          file,
          expected: `${target.width} x ${target.height} pixels like the rest (--no-resize is set)`,
        });
      resized++;
    }
    if (img.channels !== target.channels) channelChanges[target.channels === 1 ? 'toGray' : 'toRgb']++;
    imageToRow(img, target, x, k * features);
    y[k] = labels ? labels.labelOf[list.classOf[rows[k]]] : NaN;
    if (k % 32 === 31 || k === rows.length - 1) {
      o.onProgress?.(k + 1, rows.length, 'decoding images');
      // Lets a cancel arrive between batches of images.
      await new Promise((r) => setImmediate(r));
      throwIfCancelled(o.signal, 'loading images');
    }
  }
  if (resized) conversions.push(`${resized} images resized to ${target.width} x ${target.height} (${RESIZE_METHOD})`);
  if (channelChanges.toGray)
    conversions.push(
      `${channelChanges.toGray} colour images converted to grayscale (${LUMA[0]} R + ${LUMA[1]} G + ${LUMA[2]} B)`,
    );
  if (channelChanges.toRgb)
    conversions.push(`${channelChanges.toRgb} grayscale images converted to RGB (value copied)`);
  const range = pixelRange(o.pixelScale);
  conversions.push(`pixels scaled to ${range.range} (${range.reason})`);
  const unlabelled = !labels;
  return {
    name: root,
    task: o.targets?.task ?? 'classification',
    featureNames: featureNamesFor(shape),
    targetName: 'class',
    labelNames: labels?.labelNames ?? o.targets?.labelNames,
    x,
    y,
    rows: rows.length,
    features,
    shape,
    ...(unlabelled ? { unlabelled: true } : {}),
    provenance: `Image folder ${root}: ${list.files.length} images${list.classes.length ? ` in ${list.classes.length} classes` : ''}, ${rows.length} loaded.`,
    source: {
      kind: 'image-folder',
      path: root,
      rowsAvailable: list.files.length,
      rowsLoaded: rows.length,
      ...(rows.length < list.files.length ? { sampleSeed: o.seed ?? 0 } : {}),
      ...(list.classes.length ? { classes: list.classes } : {}),
      pixelRange: range,
      conversions,
    },
  };
}

function readImage(file: string, limits: ImageLimits): DecodedImage {
  let bytes: Buffer;
  try {
    const st = fs.statSync(file);
    if (st.size > limits.maxFileBytes)
      throw new PruneScopeError('too-large', `the file is ${st.size} bytes`, {
        file,
        expected: `an image file of at most ${limits.maxFileBytes} bytes`,
      });
    bytes = fs.readFileSync(file);
  } catch (e) {
    if (e instanceof PruneScopeError) throw e;
    throw new PruneScopeError('not-found', 'cannot read the image', { file, expected: 'a readable image file' });
  }
  return decodeImage(bytes, file, limits);
}

/** The row every image becomes: the model's input, or (no model) the first image's own size. */
function rowTarget(first: DecodedImage, o: ImageFolderOptions, file: string): RowTarget {
  const scale = o.pixelScale.scale;
  const s = o.input?.shape;
  if (!s) return { height: first.height, width: first.width, channels: first.channels, scale };
  const fail = (what: string) =>
    badInput(`images for a model whose input is ${formatShape(s)}: ${what}`, {
      file,
      expected: 'a model input of [height, width, 1 or 3] (or a flat input of height x width x channels values)',
    });
  if (s.length === 3 || s.length === 2) {
    const c = s.length === 2 ? 1 : s[2];
    if (c !== 1 && c !== 3) throw fail(`${c} channels`);
    return { height: s[0], width: s[1], channels: c, scale };
  }
  if (s.length !== 1) throw fail(`${s.length} dimensions`);
  // A flat (dense) input: the images keep their own size when the counts agree.
  const f = s[0];
  const hw = first.height * first.width;
  for (const c of [first.channels, first.channels === 1 ? 3 : 1] as const)
    if (f === hw * c) return { height: first.height, width: first.width, channels: c, scale };
  for (const c of [1, 3] as const) {
    const side = Math.round(Math.sqrt(f / c));
    if (side * side * c === f) return { height: side, width: side, channels: c, scale };
  }
  throw fail(`${f} values are neither ${first.height} x ${first.width} x 1 or 3 nor a square image`);
}
