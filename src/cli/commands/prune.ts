// `prunescope prune MODEL --data D --method M --fraction P --out DIR`: a new model file whose
// pruned weights are exactly zero and whose metadata records the mask and how it was made.
import * as path from 'path';
import { Command } from '../command';
import { ParsedArgs, bool, num, str } from '../args';
import { badInput } from '../../engine/errors';
import { MODEL_DATA_FLAGS, openModelWithData } from '../modelData';
import { RELEVANCE_FLAGS, relevanceRequest } from '../relevanceOptions';
import { pruneNetwork } from '../../engine/prune/pruneModel';
import { pruneChannels } from '../../engine/prune/pruneChannels';
import { finetuneWithMask } from '../../engine/prune/finetune';
import { saveModel } from '../../engine/formats/modelFile';
import { evaluate, type Metrics } from '../../engine/train/metrics';
import { numClasses } from '../../engine/data';
import {
  CHANNEL_FLAGS,
  FINETUNE_FLAG,
  channelOptions,
  finetuneEpochs,
  refuseVariationalWeights,
} from '../structuredOptions';
import { variationalWeightsFlag, variationalWeightsOf } from './variationalWeightsFlag';

const metricText = (x: Metrics) =>
  x.accuracy !== undefined ? `accuracy ${x.accuracy.toFixed(4)}` : `mse ${x.mse!.toPrecision(4)}`;

export const pruneCommand: Command = {
  name: 'prune',
  summary: 'Prune a share of the active weights by a relevance method into a new model file',
  usage:
    'prunescope prune MODEL --data D --method M --fraction P --out DIR [--include-bias] [--structured channels|units [--aggregate A] [--scope S]] [--finetune N] [--variant ...] [--variational-weights mu|teacher] [--seed S] [--json]',
  flags: [
    ...MODEL_DATA_FLAGS,
    ...RELEVANCE_FLAGS,
    {
      name: 'fraction',
      value: true,
      help: 'share of the active weights to prune (with --structured: of the removable channels), in [0, 1]',
    },
    { name: 'include-bias', value: false, help: 'biases may be pruned too (default: weights only)' },
    ...CHANNEL_FLAGS,
    FINETUNE_FLAG,
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
    const ch = channelOptions(args);
    refuseVariationalWeights(args, ch);
    const epochs = finetuneEpochs(args);
    const json = bool(args, 'json');
    const { file, model, split, seed } = await openModelWithData(args, 'prune', this.usage, ctx);
    if ([path.resolve(file), path.dirname(model.path)].includes(path.resolve(out))) {
      model.network.dispose();
      throw badInput(`--out ${out} is the input model's folder`, {
        field: '--out',
        expected: 'a new folder: PruneScope never overwrites a model',
      });
    }
    try {
      const classes = numClasses(split.dataset);
      const before = evaluate(model.network, split.test, split.dataset.task, classes);
      const request = { ...relevanceRequest(args, seed), fraction, signal: ctx.signal };
      if (ch.structured !== 'none' && bool(args, 'include-bias'))
        throw badInput('--include-bias has no meaning with --structured (a channel takes its biases)', {
          field: '--include-bias',
          expected: 'no --include-bias with --structured',
        });
      const r =
        ch.structured === 'none'
          ? await pruneNetwork(model.network, split, model.metadata, {
              ...request,
              includeBias: bool(args, 'include-bias'),
              variationalWeights: variationalWeightsOf(args),
            })
          : await pruneChannels(model.network, split, model.metadata, {
              ...request,
              unit: ch.structured,
              aggregate: ch.aggregate,
              scope: ch.scope,
            });
      try {
        const ft = await finetuneWithMask(r.network, split, r.mask, { epochs, seed, signal: ctx.signal });
        const saved = await saveModel(out, r.network, r.metadata, { input: model.path });
        const ranking = 'relevance' in r ? r.relevance : r.ranking;
        const doc = {
          modelJson: saved.modelJson,
          structured: ch.structured,
          method: ranking.method,
          variant: ('relevance' in r ? r.relevance.variant : r.ranking.parameters?.variant) ?? null,
          fraction,
          ...('relevance' in r
            ? { candidates: r.candidates, prunedNow: r.prunedNow }
            : {
                aggregate: ch.aggregate,
                scope: ch.scope,
                removedChannels: r.removedChannels,
                removableChannels: r.removableChannels,
                channels: r.channels,
              }),
          prunedTotal: r.prunedTotal,
          nParams: model.network.nParams,
          testBefore: before,
          testAfter: ft.before,
          prunedWeights: r.metadata.pruneMask?.provenance?.options?.prunedWeights ?? 'network',
          ...(epochs ? { finetune: { epochs, testAfter: ft.after, seconds: ft.seconds } } : {}),
          provenance: ranking.provenance,
        };
        if (json) {
          ctx.out(JSON.stringify(doc));
          return;
        }
        ctx.out(
          [
            'relevance' in r
              ? `pruned ${r.prunedNow} of ${r.candidates} active weights by ${r.relevance.method}${r.relevance.variant ? ` (${r.relevance.variant})` : ''}`
              : `removed ${r.removedChannels} of ${r.removableChannels} ${ch.structured} by ${r.ranking.method} (${ch.aggregate}, ${ch.scope}): ${r.prunedTotal} of ${model.network.nParams} parameters are zero`,
            `test: ${metricText(before)} -> ${metricText(ft.before)}${epochs ? ` -> ${metricText(ft.after)} after ${epochs} fine-tuning epochs` : ''}`,
            `written: ${saved.modelJson}`,
          ].join('\n'),
        );
      } finally {
        r.network.dispose();
      }
    } finally {
      model.network.dispose();
    }
  },
};
