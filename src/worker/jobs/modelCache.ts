// What the worker keeps between jobs for one model + data: the loaded model and its split, the
// ranking of every method asked for so far, and a clone network the what-if slider writes masked
// weights into. Everything hangs off one key (path + mtime + data + seed), so an edited model file
// or another split starts fresh, and evicting a model drops (and disposes) all that belongs to it.
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../../engine/backend';
import { PruneScopeError, badInput } from '../../engine/errors';
import { loadModel, type LoadedModel } from '../../engine/formats/modelFile';
import {
  dataKind,
  defaultMaxRows,
  loadData,
  modelInputOfLoaded,
  splitForModel,
  numClasses,
  type DataSplit,
  type LoadDataOptions,
} from '../../engine/data';
import type { Graph } from '../../engine/model/graph';
import { computeRelevance, rankingKey, type RelevanceRequest } from '../../engine/relevance/compute';
import type { RelevanceResult } from '../../engine/relevance/types';
import { candidateMask, candidateOrder, zeroMask, countOnes } from '../../engine/prune/mask';
import { pruningBase } from '../../engine/prune/variationalWeights';
import { evaluate } from '../../engine/train/metrics';
import type { Figure } from '../../engine/report/figure';
import type { DataOptions, PlotlyFigure, StructuredWhatif } from '../../protocol';
import type { ChannelAggregate, ChannelScope } from '../../engine/options';
import type { GraphSpec } from '../../engine/graphSpec';
import { graphCost, type GraphCost } from '../../engine/model/graphCost';
import { channelRanking, type ChannelRanking } from '../../engine/prune/channelRanking';
import { removableChannels, selectChannels, type StructuredUnit } from '../../engine/prune/channelSelect';
import { costWithRemoved } from '../../engine/prune/channelCost';
import { channelGroups, type ChannelGroups } from '../../engine/prune/groups';
import { structuredMask } from '../../engine/prune/structuredMask';
import { StemCache } from '../../engine/prune/stemCache';
import { countRemoved } from '../../engine/prune/structuredStudent';
import type { JobContext } from '../jobTypes';

const MAX_CACHED_MODELS = 4;

export interface ModelEntry {
  key: string;
  model: LoadedModel;
  split: DataSplit;
}

export interface ModelRef {
  modelPath: string;
  data: string;
  dataOptions?: DataOptions;
  seed: number;
}

/** A job's DataOptions as the loader's: an analysis reads a sample of large folders and arrays. */
export function loadOptions(data: string, d: DataOptions | undefined): LoadDataOptions {
  const { maxRows, ...rest } = d ?? {};
  return { ...rest, maxRows: maxRows === 'all' ? undefined : (maxRows ?? defaultMaxRows(dataKind(data), 'analysis')) };
}

export function toPlotly(f: Figure): PlotlyFigure {
  return { data: f.data as PlotlyFigure['data'], layout: { ...(f.layout ?? {}), title: { text: f.title } } };
}

/** Things owned by a model entry that hold tensors: disposed when the entry is evicted. */
interface Disposable {
  dispose(): void;
}

function evict(ctx: JobContext, key: string): void {
  (ctx.cache.get(key) as ModelEntry | undefined)?.model.network.dispose();
  ctx.cache.delete(key);
  for (const k of [...ctx.cache.keys()]) {
    if (!k.startsWith(`${key}|`)) continue;
    const v = ctx.cache.get(k) as { net?: Disposable; structured?: { stem?: Disposable | null } } | undefined;
    v?.net?.dispose();
    v?.structured?.stem?.dispose();
    ctx.cache.delete(k);
  }
}

/** A missing model file is a not-found error naming the file and the `modelPath` field. */
export function modelMtime(modelPath: string, field = 'modelPath'): number {
  try {
    // A TF.js folder's model.json is what changes when the model is rewritten in place.
    const st = fs.statSync(modelPath);
    return st.isDirectory() ? fs.statSync(path.join(modelPath, 'model.json')).mtimeMs : st.mtimeMs;
  } catch {
    throw new PruneScopeError('not-found', 'model file does not exist', {
      file: modelPath,
      field,
      expected: 'a TF.js model.json (or its folder), a .keras, .h5 or .onnx file',
    });
  }
}

