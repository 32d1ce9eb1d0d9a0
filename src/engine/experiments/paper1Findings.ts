// What the paper1 numbers say, stated so that each claim holds for the range it names:
// - "keeps quality": the largest share up to which the mean curve stays within a tolerance of the
//   unpruned model at every grid point, with the range of that share over teacher seeds; for
//   classification both at 1 accuracy point and at one test sample (on Wine's 36 test rows one
//   sample is 2.8 points, so "within 1 point" means no sample lost);
// - against random removal: better, tied or worse, never a tie read as a loss;
// - which method is best is said per range of shares (0-20 %, ..., 80-98 %), ties named, and
//   over the whole grid by the mean (100 % is the same for every method: biases alone).
import { largestShareWithin, Paper1Result } from './paper1';

/** Tolerance for "keeps quality": 1 accuracy point, or 5 % relative MSE. */
export function tolerance(metric: 'accuracy' | 'mse'): number {
  return metric === 'accuracy' ? 0.01 : 0.05;
}

/** Ranges of shares removed over which the best method is named (the 100 % point is left out). */
export const SHARE_RANGES: [number, number][] = [
  [0, 0.2],
  [0.2, 0.4],
  [0.4, 0.6],
  [0.6, 0.8],
  [0.8, 1],
];

const pct = (s: number) => `${Math.round(100 * s)} %`;
const REL_TIE = 1e-9;

export interface KeptShare {
  /** From the mean curve over seeds. */
  mean: number;
  /** Per teacher seed (random averaged over its own seeds), smallest and largest. */
  seedMin: number;
  seedMax: number;
}

/** Largest share kept within `tol` for every curve: on the mean curve and per teacher seed. */
export function keptShares(r: Paper1Result, tol: number): Record<string, KeptShare> {
  return Object.fromEntries(
    Object.entries(r.curves).map(([m, c]) => {
      const per = r.runs.map((run) =>
        largestShareWithin(
          { metric: r.metric, shares: r.shares, baseline: { mean: run.curves.baseline, sd: 0 } },
          run.curves.curves[m],
          tol,
        ),
      );
      return [m, { mean: largestShareWithin(r, c, tol), seedMin: Math.min(...per), seedMax: Math.max(...per) }];
    }),
  );
}

function keptLine(r: Paper1Result, keep: Record<string, KeptShare>, what: string): string {
  const seeds = r.runs.length;
  return `Largest share of weights removed while the mean test ${r.metric} stays ${what} at every grid point (range over ${seeds} teacher seeds in brackets): ${Object.entries(
    keep,
  )
    .map(([m, k]) => `${m} ${pct(k.mean)} (${pct(k.seedMin)}-${pct(k.seedMax)})`)
    .join(', ')}.`;
}

function versusRandom(keep: Record<string, KeptShare>, what: string): string | undefined {
  if (!('random' in keep)) return undefined;
  const others = Object.keys(keep).filter((m) => m !== 'random');
  if (!others.length) return undefined;
  const r = keep.random.mean;
  const better = others.filter((m) => keep[m].mean > r);
  const tied = others.filter((m) => keep[m].mean === r);
  const worse = others.filter((m) => keep[m].mean < r);
  const parts = [
    better.length
      ? `${better.join(', ')} keep${better.length === 1 ? 's' : ''} quality longer than random removal`
      : '',
    tied.length ? `${tied.join(', ')} tie${tied.length === 1 ? 's' : ''} with it` : '',
    worse.length ? `${worse.join(', ')} keep${worse.length === 1 ? 's' : ''} it for less` : '',
  ].filter(Boolean);
  return `${what} against random removal (${pct(r)}): ${parts.join('; ')}.`;
}

/** Mean metric of each curve over the grid points inside [lo, hi] (lo exclusive except for 0; 100 % excluded). */
function rangeMeans(r: Paper1Result, lo: number, hi: number): [string, number][] {
  const idx = r.shares
    .map((s, i) => [s, i] as const)
    .filter(([s]) => (lo === 0 ? s >= 0 : s > lo + 1e-9) && s <= hi + 1e-9 && s < 1 - 1e-9)
    .map(([, i]) => i);
  if (!idx.length) return [];
  return Object.entries(r.curves).map(([m, c]) => [m, idx.reduce((a, i) => a + c.mean[i], 0) / idx.length]);
}

