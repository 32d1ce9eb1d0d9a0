// Messages between the extension host and the side-panel webview. Everything arriving from a
// webview is untrusted (its page could be compromised): parseWebviewMessage checks every field
// and rejects unknown types and unknown keys before the host acts on it.
import type { PlotlyFigure } from './figure';

export type FromWebview =
  | { type: 'ready' }
  | { type: 'requestFigure'; requestId: number; name: FigureName }
  | { type: 'reportError'; message: string };

export const FIGURE_NAMES = ['demo', 'model'] as const;
export type FigureName = (typeof FIGURE_NAMES)[number];

export type ToWebview =
  | { type: 'figure'; title: string; subtitle?: string; figure: PlotlyFigure; inReplyTo?: number }
  | { type: 'status'; text: string; busy: boolean }
  | { type: 'error'; message: string; inReplyTo?: number };

const MAX_TEXT = 2000;

function exactKeys(o: Record<string, unknown>, allowed: string[]): boolean {
  return Object.keys(o).every((k) => allowed.includes(k));
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export function parseWebviewMessage(v: unknown): ParseResult<FromWebview> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, reason: 'not an object' };
  const o = v as Record<string, unknown>;
  switch (o.type) {
    case 'ready':
      return exactKeys(o, ['type']) ? { ok: true, value: { type: 'ready' } } : { ok: false, reason: 'ready: unexpected keys' };
    case 'requestFigure': {
      if (!exactKeys(o, ['type', 'requestId', 'name'])) return { ok: false, reason: 'requestFigure: unexpected keys' };
      const id = o.requestId;
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return { ok: false, reason: 'requestFigure: requestId must be a non-negative integer' };
      if (typeof o.name !== 'string' || !(FIGURE_NAMES as readonly string[]).includes(o.name)) return { ok: false, reason: 'requestFigure: unknown figure name' };
      return { ok: true, value: { type: 'requestFigure', requestId: id, name: o.name as FigureName } };
    }
    case 'reportError':
      if (!exactKeys(o, ['type', 'message'])) return { ok: false, reason: 'reportError: unexpected keys' };
      if (typeof o.message !== 'string' || o.message.length > MAX_TEXT) return { ok: false, reason: 'reportError: message must be a string of at most 2000 characters' };
      return { ok: true, value: { type: 'reportError', message: o.message } };
    default:
      return { ok: false, reason: `unknown message type ${JSON.stringify(String(o.type)).slice(0, 40)}` };
  }
}
