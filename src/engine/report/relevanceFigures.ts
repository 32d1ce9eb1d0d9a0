// Figures of one relevance result: a per-layer heatmap of the scores (units x inputs), the
// variational posterior (mu against sigma), and Belsley's diagnostic (condition indices and the
// variance-decomposition proportions, like Figure 1 and Table 1 of the essay).
import type { Network } from '../model/network';
import type { Figure } from './figure';

/** Relevance scores of one layer's kernel as a heatmap: rows = units, columns = inputs. */
export function relevanceHeatmap(
  net: Network,
  scores: ArrayLike<number>,
  layer: number,
  method: string,
  inputNames?: string[],
): Figure {
  const l = net.layout[layer];
  const z: number[][] = [];
  for (let u = 0; u < l.outSize; u++) {
    const row: number[] = [];
    for (let i = 0; i < l.inSize; i++) row.push(scores[l.kernelOffset + i * l.outSize + u]);
    z.push(row);
  }
  const x =
    layer === 0 && inputNames?.length === l.inSize ? inputNames : Array.from({ length: l.inSize }, (_, i) => `in ${i}`);
  const y = Array.from({ length: l.outSize }, (_, u) => `unit ${u}`);
  return {
    id: `relevance-heatmap-${layer}`,
    title: `${method} relevance of layer ${l.name} (${l.inSize} x ${l.outSize})`,
    data: [{ type: 'heatmap', z, x, y, colorscale: 'Viridis' }],
    layout: { xaxis: { title: { text: 'input' } }, yaxis: { title: { text: 'unit' } } },
    table: { columns: ['unit', ...x.map(String)], rows: z.map((r, u) => [y[u], ...r]) },
  };
}

/** mu against sigma of the variational posterior; the diagonal lines are |mu/sigma| = 1, 10. */
export function variationalFigure(mu: ArrayLike<number>, sigma: ArrayLike<number>): Figure {
  const am = Array.from(mu, Math.abs);
  const s = Array.from(sigma);
  const lo = Math.max(1e-8, Math.min(...s.filter((v) => v > 0)));
  const hi = Math.max(...s);
  return {
    id: 'variational-posterior',
    title: 'Variational posterior: |mu| against sigma per parameter',
    data: [
      { type: 'scatter', mode: 'markers', name: 'parameters', x: s, y: am, marker: { size: 4, opacity: 0.7 } },
      { type: 'scatter', mode: 'lines', name: '|mu/sigma| = 1', x: [lo, hi], y: [lo, hi], line: { dash: 'dot' } },
      {
        type: 'scatter',
        mode: 'lines',
        name: '|mu/sigma| = 10',
        x: [lo, hi],
        y: [10 * lo, 10 * hi],
        line: { dash: 'dash' },
      },
    ],
    layout: { xaxis: { type: 'log', title: { text: 'sigma' } }, yaxis: { type: 'log', title: { text: '|mu|' } } },
    table: {
      columns: ['parameter', 'mu', 'sigma', '|mu/sigma|'],
      rows: am.slice(0, 500).map((m, j) => [j, mu[j], s[j], m / s[j]]),
    },
  };
}

export interface BelsleyView {
  /** Essay definition lambda_max / lambda_j, decreasing. */
  conditionIndices: ArrayLike<number>;
  /** Rows per parameter, one column per component in the same order. */
  proportions: number[][];
  /** Names of the parameters (rows). */
  names: string[];
}

export function belsleyConditionFigure(v: BelsleyView, top = 30): Figure {
  const eta = Array.from(v.conditionIndices).slice(0, top);
  return {
    id: 'belsley-condition',
    title: 'Belsley condition indices eta_j = lambda_max / lambda_j (essay definition)',
    data: [{ type: 'bar', x: eta.map((_, j) => `c${j + 1}`), y: eta }],
    layout: {
      yaxis: { type: 'log', title: { text: 'condition index' } },
      xaxis: { title: { text: 'component (decreasing index)' } },
    },
    table: { columns: ['component', 'condition index'], rows: eta.map((e, j) => [`c${j + 1}`, e]) },
  };
}

/** Proportions q_ij as a heatmap: the `topComponents` worst components, the parameters most involved in them. */
export function belsleyProportionsFigure(v: BelsleyView, topComponents = 10, topParams = 40): Figure {
  const c = Math.min(topComponents, v.proportions[0]?.length ?? 0);
  const score = v.proportions.map((row, i) => [i, Math.max(...row.slice(0, c))] as const);
  score.sort((a, b) => b[1] - a[1]);
  const rows = score
    .slice(0, topParams)
    .map(([i]) => i)
    .sort((a, b) => a - b);
  const z = rows.map((i) => v.proportions[i].slice(0, c));
  const x = Array.from({ length: c }, (_, j) => `c${j + 1}`);
  const y = rows.map((i) => v.names[i] ?? `p${i}`);
  return {
    id: 'belsley-proportions',
    title:
      'Variance-decomposition proportions q_ij (rows: parameters, columns: components by decreasing condition index)',
    data: [{ type: 'heatmap', z, x, y, zmin: 0, zmax: 1, colorscale: 'Reds' }],
    layout: { xaxis: { title: { text: 'component' } }, yaxis: { title: { text: 'parameter' }, automargin: true } },
    table: { columns: ['parameter', ...x], rows: z.map((r, k) => [y[k], ...r]) },
  };
}
