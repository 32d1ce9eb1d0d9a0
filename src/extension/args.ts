// Command arguments arrive untyped: explorer/context passes (uri, selectedUris), editor/title
// passes (uri), command links pass JSON (strings), the palette passes nothing. Only local files
// make sense to the worker, so anything else is refused with a reason. Enums, ranges and defaults
// are the engine's (engine/options.ts: dependency-free, so the extension bundle stays small).
import * as path from 'path';
import {
  BELSLEY_BLOCK_LIMIT_RANGE,
  CURVE_DEFAULTS,
  DATA_FILE_EXTENSIONS,
  DISTILL_DEFAULTS as ENGINE_DISTILL_DEFAULTS,
  DISTILL_RANGES,
  FREEZE_TIMELINE_DEFAULTS,
  OBD_VARIANTS,
  ORDER_DEFAULTS,
  PANEL_CURVE_STEP_RANGE,
  RELEVANCE_DEFAULTS,
  RELEVANCE_METHODS,
  describeRange,
  inRange as inNumberRange,
  type NumberRange,
  type ObdVariant,
  type RelevanceMethod,
  type VarianceEstimator,
} from '../engine/options';

export type ModelArg = { kind: 'path'; path: string } | { kind: 'none' } | { kind: 'refused'; reason: string };

function uriLike(v: unknown): v is { scheme: string; fsPath: string } {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { scheme?: unknown }).scheme === 'string' &&
    typeof (v as { fsPath?: unknown }).fsPath === 'string'
  );
}

export function modelArgFrom(args: readonly unknown[]): ModelArg {
  const first = args[0];
  if (first === undefined || first === null) return { kind: 'none' };
  if (uriLike(first)) {
    if (first.scheme !== 'file')
      return { kind: 'refused', reason: `PruneScope reads local files only, not ${first.scheme}: resources` };
    if (!first.fsPath.toLowerCase().endsWith('.json'))
      return { kind: 'refused', reason: `${path.basename(first.fsPath)} is not a .json model file` };
    return { kind: 'path', path: first.fsPath };
  }
  if (typeof first === 'string') {
    if (!path.isAbsolute(first)) return { kind: 'refused', reason: 'a model path given as text must be absolute' };
    if (!first.toLowerCase().endsWith('.json'))
      return { kind: 'refused', reason: `${path.basename(first)} is not a .json model file` };
    return { kind: 'path', path: path.normalize(first) };
  }
  return { kind: 'refused', reason: 'unexpected command argument (expected a file Uri)' };
}

// ---- Choices for the model commands: pure, so the rules are unit-tested without VS Code. ----

export const METHODS = RELEVANCE_METHODS;
export type Method = RelevanceMethod;
export const VARIANTS = OBD_VARIANTS;
export type Variant = ObdVariant;
export const SHARE_CHOICES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] as const;

export const isMethod = (v: unknown): v is Method =>
  typeof v === 'string' && (METHODS as readonly string[]).includes(v);
export const isVariant = (v: unknown): v is Variant =>
  typeof v === 'string' && (VARIANTS as readonly string[]).includes(v);

/** A share typed by the user: a number strictly between 0 and 1 ("0.35", ".35" or "35%"). */
export function parseShare(text: string): { ok: true; value: number } | { ok: false; reason: string } {
  const t = text.trim();
  const pct = t.endsWith('%');
  const num = pct ? t.slice(0, -1).trim() : t;
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(num))
    return { ok: false, reason: 'Enter a number between 0 and 1, for example 0.35 (or 35%)' };
  const v = Number(num) / (pct ? 100 : 1);
  if (!(v > 0 && v < 1)) return { ok: false, reason: `The share must be strictly between 0 and 1 (got ${v})` };
  return { ok: true, value: v };
}

