// Self-contained HTML reports: plotly is inlined so a report opens anywhere, offline.
import * as fs from 'fs';
import * as path from 'path';
import type { Figure } from './figure';
import { PruneScopeError } from '../errors';

export interface ReportSection {
  heading: string;
  /** Paragraphs of plain text (escaped). */
  text?: string[];
  figures?: Figure[];
  tables?: { caption: string; columns: string[]; rows: (string | number)[][] }[];
}

export interface Report {
  title: string;
  intro?: string[];
  sections: ReportSection[];
  /** Shown at the end: how the results were made. */
  provenance?: unknown;
}

let plotlyCache: string | undefined;

/**
 * plotly's browser bundle: the copy webpack puts next to the bundle (dist/plotly.js), else the
 * npm package found by walking up to node_modules. A path walk, not require.resolve: inside a
 * webpack bundle require.resolve returns a module id, not a file name.
 */
export function plotlySource(): string {
  if (plotlyCache) return plotlyCache;
  const candidates = [path.join(__dirname, 'plotly.js')];
  for (let dir = __dirname, i = 0; i < 8; i++, dir = path.dirname(dir))
    candidates.push(path.join(dir, 'node_modules', 'plotly.js-dist', 'plotly.js'));
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found)
    throw new PruneScopeError(
      'not-found',
      'plotly.js (needed to write an HTML report) was not found beside the bundle or in node_modules',
      { file: candidates[0] },
    );
  plotlyCache = fs.readFileSync(found, 'utf8');
  return plotlyCache;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe to embed inside a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function table(caption: string, columns: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number) =>
    escapeHtml(typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(5)) : v);
  return `<table><caption>${escapeHtml(caption)}</caption><thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v) => `<td>${cell(v)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export function renderReport(r: Report): string {
  const figures: Figure[] = [];
  const body = r.sections
    .map((s) => {
      const parts = [`<h2>${escapeHtml(s.heading)}</h2>`];
      for (const t of s.text ?? []) parts.push(`<p>${escapeHtml(t)}</p>`);
      for (const f of s.figures ?? []) {
        const id = `fig${figures.length}`;
        figures.push(f);
        parts.push(
          `<figure><div id="${id}" class="plot"></div>${f.table ? `<details><summary>Table: ${escapeHtml(f.title)}</summary>${table(f.title, f.table.columns, f.table.rows)}</details>` : ''}</figure>`,
        );
      }
      for (const t of s.tables ?? []) parts.push(table(t.caption, t.columns, t.rows));
      return `<section>${parts.join('\n')}</section>`;
    })
    .join('\n');
  const prov =
    r.provenance === undefined
      ? ''
      : `<section><h2>How this was made</h2><pre>${escapeHtml(JSON.stringify(r.provenance, null, 2))}</pre></section>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(r.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
.plot{width:100%;height:460px}table{border-collapse:collapse;margin:1em 0;font-size:90%}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
caption{font-weight:600;text-align:left}pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:80%}</style>
<script>${plotlySource()}</script></head>
<body><h1>${escapeHtml(r.title)}</h1>
${(r.intro ?? []).map((t) => `<p>${escapeHtml(t)}</p>`).join('\n')}
${body}
${prov}
<script>const FIGS=${scriptJson(figures.map((f) => ({ data: f.data, layout: { title: f.title, ...f.layout } })))};
FIGS.forEach((f,i)=>Plotly.newPlot('fig'+i,f.data,f.layout,{responsive:true,displaylogo:false}));</script>
</body></html>`;
}
