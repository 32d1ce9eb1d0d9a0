// `prune`: prune a share of the model's active weights by a method (engine pruneNetwork, which
// keeps already-zero parameters pruned) and write the result as a NEW model folder `out`
// (saveModel: atomic, refuses a non-empty folder). The input model's folder is refused outright.
import { throwIfCancelled } from '../../engine/errors';
import { numClasses } from '../../engine/data';
import { saveModel } from '../../engine/formats/modelFile';
import { pruneNetwork } from '../../engine/prune/pruneModel';
import { pruneChannels } from '../../engine/prune/pruneChannels';
import { finetuneWithMask } from '../../engine/prune/finetune';
import { badInput } from '../../engine/errors';
import { evaluate } from '../../engine/train/metrics';
import { countOnes, zeroMask } from '../../engine/prune/mask';
import type { ProvenanceRecord } from '../../protocol';
import type { JobHandler } from '../jobTypes';
import { cachedChannelRanking, cachedRanking, checkOut, checkOutEmpty, modelAndSplit } from './modelCache';
import { finetuneParam, modelRef, num, obj, optBool, rankingRequest, requestOf, str, structuredParams } from './params';

export const pruneJob: JobHandler<'prune'> = {
  kind: 'prune',
  parse(raw) {
    const o = obj(raw, 'prune');
    const ref = modelRef(o, 'prune');
    return {
      ...ref,
      ...rankingRequest(o, 'prune'),
      fraction: num(o, 'fraction', 'prune', 0, 1),
      includeBias: optBool(o, 'includeBias', 'prune'),
      ...structuredParams(o, 'prune'),
      finetune: finetuneParam(o, 'prune'),
      out: checkOut(str(o, 'out', 'prune'), [ref.modelPath], 'prune'),
    };
  },
  async run(p, ctx) {
    const entry = await modelAndSplit(p, ctx);
    checkOutEmpty(p.out, 'prune');
    const { model, split } = entry;
    const d = split.dataset;
    ctx.progress(undefined, `ranking by ${p.method}`);
    // The cached ranking: what the panel's curves and what-if showed for the same request.
    const request = requestOf(p);
    const structured = p.structured && p.structured !== 'none' ? p.structured : undefined;
    if (structured && p.includeBias)
      throw badInput('prune: includeBias has no meaning with structured (a channel takes its biases)', {
        field: 'includeBias',
        expected: 'no includeBias with structured',
      });
    const aggregate = (p.aggregate ?? 'sum') as 'sum' | 'mean' | 'max' | 'native';
    const r = structured
      ? await pruneChannels(model.network, split, model.metadata, {
          ...request,
          ranking: await cachedChannelRanking(entry, request, { aggregate, unit: structured }, ctx),
          fraction: p.fraction,
          unit: structured,
          aggregate,
          scope: p.scope as 'per-group' | 'global' | undefined,
          signal: ctx.signal,
        })
      : await pruneNetwork(model.network, split, model.metadata, {
          ...request,
          ranking: await cachedRanking(entry, request, ctx, (done, total, what) =>
            ctx.progress(total > 0 ? (0.9 * done) / total : undefined, `${what}: ${done}/${total}`),
          ),
          fraction: p.fraction,
          includeBias: p.includeBias,
          signal: ctx.signal,
        });
    try {
      const pick = (n: typeof r.network) => {
        const m = evaluate(n, split.test, d.task, numClasses(d));
        return d.task === 'classification' ? m.accuracy! : m.mse!;
      };
      const testBefore = pick(model.network);
      const testAfter = pick(r.network);
      const finetune = p.finetune ?? 0;
      const ft = finetune
        ? await finetuneWithMask(r.network, split, r.mask, { epochs: finetune, seed: p.seed, signal: ctx.signal })
        : undefined;
      throwIfCancelled(ctx.signal, 'prune');
      ctx.progress(0.95, 'writing');
      const saved = await saveModel(p.out, r.network, r.metadata, { input: p.modelPath });
      const provenance = 'relevance' in r ? r.relevance.provenance : r.ranking.provenance;
      ctx.progress(1, 'done');
      return {
        result: {
          modelJson: saved.modelJson,
          method: 'relevance' in r ? r.relevance.method : r.ranking.method,
          fraction: p.fraction,
          prunedNow: 'relevance' in r ? r.prunedNow : r.prunedTotal - countOnes(zeroMask(model.network.toFlat())),
          prunedTotal: r.prunedTotal,
          candidates: 'relevance' in r ? r.candidates : model.network.nParams,
          nParams: model.network.nParams,
          testBefore,
          testAfter,
          ...(ft ? { testFinetuned: d.task === 'classification' ? ft.after.accuracy! : ft.after.mse! } : {}),
          metric: d.task === 'classification' ? 'accuracy' : 'mse',
          ...('relevance' in r ? {} : { removedChannels: r.removedChannels, removableChannels: r.removableChannels }),
        },
        provenance: {
          ...(provenance as unknown as ProvenanceRecord),
          job: 'prune',
          options: {
            modelPath: p.modelPath,
            out: p.out,
            fraction: p.fraction,
            includeBias: !!p.includeBias,
            structured: p.structured ?? 'none',
            finetune,
          },
        },
      };
    } finally {
      r.network.dispose();
    }
  },
};
