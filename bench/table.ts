// One row of `npm run bench`: a measured value, and where a target exists, the ratio against it.
export interface BenchRow {
  /** Group, e.g. 'training', 'curvature', 'linalg'. */
  group: string;
  name: string;
  value: number;
  unit: string;
  /** What the value is compared with, e.g. 'x stock model.fit' or 'x one gradient pass'. */
  ratio?: number;
  ratioOf?: string;
  /** The target for the ratio, e.g. '>= 3.5' or '<= 3'. */
  target?: string;
  pass?: boolean;
  note?: string;
}

export function formatTable(rows: BenchRow[]): string {
  const header = ['group', 'measurement', 'value', 'unit', 'ratio', 'target', 'ok'];
  const body = rows.map((r) => [
    r.group,
    r.name,
    fmt(r.value),
    r.unit,
    r.ratio === undefined ? '' : `${fmt(r.ratio)} ${r.ratioOf ?? ''}`.trim(),
    r.target ?? '',
    r.pass === undefined ? '' : r.pass ? 'yes' : 'NO',
  ]);
  const w = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(w[i])).join(' | ') + ' |';
  return [line(header), line(w.map((n) => '-'.repeat(n))), ...body.map(line)].join('\n');
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 1000 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 0.01 ? x.toFixed(3) : x.toExponential(2);
}
