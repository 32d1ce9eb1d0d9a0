// The paper1 report: the curves with their spread over seeds, the largest share each method can
// remove while staying close to the unpruned model, and a plain statement of what was found,
// computed from the numbers (whichever way they go) and set against what the paper reports.
import type { Figure } from '../report/figure';
import type { ReportSection } from '../report/html';
import { curvesFigure } from '../prune/curvesFigure';
import { largestShareWithin, Paper1Result } from './paper1';
import { paper1Findings, tolerance } from './paper1Findings';
import type { VariationalResult } from '../relevance/variational';

/**
 * Per teacher seed, the variational fit's posterior mean beside the teacher (undefined without a variational ranking).
 */
export function variationalFitRows(r: Paper1Result): (string | number)[][] | undefined {
  const rows = r.runs.flatMap((run) => {
    const v = run.rankings.variational as VariationalResult | undefined;
    if (!v?.fit) return [];
    const m = (x: { accuracy?: number; mse?: number } | undefined) => (x ? (x.accuracy ?? x.mse ?? NaN) : NaN);
    return [
      [
        run.seed,
        m(v.fit.teacher.train),
        m(v.fit.teacher.test),
        m(v.fit.posteriorMean.train),
        m(v.fit.posteriorMean.test),
        v.fit.ratio,
        v.noiseVariance ?? '',
      ],
    ];
  });
  return rows.length ? rows : undefined;
}

/** Warnings of the variational fits (mu a different model from the teacher), one line per seed. */
export function variationalFitWarnings(r: Paper1Result): string[] {
  return r.runs.flatMap((run) => {
    const w = (run.rankings.variational as VariationalResult | undefined)?.fit?.warning;
    return w ? [`Seed ${run.seed}: ${w}.`] : [];
  });
}

const FIT_COLUMNS = (metric: string) => [
  'seed',
  `teacher train ${metric}`,
  `teacher test ${metric}`,
  `mu train ${metric}`,
  `mu test ${metric}`,
  'mu / teacher (test)',
  'noise variance',
];

export function paper1Figure(r: Paper1Result): Figure {
  return curvesFigure(
    { metric: r.metric, shares: r.shares, curves: r.curves, baseline: r.baseline.mean, provenance: r.provenance },
    `${r.data}: test ${r.metric} against share of weights removed (mean ± sd over ${r.runs.length} teacher seeds)`,
  );
}

/** Which weights the two variational curves prune (METHODS.md 2.5 evaluates pruned models at w = mu). */
export function variationalNote(r: Paper1Result): string | undefined {
  const w = (r.provenance.options as { prunedWeights?: Record<string, string> } | undefined)?.prunedWeights;
  if (!w || !('variational' in w)) return undefined;
  const other = Object.keys(w).find((k) => k.startsWith('variational-'));
  const what = (x: string) => (x === 'mu' ? 'the posterior mean mu (METHODS.md 2.5)' : "the teacher's weights");
  return `The variational curve prunes ${what(w.variational)}${other ? `; ${other} prunes ${what(w[other])}, in the same order` : ''}.`;
}

export function paper1Sections(r: Paper1Result): ReportSection[] {
  const tol = tolerance(r.metric);
  return [
    {
      heading: `${r.data}: ${r.setup.description}`,
      text: [
        `Teachers trained with Adam (lr ${r.setup.lr}, batch ${r.setup.batchSize}) on an 80/20 split with standardised features, one per seed (${r.runs.map((x) => x.seed).join(', ')}). Unpruned test ${r.metric}: ${r.baseline.mean.toPrecision(4)} ± ${r.baseline.sd.toPrecision(2)}. Weights only are pruned (biases kept), in ${r.shares.length} steps; OBD uses the exact Hessian diagonal; random is repeated over several seeds per teacher.`,
        ...[variationalNote(r)].filter((x): x is string => !!x),
        ...paper1Findings(r),
        ...variationalFitWarnings(r),
      ],
      figures: [paper1Figure(r)],
      tables: [
        ...(variationalFitRows(r)
          ? [
              {
                caption: `The variational fit's posterior mean mu as a model beside the teacher (warned when the test ${r.metric} differs by more than 2x)`,
                columns: FIT_COLUMNS(r.metric),
                rows: variationalFitRows(r)!,
              },
            ]
          : []),
        {
          caption: `Per teacher seed: unpruned test ${r.metric} and the largest share kept within tolerance (${r.metric === 'accuracy' ? `${tol * 100} point` : `${tol * 100} %`})`,
          columns: ['seed', `test ${r.metric}`, ...Object.keys(r.curves)],
          rows: r.runs.map((run) => [
            run.seed,
            run.curves.baseline,
            ...Object.keys(r.curves).map((m) =>
              largestShareWithin(
                { metric: r.metric, shares: r.shares, baseline: { mean: run.curves.baseline, sd: 0 } },
                run.curves.curves[m],
                tol,
              ),
            ),
          ]),
        },
      ],
    },
  ];
}

/** A Markdown summary: the findings and the curves at a few shares (for READMEs and notes). */
export function paper1Markdown(r: Paper1Result, at: number[] = [0, 0.2, 0.4, 0.6, 0.7, 0.8, 0.9, 1]): string {
  const idx = at.map((s) => r.shares.findIndex((x) => Math.abs(x - s) < 1e-9)).filter((i) => i >= 0);
  const head = `| method | ${idx.map((i) => `${Math.round(100 * r.shares[i])} %`).join(' | ')} |`;
  const sep = `| --- | ${idx.map(() => '---').join(' | ')} |`;
  const rows = Object.entries(r.curves).map(
    ([m, c]) => `| ${m} | ${idx.map((i) => `${c.mean[i].toPrecision(3)} ± ${c.sd[i].toPrecision(2)}`).join(' | ')} |`,
  );
  return [
    `### ${r.data}: ${r.setup.description}`,
    '',
    `Test ${r.metric} (mean ± sd over ${r.runs.length} teacher seeds; random also over its own seeds) against the share of weights removed, on ${r.runs[0]?.split.test.rows ?? 0} test rows per seed. Unpruned: ${r.baseline.mean.toPrecision(4)} ± ${r.baseline.sd.toPrecision(2)}.`,
    '',
    head,
    sep,
    ...rows,
    '',
    ...[variationalNote(r), ...paper1Findings(r), ...variationalFitWarnings(r)]
      .filter((x): x is string => !!x)
      .map((l) => `- ${l}`),
    ...fitTable(r),
    '',
  ].join('\n');
}

function fitTable(r: Paper1Result): string[] {
  const rows = variationalFitRows(r);
  if (!rows) return [];
  const cols = FIT_COLUMNS(r.metric);
  const f = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(3)) : v);
  return [
    '',
    `The variational posterior mean mu as a model (test ${r.metric}), beside the teacher:`,
    '',
    `| ${cols.join(' | ')} |`,
    `| ${cols.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(f).join(' | ')} |`),
    '',
  ];
}
