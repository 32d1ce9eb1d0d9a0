// What the data picker offers besides the built-ins, from the files the workspace holds: folders of
// class folders of images (DIR/<class>/<image>), x .npy files whose labels sit beside them under
// the usual names (x_test.npy + y_test.npy, images.npy + labels.npy), .npz archives and CSV files.
// Pure (no vscode), so the pairing and grouping rules are tested on their own.
import * as path from 'path';
import type { DataOptions } from '../protocol';

export interface DataChoice {
  kind: 'image-folder' | 'npy' | 'npz' | 'csv';
  /** What the job's `data` is: the folder or file path. */
  data: string;
  dataOptions?: DataOptions;
  label: string;
  description?: string;
}

export interface WorkspaceFiles {
  images: string[];
  npy: string[];
  npz: string[];
  csv: string[];
}

/** The label file names tried beside an inputs file, by its name. */
export function labelCandidates(xFile: string): string[] {
  const dir = path.dirname(xFile);
  const base = path.basename(xFile, path.extname(xFile));
  const names: string[] = [];
  const m = /^([xX])(_.*|\d.*)?$/.exec(base) ?? /^([xX])([_-].+)$/.exec(base);
  if (m) names.push(`y${m[2] ?? ''}`, `Y${m[2] ?? ''}`);
  for (const [from, to] of [
    ['images', ['labels']],
    ['inputs', ['labels', 'targets']],
    ['features', ['labels', 'targets']],
    ['data', ['labels', 'targets']],
  ] as const) {
    const i = base.toLowerCase().indexOf(from);
    if (i >= 0) for (const t of to) names.push(base.slice(0, i) + t + base.slice(i + from.length));
  }
  return [...new Set(names)].map((n) => path.join(dir, `${n}.npy`));
}

/** A .npy that holds labels, by its name (never offered as inputs). */
export function looksLikeLabels(file: string): boolean {
  return /^(y|labels?|targets?)([_\-.\d]|$)/i.test(path.basename(file, path.extname(file)));
}

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
      dataOptions: { labels },
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
