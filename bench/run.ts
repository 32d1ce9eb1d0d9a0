// `npm run bench`: every benchmark group that exists, one table on stdout and out/bench.json.
// Every bench/*.ts exporting run<Name>Bench is a group; a missing or failing group does not hide the others.
// `node build/bench/run.js training` runs only the named groups.
import * as fs from 'fs';
import * as path from 'path';
import { BenchRow, formatTable } from './table';

// The named groups first, in this order; any other bench/*.ts exporting run<Name>Bench follows.
const PREFERRED = ['training', 'curvature', 'linalg'];

function groups(): { module: string; fn: string }[] {
  const names = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.js') && !['run.js', 'table.js'].includes(f))
    .map((f) => f.slice(0, -3));
  const ordered = [
    ...PREFERRED.filter((n) => names.includes(n)),
    ...names.filter((n) => !PREFERRED.includes(n)).sort(),
  ];
  for (const n of PREFERRED)
    if (!names.includes(n)) process.stderr.write(`bench: bench/${n}.ts not present, skipped\n`);
  return ordered.flatMap((n) => {
    let m: Record<string, unknown>;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- bench modules are found by name at run time
      m = require(path.join(__dirname, n));
    } catch (e) {
      process.stderr.write(`bench: bench/${n} failed to load (${(e as Error).message}), skipped\n`);
      return [];
    }
    return Object.keys(m)
      .filter((k) => /^run\w+Bench$/.test(k) && typeof m[k] === 'function')
      .map((fn) => ({ module: n, fn }));
  });
}

async function main(): Promise<void> {
  const rows: BenchRow[] = [];
  const only = process.argv.slice(2);
  for (const g of groups()) {
    if (only.length && !only.includes(g.module)) continue;
    process.stderr.write(`bench: running ${g.fn}...\n`);
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- bench modules are found by name at run time
      rows.push(...(await require(path.join(__dirname, g.module))[g.fn]()));
    } catch (e) {
      rows.push({
        group: g.module,
        name: `${g.fn} failed`,
        value: NaN,
        unit: '',
        note: String((e as Error).message ?? e).slice(0, 200),
      });
    }
  }
  process.stdout.write(formatTable(rows) + '\n');
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.group} / ${r.name}: ${r.note}`);
  if (notes.length) process.stdout.write('\n' + notes.join('\n') + '\n');
  const out = path.resolve('out', 'bench.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  // NaN is not JSON: failed measurements become null.
  fs.writeFileSync(
    out,
    JSON.stringify(
      { time: new Date().toISOString(), rows },
      (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
      2,
    ) + '\n',
  );
  process.stderr.write(`bench: wrote ${out}\n`);
}

main().catch((e) => {
  process.stderr.write(String((e as Error).stack ?? e) + '\n');
  process.exit(1);
});
