// The "Relevance" view in the PruneScope side bar: a webview view whose page the analysis views'
// hub (views.ts) loads and keeps in step.
import * as vscode from 'vscode';
import type { AnalysisViews } from './views';

export const SIDE_VIEW_ID = 'prunescope.relevance';

export class RelevancePanel implements vscode.WebviewViewProvider {
  constructor(private readonly views: AnalysisViews) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.views.attach(view.webview, () => view.visible, view.onDidChangeVisibility, view.onDidDispose);
  }
}

/** Shows the side panel (its view container opens if needed). */
export function revealSidePanel(): Thenable<unknown> {
  return vscode.commands.executeCommand(`${SIDE_VIEW_ID}.focus`);
}
