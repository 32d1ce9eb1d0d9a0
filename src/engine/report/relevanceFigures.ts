// Figures of one relevance result: a per-layer heatmap of the scores that fits the layer's shape
// (a dense kernel: units x inputs; a convolution kernel: output x input channels, each cell the sum
// over the kernel's spatial positions, the spatial map on hover and in the table; other weights:
// one row per weight over its entries), the variational posterior (mu against sigma), and
// Belsley's diagnostic (condition indices and the variance-decomposition proportions, like
// Figure 1 and Table 1 of the essay).
import type { Graph } from '../model/graph';
import type { Figure } from './figure';

/**
 * Relevance scores of one layer (an index into graph.layers()) as a heatmap. `inputNames` label a
 * first dense layer's inputs (the data's feature names).
 */
export function relevanceHeatmap(
  net: Graph,
  scores: ArrayLike<number>,
  layer: number,
  method: string,
  inputNames?: string[],
): Figure {
  const l = net.layers()[layer];
  const kernel = l.weights.map((k) => net.weights[k]).find((w) => w.isKernel);
  const id = `relevance-heatmap-${layer}`;
  if (kernel && kernel.shape.length === 2) {
    const [inSize, outSize] = kernel.shape;
    const z: number[][] = [];
    for (let u = 0; u < outSize; u++) {
      const row: number[] = [];
      for (let i = 0; i < inSize; i++) row.push(scores[kernel.offset + i * outSize + u]);
      z.push(row);
    }
    const x =
      layer === 0 && inputNames?.length === inSize ? inputNames : Array.from({ length: inSize }, (_, i) => `in ${i}`);
    const y = Array.from({ length: outSize }, (_, u) => `unit ${u}`);
    return {
      id,
      title: `${method} relevance of layer ${l.name} (${inSize} x ${outSize})`,
      data: [{ type: 'heatmap', z, x, y, colorscale: 'Viridis' }],
      layout: { xaxis: { title: { text: 'input' } }, yaxis: { title: { text: 'unit' } } },
      table: { columns: ['unit', ...x.map(String)], rows: z.map((r, u) => [y[u], ...r]) },
    };
  }
  if (kernel && kernel.shape.length === 4) {
    // [kh, kw, in, out] (Conv2D) or [kh, kw, channels, multiplier] (DepthwiseConv2D).
    const [kh, kw, cin, cout] = kernel.shape;
    const depthwise = kernel.weight === 'depthwise_kernel';
    const z: number[][] = [];
    const text: string[][] = [];
    const rows: (string | number)[][] = [];
    const at = (r: number, c: number, i: number, o: number) =>
      scores[kernel.offset + ((r * kw + c) * cin + i) * cout + o];
    for (let o = 0; o < cout; o++) {
      const zr: number[] = [];
      const tr: string[] = [];
      for (let i = 0; i < cin; i++) {
        let sum = 0;
        const map: string[] = [];
        const cells: number[] = [];
        for (let r = 0; r < kh; r++) {
          const line: string[] = [];
          for (let c = 0; c < kw; c++) {
            const v = at(r, c, i, o);
            sum += v;
            cells.push(v);
            line.push(v.toPrecision(3));
          }
          map.push(line.join(' '));
        }
        zr.push(sum);
        tr.push(map.join('<br>'));
        rows.push([`${depthwise ? 'multiplier' : 'out'} ${o}`, `in ${i}`, sum, ...cells]);
      }
      z.push(zr);
      text.push(tr);
    }
    const x = Array.from({ length: cin }, (_, i) => `in ${i}`);
    const y = Array.from({ length: cout }, (_, o) => `${depthwise ? 'multiplier' : 'out'} ${o}`);
    const positions: string[] = [];
    for (let r = 0; r < kh; r++) for (let c = 0; c < kw; c++) positions.push(`(${r},${c})`);
    return {
      id,
      title: `${method} relevance of layer ${l.name} (${kh}x${kw} kernel, ${cin} -> ${depthwise ? `x${cout}` : cout} channels, summed over positions)`,
      data: [
        {
          type: 'heatmap',
          z,
          x,
          y,
          text,
          hovertemplate: '%{y}, %{x}: sum %{z:.3g}<br>%{text}<extra></extra>',
          colorscale: 'Viridis',
        },
      ],
      layout: {
        xaxis: { title: { text: 'input channel' } },
        yaxis: { title: { text: depthwise ? 'depth multiplier' : 'output channel' } },
      },
      table: { columns: ['output', 'input', 'sum', ...positions], rows },
    };
  }
  // Any other layer (BatchNormalization's gamma and beta, a bias-only layer): one row per weight.
  const ws = l.weights.map((k) => net.weights[k]);
  const width = Math.max(...ws.map((w) => w.size));
  const z = ws.map((w) => Array.from({ length: width }, (_, i) => (i < w.size ? scores[w.offset + i] : NaN)));
  const x = Array.from({ length: width }, (_, i) => `${i}`);
  const y = ws.map((w) => w.weight);
  return {
    id,
    title: `${method} relevance of layer ${l.name} (${ws.map((w) => `${w.weight} ${w.shape.join('x')}`).join(', ')})`,
    data: [{ type: 'heatmap', z, x, y, colorscale: 'Viridis' }],
    layout: { xaxis: { title: { text: 'entry' } }, yaxis: { title: { text: 'weight' } } },
    table: { columns: ['weight', ...x], rows: z.map((r, i) => [y[i], ...r]) },
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
