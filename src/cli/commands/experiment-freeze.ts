// `prunescope experiment freeze`: the essay's ordered-vs-random freezing comparison, written as
// CSV, JSON and a self-contained HTML report.
import * as path from 'path';
import { Command } from '../command';
import { ParsedArgs, bool, list, num, numList, oneOf, str } from '../args';
import { badInput } from '../../engine/errors';
import { initBackend } from '../../engine/backend';
import { loadData, numClasses, splitDataset } from '../../engine/data';
import { DATA_FILE_FLAGS, DATA_HELP, dataProgress, dataRequest } from '../modelData';
import { NetworkSpec, denseSpec } from '../../engine/model/denseChain';
import { writeFolderAtomic } from '../../engine/util/atomicWrite';
import { renderReport } from '../../engine/report/html';
import { runFreezeExperiment, FreezeExperimentResult } from '../../engine/ordering/experiment';
import {
  covarianceHeatmapFigure,
  freezeTimelineFigure,
  lossVsShareFigure,
  orderedVarianceFigure,
} from '../../engine/ordering/figures';
import { buildArchitecture } from '../../engine/train/newModel';
import type { GraphSpec } from '../../engine/graphSpec';
import { FREEZE_EXPERIMENT_DEFAULTS, FREEZE_EXPERIMENT_MODELS, VARIANCE_ESTIMATORS } from '../../engine/options';

const D = FREEZE_EXPERIMENT_DEFAULTS;

export function experimentCsv(r: FreezeExperimentResult): string {
  const lines = ['share,policy,frozen,train_mean,train_std,test_mean,test_std,seeds'];
  for (const x of r.rows)
    lines.push([x.share, x.policy, x.frozen, x.trainMean, x.trainStd, x.testMean, x.testStd, x.test.length].join(','));
  return lines.join('\n') + '\n';
}

