// Draws one figure spec, themed from the host's --vscode-* colours, with a data table beside it
// as the screen-reader alternative. Shared by the side panel and the notebook renderer.
import Plotly from 'plotly.js-dist';
import { figureProblem, figureTable, type PlotlyFigure } from '../protocol/figure';

function cssVar(el: Element, name: string, fallback: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}

function themedLayout(el: Element, fig: PlotlyFigure): Record<string, unknown> {
  const fg = cssVar(el, '--vscode-editor-foreground', cssVar(el, '--vscode-foreground', '#333'));
  // High-contrast themes define contrastBorder (others leave it unset): strong gridlines there.
  const grid = cssVar(
    el,
    '--vscode-contrastBorder',
    cssVar(el, '--vscode-editorWidget-border', cssVar(el, '--vscode-panel-border', '#8884')),
  );
  const font = cssVar(el, '--vscode-font-family', 'sans-serif');
  const accent = cssVar(el, '--vscode-charts-blue', cssVar(el, '--vscode-focusBorder', '#1f77b4'));
  const axis = { gridcolor: grid, zerolinecolor: grid, linecolor: grid, color: fg };
  const layout = fig.layout ?? {};
  // Secondary axes (yaxis2, xaxis2, ... e.g. the freeze timeline's parameter index) get the theme too.
  const extraAxes = Object.fromEntries(
    Object.entries(layout)
      .filter(([k, v]) => /^[xy]axis\d+$/.test(k) && typeof v === 'object' && v !== null)
      .map(([k, v]) => [k, { ...axis, ...(v as object) }]),
  );
  const shapes = Array.isArray(layout.shapes)
    ? layout.shapes.map((sh) =>
        typeof sh === 'object' && sh !== null
          ? { ...sh, line: { ...((sh as { line?: object }).line ?? {}), color: grid } }
          : sh,
      )
    : undefined;
  return {
    ...layout,
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
    font: { family: font, color: fg, size: 11 },
    colorway: [
      accent,
      cssVar(el, '--vscode-charts-orange', '#ff7f0e'),
      cssVar(el, '--vscode-charts-green', '#2ca02c'),
      cssVar(el, '--vscode-charts-red', '#d62728'),
      cssVar(el, '--vscode-charts-purple', '#9467bd'),
    ],
    margin: { l: 50, r: 10, t: 40, b: 50 },
    autosize: true,
    xaxis: { ...axis, ...((layout.xaxis as object) ?? {}) },
    yaxis: { ...axis, ...((layout.yaxis as object) ?? {}) },
    ...extraAxes,
    ...(shapes ? { shapes } : {}),
  };
}

function buildTable(fig: PlotlyFigure): HTMLElement {
  const t = figureTable(fig);
  const details = document.createElement('details');
  details.className = 'figure-table';
  const summary = document.createElement('summary');
  summary.textContent = `Data table: ${t.caption}`;
  details.append(summary);
  const table = document.createElement('table');
  const caption = document.createElement('caption');
  caption.textContent = t.caption + (t.truncated ? ` (first ${t.rows.length} rows)` : '');
  table.append(caption);
  const head = table.createTHead().insertRow();
  for (const c of t.columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = c;
    head.append(th);
  }
  const body = table.createTBody();
  for (const r of t.rows) {
    const tr = body.insertRow();
    for (const v of r) tr.insertCell().textContent = v;
  }
  details.append(table);
  return details;
}

export interface DrawOptions {
  logY?: boolean;
  height?: number;
}

/** What each host last drew, so a theme change can redraw everything with the new colours. */
const drawn = new Map<HTMLElement, { fig: unknown; opts: DrawOptions }>();

/** Redraw every figure (the theme changed: colours are read from --vscode-* at draw time). */
export async function redrawAll(): Promise<void> {
  for (const [host, { fig, opts }] of [...drawn]) {
    if (!host.isConnected) {
      drawn.delete(host);
      continue;
    }
    await drawFigure(host, fig, opts);
  }
}

/** Call `fn` when VS Code switches theme (it changes the body's vscode-light/dark/high-contrast class). */
export function onThemeChange(fn: () => void): void {
  let last = document.body.className;
  new MutationObserver(() => {
    if (document.body.className !== last) {
      last = document.body.className;
      fn();
    }
  }).observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
}

/** Replaces `host`'s content with the figure and its table; returns an error text instead if the spec is bad. */
export async function drawFigure(host: HTMLElement, fig: unknown, opts: DrawOptions = {}): Promise<string | undefined> {
  const problem = figureProblem(fig);
  if (problem) {
    host.textContent = `Cannot draw this figure: ${problem}`;
    return problem;
  }
  const spec = fig as PlotlyFigure;
  drawn.set(host, { fig, opts });
  let plot = host.querySelector<HTMLElement>(':scope > .plot');
  if (!plot) {
    host.textContent = '';
    plot = document.createElement('div');
    plot.className = 'plot';
    plot.setAttribute('role', 'img');
    // Inline size: the notebook renderer has no stylesheet of ours, and plotly needs a height.
    plot.style.width = '100%';
    plot.style.height = `${opts.height ?? 340}px`;
    host.append(plot);
  }
  host.querySelector(':scope > .figure-table')?.remove();
  const table = buildTable(spec);
  plot.setAttribute(
    'aria-label',
    `${table.querySelector('summary')?.textContent ?? 'Figure'} (expand the table below for the values)`,
  );
  host.append(table);
  // No plotly logo link, no editable/remote features: everything stays inside the webview.
  const layout = themedLayout(host, spec);
  if (opts.logY) layout.yaxis = { ...(layout.yaxis as object), type: 'log' };
  await Plotly.react(plot, spec.data, layout, {
    displaylogo: false,
    responsive: true,
    showLink: false,
    showSendToCloud: false,
  });
  return undefined;
}

/** Replaces a drawn figure with a text (theme changes then leave it alone). */
export function clearFigure(host: HTMLElement, text: string): void {
  drawn.delete(host);
  host.textContent = text;
}

export function resizeAll(root: ParentNode): void {
  root.querySelectorAll<HTMLElement>('.plot').forEach((p) => {
    try {
      Plotly.Plots.resize(p);
    } catch {
      /* not drawn yet */
    }
  });
}
