// nbformat 4 <-> a plain notebook model, with no vscode import so the round trip is unit-tested.
// On disk it is an ordinary .ipynb (Jupyter and other tools can open it); JSON mime types are
// stored as JSON objects, text mime types as line arrays, as Jupyter does.

export interface NbOutputItem {
  mime: string;
  data: unknown;
}
export interface NbOutput {
  items: NbOutputItem[];
}
export interface NbCell {
  kind: 'code' | 'markdown';
  source: string;
  outputs: NbOutput[];
  executionCount?: number;
  id?: string;
  metadata?: Record<string, unknown>;
}
export interface Nb {
  cells: NbCell[];
  metadata: Record<string, unknown>;
}

export const ERROR_MIME = 'application/vnd.code.notebook.error';
export const KERNELSPEC = { name: 'prunescope', display_name: 'PruneScope (JavaScript)', language: 'javascript' };

export class NotebookFormatError extends Error {}

const isJsonMime = (mime: string) => mime === 'application/json' || mime.endsWith('+json');
const joinSource = (s: unknown): string => (Array.isArray(s) ? s.join('') : typeof s === 'string' ? s : '');
function splitLines(s: string): string[] {
  const parts = s.split(/(?<=\n)/);
  return parts.length === 1 && parts[0] === '' ? [] : parts;
}

/** A Jupyter output or cell as read from disk: every field unchecked until used. */
type Raw = Record<string, unknown>;
const raw = (v: unknown): Raw | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Raw) : undefined;

function outputFromJupyter(v: unknown): NbOutput | undefined {
  const o = raw(v);
  switch (o?.output_type) {
    case 'stream':
      return {
        items: [
          {
            mime: o.name === 'stderr' ? 'application/vnd.code.notebook.stderr' : 'application/vnd.code.notebook.stdout',
            data: joinSource(o.text),
          },
        ],
      };
    case 'error':
      return {
        items: [
          {
            mime: ERROR_MIME,
            data: {
              name: String(o.ename ?? 'Error'),
              message: String(o.evalue ?? ''),
              stack: Array.isArray(o.traceback) ? o.traceback.join('\n') : '',
            },
          },
        ],
      };
    case 'display_data':
    case 'execute_result': {
      const data = raw(o.data) ?? {};
      return { items: Object.entries(data).map(([mime, v]) => ({ mime, data: isJsonMime(mime) ? v : joinSource(v) })) };
    }
    default:
      return undefined;
  }
}

function outputToJupyter(o: NbOutput): Record<string, unknown> {
  const only = o.items.length === 1 ? o.items[0] : undefined;
  if (only?.mime === ERROR_MIME) {
    const e = only.data as { name?: string; message?: string; stack?: string };
    return {
      output_type: 'error',
      ename: e?.name ?? 'Error',
      evalue: e?.message ?? '',
      traceback: (e?.stack ?? '').split('\n'),
    };
  }
  if (
    only &&
    (only.mime === 'application/vnd.code.notebook.stdout' || only.mime === 'application/vnd.code.notebook.stderr')
  ) {
    return {
      output_type: 'stream',
      name: only.mime.endsWith('stderr') ? 'stderr' : 'stdout',
      text: splitLines(String(only.data)),
    };
  }
  const data: Record<string, unknown> = {};
  for (const it of o.items) data[it.mime] = isJsonMime(it.mime) ? it.data : splitLines(String(it.data));
  return { output_type: 'display_data', data, metadata: {} };
}

export function parseIpynb(text: string): Nb {
  if (text.trim() === '') return { cells: [], metadata: {} };
  let nb: Raw | undefined;
  try {
    nb = raw(JSON.parse(text));
  } catch (e) {
    throw new NotebookFormatError(`not valid JSON: ${(e as Error).message}`);
  }
  if (!nb || nb.nbformat !== 4 || !Array.isArray(nb.cells)) {
    throw new NotebookFormatError('not an nbformat 4 notebook (expected {"nbformat": 4, "cells": [...]})');
  }
  const cells: NbCell[] = nb.cells
    .map(raw)
    .filter((c): c is Raw => !!c && (c.cell_type === 'code' || c.cell_type === 'markdown' || c.cell_type === 'raw'))
    .map((c) => ({
      kind: c.cell_type === 'code' ? 'code' : 'markdown',
      source: joinSource(c.source),
      outputs:
        c.cell_type === 'code' && Array.isArray(c.outputs)
          ? c.outputs.map(outputFromJupyter).filter((o: NbOutput | undefined): o is NbOutput => !!o)
          : [],
      executionCount: typeof c.execution_count === 'number' ? c.execution_count : undefined,
      id: typeof c.id === 'string' ? c.id : undefined,
      metadata: raw(c.metadata),
    }));
  return { cells, metadata: raw(nb.metadata) ?? {} };
}

export function serializeIpynb(nb: Nb): string {
  const cells = nb.cells.map((c, i) => {
    const base = { id: c.id ?? `cell-${i}`, metadata: c.metadata ?? {}, source: splitLines(c.source) };
    return c.kind === 'code'
      ? {
          cell_type: 'code',
          ...base,
          execution_count: c.executionCount ?? null,
          outputs: c.outputs.map(outputToJupyter),
        }
      : { cell_type: 'markdown', ...base };
  });
  const metadata = { ...nb.metadata, kernelspec: KERNELSPEC, language_info: { name: 'javascript' } };
  return JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata, cells }, null, 1) + '\n';
}
