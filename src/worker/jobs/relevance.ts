// `relevance`: scores and order of every parameter by one method (engine computeRelevance),
// plus the first layer's heatmap. Loaded models and data splits stay in the worker's cache
// (keyed by path + mtime + data + seed), so a second method or a re-plot does not reload.
import * as fs from 'fs';
import { initBackend } from '../../engine/backend';
import { PruneScopeError, badInput } from '../../engine/errors';
import { loadModel, type LoadedModel } from '../../engine/model/layersModel';
import { loadDataset, splitForModel, type DataSplit } from '../../engine/data';
import { computeRelevance } from '../../engine/relevance/compute';
import { RELEVANCE_METHODS, type RelevanceMethod } from '../../engine/relevance/types';
import { relevanceHeatmap } from '../../engine/report/relevanceFigures';
import type { Figure } from '../../engine/report/figure';
import type { JobParams, PlotlyFigure, ProvenanceRecord } from '../../protocol';
import type { JobContext, JobHandler } from '../jobTypes';
import { int, obj, str } from './params';

type RelevanceParams = JobParams<'relevance'>;

const MAX_CACHED_MODELS = 4;

export function toPlotly(f: Figure): PlotlyFigure {
  return { data: f.data as PlotlyFigure['data'], layout: { ...(f.layout ?? {}), title: { text: f.title } } };
}

async function modelAndSplit(p: RelevanceParams, ctx: JobContext): Promise<{ model: LoadedModel; split: DataSplit }> {
  let mtime: number;
  try { mtime = fs.statSync(p.modelPath).mtimeMs; } catch { throw new PruneScopeError('not-found', 'model file does not exist', { file: p.modelPath }); }
  const key = `model:${p.modelPath}:${mtime}:${p.data}:${p.seed}`;
  const hit = ctx.cache.get(key) as { model: LoadedModel; split: DataSplit } | undefined;
  if (hit) { ctx.log(`relevance: ${p.modelPath} + ${p.data} from cache`); return hit; }
  await initBackend();
  const model = await loadModel(p.modelPath);
  try {
    const split = splitForModel(model.network, model.metadata, loadDataset(p.data), { seed: p.seed, file: p.modelPath });
    const models = [...ctx.cache.keys()].filter((k) => k.startsWith('model:'));
    // Evict the oldest so a long session does not hold every model it ever saw.
    for (const k of models.slice(0, Math.max(0, models.length - MAX_CACHED_MODELS + 1))) {
      (ctx.cache.get(k) as { model: LoadedModel }).model.network.dispose();
      ctx.cache.delete(k);
    }
    const entry = { model, split };
    ctx.cache.set(key, entry);
    return entry;
  } catch (e) {
    model.network.dispose();
    throw e;
  }
}

export const relevanceJob: JobHandler<'relevance'> = {
  kind: 'relevance',
  parse(raw) {
    const o = obj(raw, 'relevance');
    const method = o.method ?? 'obd';
    if (typeof method !== 'string' || !(RELEVANCE_METHODS as readonly string[]).includes(method)) {
      throw badInput('relevance: unknown method', { field: 'method', expected: RELEVANCE_METHODS.join(', ') });
    }
    return { modelPath: str(o, 'modelPath', 'relevance'), data: str(o, 'data', 'relevance'), method: method as RelevanceMethod, seed: int(o, 'seed', 'relevance', 0, 2 ** 31 - 1, 0) };
  },
  async run(p, ctx) {
    const { model, split } = await modelAndSplit(p, ctx);
    const r = await computeRelevance(model.network, split, {
      method: p.method as RelevanceMethod, seed: p.seed, signal: ctx.signal,
      onProgress: (done, total, what) => ctx.progress(total > 0 ? done / total : undefined, `${what}: ${done}/${total}`),
    });
    const figure = toPlotly(relevanceHeatmap(model.network, r.scores, 0, r.method));
    return {
      result: { method: r.method, scores: Array.from(r.scores), order: Array.from(r.order), figure },
      provenance: r.provenance as unknown as ProvenanceRecord,
    };
  },
};
