// `prunescope experiment paper1 --data wine|boston|paper1-synthetic`: the first seed paper's
// setup and its four curves, as CSV, JSON and a self-contained HTML report.
import * as path from 'path';
import { Command } from '../command';
import { ParsedArgs, bool, list, num, numList, str } from '../args';
import { badInput } from '../../engine/errors';
import { initBackend } from '../../engine/backend';
import { PAPER1_SETUPS, runPaper1, Paper1Result, DEFAULT_METHODS } from '../../engine/experiments/paper1';
import { paper1Markdown, paper1Sections } from '../../engine/experiments/paper1Report';
import { methodList } from '../relevanceOptions';
import { writeFolderAtomic } from '../../engine/util/atomicWrite';
import { renderReport } from '../../engine/report/html';
import { curvesCsv, curvesDocument } from './curves';
import { variationalWeightsFlag, variationalWeightsOf } from './variationalWeightsFlag';

/** The same document `curves --json` prints, for one data set of the experiment. */
export function paper1Document(r: Paper1Result) {
  return {
    data: r.data,
    network: r.setup.description,
    ...curvesDocument({
      metric: r.metric,
      shares: r.shares,
      curves: r.curves,
      baseline: r.baseline.mean,
      prunedWeights: r.runs[0]?.curves.prunedWeights,
      provenance: r.provenance,
    }),
    baselineSd: r.baseline.sd,
    seeds: r.runs.map((x) => x.seed),
    teachers: r.runs.map((x) => ({ seed: x.seed, train: x.teacher.train, test: x.teacher.test })),
  };
}

export const experimentPaper1Command: Command = {
  name: 'paper1',
  summary: 'The first seed paper: relevance-pruning curves of the four methods on its networks',
  usage:
    'prunescope experiment paper1 --data wine|boston|paper1-synthetic [--seeds 0,1,2] [--methods ...] [--step 0.02] [--epochs N] [--variational-weights mu|teacher] --out DIR [--json]',
  flags: [
    { name: 'data', value: true, help: `one or more of ${Object.keys(PAPER1_SETUPS).join(', ')} (comma-separated)` },
    { name: 'seeds', value: true, help: 'teacher seeds (default 0,1,2)' },
    { name: 'methods', value: true, help: `default ${DEFAULT_METHODS.join(',')}` },
    { name: 'step', value: true, help: 'share step (default 0.02)' },
    { name: 'epochs', value: true, help: 'override the teacher training epochs' },
    variationalWeightsFlag,
    { name: 'out', value: true, help: 'new folder for the results' },
    { name: 'json', value: false, help: 'print one JSON document (per data set under its name when several)' },
  ],
  async run(args: ParsedArgs, ctx) {
    const out = str(args, 'out');
    if (!out) throw badInput('--out is required', { field: '--out', expected: 'a new folder for the results' });
    const datas = list(args, 'data') ?? ['wine'];
    for (const d of datas)
      if (!PAPER1_SETUPS[d])
        throw badInput(`--data has "${d}"`, { field: '--data', expected: Object.keys(PAPER1_SETUPS).join(', ') });
    const methods = methodList(args, 'methods', DEFAULT_METHODS);
    const seeds = numList(args, 'seeds') ?? [0, 1, 2];
    const step = num(args, 'step', 0.02, { min: 1e-3, max: 1 });
    const epochs = str(args, 'epochs') === undefined ? undefined : num(args, 'epochs', 1, { integer: true, min: 1 });
    await initBackend();
    const files: Record<string, string> = {};
    const docs: Record<string, unknown> = {};
    const sections = [];
    const markdown: string[] = [];
    for (const d of datas) {
      const r = await runPaper1(d, {
        seeds,
        methods,
        step,
        epochs,
        variationalWeights: variationalWeightsOf(args),
        signal: ctx.signal,
        onProgress: (m) => ctx.log(m),
      });
      r.runs.forEach((run) => run.network.dispose());
      const doc = paper1Document(r);
      docs[d] = doc;
      files[`${d}/curves.json`] = JSON.stringify(doc);
      files[`${d}/curves.csv`] = curvesCsv({
        metric: r.metric,
        shares: r.shares,
        curves: r.curves,
        baseline: r.baseline.mean,
        provenance: r.provenance,
      });
      sections.push(...paper1Sections(r));
      markdown.push(paper1Markdown(r));
    }
    files['summary.md'] = markdown.join('\n');
    files['report.html'] = renderReport({
      title: "Relevance of neural network parameters: the paper's experiment",
      intro: [
        'Grabovoy, Bakhteev, Strijov (2019): prune the weights of a trained network in the order given by each relevance method and watch the test quality.',
      ],
      sections,
      provenance: Object.fromEntries(
        Object.entries(docs).map(([k, v]) => [k, (v as { provenance: unknown }).provenance]),
      ),
    });
    writeFolderAtomic(out, files);
    if (bool(args, 'json')) {
      ctx.out(JSON.stringify(datas.length === 1 ? docs[datas[0]] : docs));
      return;
    }
    ctx.out(
      sections
        .flatMap((s) => s.text ?? [])
        .concat(`written: ${path.join(out, 'report.html')}`)
        .join('\n'),
    );
  },
};
