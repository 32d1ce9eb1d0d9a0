// A plotly figure as plain data: the engine emits it, every surface (side panel, notebook
// renderer, CLI report) only draws it. SVG trace types only: WebGL traces need 'unsafe-eval'.
export const FIGURE_MIME = 'application/vnd.plotly.v1+json';

export const SVG_TRACE_TYPES = ['bar', 'scatter', 'heatmap', 'histogram', 'box', 'violin', 'contour'] as const;

export interface PlotlyTrace {
  type?: string;
  name?: string;
  x?: unknown[];
  y?: unknown[];
  z?: unknown[][];
  [key: string]: unknown;
}

export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout?: Record<string, unknown>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Why `v` is not a drawable figure, or undefined when it is. */
export function figureProblem(v: unknown): string | undefined {
  if (!isPlainObject(v)) return 'figure must be an object';
  if (!Array.isArray(v.data)) return 'figure.data must be an array';
  if (v.data.length > 200) return 'figure.data has more than 200 traces';
  for (let i = 0; i < v.data.length; i++) {
    const t = v.data[i];
    if (!isPlainObject(t)) return `figure.data[${i}] must be an object`;
    const type = t.type ?? 'scatter';
    if (typeof type !== 'string' || !(SVG_TRACE_TYPES as readonly string[]).includes(type)) {
      return `figure.data[${i}].type "${String(type)}" is not an SVG trace type (${SVG_TRACE_TYPES.join(', ')})`;
    }
  }
  if (v.layout !== undefined && !isPlainObject(v.layout)) return 'figure.layout must be an object';
  return undefined;
}

export function isFigure(v: unknown): v is PlotlyFigure {
  return figureProblem(v) === undefined;
}

/** Rows for the screen-reader table alternative of a figure: one row per point/cell. */
export interface FigureTable {
  caption: string;
  columns: string[];
  rows: string[][];
  truncated: boolean;
}

function cell(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  return v === undefined || v === null ? '' : String(v);
}

export function figureTable(fig: PlotlyFigure, maxRows = 500): FigureTable {
  const title =
    fig.layout && typeof fig.layout.title === 'object' && fig.layout.title !== null
      ? String((fig.layout.title as Record<string, unknown>).text ?? '')
      : typeof fig.layout?.title === 'string'
        ? fig.layout.title
        : '';
  const rows: string[][] = [];
  let truncated = false;
  for (const [ti, t] of fig.data.entries()) {
    const name = t.name ?? `trace ${ti + 1}`;
    if (Array.isArray(t.z)) {
      t.z.forEach((row, r) =>
        (Array.isArray(row) ? row : []).forEach((v, c) => {
          if (rows.length >= maxRows) {
            truncated = true;
            return;
          }
          rows.push([name, cell(Array.isArray(t.x) ? t.x[c] : c), cell(Array.isArray(t.y) ? t.y[r] : r), cell(v)]);
        }),
      );
      continue;
    }
    const n = Math.max(t.x?.length ?? 0, t.y?.length ?? 0);
    for (let i = 0; i < n; i++) {
      if (rows.length >= maxRows) {
        truncated = true;
        break;
      }
      rows.push([name, cell(t.x ? t.x[i] : i), cell(t.y ? t.y[i] : ''), '']);
    }
  }
  const hasZ = fig.data.some((t) => Array.isArray(t.z));
  const columns = hasZ ? ['series', 'x', 'y', 'value'] : ['series', 'x', 'y'];
  return { caption: title || 'Figure data', columns, rows: hasZ ? rows : rows.map((r) => r.slice(0, 3)), truncated };
}
