// The analysis views: the side panel (a webview view) and the editor panel (a webview panel as wide
// as the editor area) show the same page and speak the same protocol. This hub keeps what they show
// (the last figure, the analysis of the model in focus, the gradient-variance ordering), sends every
// update to each open view and replays it to a view whose page (re)loads, so both stay in step. Every
// message from a page is validated first; the model, the data and the files are the host's.
import * as vscode from 'vscode';
import {
  parseWebviewMessage,
  type FromWebview,
  type PanelAnalysis,
  type PanelStructured,
  type PanelStructuredMode,
  type PlotlyFigure,
  type ToWebview,
} from '../protocol';
import { makeNonce, panelHtml } from './panelHtml';

/** What the host does for the pages' validated requests. */
export interface PanelActions {
  figure(name: 'demo' | 'model'): Promise<void>;
  /** Measures the focused model pruned at share; an error reply when there is no focused analysis. */
  whatif(m: Extract<FromWebview, { type: 'whatif' }>): Promise<Extract<ToWebview, { type: 'whatif' | 'error' }>>;
  savePruned(method: string, share: number, structured?: PanelStructuredMode): Promise<void>;
  exportStudent(method: string, share: number, structured?: PanelStructuredMode): Promise<void>;
}

/** One open page. Hidden pages are destroyed (no retained context) and reload when shown. */
interface View {
  webview: vscode.Webview;
  isVisible(): boolean;
  /** The page has said `ready` since it last loaded: messages reach it. */
  ready: boolean;
  /** Status and errors posted before the page was ready (figures are replayed instead). */
  queue: ToWebview[];
  /**
   * Per slider (weights, channels), only the newest what-if request is answered: older replies
   * would move its display backwards.
   */
  latestWhatif: Record<'weights' | PanelStructuredMode, number>;
}

export class AnalysisViews implements vscode.Disposable {
  private readonly views = new Set<View>();
  private last: Extract<ToWebview, { type: 'figure' }> | undefined;
  private lastAnalysis: Extract<ToWebview, { type: 'analysis' }> | undefined;
  private lastGv: Extract<ToWebview, { type: 'gradientVariance' }> | undefined;
  private lastStructured: Extract<ToWebview, { type: 'structured' }> | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly actions: () => PanelActions,
    /** Shows the side panel (the views' usual home). */
    private readonly revealSide: () => Thenable<unknown>,
  ) {}

  /**
   * Loads the page into `webview` and keeps it in step until it is disposed. `visibility` fires
   * when the host shows or hides it: a hidden page is gone and says `ready` again when reloaded.
   */
  attach(
    webview: vscode.Webview,
    isVisible: () => boolean,
    visibility: vscode.Event<unknown>,
    disposed: vscode.Event<void>,
  ): void {
    const view: View = { webview, isVisible, ready: false, queue: [], latestWhatif: { weights: -1, channels: -1 } };
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    webview.options = { enableScripts: true, localResourceRoots: [dist, media] };
    webview.html = panelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'panel.css')).toString(),
    });
    const subs = [
      webview.onDidReceiveMessage((raw) => this.onMessage(view, raw)),
      visibility(() => {
        if (!isVisible()) view.ready = false;
      }),
    ];
    this.views.add(view);
    disposed(() => {
      this.views.delete(view);
      for (const s of subs) s.dispose();
    });
  }

  get hasFigure(): boolean {
    return this.last !== undefined || this.lastAnalysis !== undefined;
  }

  /** Some view is on screen (the side panel or the editor panel). */
  get visible(): boolean {
    return [...this.views].some((v) => v.isVisible());
  }

  reveal(): Thenable<unknown> {
    return this.revealSide();
  }

  showFigure(title: string, figure: PlotlyFigure, subtitle?: string): void {
    this.last = { type: 'figure', title, subtitle, figure };
    this.broadcast(this.last);
  }

  showAnalysis(analysis: PanelAnalysis): void {
    this.lastAnalysis = { type: 'analysis', analysis };
    this.broadcast(this.lastAnalysis);
  }

  /** The channel view of the model in focus (null: it has no convolution). */
  showStructured(structured: PanelStructured | null): void {
    this.lastStructured = { type: 'structured', structured };
    this.broadcast(this.lastStructured);
  }

  /** The ordering's figures; `timeline` (the freeze timeline) follows in a second call once computed. */
  showGradientVariance(title: string, figures: PlotlyFigure[], timeline?: PlotlyFigure): void {
    this.lastGv = { type: 'gradientVariance', title, figures, ...(timeline ? { timeline } : {}) };
    this.broadcast(this.lastGv);
  }

  status(text: string, busy: boolean): void {
    this.broadcast({ type: 'status', text, busy });
  }

  private broadcast(m: ToWebview): void {
    for (const v of this.views) this.post(v, m);
  }

  private post(v: View, m: ToWebview): void {
    // Messages posted before a page's script runs are lost: queue status and errors until it says
    // ready (figures are not queued: the latest of each kind is replayed on ready).
    if (v.ready) void v.webview.postMessage(m);
    else if (m.type === 'status' || m.type === 'error') v.queue.push(m);
  }

  private onMessage(v: View, raw: unknown): void {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.log.warn(`analysis view: rejected a message from the webview: ${parsed.reason}`);
      return;
    }
    const m = parsed.value;
    switch (m.type) {
      case 'ready':
        v.ready = true;
        for (const q of v.queue.splice(0)) void v.webview.postMessage(q);
        for (const q of [this.last, this.lastAnalysis, this.lastStructured, this.lastGv])
          if (q) void v.webview.postMessage(q);
        break;
      case 'requestFigure':
        void this.actions().figure(m.name);
        break;
      case 'reportError':
        this.log.warn(`analysis view: ${m.message}`);
        break;
      case 'whatif': {
        const slider = m.structured ?? 'weights';
        v.latestWhatif[slider] = Math.max(v.latestWhatif[slider], m.requestId);
        void this.actions()
          .whatif(m)
          .then((reply) => {
            if (m.requestId >= v.latestWhatif[slider]) this.post(v, reply);
          });
        break;
      }
      case 'savePruned':
        void this.actions().savePruned(m.method, m.share, m.structured);
        break;
      case 'exportStudent':
        void this.actions().exportStudent(m.method, m.share, m.structured);
        break;
    }
  }

  dispose(): void {
    this.views.clear();
  }
}
