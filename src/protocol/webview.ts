// Messages between the extension host and the side-panel webview. Everything arriving from a
// webview is untrusted (its page could be compromised): parseWebviewMessage checks every field
// and rejects unknown types and unknown keys before the host acts on it. The webview names a
// method and a share only; the model, the data and the output folders are the host's own state.
import { RELEVANCE_METHODS, type RelevanceMethod } from '../engine/options';
import { figureProblem, type PlotlyFigure } from './figure';
import type { FirstConvFilters, GroupChannelRelevance, GroupSummary, StructuredWhatif } from './jobs';

export const PANEL_METHODS = RELEVANCE_METHODS;
export type PanelMethod = RelevanceMethod;

export type FromWebview =
  | { type: 'ready' }
  | { type: 'requestFigure'; requestId: number; name: FigureName }
  | { type: 'reportError'; message: string }
  /**
   * A what-if slider moved (debounced): measure the model pruned at `share` by `method`; with
   * `structured` the share is of the removable channels (whole filters), else of the weights.
   */
  | { type: 'whatif'; requestId: number; method: PanelMethod; share: number; structured?: PanelStructuredMode }
  /** "Save pruned model" / "Export student" at the slider's method and share (and structured mode). */
  | { type: 'savePruned'; method: PanelMethod; share: number; structured?: PanelStructuredMode }
  | { type: 'exportStudent'; method: PanelMethod; share: number; structured?: PanelStructuredMode };

/** The panel's structured mode: whole channels of every dependency group. */
export type PanelStructuredMode = 'channels';

export const FIGURE_NAMES = ['demo', 'model'] as const;
export type FigureName = (typeof FIGURE_NAMES)[number];

export interface PanelSummary {
  layers: { name: string; inSize: number; outSize: number; activation: string }[];
  params: number;
  active: number;
  pruned: number;
  backend: string;
  metric: 'accuracy' | 'mse';
  baseline: number;
}

export interface PanelAnalysis {
  title: string;
  subtitle: string;
  data: string;
  methods: string[];
  summary: PanelSummary;
  figures: {
    curves: PlotlyFigure;
    heatmaps: Record<string, PlotlyFigure[]>;
    belsleyCondition?: PlotlyFigure;
    belsleyProportions?: PlotlyFigure;
    variational?: PlotlyFigure;
  };
}

/** The channel view of a conv model: its dependency groups and, per method, its channel relevance. */
export interface PanelStructured {
  model: string;
  groups: GroupSummary[];
  removableChannels: number;
  relevance: Record<string, { groups: GroupChannelRelevance[]; firstConv?: FirstConvFilters }>;
}

export type ToWebview =
  | { type: 'figure'; title: string; subtitle?: string; figure: PlotlyFigure; inReplyTo?: number }
  | { type: 'status'; text: string; busy: boolean }
  | { type: 'error'; message: string; inReplyTo?: number }
  | { type: 'analysis'; analysis: PanelAnalysis }
  /** null: the model in focus has no convolution (the channel view hides). */
  | { type: 'structured'; structured: PanelStructured | null }
  /** The ordering's figures (variances, covariance block) and, once computed, the freeze timeline. */
  | { type: 'gradientVariance'; title: string; figures: PlotlyFigure[]; timeline?: PlotlyFigure }
  | {
      type: 'whatif';
      inReplyTo: number;
      method: string;
      share: number;
      metric: 'accuracy' | 'mse';
      value: number;
      baseline: number;
      pruned: number;
      candidates: number;
      ms: number;
      /** A structured what-if's channels removed, parameters and multiply-adds left. */
      structured?: StructuredWhatif;
    };

const MAX_TEXT = 2000;

