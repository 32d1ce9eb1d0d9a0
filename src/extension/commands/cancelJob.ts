// PruneScope: Cancel Running Job: cancels every running engine job (also the status bar item's click).
import * as vscode from 'vscode';
import type { Deps } from '../deps';

export function cancelJob(d: Deps): void {
  const n = d.runner.cancelAll();
  if (n === 0) void vscode.window.showInformationMessage('PruneScope: no job is running.');
}
