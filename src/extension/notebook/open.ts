// Opening the analysis notebooks the commands make, and running them (trusted workspaces only).
import * as vscode from 'vscode';
import { shareLabel } from '../args';
import { newFolder } from '../deps';
import { settings } from '../settings';
import type { AnalysisNotebookOptions } from './steps';
import { NOTEBOOK_TYPE } from './controller';

/** The standard notebook's options; its writing cells get free NEW folders beside the model. */
export function notebookOptions(modelPath: string, data: string): AnalysisNotebookOptions {
  const s = settings();
  const share = 0.5;
  const tag = `${s.defaultMethod}-${shareLabel(share)}`;
  return {
    modelPath,
    data,
    settings: s,
    share,
    pruneOut: newFolder(modelPath, 'pruned', tag),
    studentOut: newFolder(modelPath, 'student', tag),
  };
}

export async function openNotebook(data: vscode.NotebookData, run = true): Promise<void> {
  const doc = await vscode.workspace.openNotebookDocument(NOTEBOOK_TYPE, data);
  await vscode.window.showNotebookDocument(doc);
  if (!run) return;
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showInformationMessage('PruneScope: the notebook runs its cells only in a trusted workspace.');
    return;
  }
  await vscode.commands.executeCommand('notebook.execute', doc.uri);
}
