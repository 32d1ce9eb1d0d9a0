// Side-panel webview: draws the figures the host sends. It trusts nothing it receives either:
// unknown message types are ignored and figures are checked before drawing.
import type { FromWebview, ToWebview } from '../protocol/webview';
import { drawFigure, resizeAll } from './draw';

declare function acquireVsCodeApi(): { postMessage(m: FromWebview): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();

const title = document.getElementById('title')!;
const subtitle = document.getElementById('subtitle')!;
const status = document.getElementById('status')!;
const figureHost = document.getElementById('figure')!;

async function show(m: Extract<ToWebview, { type: 'figure' }>) {
  title.textContent = m.title;
  subtitle.textContent = m.subtitle ?? '';
  status.textContent = '';
  status.classList.remove('busy');
  const err = await drawFigure(figureHost, m.figure);
  if (err) vscode.postMessage({ type: 'reportError', message: err.slice(0, 2000) });
  else vscode.setState({ last: m });
}

window.addEventListener('message', (ev: MessageEvent) => {
  const m = ev.data as ToWebview;
  if (typeof m !== 'object' || m === null) return;
  switch (m.type) {
    case 'figure': void show(m); break;
    case 'status':
      status.textContent = typeof m.text === 'string' ? m.text : '';
      status.classList.toggle('busy', m.busy === true);
      break;
    case 'error':
      status.textContent = typeof m.message === 'string' ? m.message : 'error';
      status.classList.remove('busy');
      break;
  }
});
window.addEventListener('resize', () => resizeAll(document));
document.getElementById('demo')?.addEventListener('click', () => vscode.postMessage({ type: 'requestFigure', requestId: Date.now() % 1e9, name: 'demo' }));

// Redraw what was shown before the view was hidden, then tell the host we can receive.
const saved = vscode.getState() as { last?: Extract<ToWebview, { type: 'figure' }> } | undefined;
if (saved?.last) void show(saved.last);
vscode.postMessage({ type: 'ready' });
