// The choices the commands ask for: the model, its data, the relevance method and OBD variant, the
// share, hidden widths, the distillation settings. Each is a quick pick or an input box whose
// rules live in args.ts (pure, unit-tested); Escape anywhere gives undefined (the command stops).
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  DATA_FILE_EXTENSIONS,
  OBD_VARIANT_DESCRIPTIONS,
  RELEVANCE_METHOD_DESCRIPTIONS,
  type StructuredMode,
} from '../engine/options';
import {
  modelFileFormat,
  DISTILL_RULES,
  SHARE_CHOICES,
  VARIANTS,
  methodOrder,
  modelArgFrom,
  parseNumberInput,
  parseShare,
  parseWidths,
  type DistillSettings,
  type Method,
  type Variant,
} from './args';
import {
  DATA_FILES_GLOB,
  DATA_KIND_ICONS,
  IMAGE_FILES_GLOB,
  workspaceDataChoices,
  workspaceFiles,
  type DataChoice,
} from './dataChoices';
import { BUILTIN_NAMES, rankBuiltins } from './datasets';
import type { ModelFocus } from './focus';
import { isLayersModelJson, modelIo } from './modelDetect';
import type { ModelFiles } from './modelFiles';
import { distillSettings, settings } from './settings';
import { foldBnChoices, pruningUnitChoices, type ModelLayers } from './studentChoices';

/** The clicked file (explorer, editor title), else the model in the active editor, else ask. */
export async function pickModel(args: unknown[], models: ModelFiles): Promise<string | undefined> {
  const a = modelArgFrom(args);
  if (a.kind === 'path') return a.path;
  if (a.kind === 'refused') {
    void vscode.window.showWarningMessage(`PruneScope: ${a.reason}`);
    return undefined;
  }
  const doc = vscode.window.activeTextEditor?.document;
  if (doc && doc.uri.scheme === 'file' && isLayersModelJson(doc.getText())) return doc.uri.fsPath;
  const browse = '$(folder-opened) Browse...';
  const items = [
    ...models.list().map((f) => ({
      label: path.basename(f),
      description: `${modelFileFormat(f)} · ${vscode.workspace.asRelativePath(f)}`,
      file: f,
    })),
    { label: browse, file: '' },
  ];
  const chosen = await vscode.window.showQuickPick(items, {
    title: 'PruneScope: choose a model (model.json, .keras, .h5, .onnx)',
    placeHolder: 'Model files in this workspace',
  });
  if (!chosen) return undefined;
  if (chosen.file) return chosen.file;
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    filters: { 'Model files': ['json', 'keras', 'h5', 'onnx'] },
    openLabel: 'Analyze',
  });
  return picked?.[0]?.fsPath;
}

