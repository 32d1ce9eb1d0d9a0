// `prunescope belsley`: Belsley's diagnostic on a matrix from a file (covariance, correlation or data).
import { bool, oneOf, str } from '../args';
import type { Command } from '../command';
import { badInput } from '../../engine/errors';
import { belsley, BelsleyResult, proportionRows } from '../../engine/relevance/belsley';
import { belsleyData } from '../../engine/relevance/belsleyData';
import { readMatrixFile } from '../../engine/relevance/belsleyMatrixFile';

import { BELSLEY_INPUTS, BELSLEY_ORDERINGS, RELEVANCE_DEFAULTS } from '../../engine/options';

export const belsleyCommand: Command = {
  name: 'belsley',
  summary: "Belsley's condition indices, variance proportions and parameter ordering for a matrix",
  usage:
    'prunescope belsley --matrix FILE.csv|FILE.json [--input covariance|correlation|data] [--intercept] [--ordering exact|fast] [--json]',
  flags: [
    { name: 'matrix', value: true, help: 'CSV (no header, numbers only) or JSON (array of rows)' },
    {
      name: 'input',
      value: true,
      help: 'covariance (default: standardised to correlation), correlation, or data (rows = observations)',
    },
    { name: 'intercept', value: false, help: 'data input: prepend a column of ones (it becomes column 0)' },
    {
      name: 'ordering',
      value: true,
      help: `exact (remove and recompute; default up to ${RELEVANCE_DEFAULTS.exactOrderingLimit}) or fast (one decomposition)`,
    },
    { name: 'json', value: false, help: 'print one JSON document' },
  ],
  async run(args, ctx) {
    const file = str(args, 'matrix');
    if (!file) throw badInput('--matrix is required', { field: 'belsley', expected: 'a .csv or .json file' });
    const input = oneOf(args, 'input', BELSLEY_INPUTS, BELSLEY_INPUTS[0]);
    const intercept = bool(args, 'intercept');
    if (intercept && input !== 'data')
      throw badInput('--intercept applies to --input data only', { field: '--intercept' });
    const orderingFlag =
      str(args, 'ordering') === undefined ? undefined : oneOf(args, 'ordering', BELSLEY_ORDERINGS, 'exact');
    const m = readMatrixFile(file);
    let r: BelsleyResult;
    if (input === 'data') {
      r = belsleyData(m.data, m.rows, m.cols, { intercept, ordering: orderingFlag, source: file, signal: ctx.signal });
    } else {
      if (m.rows !== m.cols)
        throw badInput(`matrix is ${m.rows} x ${m.cols}`, {
          file,
          field: 'matrix',
          expected: `a square ${input} matrix (or --input data)`,
        });
      r = belsley(m.data, m.rows, { input, ordering: orderingFlag, source: file, signal: ctx.signal });
    }
    const doc = {
      conditionIndices: Array.from(r.conditionIndices),
      conditionIndicesBKW: Array.from(r.conditionIndicesBKW),
      proportions: proportionRows(r),
      xi: r.xi,
      zeta: r.zeta,
      order: Array.from(r.order),
      ordering: r.ordering,
      input: r.input,
      eigenvalues: Array.from(r.eigenvalues),
      definitions: r.definitions,
    };
    if (bool(args, 'json')) {
      ctx.out(JSON.stringify(doc));
      return;
    }
    const fmt = (v: number) =>
      Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(4) : v.toFixed(6);
    const lines = [
      `input: ${r.input}${r.input === 'data' && intercept ? ' (intercept added as column 0)' : ''}; ordering: ${r.ordering}`,
      `condition indices (essay, lambda_max/lambda_j): ${doc.conditionIndices.map(fmt).join(' ')}`,
      `condition indices (BKW, sqrt):                 ${doc.conditionIndicesBKW.map(fmt).join(' ')}`,
      'variance proportions (row = parameter/column, columns in the order above):',
      ...doc.proportions.map((row, i) => `  ${String(i).padStart(3)}: ${row.map((v) => v.toFixed(5)).join(' ')}`),
      `xi = ${r.xi} (component), zeta = ${r.zeta} (least relevant)`,
      `order (least relevant first): ${doc.order.join(' ')}`,
    ];
    ctx.out(lines.join('\n'));
  },
};
