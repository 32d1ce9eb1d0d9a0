// `prunescope prune MODEL --data D --method M --fraction P --out DIR`: a new model file whose
// pruned weights are exactly zero and whose metadata records the mask and how it was made.
import * as path from 'path';
import { Command } from '../command';
import { ParsedArgs, bool, num, str } from '../args';
import { badInput } from '../../engine/errors';
import { MODEL_DATA_FLAGS, openModelWithData } from '../modelData';
import { RELEVANCE_FLAGS, relevanceRequest } from '../relevanceOptions';
import { pruneNetwork } from '../../engine/prune/pruneModel';
import { saveModel } from '../../engine/formats/modelFile';
import { evaluate } from '../../engine/train/metrics';
import { numClasses } from '../../engine/data';
import { variationalWeightsFlag, variationalWeightsOf } from './variationalWeightsFlag';

export const pruneCommand: Command = {
  name: 'prune',
  summary: 'Prune a share of the active weights by a relevance method into a new model file',
  usage:
    'prunescope prune MODEL --data D --method M --fraction P --out DIR [--include-bias] [--variant ...] [--seed S] [--json]',
  flags: [
    ...MODEL_DATA_FLAGS,
    ...RELEVANCE_FLAGS,
    { name: 'fraction', value: true, help: 'share of the active weights to prune, in [0, 1]' },
    { name: 'include-bias', value: false, help: 'biases may be pruned too (default: weights only)' },
    variationalWeightsFlag,
    { name: 'out', value: true, help: "new folder for the pruned model (never the input model's folder)" },
    { name: 'json', value: false, help: 'print one JSON document' },
  ],
  async run(args: ParsedArgs, ctx) {
    const out = str(args, 'out');
    if (!out) throw badInput('--out is required', { field: '--out', expected: 'a new folder for the pruned model' });
    if (str(args, 'fraction') === undefined)
      throw badInput('--fraction is required', { field: '--fraction', expected: 'a number in [0, 1]' });
    const fraction = num(args, 'fraction', 0, { min: 0, max: 1 });
    const { file, model, split, seed } = await openModelWithData(args, 'prune', this.usage, ctx);
    if ([path.resolve(file), path.dirname(model.path)].includes(path.resolve(out))) {
      model.network.dispose();
      throw badInput(`--out ${out} is the input model's folder`, {
        field: '--out',
        expected: 'a new folder: PruneScope never overwrites a model',
      });
    }
    try {
      const r = await pruneNetwork(model.network, split, model.metadata, {
        ...relevanceRequest(args, seed),
        fraction,
        includeBias: bool(args, 'include-bias'),
        variationalWeights: variationalWeightsOf(args),
        signal: ctx.signal,
      });
      const classes = numClasses(split.dataset);
      const before = evaluate(model.network, split.test, split.dataset.task, classes);
      const after = evaluate(r.network, split.test, split.dataset.task, classes);
      const saved = await saveModel(out, r.network, r.metadata, { input: model.path });
      r.network.dispose();
      const doc = {
        modelJson: saved.modelJson,
        method: r.relevance.method,
        variant: r.relevance.variant ?? null,
        fraction,
        candidates: r.candidates,
        prunedNow: r.prunedNow,
        prunedTotal: r.prunedTotal,
        nParams: model.network.nParams,
        testBefore: before,
        testAfter: after,
        prunedWeights: r.metadata.pruneMask?.provenance?.options?.prunedWeights ?? 'network',
        provenance: r.relevance.provenance,
      };
      if (bool(args, 'json')) {
        ctx.out(JSON.stringify(doc));
        return;
      }
      const m = (x: typeof before) =>
        x.accuracy !== undefined ? `accuracy ${x.accuracy.toFixed(4)}` : `mse ${x.mse!.toPrecision(4)}`;
      ctx.out(
        [
          `pruned ${r.prunedNow} of ${r.candidates} active weights by ${r.relevance.method}${r.relevance.variant ? ` (${r.relevance.variant})` : ''}`,
          `test: ${m(before)} -> ${m(after)}`,
          `written: ${saved.modelJson}`,
        ].join('\n'),
      );
    } finally {
      model.network.dispose();
    }
  },
};