/** Layer widths typed by the user: positive integers separated by commas or spaces ("8, 3"). */
export function parseWidths(text: string, max = 100000): { ok: true; value: number[] } | { ok: false; reason: string } {
  const parts = text.split(/[\s,]+/).filter((s) => s.length > 0);
  if (parts.length === 0) return { ok: false, reason: 'Enter one width per Dense layer, for example 8, 3' };
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p)) return { ok: false, reason: `"${p.slice(0, 20)}" is not a positive integer` };
    const n = Number(p);
    if (n < 1 || n > max) return { ok: false, reason: `widths must be between 1 and ${max} (got ${p.slice(0, 20)})` };
    out.push(n);
  }
  return { ok: true, value: out };
}

/** "0.5" -> "0.5", 0.123456 -> "0.1235": short, stable, file-name safe. */
export function shareLabel(share: number): string {
  return String(Number(share.toPrecision(4)));
}

/** The model's name for derived folders: file name without .json (model.json in dir "mnet" stays "model"). */
export function modelStem(modelPath: string): string {
  return path.basename(modelPath).replace(/\.json$/i, '') || 'model';
}

/**
 * A NEW output folder beside the model: `<dir>/<stem>-<what>-<method>-<share>`, with "-2", "-3" ...
 * appended when that name is taken, so a user's earlier result (or the model) is never overwritten.
 */
export function outputFolder(
  modelPath: string,
  what: string,
  tag: string,
  exists: (p: string) => boolean,
  maxTries = 1000,
): string {
  const base = path.join(path.dirname(modelPath), `${modelStem(modelPath)}-${what}-${tag}`);
  if (!exists(base)) return base;
  for (let i = 2; i <= maxTries; i++) {
    const p = `${base}-${i}`;
    if (!exists(p)) return p;
  }
  throw new Error(`no free folder name beside ${modelPath} (tried ${base} and ${maxTries - 1} suffixes)`);
}

/** Settings under prunescope.*, checked: a hand-edited settings.json can hold anything. */
export interface Settings {
  defaultMethod: Method;
  defaultVariant: Variant;
  belsleyBlockLimit: number;
  seeds: number;
  curveStep: number;
}
export const DEFAULT_SETTINGS: Settings = {
  defaultMethod: RELEVANCE_DEFAULTS.method,
  defaultVariant: RELEVANCE_DEFAULTS.variant,
  belsleyBlockLimit: RELEVANCE_DEFAULTS.blockLimit,
  seeds: ENGINE_DISTILL_DEFAULTS.seeds,
  curveStep: CURVE_DEFAULTS.panelStep,
};

/** The ranges the numeric settings allow (package.json declares the same; the manifest test checks it). */
export const SETTING_RANGES: Record<'belsleyBlockLimit' | 'seeds' | 'curveStep', NumberRange> = {
  belsleyBlockLimit: BELSLEY_BLOCK_LIMIT_RANGE,
  seeds: DISTILL_RANGES.seeds,
  curveStep: PANEL_CURVE_STEP_RANGE,
};

export function readSettings(get: (key: string) => unknown): Settings {
  const ranged = (key: keyof typeof SETTING_RANGES) => {
    const v = get(key);
    return inNumberRange(v, SETTING_RANGES[key]) ? v : (DEFAULT_SETTINGS[key] as number);
  };
  const step = ranged('curveStep');
  const m = get('defaultMethod');
  const va = get('defaultVariant');
  return {
    defaultMethod: isMethod(m) ? m : DEFAULT_SETTINGS.defaultMethod,
    defaultVariant: isVariant(va) ? va : DEFAULT_SETTINGS.defaultVariant,
    belsleyBlockLimit: ranged('belsleyBlockLimit'),
    seeds: ranged('seeds'),
    // The engine needs 1/step to be an integer (shares 0, step, ..., 1 - step).
    curveStep: Math.abs(Math.round(1 / step) * step - 1) < 1e-9 ? step : DEFAULT_SETTINGS.curveStep,
  };
}

/** Shares 0, step, 2 step, ... below 1: what the curves are computed on (for the what-if slider's ticks). */
export function curveShares(step: number): number[] {
  const n = Math.floor(1 / step + 1e-9);
  const out: number[] = [];
  for (let i = 0; i <= n; i++) {
    const s = Number((i * step).toFixed(6));
    if (s < 1) out.push(s);
  }
  return out;
}

