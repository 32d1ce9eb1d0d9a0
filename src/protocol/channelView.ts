// The structured (channel) part of the analysis views, as plain data: the dependency groups'
// table rows, one relevance bar chart per group, the first convolution's filters as grey-scale
// pixels, and the structured what-if's text. Pure, so the webview only draws it and tests check it.
import type { PlotlyFigure } from './figure';
import type { FirstConvFilters, GroupChannelRelevance, GroupSummary, StructuredWhatif } from './jobs';

export interface GroupRow {
  id: number;
  producers: string;
  /** Layer/weight slices a channel takes with it, e.g. "bn1.gamma (channel)". */
  members: string;
  channels: number;
  removable: number;
  /** Why the other channels stay ('' when all can go). */
  fixed: string;
}

export function groupRows(groups: GroupSummary[]): GroupRow[] {
  return groups.map((g) => ({
    id: g.id,
    producers: g.producers.join(', ') || '(graph input)',
    members: g.members.map((m) => `${m.node}.${m.weight} (${m.role})`).join(', '),
    channels: g.channels,
    removable: g.removable,
    fixed: g.fixedBecause.join('; '),
  }));
}

/** A group's name in titles: its producing layers. */
export const groupName = (g: { group: number; producers: string[] }): string =>
  g.producers.length ? g.producers.join(' + ') : `group ${g.group}`;

/**
 * One bar per removable channel (fixed channels are left out: they are never removed); the
 * figure's data table (figure.ts figureTable) is the chart's accessible alternative.
 */
export function channelBars(g: GroupChannelRelevance, method: string): PlotlyFigure {
  const x: string[] = [];
  const y: number[] = [];
  g.scores.forEach((s, c) => {
    if (s === null) return;
    x.push(`ch ${c}`);
    y.push(s);
  });
  return {
    data: [{ type: 'bar', name: `${method} relevance`, x, y }],
    layout: {
      title: { text: `${groupName(g)}: ${method} relevance per channel` },
      xaxis: { title: { text: 'channel' }, type: 'category' },
      yaxis: { title: { text: 'relevance' } },
    },
  };
}

export interface FilterImage {
  filter: number;
  width: number;
  height: number;
  /** Grey levels 0..255, row-major (kh rows of kw). */
  pixels: Uint8ClampedArray;
  relevance: number | null;
}

/**
 * Each filter of the first convolution as a kh x kw grey-scale image: the kernel over input
 * channel `inChannel`, or the mean over input channels ('mean'), normalised per filter so that its
 * smallest weight is black and its largest white (a constant filter is mid-grey).
 */
export function filterImages(f: FirstConvFilters, inChannel: number | 'mean' = 'mean'): FilterImage[] {
  const [kh, kw] = f.kernelSize;
  const { inChannels: cin, filters: cout } = f;
  if (f.kernel.length !== kh * kw * cin * cout) throw new Error(`filterImages: kernel has ${f.kernel.length} values`);
  if (inChannel !== 'mean' && !(Number.isInteger(inChannel) && inChannel >= 0 && inChannel < cin))
    throw new Error(`filterImages: input channel ${inChannel} out of range`);
  const out: FilterImage[] = [];
  for (let o = 0; o < cout; o++) {
    const v = new Float64Array(kh * kw);
    for (let p = 0; p < kh * kw; p++) {
      const at = (c: number) => f.kernel[(p * cin + c) * cout + o];
      if (inChannel === 'mean') {
        let s = 0;
        for (let c = 0; c < cin; c++) s += at(c);
        v[p] = s / cin;
      } else v[p] = at(inChannel);
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of v) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    const pixels = new Uint8ClampedArray(kh * kw);
    for (let p = 0; p < v.length; p++) pixels[p] = hi > lo ? Math.round(((v[p] - lo) / (hi - lo)) * 255) : 128;
    out.push({ filter: o, width: kw, height: kh, pixels, relevance: f.relevance[o] ?? null });
  }
  return out;
}

/**
 * The filters side by side in one grey-scale heatmap (the notebook's drawing of filterImages: its
 * renderer draws plotly figures only): filter o's pixels in columns o * (kw + 1) .. o * (kw + 1) +
 * kw - 1, a null column between filters, and each filter's relevance in its axis label.
 */
export function filterMosaic(f: FirstConvFilters, inChannel: number | 'mean' = 'mean'): PlotlyFigure {
  const imgs = filterImages(f, inChannel);
  const [kh, kw] = f.kernelSize;
  const width = imgs.length * (kw + 1) - 1;
  const z: (number | null)[][] = Array.from({ length: kh }, () => new Array<number | null>(width).fill(null));
  const tickvals: number[] = [];
  const ticktext: string[] = [];
  for (const img of imgs) {
    const x0 = img.filter * (kw + 1);
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) z[i][x0 + j] = img.pixels[i * kw + j];
    tickvals.push(x0 + (kw - 1) / 2);
    ticktext.push(`#${img.filter}: ${img.relevance === null ? 'fixed' : img.relevance.toPrecision(3)}`);
  }
  const shown = inChannel === 'mean' ? 'mean over input channels' : `input channel ${inChannel}`;
  return {
    data: [{ type: 'heatmap', name: 'grey level', z, colorscale: 'Greys', reversescale: true, showscale: false }],
    layout: {
      title: { text: `${f.layer}: ${f.filters} filters of ${kh} x ${kw} (${shown}) with their relevance` },
      xaxis: { tickvals, ticktext, tickangle: -45 },
      yaxis: { autorange: 'reversed', showticklabels: false, scaleanchor: 'x' },
    },
  };
}

const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(1)}%` : 'n/a');

/** The structured what-if's result line: channels removed, the metric, parameters and FLOPs left. */
export function structuredWhatifText(r: {
  method: string;
  metric: 'accuracy' | 'mse';
  value: number;
  baseline: number;
  structured: StructuredWhatif;
}): string {
  const fmt = (v: number) => (r.metric === 'accuracy' ? `${(v * 100).toFixed(1)}%` : v.toPrecision(4));
  const s = r.structured;
  return (
    `${r.method}: ${s.removedChannels} of ${s.removableChannels} ${s.unit} removed; ` +
    `test ${r.metric} ${fmt(r.value)} (baseline ${fmt(r.baseline)}); ` +
    `parameters left ${s.paramsLeft} of ${s.paramsTotal} (${pct(s.paramsLeft, s.paramsTotal)}); ` +
    `FLOPs left ${s.macsLeft} of ${s.macsTotal} multiply-adds (${pct(s.macsLeft, s.macsTotal)})`
  );
}
