// Command arguments arrive untyped: explorer/context passes (uri, selectedUris), editor/title
// passes (uri), command links pass JSON (strings), the palette passes nothing. Only local files
// make sense to the worker, so anything else is refused with a reason.
import * as path from 'path';

export type ModelArg =
  | { kind: 'path'; path: string }
  | { kind: 'none' }
  | { kind: 'refused'; reason: string };

function uriLike(v: unknown): v is { scheme: string; fsPath: string } {
  return typeof v === 'object' && v !== null && typeof (v as any).scheme === 'string' && typeof (v as any).fsPath === 'string';
}

export function modelArgFrom(args: readonly unknown[]): ModelArg {
  const first = args[0];
  if (first === undefined || first === null) return { kind: 'none' };
  if (uriLike(first)) {
    if (first.scheme !== 'file') return { kind: 'refused', reason: `PruneScope reads local files only, not ${first.scheme}: resources` };
    if (!first.fsPath.toLowerCase().endsWith('.json')) return { kind: 'refused', reason: `${path.basename(first.fsPath)} is not a .json model file` };
    return { kind: 'path', path: first.fsPath };
  }
  if (typeof first === 'string') {
    if (!path.isAbsolute(first)) return { kind: 'refused', reason: 'a model path given as text must be absolute' };
    if (!first.toLowerCase().endsWith('.json')) return { kind: 'refused', reason: `${path.basename(first)} is not a .json model file` };
    return { kind: 'path', path: path.normalize(first) };
  }
  return { kind: 'refused', reason: 'unexpected command argument (expected a file Uri)' };
}
