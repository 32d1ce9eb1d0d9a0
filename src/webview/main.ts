// Side-panel webview: draws what the host sends (a figure; the analysis of the model in focus and,
// for a conv model, its channel view; the gradient-variance ordering and its freeze timeline) and
// the what-if slider. It trusts nothing it receives either:
// unknown message types are ignored and figures are checked before drawing. It sends only
// method + share requests; the host owns the model, the data and every file path.
import {
  parseGradientVarianceMessage,
  type FromWebview,
  type PanelAnalysis,
  type PanelStructured,
  type ToWebview,
} from '../protocol/webview';
import { ChannelView } from './channels';
import { clearFigure, drawFigure, onThemeChange, redrawAll, resizeAll } from './draw';

declare function acquireVsCodeApi(): {
  postMessage(m: FromWebview): void;
  getState(): unknown;
  setState(s: unknown): void;
};
const vscode = acquireVsCodeApi();

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const title = $('title');
const subtitle = $('subtitle');
const status = $('status');
const figureHost = $('figure');
const heatMethod = $<HTMLSelectElement>('heatmap-method');
const wiMethod = $<HTMLSelectElement>('whatif-method');
const wiShare = $<HTMLInputElement>('whatif-share');
const wiShareLabel = $('whatif-share-label');
const wiValue = $('whatif-value');

type State = {
  last?: Extract<ToWebview, { type: 'figure' }>;
  analysis?: PanelAnalysis;
  structured?: PanelStructured | null;
  gv?: Extract<ToWebview, { type: 'gradientVariance' }>;
};
const state: State = (vscode.getState() as State | undefined) ?? {};
const save = () => vscode.setState(state);
const report = (err: string | undefined) => {
  if (err) vscode.postMessage({ type: 'reportError', message: err.slice(0, 2000) });
};

async function show(m: Extract<ToWebview, { type: 'figure' }>) {
  title.textContent = m.title;
  subtitle.textContent = m.subtitle ?? '';
  status.textContent = '';
  status.classList.remove('busy');
  const err = await drawFigure(figureHost, m.figure);
  report(err);
  if (!err) {
    state.last = m;
    save();
  }
}

function fillSelect(sel: HTMLSelectElement, values: string[], keep?: string) {
  const prev = keep ?? sel.value;
  sel.textContent = '';
  for (const v of values) {
    const o = document.createElement('option');
    o.value = v;
    o.textContent = v;
    sel.append(o);
  }
  if (values.includes(prev)) sel.value = prev;
}

const fmt = (metric: string, v: number) => (metric === 'accuracy' ? `${(v * 100).toFixed(1)}%` : v.toPrecision(4));

async function drawHeatmaps(a: PanelAnalysis) {
  const host = $('heatmaps');
  host.textContent = '';
  const figs = a.figures.heatmaps[heatMethod.value] ?? [];
  for (const [i, f] of figs.entries()) {
    const div = document.createElement('div');
    div.className = 'fig heatmap';
    div.dataset.layer = String(i);
    host.append(div);
    report(await drawFigure(div, f, { height: 260 }));
  }
  if (!figs.length) host.textContent = `No heatmaps for ${heatMethod.value}.`;
}

async function showAnalysis(a: PanelAnalysis) {
  state.analysis = a;
  save();
  $('analysis').hidden = false;
  title.textContent = a.title;
  subtitle.textContent = a.subtitle;
  status.textContent = '';
  status.classList.remove('busy');
  const s = a.summary;
  $('summary-caption').textContent = `Layers of ${a.title}`;
  const body = $('summary').querySelector('tbody')!;
  body.textContent = '';
  for (const l of s.layers) {
    const tr = body.insertRow();
    for (const v of [l.name, l.inSize, l.outSize, l.activation]) tr.insertCell().textContent = String(v);
  }
  $('summary-totals').textContent =
    `${s.params} parameters (${s.active} active, ${s.pruned} pruned); test ${s.metric} ${fmt(s.metric, s.baseline)}; backend ${s.backend}.`;
  const methods = a.methods.length ? a.methods : Object.keys(a.figures.heatmaps);
  fillSelect(heatMethod, Object.keys(a.figures.heatmaps));
  fillSelect(wiMethod, methods);
  report(await drawFigure($('curves'), a.figures.curves));
  await drawHeatmaps(a);
  const f = a.figures;
  for (const [id, fig] of [
    ['belsley-condition', f.belsleyCondition],
    ['belsley-proportions', f.belsleyProportions],
    ['variational', f.variational],
  ] as const) {
    const host = $(id);
    if (fig) report(await drawFigure(host, fig));
    else host.textContent = '';
  }
  $('belsley-none').hidden = !!(f.belsleyCondition || f.belsleyProportions);
  $('variational-none').hidden = !!f.variational;
}