/** Methods in quick-pick order: the default first, the rest as listed. */
export function methodOrder(defaultMethod: Method): Method[] {
  return [defaultMethod, ...METHODS.filter((m) => m !== defaultMethod)];
}

/**
 * The data choice remembered for a model: a built-in name, or an absolute path of a .csv, .npy or
 * .npz file or of an image folder (a name without an extension), else undefined.
 */
export function rememberedData(v: unknown, builtins: readonly string[]): string | undefined {
  if (typeof v !== 'string' || v.length === 0 || v.length > 4096) return undefined;
  if (builtins.includes(v)) return v;
  const ext = path.extname(v).toLowerCase();
  const dataFile = (DATA_FILE_EXTENSIONS as readonly string[]).includes(ext);
  return path.isAbsolute(v) && (dataFile || ext === '') && path.basename(v) !== '' ? v : undefined;
}

/**
 * Params of Order Parameters by Gradient Variance. Block mode: the engine keeps a covariance block
 * for every layer up to its block limit (larger layers fall back to the diagonal, never refused),
 * so the result also carries the first such block's heatmap for the panel; the variances (and so
 * the order) are the same diagonal the diag mode gives.
 */
export function gradientVarianceParams(modelPath: string, data: string, estimator: VarianceEstimator) {
  return { modelPath, data, seed: 0, estimator, mode: 'block' as const, steps: ORDER_DEFAULTS.steps };
}

// ---- Distill into Student: temperature, alpha, epochs (input boxes, defaults from settings). ----

export interface DistillSettings {
  temperature: number;
  alpha: number;
  epochs: number;
}
/** The prompts' defaults are the engine's (settings override them). */
export const DISTILL_DEFAULTS: DistillSettings = {
  temperature: ENGINE_DISTILL_DEFAULTS.temperature,
  alpha: ENGINE_DISTILL_DEFAULTS.alpha,
  epochs: ENGINE_DISTILL_DEFAULTS.epochs,
};

/** One typed setting: what it is called in messages, and the engine's range for it. */
export interface NumberRule extends NumberRange {
  name: string;
}
export const DISTILL_RULES: Record<keyof DistillSettings, NumberRule> = {
  temperature: { name: 'The temperature', ...DISTILL_RANGES.temperature },
  alpha: { name: 'Alpha (the weight of the soft-target loss)', ...DISTILL_RANGES.alpha },
  epochs: { name: 'Epochs', ...DISTILL_RANGES.epochs },
};

/** A number typed into an input box, checked against `rule`; the reason is shown under the box. */
export function parseNumberInput(
  text: string,
  rule: NumberRule,
): { ok: true; value: number } | { ok: false; reason: string } {
  const t = text.trim();
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) {
    return { ok: false, reason: `Enter a number: ${rule.name.toLowerCase()} must be ${describeRange(rule)}` };
  }
  const v = Number(t);
  if (!inNumberRange(v, rule))
    return { ok: false, reason: `${rule.name} must be ${describeRange(rule)} (got ${t.slice(0, 20)})` };
  return { ok: true, value: v };
}

/** prunescope.distill.* from settings.json: a value out of range falls back to the built-in default. */
export function readDistillSettings(get: (key: string) => unknown): DistillSettings {
  const pick = (k: keyof DistillSettings) => {
    const v = get(`distill.${k}`);
    return inNumberRange(v, DISTILL_RULES[k]) ? v : DISTILL_DEFAULTS[k];
  };
  return { temperature: pick('temperature'), alpha: pick('alpha'), epochs: pick('epochs') };
}

/**
 * Params of the side panel's freeze timeline after Order by Gradient Variance: half the weights frozen at step 100 of
 * 200.
 */
export function freezeTimelineParams(modelPath: string, data: string, estimator: VarianceEstimator) {
  const { steps, share } = FREEZE_TIMELINE_DEFAULTS;
  return { modelPath, data, seed: 0, estimator, steps, t0: steps / 2, share };
}
