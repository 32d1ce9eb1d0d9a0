// The "Relevance" webview view in the PruneScope side bar. Keeps the last figure so a view that
// is re-created (hidden, moved) redraws without asking the worker again.
import * as vscode from 'vscode';
import { parseWebviewMessage, type PlotlyFigure, type ToWebview } from '../protocol';
import { makeNonce, panelHtml } from './panelHtml';

export type FigureRequest = (name: 'demo' | 'model') => Promise<void>;

export class RelevancePanel implements vscode.WebviewViewProvider {
  static readonly viewId = 'prunescope.relevance';
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private last: Extract<ToWebview, { type: 'figure' }> | undefined;
  private queue: ToWebview[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly log: vscode.LogOutputChannel, private readonly onRequest: FigureRequest) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [dist, media] };
    const nonce = makeNonce();
    view.webview.html = panelHtml({
      cspSource: view.webview.cspSource,
      nonce,
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
      styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(media, 'panel.css')).toString(),
    });
    view.webview.onDidReceiveMessage((raw) => this.onMessage(raw));
    view.onDidDispose(() => { this.view = undefined; this.ready = false; });
  }

  get hasFigure(): boolean { return this.last !== undefined; }

  showFigure(title: string, figure: PlotlyFigure, subtitle?: string): void {
    this.last = { type: 'figure', title, subtitle, figure };
    this.post(this.last);
  }

  status(text: string, busy: boolean): void { this.post({ type: 'status', text, busy }); }

  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${RelevancePanel.viewId}.focus`);
  }

  private post(m: ToWebview): void {
    // Messages posted before the webview's script runs are lost: queue until it says ready.
    if (this.view && this.ready) void this.view.webview.postMessage(m);
    else if (m.type !== 'figure') this.queue.push(m);
  }

  private onMessage(raw: unknown): void {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.log.warn(`side panel: rejected a message from the webview: ${parsed.reason}`);
      return;
    }
    const m = parsed.value;
    switch (m.type) {
      case 'ready':
        this.ready = true;
        for (const q of this.queue.splice(0)) void this.view?.webview.postMessage(q);
        if (this.last) void this.view?.webview.postMessage(this.last);
        break;
      case 'requestFigure':
        void this.onRequest(m.name);
        break;
      case 'reportError':
        this.log.warn(`side panel: ${m.message}`);
        break;
    }
  }
}