export async function modelAndSplit(p: ModelRef, ctx: JobContext): Promise<ModelEntry> {
  const mtime = modelMtime(p.modelPath);
  const key = `model:${p.modelPath}:${mtime}:${p.data}:${JSON.stringify(p.dataOptions ?? {})}:${p.seed}`;
  const hit = ctx.cache.get(key) as ModelEntry | undefined;
  if (hit) {
    ctx.log(`${p.modelPath} + ${p.data} from cache`);
    return hit;
  }
  await initBackend();
  const model = await loadModel(p.modelPath);
  try {
    const input = modelInputOfLoaded(model);
    const ds = await loadData(p.data, input, {
      ...loadOptions(p.data, p.dataOptions),
      seed: p.seed,
      signal: ctx.signal,
      onProgress: (done, total, what) => ctx.progress(undefined, `${what}: ${done}/${total}`),
    });
    const split = splitForModel(model.network, model.metadata, ds, {
      seed: p.seed,
      file: p.modelPath,
    });
    const models = [...ctx.cache.keys()].filter((k) => k.startsWith('model:') && !k.includes('|'));
    // Evict the oldest so a long session does not hold every model it ever saw.
    for (const k of models.slice(0, Math.max(0, models.length - MAX_CACHED_MODELS + 1))) evict(ctx, k);
    const entry: ModelEntry = { key, model, split };
    ctx.cache.set(key, entry);
    return entry;
  } catch (e) {
    model.network.dispose();
    throw e;
  }
}

/** The prunescope.belsleyBlockLimit setting, passed by the extension host in the worker's environment. */
function belsleyBlockLimit(): number | undefined {
  const v = Number(process.env.PRUNESCOPE_BELSLEY_BLOCK_LIMIT);
  return Number.isInteger(v) && v > 0 ? v : undefined;
}

/**
 * The ranking a request asks for (options left out take the engine's defaults), computed once per
 * model entry: requests that resolve to the same options share it. Belsley's block limit is the
 * setting's unless the request names one.
 */
export async function cachedRanking(
  entry: ModelEntry,
  request: Omit<RelevanceRequest, 'signal' | 'onProgress'>,
  ctx: JobContext,
  onProgress?: (done: number, total: number, what: string) => void,
): Promise<RelevanceResult> {
  const req = { ...request, blockLimit: request.blockLimit ?? belsleyBlockLimit() };
  const key = rankKey(entry, req);
  const hit = ctx.cache.get(key) as { ranking: RelevanceResult } | undefined;
  if (hit) return hit.ranking;
  const ranking = await computeRelevance(entry.model.network, entry.split, {
    ...req,
    signal: ctx.signal,
    onProgress:
      onProgress ??
      ((done, total, what) => ctx.progress(total > 0 ? done / total : undefined, `${what}: ${done}/${total}`)),
  });
  // Only a finished ranking is cached; a cancelled one throws above and leaves nothing behind.
  if (ctx.cache.has(entry.key)) ctx.cache.set(key, { ranking });
  return ranking;
}

function rankKey(entry: ModelEntry, req: RelevanceRequest): string {
  return `${entry.key}|rank:${rankingKey(req)}`;
}

/**
 * What the slider needs per model: a clone to write masked weights into, the original weights,
 * the already-zero mask, and per method the active weights in ranking order (least relevant
 * first), so one what-if is a mask over a prefix, one setFlat and one evaluate.
 */
export interface WhatifState {
  net: Graph;
  flat: Float32Array;
  already: Uint8Array;
  candidates: number;
  /** Per cached ranking (cachedRanking returns one object per request). */
  ranked: Map<RelevanceResult, Int32Array>;
  /** The unmasked model's test metric (computed on first use). */
  baseline?: number;
  /** Channel groups and costs, built on the first structured what-if. */
  structured?: StructuredWhatifState;
}

export function whatifState(entry: ModelEntry, ctx: JobContext): WhatifState {
  const key = `${entry.key}|whatif`;
  let s = ctx.cache.get(key) as WhatifState | undefined;
  if (!s) {
    const net = entry.model.network;
    const flat = net.toFlat();
    const already = zeroMask(flat);
    s = {
      net: net.clone(),
      flat,
      already,
      candidates: countOnes(candidateMask(net, { alreadyPruned: already })),
      ranked: new Map(),
    };
    ctx.cache.set(key, s);
  }
  return s;
}

/** Test metric (accuracy or MSE) of the model with the head `share` of the active weights of `ranking` zeroed. */
export function maskedMetric(
  entry: ModelEntry,
  s: WhatifState,
  ranking: RelevanceResult,
  share: number,
): { value: number; pruned: number } {
  let ranked = s.ranked.get(ranking);
  if (!ranked) {
    ranked = candidateOrder(ranking.order, candidateMask(s.net, { alreadyPruned: s.already }));
    s.ranked.set(ranking, ranked);
  }
  const k = Math.round(share * ranked.length);
  // As the curves: a variational ranking's pruned models keep its posterior mean (prune/variationalWeights.ts).
  const w = Float32Array.from(pruningBase(s.flat, ranking).base);
  for (let i = 0; i < k; i++) w[ranked[i]] = 0;
  s.net.setFlat(w);
  const d = entry.split.dataset;
  const m = evaluate(s.net, entry.split.test, d.task, numClasses(d));
  return { value: d.task === 'classification' ? m.accuracy! : m.mse!, pruned: k };
}

