// `prune`: prune a share of the model's active weights by a method (engine pruneNetwork, which
// keeps already-zero parameters pruned) and write the result as a NEW model folder `out`
// (saveModel: atomic, refuses a non-empty folder). The input model's folder is refused outright.
import { throwIfCancelled } from '../../engine/errors';
import { numClasses } from '../../engine/data';
import { saveModel } from '../../engine/formats/modelFile';
import { pruneNetwork } from '../../engine/prune/pruneModel';
import { evaluate } from '../../engine/train/metrics';
import type { ProvenanceRecord } from '../../protocol';
import type { JobHandler } from '../jobTypes';
import { cachedRanking, checkOut, checkOutEmpty, modelAndSplit } from './modelCache';
import { modelRef, num, obj, optBool, rankingRequest, requestOf, str } from './params';

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
    const ranking = await cachedRanking(entry, request, ctx, (done, total, what) =>
      ctx.progress(total > 0 ? (0.9 * done) / total : undefined, `${what}: ${done}/${total}`),
    );
    const r = await pruneNetwork(model.network, split, model.metadata, {
      ...request,
      ranking,
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
      throwIfCancelled(ctx.signal, 'prune');
      ctx.progress(0.95, 'writing');
      const saved = await saveModel(p.out, r.network, r.metadata, { input: p.modelPath });
      ctx.progress(1, 'done');
      return {
        result: {
          modelJson: saved.modelJson,
          method: r.relevance.method,
          fraction: p.fraction,
          prunedNow: r.prunedNow,
          prunedTotal: r.prunedTotal,
          candidates: r.candidates,
          nParams: model.network.nParams,
          testBefore,
          testAfter,
          metric: d.task === 'classification' ? 'accuracy' : 'mse',
        },
        provenance: {
          ...(r.relevance.provenance as unknown as ProvenanceRecord),
          job: 'prune',
          options: { modelPath: p.modelPath, out: p.out, fraction: p.fraction, includeBias: !!p.includeBias },
        },
      };
    } finally {
      r.network.dispose();
    }
  },
};