export const experimentFreezeCommand: Command = {
  name: 'freeze',
  summary: 'Experiments from the essay: `experiment freeze` compares ordered and random freezing',
  usage:
    'prunescope experiment freeze --data boston|mnist|D --model linear|mlp|lenet5|resnet8 [--layers 32,16] [--input-shape H,W,C] --t0 T --shares 0,0.1,...,0.9 --seeds 5 --out DIR [--steps N] [--batch B] [--lr LR] [--estimator essay|per-sample] [--weights-only on|off] [--json]',
  flags: [
    { name: 'data', value: true, help: DATA_HELP },
    ...DATA_FILE_FLAGS,
    {
      name: 'model',
      value: true,
      help: 'linear (one dense layer), mlp (tanh hidden layers), lenet5 (tanh) or resnet8 (image data, pixels as read, not standardised)',
    },
    {
      name: 'input-shape',
      value: true,
      help: 'lenet5/resnet8: the image shape H,W,C of a row when the data set does not give it (mnist gives it)',
    },
    { name: 'layers', value: true, help: `mlp hidden widths, e.g. 32,16 (default ${D.mlpLayers.join(',')})` },
    { name: 't0', value: true, help: `step at which the order is taken and parameters freeze (default ${D.t0})` },
    { name: 'shares', value: true, help: `frozen shares, e.g. 0,0.1,0.2 (default ${D.shares.join(',')})` },
    { name: 'seeds', value: true, help: `seeds per share (default ${D.seeds})` },
    { name: 'steps', value: true, help: `step budget per run (default ${D.stepsPerT0} x t0)` },
    { name: 'batch', value: true, help: `minibatch size (default ${D.batchSize})` },
    { name: 'lr', value: true, help: `Adam learning rate (default ${D.lr})` },
    { name: 'estimator', value: true, help: `${VARIANCE_ESTIMATORS.join(' or ')} (default ${D.estimator})` },
    {
      name: 'weights-only',
      value: true,
      help: "on (default): only kernel weights are frozen and the share counts weights, biases always train, as in the essay's bias-free model (3.2) and the papers' weights-only pruning; off: biases are candidates too",
    },
    { name: 'out', value: true, help: 'output folder (must not exist or be empty)' },
    { name: 'json', value: false, help: 'print the result as one JSON document' },
  ],
  async run(args: ParsedArgs, ctx) {
    // main.ts dispatches `experiment freeze` here with the subcommand word already taken off.
    if (args.positional.length)
      throw badInput(`unexpected argument "${args.positional.join(' ')}"`, {
        field: 'experiment freeze',
        expected: this.usage,
      });
    const { data, ...dataOptions } = dataRequest(args, 'all');
    const out = str(args, 'out');
    if (!out) throw badInput('--out is required', { field: '--out', expected: 'an output folder' });
    const model = oneOf(args, 'model', FREEZE_EXPERIMENT_MODELS, 'linear');
    const image = model === 'lenet5' || model === 'resnet8';
    const inputShape = numList(args, 'input-shape');
    if (inputShape && !image)
      throw badInput('--input-shape given for a dense model', {
        field: '--input-shape',
        expected: '--input-shape only with --model lenet5 or resnet8',
      });
    const widths = (list(args, 'layers') ?? D.mlpLayers.map(String)).map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 1)
        throw badInput(`--layers has "${s}"`, { field: '--layers', expected: 'positive integers' });
      return n;
    });
    const t0 = num(args, 't0', D.t0, { integer: true, min: 1 });
    const shares = numList(args, 'shares') ?? D.shares;
    const seeds = num(args, 'seeds', D.seeds, { integer: true, min: 1 });
    const steps = num(args, 'steps', D.stepsPerT0 * t0, { integer: true, min: t0 });
    const batchSize = num(args, 'batch', D.batchSize, { integer: true, min: 1 });
    const lr = num(args, 'lr', D.lr, { min: 1e-12 });
    const estimator = oneOf(args, 'estimator', VARIANCE_ESTIMATORS, D.estimator);
    const weightsOnly = oneOf(args, 'weights-only', ['on', 'off'] as const, D.weightsOnly ? 'on' : 'off') === 'on';
    await initBackend();
    const ds = await loadData(data, undefined, { ...dataOptions, signal: ctx.signal, onProgress: dataProgress(ctx) });
    // Images keep their pixel range, as `train --arch` does; the essay's dense models are standardised.
    const split = splitDataset(ds, { seed: 0, standardize: !image });
    const classes = numClasses(ds);
    const head =
      ds.task === 'classification'
        ? { name: 'out', units: classes, activation: 'softmax' as const }
        : { name: 'out', units: 1, activation: 'linear' as const };
    const dense: NetworkSpec = {
      inputSize: ds.features,
      layers:
        model === 'linear'
          ? [head]
          : [...widths.map((w, i) => ({ name: `h${i + 1}`, units: w, activation: 'tanh' as const })), head],
    };
    const spec: GraphSpec = image
      ? buildArchitecture(model, ds, ds.task === 'classification' ? classes : 1, 'tanh', {
          layers: list(args, 'layers'),
          layersField: '--layers',
          inputShape,
        })
      : denseSpec(dense);
    const r = await runFreezeExperiment(split, {
      spec,
      steps,
      t0,
      shares,
      seeds,
      batchSize,
      lr,
      estimator,
      weightsOnly,
      signal: ctx.signal,
      onProgress: (m) => ctx.log(m),
    });
    const figures = [
      lossVsShareFigure(r, 'test'),
      lossVsShareFigure(r, 'train'),
      orderedVarianceFigure(r.variances, r.order),
      ...(r.block ? [covarianceHeatmapFigure(r.block)] : []),
      freezeTimelineFigure(r.timeline),
    ];
    const json = { ...r, block: r.block && { ...r.block, matrix: Array.from(r.block.matrix) }, figures };
    const html = renderReport({
      title: `Freezing by gradient variance: ${ds.name}, ${model}`,
      intro: [
        `${seeds} seeds, ${steps} Adam steps (batch ${batchSize}, lr ${lr}), order taken and parameters frozen at t0 = ${t0} with the ${estimator} estimator; candidates: ${weightsOnly ? 'kernel weights only (biases always train)' : 'all parameters, biases included'}.`,
        r.conclusion,
      ],
      sections: [
        { heading: 'Loss against frozen share', figures: figures.slice(0, 2) },
        { heading: 'The order', figures: figures.slice(2, r.block ? 4 : 3) },
        { heading: 'Freeze timeline', figures: [figures[figures.length - 1]] },
        { heading: 'What freezing saves', text: [r.savings.note] },
      ],
      provenance: r.provenance,
    });
    writeFolderAtomic(out, {
      'results.csv': experimentCsv(r),
      'results.json': JSON.stringify(json),
      'report.html': html,
    });
    if (bool(args, 'json')) {
      ctx.out(JSON.stringify(json));
      return;
    }
    ctx.out(
      [experimentCsv(r).trim(), '', r.conclusion, r.savings.note, `written: ${path.join(out, 'report.html')}`].join(
        '\n',
      ),
    );
  },
};