/** An output folder: never the model's own folder, and new or empty (checked before any work). */
export function checkOut(out: string, modelPaths: string[], job: string): string {
  const o = path.resolve(out);
  for (const m of modelPaths) {
    const mp = path.resolve(m);
    if (o === mp || o === path.dirname(mp))
      throw badInput(`${job}: out is the model's own folder`, {
        file: o,
        field: 'out',
        expected: 'a new folder (the input model is never overwritten)',
      });
  }
  return o;
}

export function checkOutEmpty(out: string, job: string): void {
  if (fs.existsSync(out) && (!fs.statSync(out).isDirectory() || fs.readdirSync(out).length > 0)) {
    throw badInput(`${job}: output folder exists and is not empty`, {
      file: out,
      field: 'out',
      expected: 'a new or empty folder',
    });
  }
}

/**
 * A channel ranking of the model, computed once per model entry and request: the cached parameter
 * ranking aggregated per channel (fast), or native channel Belsley (its own cache entry).
 */
export async function cachedChannelRanking(
  entry: ModelEntry,
  request: Omit<RelevanceRequest, 'signal' | 'onProgress'>,
  o: { aggregate: ChannelAggregate; unit: StructuredUnit },
  ctx: JobContext,
  onProgress?: (done: number, total: number, what: string) => void,
): Promise<ChannelRanking> {
  const key = `${rankKey(entry, request)}|channels:${o.aggregate}:${o.unit}`;
  const hit = ctx.cache.get(key) as { channels: ChannelRanking } | undefined;
  if (hit) return hit.channels;
  const s = whatifState(entry, ctx);
  const source = o.aggregate === 'native' ? request : await cachedRanking(entry, request, ctx, onProgress);
  const channels = await channelRanking(entry.model.network, structuredState(s).groups, entry.split, source, {
    ...o,
    signal: ctx.signal,
  });
  if (ctx.cache.has(entry.key)) ctx.cache.set(key, { channels });
  return channels;
}

/** What a structured what-if reuses: the groups, the teacher's cost, and per ranking the last selection. */
export interface StructuredWhatifState {
  groups: ChannelGroups;
  spec: GraphSpec;
  cost: GraphCost;
  /** The teacher's stem output on the test part (null: the model has none to cache). */
  stem?: StemCache | null;
}

export function structuredState(s: WhatifState): StructuredWhatifState {
  if (!s.structured) {
    const spec = s.net.toSpec();
    s.structured = { groups: channelGroups(spec), spec, cost: graphCost(spec) };
  }
  return s.structured;
}

/** Test metric of the model with `share` of the removable channels of `ranking` zeroed, and what they cost. */
export function maskedChannelMetric(
  entry: ModelEntry,
  s: WhatifState,
  ranking: ChannelRanking,
  share: number,
  scope: ChannelScope,
): { value: number; pruned: number; structured: StructuredWhatif } {
  const st = structuredState(s);
  const removed = selectChannels(ranking.scores, st.groups, share, scope);
  const mask = structuredMask(st.spec, st.groups, removed);
  const w = Float32Array.from(s.flat);
  let pruned = 0;
  for (let i = 0; i < w.length; i++)
    if (mask[i]) {
      w[i] = 0;
      pruned++;
    }
  if (st.stem === undefined) {
    // The stem of the weights every removal starts from.
    s.net.setFlat(s.flat);
    st.stem = StemCache.build(s.net, st.groups, entry.split.test) ?? null;
  }
  s.net.setFlat(w);
  const d = entry.split.dataset;
  const m = st.stem
    ? st.stem.evaluate(s.net, removed, d.task, numClasses(d))
    : evaluate(s.net, entry.split.test, d.task, numClasses(d));
  const c = costWithRemoved(st.spec, st.groups, removed, st.cost);
  return {
    value: d.task === 'classification' ? m.accuracy! : m.mse!,
    pruned,
    structured: {
      unit: ranking.unit,
      removedChannels: countRemoved(removed),
      removableChannels: removableChannels(st.groups, ranking.unit),
      paramsLeft: c.params,
      paramsTotal: st.cost.params,
      macsLeft: c.macs,
      macsTotal: st.cost.macs,
    },
  };
}
