// Plotly figure specs (plain data) for gradient-variance ordering and freezing, shared by the HTML
// report and the VS Code webview.
import type { Figure } from '../report/figure';
import type { FreezeExperimentResult, FreezeTimeline } from './experiment';
import type { CovarianceBlock } from './types';

const BAND = { ordered: 'rgba(31,119,180,0.2)', random: 'rgba(255,127,14,0.2)' };
const LINE = { ordered: 'rgb(31,119,180)', random: 'rgb(255,127,14)' };

/** Final loss against frozen share, ordered vs random, mean with a +-1 std band over seeds. */
export function lossVsShareFigure(r: FreezeExperimentResult, which: 'test' | 'train' = 'test'): Figure {
  const data: Figure['data'] = [];
  for (const policy of ['ordered', 'random'] as const) {
    const rows = r.rows.filter((x) => x.policy === policy);
    const x = rows.map((x) => x.share);
    const m = rows.map((x) => (which === 'test' ? x.testMean : x.trainMean));
    const s = rows.map((x) => (which === 'test' ? x.testStd : x.trainStd));
    data.push({
      type: 'scatter',
      mode: 'lines',
      x: [...x, ...x.slice().reverse()],
      y: [...m.map((v, i) => v + s[i]), ...m.map((v, i) => v - s[i]).reverse()],
      fill: 'toself',
      fillcolor: BAND[policy],
      line: { width: 0 },
      hoverinfo: 'skip',
      showlegend: false,
      name: `${policy} spread`,
    });
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      x,
      y: m,
      name: `${policy} freezing`,
      line: { color: LINE[policy] },
    });
  }
  return {
    id: `freeze-${which}-loss`,
    title: `Final ${which} loss against the share of parameters frozen at t0`,
    data,
    layout: {
      xaxis: { title: { text: 'share frozen' } },
      yaxis: { title: { text: `${which} loss (mean +- 1 std over seeds)` } },
    },
    table: {
      columns: ['share', 'policy', 'frozen', `${which} mean`, `${which} std`],
      rows: r.rows.map((x) => [
        x.share,
        x.policy,
        x.frozen,
        which === 'test' ? x.testMean : x.trainMean,
        which === 'test' ? x.testStd : x.trainStd,
      ]),
    },
  };
}

/** Every parameter's variance, in the order (least first), log scale. */
export function orderedVarianceFigure(variances: number[], order: number[]): Figure {
  const step = Math.max(1, Math.ceil(order.length / 5000)); // keep the page light for big models
  const pos: number[] = [],
    v: number[] = [],
    idx: number[] = [];
  for (let i = 0; i < order.length; i += step) {
    pos.push(i + 1);
    v.push(Math.max(variances[order[i]], 1e-30));
    idx.push(order[i]);
  }
  return {
    id: 'ordered-variance',
    title: `Gradient variance C_jj of every parameter in order${step > 1 ? ` (every ${step}th shown)` : ''}`,
    data: [
      {
        type: 'scatter',
        mode: 'lines',
        x: pos,
        y: v,
        name: 'C_jj',
        customdata: idx,
        hovertemplate: 'rank %{x}: parameter %{customdata}, %{y:.3e}<extra></extra>',
      },
    ],
    layout: {
      xaxis: { title: { text: 'rank (1 = least variance, frozen first)' } },
      yaxis: { title: { text: 'C_jj' }, type: 'log' },
    },
  };
}

/** Heatmap of one covariance block (capped at 100 x 100 so the page stays small). */
export function covarianceHeatmapFigure(b: CovarianceBlock, cap = 100): Figure {
  const n = Math.min(b.size, cap);
  const z = Array.from({ length: n }, (_, i) => Array.from(b.matrix.subarray(i * b.size, i * b.size + n)));
  const ticks = Array.from({ length: n }, (_, i) => b.offset + i);
  return {
    id: 'covariance-block',
    title: `Gradient covariance, layer ${b.name}${n < b.size ? ` (first ${n} of ${b.size} parameters)` : ''}`,
    data: [{ type: 'heatmap', z, x: ticks, y: ticks, colorscale: 'RdBu', zmid: 0, reversescale: true }],
    layout: {
      xaxis: { title: { text: 'flat index' } },
      yaxis: { title: { text: 'flat index' }, autorange: 'reversed' },
    },
  };
}

/** Which parameters froze when, and the loss with and without freezing. */
export function freezeTimelineFigure(t: FreezeTimeline): Figure {
  const steps = t.lossFrozen.map((_, i) => i + 1);
  const frozen = t.freezeStep.map((s, j) => [j, s] as const).filter(([, s]) => s > 0);
  const stride = Math.max(1, Math.ceil(frozen.length / 3000));
  const pts = frozen.filter((_, i) => i % stride === 0);
  return {
    id: 'freeze-timeline',
    title: `Freeze timeline (share ${t.share}, seed ${t.seed}): minibatch loss and the parameters frozen`,
    data: [
      ...(t.lossPlain.length
        ? [{ type: 'scatter' as const, mode: 'lines', x: steps, y: t.lossPlain, name: 'loss, no freezing' }]
        : []),
      { type: 'scatter', mode: 'lines', x: steps, y: t.lossFrozen, name: `loss, ${t.share} frozen` },
      {
        type: 'scatter',
        mode: 'markers',
        x: pts.map(([, s]) => s),
        y: pts.map(([j]) => j),
        name: 'parameter frozen',
        yaxis: 'y2',
        marker: { size: 3, opacity: 0.5 },
      },
    ],
    layout: {
      xaxis: { title: { text: 'step' } },
      yaxis: { title: { text: 'minibatch loss' }, type: 'log' },
      yaxis2: { title: { text: 'flat index frozen' }, overlaying: 'y', side: 'right', showgrid: false },
      shapes: t.events.map((e) => ({
        type: 'line',
        x0: e.step,
        x1: e.step,
        yref: 'paper',
        y0: 0,
        y1: 1,
        line: { dash: 'dot', color: 'gray' },
      })),
    },
  };
}
