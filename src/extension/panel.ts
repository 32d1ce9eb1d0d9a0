// The "Relevance" webview view in the PruneScope side bar. Shows, for the model in focus, the
// last figure, the analysis (curves, heatmaps, Belsley, variational), the gradient-variance
// ordering with its freeze timeline and the what-if slider. Keeps what it showed so a re-created view (hidden, moved)
// redraws without asking the worker again. Every message from the webview is validated first.
import * as vscode from 'vscode';
import {
  parseWebviewMessage,
  type FromWebview,
  type PanelAnalysis,
  type PlotlyFigure,
  type ToWebview,
} from '../protocol';
import { makeNonce, panelHtml } from './panelHtml';

export type FigureRequest = (name: 'demo' | 'model') => Promise<void>;

/** What the host does for the webview's validated requests. */
export interface PanelActions {
  figure(name: 'demo' | 'model'): Promise<void>;
  /** Measures the focused model pruned at share; undefined when there is no focused analysis. */
  whatif(m: Extract<FromWebview, { type: 'whatif' }>): Promise<Extract<ToWebview, { type: 'whatif' | 'error' }>>;
  savePruned(method: string, share: number): Promise<void>;
  exportStudent(method: string, share: number): Promise<void>;
}

export class RelevancePanel implements vscode.WebviewViewProvider {
  static readonly viewId = 'prunescope.relevance';
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private last: Extract<ToWebview, { type: 'figure' }> | undefined;
  private lastAnalysis: Extract<ToWebview, { type: 'analysis' }> | undefined;
  private lastGv: Extract<ToWebview, { type: 'gradientVariance' }> | undefined;
  private queue: ToWebview[] = [];
  /** Only the newest what-if request is answered: older replies would move the display backwards. */
  private latestWhatif = -1;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly actions: () => PanelActions,
  ) {}

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
    view.onDidDispose(() => {
      this.view = undefined;
      this.ready = false;
    });
  }

  get hasFigure(): boolean {
    return this.last !== undefined || this.lastAnalysis !== undefined;
  }
  get visible(): boolean {
    return !!this.view?.visible;
  }

  showFigure(title: string, figure: PlotlyFigure, subtitle?: string): void {
    this.last = { type: 'figure', title, subtitle, figure };
    this.post(this.last);
  }

  showAnalysis(analysis: PanelAnalysis): void {
    this.lastAnalysis = { type: 'analysis', analysis };
    this.post(this.lastAnalysis);
  }

  /** The ordering's figures; `timeline` (the freeze timeline) follows in a second call once computed. */
  showGradientVariance(title: string, figures: PlotlyFigure[], timeline?: PlotlyFigure): void {
    this.lastGv = { type: 'gradientVariance', title, figures, ...(timeline ? { timeline } : {}) };
    this.post(this.lastGv);
  }

  status(text: string, busy: boolean): void {
    this.post({ type: 'status', text, busy });
  }

  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${RelevancePanel.viewId}.focus`);
  }

  private post(m: ToWebview): void {
    // Messages posted before the webview's script runs are lost: queue until it says ready
    // (figures are not queued: the latest of each kind is replayed on ready).
    if (this.view && this.ready) void this.view.webview.postMessage(m);
    else if (m.type === 'status' || m.type === 'error') this.queue.push(m);
  }

  private onMessage(raw: unknown): void {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.log.warn(`side panel: rejected a message from the webview: ${parsed.reason}`);
      return;
    }
    const m = parsed.value;
    const act = this.actions();
    switch (m.type) {
      case 'ready':
        this.ready = true;
        for (const q of this.queue.splice(0)) void this.view?.webview.postMessage(q);
        for (const q of [this.last, this.lastAnalysis, this.lastGv]) if (q) void this.view?.webview.postMessage(q);
        break;
      case 'requestFigure':
        void act.figure(m.name);
        break;
      case 'reportError':
        this.log.warn(`side panel: ${m.message}`);
        break;
      case 'whatif':
        this.latestWhatif = Math.max(this.latestWhatif, m.requestId);
        void act.whatif(m).then((reply) => {
          if (m.requestId >= this.latestWhatif) this.post(reply);
        });
        break;
      case 'savePruned':
        void act.savePruned(m.method, m.share);
        break;
      case 'exportStudent':
        void act.exportStudent(m.method, m.share);
        break;
    }
  }
}