function readIo(file: string): { inputs?: number; outputs?: number; inputShape?: number[] } {
  try {
    return modelIo(fs.readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}

const EXCLUDED = '{**/node_modules/**,**/.git/**}';
/** Search bounds: enough images to find the class folders, data files to list. */
const MAX_IMAGES_SEARCHED = 5000;
const MAX_DATA_FILES = 200;

/** The workspace's data: class folders of images, paired x/y .npy, .npz and CSV files. */
async function workspaceChoices(): Promise<DataChoice[]> {
  const [data, images] = await Promise.all([
    vscode.workspace.findFiles(DATA_FILES_GLOB, EXCLUDED, MAX_DATA_FILES),
    vscode.workspace.findFiles(IMAGE_FILES_GLOB, EXCLUDED, MAX_IMAGES_SEARCHED),
  ]);
  const paths = [...data, ...images].filter((u) => u.scheme === 'file').map((u) => u.fsPath);
  return workspaceDataChoices(workspaceFiles(paths), (f) => vscode.workspace.asRelativePath(f));
}

/**
 * Built-in data sets (those fitting the model's shape first), the workspace's image folders, NumPy
 * arrays and CSV files, or one browsed for; the last choice on top. The answer is the data's name
 * or path: the engine reads each kind from the path alone (an x .npy finds its labels beside it).
 */
export async function pickData(modelPath: string, focus: ModelFocus): Promise<string | undefined> {
  const { inputs, outputs, inputShape } = readIo(modelPath);
  const { fits, others } = rankBuiltins(inputs, outputs);
  const last = focus.dataFor(modelPath);
  type Item = vscode.QuickPickItem & { data?: string; browse?: 'file' | 'folder' };
  const files = await workspaceChoices();
  const items: Item[] = [];
  if (last)
    items.push({
      label: BUILTIN_NAMES.includes(last) ? last : path.basename(last),
      description: 'last used',
      detail: BUILTIN_NAMES.includes(last) ? undefined : last,
      data: last,
    });
  if (fits.length) items.push({ label: 'fits this model', kind: vscode.QuickPickItemKind.Separator });
  for (const b of fits) if (b.name !== last) items.push({ label: b.name, description: b.label, data: b.name });
  if (files.length) items.push({ label: 'data in the workspace', kind: vscode.QuickPickItemKind.Separator });
  for (const c of files)
    if (c.data !== last)
      items.push({ label: `${DATA_KIND_ICONS[c.kind]} ${c.label}`, description: c.description, data: c.data });
  items.push({ label: 'built-in data sets', kind: vscode.QuickPickItemKind.Separator });
  for (const b of others) if (b.name !== last) items.push({ label: b.name, description: b.label, data: b.name });
  items.push(
    { label: '$(file) Browse for a data file (.csv, .npy, .npz)...', browse: 'file' },
    { label: '$(folder-opened) Browse for a folder of class folders of images...', browse: 'folder' },
  );
  const chosen = await vscode.window.showQuickPick(items, {
    title: `PruneScope: data for ${path.basename(modelPath)}`,
    placeHolder:
      inputs !== undefined
        ? `The model takes ${inputShape ? `${inputShape.join(' x ')} images` : `${inputs} inputs`}${outputs !== undefined ? ` and has ${outputs} outputs` : ''}`
        : 'A built-in data set, a folder of images, NumPy arrays or a CSV file',
  });
  if (!chosen) return undefined;
  let data = chosen.data;
  if (chosen.browse) {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      canSelectFiles: chosen.browse === 'file',
      canSelectFolders: chosen.browse === 'folder',
      ...(chosen.browse === 'file'
        ? { filters: { 'Data (CSV, NumPy)': DATA_FILE_EXTENSIONS.map((e) => e.slice(1)) } }
        : {}),
      openLabel: 'Use this data',
    });
    data = picked?.[0]?.fsPath;
  }
  if (data) await focus.remember(modelPath, data);
  return data;
}

/** The relevance method, prunescope.defaultMethod first. */
export async function pickMethod(title: string): Promise<Method | undefined> {
  const s = settings();
  const items = methodOrder(s.defaultMethod).map((m) => ({
    label: m,
    description: m === s.defaultMethod ? 'default (prunescope.defaultMethod)' : undefined,
    detail: RELEVANCE_METHOD_DESCRIPTIONS[m],
    method: m,
  }));
  return (await vscode.window.showQuickPick(items, { title: `PruneScope: ${title}: relevance method` }))?.method;
}

/** OBD's curvature diagonal, prunescope.defaultVariant first. */
export async function pickVariant(): Promise<Variant | undefined> {
  const s = settings();
  const items = [s.defaultVariant, ...VARIANTS.filter((v) => v !== s.defaultVariant)].map((v) => ({
    label: v,
    description: v === s.defaultVariant ? 'default (prunescope.defaultVariant)' : undefined,
    detail: OBD_VARIANT_DESCRIPTIONS[v],
    variant: v,
  }));
  return (
    await vscode.window.showQuickPick(items, {
      title: 'PruneScope: OBD curvature',
      placeHolder: 'Diagonal of the Hessian, the Gauss-Newton matrix or the empirical Fisher',
    })
  )?.variant;
}