function exactKeys(o: Record<string, unknown>, allowed: string[]): boolean {
  return Object.keys(o).every((k) => allowed.includes(k));
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const isRequestId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isMethod = (v: unknown): v is PanelMethod =>
  typeof v === 'string' && (PANEL_METHODS as readonly string[]).includes(v);
/** A share the engine can act on: finite, strictly inside (0, 1). */
const isShare = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 1;

function methodShare(
  o: Record<string, unknown>,
  type: string,
): ParseResult<{ method: PanelMethod; share: number; structured?: PanelStructuredMode }> {
  if (!isMethod(o.method)) return { ok: false, reason: `${type}: method must be one of ${PANEL_METHODS.join(', ')}` };
  if (!isShare(o.share)) return { ok: false, reason: `${type}: share must be a number strictly between 0 and 1` };
  if ('structured' in o && o.structured !== 'channels')
    return { ok: false, reason: `${type}: structured must be 'channels' when given` };
  return {
    ok: true,
    value: { method: o.method, share: o.share, ...(o.structured === 'channels' ? { structured: 'channels' } : {}) },
  };
}

export function parseWebviewMessage(v: unknown): ParseResult<FromWebview> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, reason: 'not an object' };
  const o = v as Record<string, unknown>;
  switch (o.type) {
    case 'ready':
      return exactKeys(o, ['type'])
        ? { ok: true, value: { type: 'ready' } }
        : { ok: false, reason: 'ready: unexpected keys' };
    case 'requestFigure': {
      if (!exactKeys(o, ['type', 'requestId', 'name'])) return { ok: false, reason: 'requestFigure: unexpected keys' };
      const id = o.requestId;
      if (!isRequestId(id)) return { ok: false, reason: 'requestFigure: requestId must be a non-negative integer' };
      if (typeof o.name !== 'string' || !(FIGURE_NAMES as readonly string[]).includes(o.name))
        return { ok: false, reason: 'requestFigure: unknown figure name' };
      return { ok: true, value: { type: 'requestFigure', requestId: id, name: o.name as FigureName } };
    }
    case 'reportError':
      if (!exactKeys(o, ['type', 'message'])) return { ok: false, reason: 'reportError: unexpected keys' };
      if (typeof o.message !== 'string' || o.message.length > MAX_TEXT)
        return { ok: false, reason: 'reportError: message must be a string of at most 2000 characters' };
      return { ok: true, value: { type: 'reportError', message: o.message } };
    case 'whatif': {
      if (!exactKeys(o, ['type', 'requestId', 'method', 'share', 'structured']))
        return { ok: false, reason: 'whatif: unexpected keys' };
      if (!isRequestId(o.requestId)) return { ok: false, reason: 'whatif: requestId must be a non-negative integer' };
      const ms = methodShare(o, 'whatif');
      return ms.ok ? { ok: true, value: { type: 'whatif', requestId: o.requestId, ...ms.value } } : ms;
    }
    case 'savePruned':
    case 'exportStudent': {
      const type = o.type;
      if (!exactKeys(o, ['type', 'method', 'share', 'structured']))
        return { ok: false, reason: `${type}: unexpected keys` };
      const ms = methodShare(o, type);
      return ms.ok ? { ok: true, value: { type, ...ms.value } } : ms;
    }
    default:
      return { ok: false, reason: `unknown message type ${JSON.stringify(String(o.type)).slice(0, 40)}` };
  }
}

export type GradientVarianceMessage = Extract<ToWebview, { type: 'gradientVariance' }>;

/**
 * The webview's check of a `gradientVariance` message before drawing: a short title, at most 10
 * drawable figures, an optional drawable timeline, no other keys. The host is trusted more than the
 * page, but a bad figure would otherwise fail deep inside plotly with no useful message.
 */
export function parseGradientVarianceMessage(v: unknown): ParseResult<GradientVarianceMessage> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, reason: 'not an object' };
  const o = v as Record<string, unknown>;
  if (o.type !== 'gradientVariance') return { ok: false, reason: 'not a gradientVariance message' };
  if (!exactKeys(o, ['type', 'title', 'figures', 'timeline']))
    return { ok: false, reason: 'gradientVariance: unexpected keys' };
  if (typeof o.title !== 'string' || o.title.length > MAX_TEXT)
    return { ok: false, reason: 'gradientVariance: title must be a string of at most 2000 characters' };
  if (!Array.isArray(o.figures) || o.figures.length > 10)
    return { ok: false, reason: 'gradientVariance: figures must be an array of at most 10 figures' };
  for (const [i, f] of o.figures.entries()) {
    const p = figureProblem(f);
    if (p) return { ok: false, reason: `gradientVariance: figures[${i}]: ${p}` };
  }
  if ('timeline' in o) {
    const p = figureProblem(o.timeline);
    if (p) return { ok: false, reason: `gradientVariance: timeline: ${p}` };
  }
  return { ok: true, value: o as unknown as GradientVarianceMessage };
}