async function showGv(m: Extract<ToWebview, { type: 'gradientVariance' }>) {
  state.gv = m;
  save();
  $('gv').hidden = false;
  $('gv-title').textContent = `Gradient-variance ordering: ${m.title}`;
  const host = $('gv-figures');
  host.textContent = '';
  for (const [i, f] of m.figures.entries()) {
    const div = document.createElement('div');
    div.className = 'fig';
    host.append(div);
    // Variances span orders of magnitude: the first figure (variances in order) on a log axis.
    report(await drawFigure(div, f, { logY: i === 0 }));
  }
  // The freeze timeline arrives in a second message (its own job): until then say it is coming.
  const tl = $('gv-timeline');
  $('gv-timeline-section').hidden = false;
  if (m.timeline) report(await drawFigure(tl, m.timeline, { height: 380 }));
  else
    clearFigure(
      tl,
      'The freeze timeline is computed after the ordering (half the weights frozen at step 100 of 200, and the same steps without freezing).',
    );
}

// What-if: debounced; only the newest reply is shown (request ids increase, shared by both sliders).
let lastId = 0;
const nextId = () => ++lastId;
let requestId = -1;
const channels = new ChannelView((m) => vscode.postMessage(m), report, nextId);
let timer: ReturnType<typeof setTimeout> | undefined;
function shareNow(): number {
  return Math.min(0.95, Math.max(0.05, Number(wiShare.value)));
}
function requestWhatif() {
  const share = shareNow();
  wiShareLabel.textContent = `${Math.round(share * 100)}%`;
  wiShare.setAttribute('aria-valuetext', `${Math.round(share * 100)}% pruned`);
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => {
    if (!wiMethod.value) return;
    wiValue.classList.add('busy');
    requestId = nextId();
    vscode.postMessage({ type: 'whatif', requestId, method: wiMethod.value as never, share });
  }, 150);
}
wiShare.addEventListener('input', requestWhatif);
wiMethod.addEventListener('change', requestWhatif);
heatMethod.addEventListener('change', () => {
  if (state.analysis) void drawHeatmaps(state.analysis);
});
$('save-pruned').addEventListener('click', () => {
  if (wiMethod.value) vscode.postMessage({ type: 'savePruned', method: wiMethod.value as never, share: shareNow() });
});
$('export-student').addEventListener('click', () => {
  if (wiMethod.value) vscode.postMessage({ type: 'exportStudent', method: wiMethod.value as never, share: shareNow() });
});

window.addEventListener('message', (ev: MessageEvent) => {
  const m = ev.data as ToWebview;
  if (typeof m !== 'object' || m === null) return;
  switch (m.type) {
    case 'figure':
      void show(m);
      break;
    case 'analysis':
      if (m.analysis && typeof m.analysis === 'object') void showAnalysis(m.analysis);
      break;
    case 'gradientVariance': {
      const p = parseGradientVarianceMessage(m);
      if (p.ok) void showGv(p.value);
      else report(`gradientVariance message rejected: ${p.reason}`);
      break;
    }
    case 'structured':
      state.structured = m.structured;
      save();
      void channels.show(m.structured);
      break;
    case 'whatif':
      if (m.structured) {
        channels.onWhatif(m);
        break;
      }
      if (m.inReplyTo !== requestId || typeof m.value !== 'number') return;
      wiValue.classList.remove('busy');
      wiValue.textContent = `${m.method} at ${Math.round(m.share * 100)}%: test ${m.metric} ${fmt(m.metric, m.value)} (baseline ${fmt(m.metric, m.baseline)}; ${m.pruned} of ${m.candidates} weights pruned) in ${Math.round(m.ms)} ms`;
      break;
    case 'status':
      status.textContent = typeof m.text === 'string' ? m.text : '';
      status.classList.toggle('busy', m.busy === true);
      break;
    case 'error':
      if (channels.owns(m.inReplyTo)) {
        channels.onError(String(m.message));
        break;
      }
      if (m.inReplyTo !== undefined && m.inReplyTo === requestId) {
        wiValue.classList.remove('busy');
        wiValue.textContent = String(m.message);
        break;
      }
      status.textContent = typeof m.message === 'string' ? m.message : 'error';
      status.classList.remove('busy');
      break;
  }
});
window.addEventListener('resize', () => resizeAll(document));
onThemeChange(() => {
  void redrawAll();
});
$('demo').addEventListener('click', () =>
  vscode.postMessage({ type: 'requestFigure', requestId: Date.now() % 1e9, name: 'demo' }),
);

// Redraw what was shown before the view was hidden, then tell the host we can receive.
if (state.last) void show(state.last);
if (state.analysis) void showAnalysis(state.analysis);
if (state.structured) void channels.show(state.structured);
if (state.gv && parseGradientVarianceMessage(state.gv).ok) void showGv(state.gv);
vscode.postMessage({ type: 'ready' });
