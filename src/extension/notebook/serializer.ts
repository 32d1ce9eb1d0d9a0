// vscode adapter over ipynb.ts: output bytes are JSON for JSON mime types, UTF-8 text otherwise.
import * as vscode from 'vscode';
import { parseIpynb, serializeIpynb, type Nb, type NbOutputItem } from './ipynb';

const isJsonMime = (mime: string) =>
  mime === 'application/json' || mime.endsWith('+json') || mime === 'application/vnd.code.notebook.error';
const enc = new TextEncoder();
const dec = new TextDecoder();

export function toItem(it: NbOutputItem): vscode.NotebookCellOutputItem {
  return new vscode.NotebookCellOutputItem(
    enc.encode(isJsonMime(it.mime) ? JSON.stringify(it.data) : String(it.data)),
    it.mime,
  );
}

export function nbToData(nb: Nb): vscode.NotebookData {
  const cells = nb.cells.map((c) => {
    const cell = new vscode.NotebookCellData(
      c.kind === 'code' ? vscode.NotebookCellKind.Code : vscode.NotebookCellKind.Markup,
      c.source,
      c.kind === 'code' ? 'javascript' : 'markdown',
    );
    cell.outputs = c.outputs.map((o) => new vscode.NotebookCellOutput(o.items.map(toItem)));
    cell.metadata = { ...(c.metadata ? { jupyter: c.metadata } : {}), id: c.id };
    if (c.executionCount !== undefined) cell.executionSummary = { executionOrder: c.executionCount };
    return cell;
  });
  const data = new vscode.NotebookData(cells);
  data.metadata = { jupyter: nb.metadata };
  return data;
}

export class PruneNotebookSerializer implements vscode.NotebookSerializer {
  deserializeNotebook(content: Uint8Array): vscode.NotebookData {
    return nbToData(parseIpynb(dec.decode(content)));
  }

  serializeNotebook(data: vscode.NotebookData): Uint8Array {
    const nb: Nb = {
      metadata: (data.metadata?.jupyter as Record<string, unknown>) ?? {},
      cells: data.cells.map((c) => ({
        kind: c.kind === vscode.NotebookCellKind.Code ? 'code' : 'markdown',
        source: c.value,
        outputs: (c.outputs ?? []).map((o) => ({
          items: o.items.map((it) => ({
            mime: it.mime,
            data: isJsonMime(it.mime) ? safeJson(dec.decode(it.data)) : dec.decode(it.data),
          })),
        })),
        executionCount: c.executionSummary?.executionOrder,
        id: typeof c.metadata?.id === 'string' ? c.metadata.id : undefined,
        metadata: (c.metadata?.jupyter as Record<string, unknown>) ?? undefined,
      })),
    };
    return enc.encode(serializeIpynb(nb));
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}
