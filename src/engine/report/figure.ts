// A figure is a plain plotly spec (data + layout), produced by the engine and drawn unchanged by
// every surface: the CLI's HTML report, the side panel webview and the notebook renderer.
// Only SVG trace types are used (scatter, bar, heatmap) so no surface needs 'unsafe-eval'.
export interface FigureTrace {
  type: 'scatter' | 'bar' | 'heatmap';
  name?: string;
  x?: (number | string)[];
  y?: (number | string)[];
  z?: number[][];
  mode?: string;
  [key: string]: unknown;
}

export interface Figure {
  /** Stable id, e.g. 'curves' or 'belsley-proportions'. */
  id: string;
  title: string;
  data: FigureTrace[];
  layout: Record<string, unknown>;
  /** A plain table of the same numbers, for screen readers and copy-paste. */
  table?: { columns: string[]; rows: (string | number)[][] };
}
