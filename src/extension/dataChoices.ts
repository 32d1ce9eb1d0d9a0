// What the data picker offers besides the built-ins, from the files the workspace holds: folders of
// class folders of images (DIR/<class>/<image>), x .npy files whose labels sit beside them under
// the usual names (x_test.npy + y_test.npy, images.npy + labels.npy), .npz archives and CSV files.
// Pure (no vscode), so the pairing and grouping rules are tested on their own.
import * as path from 'path';
import { DATA_FILE_EXTENSIONS, IMAGE_EXTENSIONS, isLabelFileName, labelFileNames } from '../engine/options';

export interface DataChoice {
  kind: 'image-folder' | 'npy' | 'npz' | 'csv';
  /**
   * What the job's `data` is: the folder or file path. An x .npy is offered only with its labels
   * beside it, which the loader finds by the same names, so the path alone is the whole choice.
   */
  data: string;
  /** An x .npy: the labels file beside it. */
  labels?: string;
  label: string;
  description?: string;
}

export interface WorkspaceFiles {
  images: string[];
  npy: string[];
  npz: string[];
  csv: string[];
}

const globOf = (exts: readonly string[]) => {
  const names = exts.map((e) => e.slice(1));
  return `**/*.{${[...names, ...names.map((n) => n.toUpperCase())].join(',')}}`;
};
/** Workspace searches: data files, and images (whose grandparents are the class-folder roots). */
export const DATA_FILES_GLOB = globOf(DATA_FILE_EXTENSIONS);
export const IMAGE_FILES_GLOB = globOf(IMAGE_EXTENSIONS);

/** Found files sorted by what they can be as data; anything else is dropped. */
export function workspaceFiles(paths: readonly string[]): WorkspaceFiles {
  const out: WorkspaceFiles = { images: [], npy: [], npz: [], csv: [] };
  for (const f of paths) {
    const ext = path.extname(f).toLowerCase();
    if ((IMAGE_EXTENSIONS as readonly string[]).includes(ext)) out.images.push(f);
    else if (ext === '.npy') out.npy.push(f);
    else if (ext === '.npz') out.npz.push(f);
    else if (ext === '.csv') out.csv.push(f);
  }
  return out;
}

/** The labels files tried beside an inputs file (the loader pairs them the same way). */
export function labelCandidates(xFile: string): string[] {
  const dir = path.dirname(xFile);
  return labelFileNames(path.basename(xFile, path.extname(xFile))).map((n) => path.join(dir, `${n}.npy`));
}

/** A .npy that holds labels, by its name (never offered as inputs). */
export function looksLikeLabels(file: string): boolean {
  return isLabelFileName(path.basename(file, path.extname(file)));
}

/** Codicons the picker shows before each kind. */
export const DATA_KIND_ICONS: Record<DataChoice['kind'], string> = {
  'image-folder': '$(file-media)',
  npy: '$(symbol-array)',
  npz: '$(file-zip)',
  csv: '$(table)',
};

const MAX_CLASSES_SHOWN = 4;

export function workspaceDataChoices(files: WorkspaceFiles, relative: (p: string) => string): DataChoice[] {
  const out: DataChoice[] = [];
  // Image folders: the grandparent of each image, with its image-holding children as classes.
  const roots = new Map<string, Map<string, number>>();
  for (const img of files.images) {
    const cls = path.dirname(img);
    const root = path.dirname(cls);
    if (root === cls) continue;
    const classes = roots.get(root) ?? new Map<string, number>();
    classes.set(path.basename(cls), (classes.get(path.basename(cls)) ?? 0) + 1);
    roots.set(root, classes);
  }
  for (const [root, classes] of [...roots].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (classes.size < 2) continue;
    const names = [...classes.keys()].sort();
    const count = [...classes.values()].reduce((a, b) => a + b, 0);
    const shown = names.slice(0, MAX_CLASSES_SHOWN).join(', ') + (names.length > MAX_CLASSES_SHOWN ? ', ...' : '');
    out.push({
      kind: 'image-folder',
      data: root,
      label: `${path.basename(root)}/`,
      description: `${names.length} classes (${shown}), ${count} images: ${relative(root)}`,
    });
  }
  const npy = new Set(files.npy);
  for (const x of [...files.npy].sort()) {
    if (looksLikeLabels(x)) continue;
    const labels = labelCandidates(x).find((c) => npy.has(c));
    if (!labels) continue;
    out.push({
      kind: 'npy',
      data: x,
      labels,
      label: `${path.basename(x)} + ${path.basename(labels)}`,
      description: relative(x),
    });
  }
  for (const z of [...files.npz].sort())
    out.push({ kind: 'npz', data: z, label: path.basename(z), description: relative(z) });
  for (const c of [...files.csv].sort())
    out.push({ kind: 'csv', data: c, label: path.basename(c), description: relative(c) });
  return out;
}
