// PruneScope: New Analysis Notebook: from a model file, the standard steps on its data (not run);
// from nothing, the same on built-in Wine with a small model trained by the first cell.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { modelArgFrom, outputFolder } from '../args';
import type { Deps } from '../deps';
import { analysisNotebook } from '../notebook/template';
import { notebookOptions, openNotebook } from '../notebook/open';
import { pickData } from '../pickers';

export async function newNotebook(d: Deps, ...args: unknown[]): Promise<void> {
  const a = modelArgFrom(args);
  if (a.kind === 'path') {
    const data = d.focus.dataFor(a.path) ?? (await pickData(a.path, d.focus));
    if (!data) return;
    await openNotebook(analysisNotebook(notebookOptions(a.path, data)), false);
    return;
  }
  // A fresh folder for the model cell 0 trains: the workspace's, else the extension's storage.
  const ws = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
  const root = ws ? ws.uri.fsPath : d.ext.globalStorageUri.fsPath;
  const model = path.join(
    outputFolder(path.join(root, 'prunescope.json'), 'wine', 'example', (p) => fs.existsSync(p)),
    'model.json',
  );
  await openNotebook(
    analysisNotebook({
      ...notebookOptions(model, 'wine'),
      trainFirst: { layers: [6, 3], epochs: 100, standardize: true },
    }),
  );
}