/** Methods with the best value (ties within a relative 1e-9 named together). */
function best(v: [string, number][], accuracy: boolean): { names: string[]; value: number } {
  const b = accuracy ? Math.max(...v.map((x) => x[1])) : Math.min(...v.map((x) => x[1]));
  const names = v.filter((x) => Math.abs(x[1] - b) <= REL_TIE * Math.max(1, Math.abs(b))).map((x) => x[0]);
  return { names, value: b };
}

export function paper1Findings(r: Paper1Result): string[] {
  const acc = r.metric === 'accuracy';
  const tol = tolerance(r.metric);
  const lines: string[] = [];
  const testRows = r.runs[0]?.split.test.rows ?? 0;
  const keep = keptShares(r, tol);
  const what = acc
    ? `within 1 accuracy point of the unpruned model (the test part has ${testRows} rows: one sample is ${(100 / testRows).toFixed(1)} points, so this means no test sample lost on average)`
    : `within ${tol * 100} % of the unpruned model's MSE`;
  lines.push(keptLine(r, keep, what));
  const vr = versusRandom(keep, acc ? 'At 1 point' : `At ${tol * 100} %`);
  if (vr) lines.push(vr);
  if (acc && testRows > 0) {
    const one = 1 / testRows;
    const keep1 = keptShares(r, one + 1e-12);
    lines.push(keptLine(r, keep1, `within one test sample (${(100 * one).toFixed(1)} points) of the unpruned model`));
    const v1 = versusRandom(keep1, 'Within one test sample');
    if (v1) lines.push(v1);
  }
  const top = Math.max(...Object.values(keep).map((k) => k.mean));
  if (top <= 0.2)
    lines.push(
      `No method keeps ${r.data}'s test ${r.metric} ${acc ? 'within 1 point' : `within ${tol * 100} %`} beyond 0-${Math.round(100 * top)} % of the weights removed.`,
    );
  // Per range of shares: which method is best there.
  const ranges = SHARE_RANGES.map(([lo, hi]) => {
    const v = rangeMeans(r, lo, hi);
    if (!v.length) return undefined;
    const b = best(v, acc);
    const shown = r.shares.filter((s) => (lo === 0 ? s >= 0 : s > lo + 1e-9) && s <= hi + 1e-9 && s < 1 - 1e-9);
    const a = Math.round(100 * shown[0]),
      z = Math.round(100 * shown[shown.length - 1]);
    return `${a === z ? `${a} %` : `${a}-${z} %`}: ${b.names.join(' = ')} (${b.value.toPrecision(3)})`;
  }).filter((x): x is string => !!x);
  if (ranges.length)
    lines.push(
      `${acc ? 'Highest mean test accuracy' : 'Lowest mean test MSE'} by range of shares removed: ${ranges.join('; ')}.`,
    );
  // Over the whole grid: the mean metric across shares (equal weight per grid point).
  const area = Object.entries(r.curves).map(
    ([m, c]) => [m, c.mean.reduce((a, b) => a + b, 0) / c.mean.length] as const,
  );
  area.sort((a, b) => (acc ? b[1] - a[1] : a[1] - b[1]));
  lines.push(
    `Over the whole grid (mean ${r.metric} across all ${r.shares.length} shares), the order is: ${area.map(([m, v]) => `${m} (${v.toPrecision(3)})`).join(' > ')}.`,
  );
  if (!acc)
    lines.push(
      'The loss is the mean squared error without a factor 1/2 (mean over rows of (y - f)^2): its Hessian, and so every OBD saliency, is 2/N times that of the 1/2 sum-of-squares loss of METHODS.md section 6; the order is unchanged.',
    );
  if (r.data === 'wine')
    lines.push(
      "The seed paper reports that OBD, variational and Belsley keep Wine's accuracy up to about 80 % removed while random removal collapses much earlier; compare with the figures above.",
    );
  if (r.data === 'boston')
    lines.push("The seed paper reports that Belsley keeps Boston's error lowest; compare with the figures above.");
  return lines;
}