/** A share of weights (or channels, units) to prune: 10% ... 90%, or a custom one strictly inside (0, 1). */
export async function pickShare(title: string, noun = 'weights'): Promise<number | undefined> {
  const custom = 'Custom...';
  const items = [
    ...SHARE_CHOICES.map((s) => ({
      label: `${Math.round(s * 100)}%`,
      description: String(s),
      share: s as number | undefined,
    })),
    { label: custom, description: 'a share strictly between 0 and 1', share: undefined },
  ];
  const chosen = await vscode.window.showQuickPick(items, {
    title: `PruneScope: ${title}: share of ${noun} to prune`,
  });
  if (!chosen) return undefined;
  if (chosen.share !== undefined) return chosen.share;
  const text = await vscode.window.showInputBox({
    title: `PruneScope: ${title}: share of ${noun} to prune`,
    prompt: 'A number strictly between 0 and 1 (0.35 or 35%)',
    value: '0.5',
    validateInput: (t) => {
      const r = parseShare(t);
      return r.ok ? undefined : r.reason;
    },
  });
  if (text === undefined) return undefined;
  const r = parseShare(text);
  return r.ok ? r.value : undefined;
}

/** How the student is made smaller: whole filters, Dense units or weights; the model's default first. */
export async function pickPruningUnit(title: string, layers: ModelLayers): Promise<StructuredMode | undefined> {
  const items = pruningUnitChoices(layers).map((c, i) => ({
    label: c.label,
    description: i === 0 ? 'default for this model' : undefined,
    detail: c.detail,
    unit: c.unit,
  }));
  return (await vscode.window.showQuickPick(items, { title: `PruneScope: ${title}: what to remove` }))?.unit;
}

/** Whether to fold BatchNormalization into the layer before it (the student then has none). */
export async function pickFoldBn(title: string): Promise<boolean | undefined> {
  const items = foldBnChoices().map((c, i) => ({ ...c, description: i === 0 ? 'default' : undefined }));
  return (await vscode.window.showQuickPick(items, { title: `PruneScope: ${title}: BatchNormalization` }))?.fold;
}

/** Hidden widths, one per hidden Dense layer. */
export async function askWidths(title: string): Promise<number[] | undefined> {
  const text = await vscode.window.showInputBox({
    title: `PruneScope: ${title}: hidden widths`,
    prompt: 'One width per hidden Dense layer, comma separated (the output layer keeps its width)',
    value: '4',
    validateInput: (t) => {
      const r = parseWidths(t);
      return r.ok ? undefined : r.reason;
    },
  });
  if (text === undefined) return undefined;
  const r = parseWidths(text);
  return r.ok ? r.value : undefined;
}

/** Temperature, alpha, epochs: one input box each, the setting as its value (Enter accepts). */
export async function askDistillSettings(): Promise<DistillSettings | undefined> {
  const defaults = distillSettings();
  const prompts: Record<keyof DistillSettings, string> = {
    temperature: 'Softmax temperature T for the soft targets (> 0; higher = softer)',
    alpha: 'Alpha: weight of the soft-target loss in [0, 1] (1 - alpha weighs the labels)',
    epochs: 'Training epochs of the student (a whole number >= 1)',
  };
  const out = { ...defaults };
  for (const [i, k] of (['temperature', 'alpha', 'epochs'] as const).entries()) {
    const text = await vscode.window.showInputBox({
      title: `PruneScope: Distill into Student (${i + 1}/3): ${k}`,
      prompt: `${prompts[k]}; default from prunescope.distill.${k}`,
      value: String(defaults[k]),
      ignoreFocusOut: true,
      validateInput: (t) => {
        const r = parseNumberInput(t, DISTILL_RULES[k]);
        return r.ok ? undefined : r.reason;
      },
    });
    if (text === undefined) return undefined;
    const r = parseNumberInput(text, DISTILL_RULES[k]);
    if (!r.ok) return undefined;
    out[k] = r.value;
  }
  return out;
}
