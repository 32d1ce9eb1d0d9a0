// The analysis in an editor-area webview panel: the side panel's page and protocol (views.ts), as
// wide as the window allows, in step with the side panel and titled by the model in focus. One
// panel at a time; a panel restored after a reload reattaches to the same state.
import * as path from 'path';
import * as vscode from 'vscode';
import type { ModelFocus } from './focus';
import type { AnalysisViews } from './views';

export const EDITOR_VIEW_TYPE = 'prunescope.analysis';

export class AnalysisEditorPanel implements vscode.Disposable, vscode.WebviewPanelSerializer {
  private panel: vscode.WebviewPanel | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly views: AnalysisViews,
    private readonly focus: ModelFocus,
    private readonly extensionUri: vscode.Uri,
  ) {
    this.subs.push(focus.onDidChange(() => this.retitle()));
  }

  /** Opens the panel in the active editor column, or brings it forward if it is open. */
  open(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(EDITOR_VIEW_TYPE, 'PruneScope Analysis', vscode.ViewColumn.Active, {
      enableFindWidget: true,
    });
    this.adopt(panel);
  }

  /** VS Code restores a panel left open when the window reloads. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
    if (this.panel) {
      panel.dispose();
      return;
    }
    this.adopt(panel);
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'activity.svg');
    this.views.attach(panel.webview, () => panel.visible, panel.onDidChangeViewState, panel.onDidDispose);
    panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
    });
    this.retitle();
  }

  private retitle(): void {
    const f = this.focus.current;
    if (this.panel) this.panel.title = f ? `PruneScope: ${path.basename(f.modelPath)}` : 'PruneScope Analysis';
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.panel?.dispose();
  }
}
