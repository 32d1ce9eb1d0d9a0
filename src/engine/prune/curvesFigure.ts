// The method-comparison figure: test metric against the share of weights removed, one line per
// method, with a +-1 sd band where a method was run over several seeds.
import type { CurvesResult } from './curves';
import type { StructuredCurvesResult } from './structuredCurves';
import type { Figure, FigureTrace } from '../report/figure';

const COLORS: Record<string, string> = {
  random: '#7f7f7f',
  obd: '#1f77b4',
  variational: '#2ca02c',
  belsley: '#d62728',
};

export function curvesFigure(r: CurvesResult, title = 'Quality against share of weights removed'): Figure {
  const x = r.shares.map((s) => 100 * s);
  const data: FigureTrace[] = [];
  for (const [name, c] of Object.entries(r.curves)) {
    const color = COLORS[name.split(':')[0]] ?? undefined;
    if (c.runs.length > 1) {
      data.push({
        type: 'scatter',
        x: [...x, ...[...x].reverse()],
        y: [...c.mean.map((m, i) => m + c.sd[i]), ...c.mean.map((m, i) => m - c.sd[i]).reverse()],
        fill: 'toself',
        line: { width: 0 },
        fillcolor: color ? color + '33' : undefined,
        hoverinfo: 'skip',
        showlegend: false,
        name: `${name} ±1 sd`,
      });
    }
    data.push({ type: 'scatter', mode: 'lines+markers', name, x, y: c.mean, line: { color }, marker: { size: 4 } });
  }
  const metric = r.metric === 'accuracy' ? 'test accuracy' : 'test MSE';
  return {
    id: 'curves',
    title,
    data,
    layout: {
      xaxis: { title: { text: 'weights removed, %' } },
      yaxis: { title: { text: metric } },
      legend: { orientation: 'h' },
    },
    table: {
      columns: [
        'share removed',
        ...Object.keys(r.curves).flatMap((n) => (r.curves[n].runs.length > 1 ? [`${n} mean`, `${n} sd`] : [n])),
      ],
      rows: r.shares.map((s, i) => [
        s,
        ...Object.values(r.curves).flatMap((c) => (c.runs.length > 1 ? [c.mean[i], c.sd[i]] : [c.mean[i]])),
      ]),
    },
  };
}

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

/**
 * Structured curves: the metric against the share of channels (or units) removed; every point's
 * hover and the table give the shares of parameters and multiply-adds that went with them.
 */
export function structuredCurvesFigure(r: StructuredCurvesResult): Figure {
  const what = r.unit === 'units' ? 'units' : 'channels';
  const fig = curvesFigure(r, `Quality against share of ${what} removed`);
  for (const t of fig.data) {
    const c = t.name ? r.curves[t.name] : undefined;
    if (!c || t.fill) continue;
    t.text = r.shares.map(
      (_, i) =>
        `${what} ${pct(c.channelsRemoved[i])}, parameters ${pct(c.paramsRemoved[i])}, MACs ${pct(c.macsRemoved[i])}`,
    );
    t.hovertemplate = `${t.name}: %{y}<br>%{text}<extra></extra>`;
  }
  (fig.layout.xaxis as Record<string, unknown>).title = { text: `${what} removed, % (of ${r.removableChannels})` };
  const names = Object.keys(r.curves);
  fig.id = 'structured-curves';
  fig.table = {
    columns: [
      `share of ${what}`,
      ...names.flatMap((n) => [
        ...(r.curves[n].runs.length > 1 ? [`${n} mean`, `${n} sd`] : [n]),
        `${n} parameters removed`,
        `${n} MACs removed`,
      ]),
    ],
    rows: r.shares.map((s, i) => [
      s,
      ...names.flatMap((n) => {
        const c = r.curves[n];
        return [...(c.runs.length > 1 ? [c.mean[i], c.sd[i]] : [c.mean[i]]), c.paramsRemoved[i], c.macsRemoved[i]];
      }),
    ]),
  };
  return fig;
}
