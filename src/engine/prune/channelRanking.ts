// The relevance of every removable channel, by any method: the method's per-parameter relevance
// (relevance/compute.ts) aggregated over each channel's parameters, or, for Belsley with the
// `native` aggregate, Belsley on the channel gates' covariance (channelBelsley.ts; the covariance
// source follows the request: laplace or gradient).
import type { DataSplit } from '../data/dataset';
import { numClasses, yTensor } from '../data/dataset';
import { badInput } from '../errors';
import type { Graph } from '../model/graph';
import { makeProvenance, hashModel, type Provenance } from '../provenance';
import { RELEVANCE_DEFAULTS, STRUCTURED_DEFAULTS, type ChannelAggregate } from '../options';
import { computeRelevance, type RelevanceRequest } from '../relevance/compute';
import type { RelevanceResult } from '../relevance/types';
import { channelBelsley } from './channelBelsley';
import { channelScores, type ChannelScores, type StructuredUnit } from './channelSelect';
import { prunableGroups, type ChannelGroups } from './groups';

export interface ChannelRanking {
  method: string;
  aggregate: ChannelAggregate;
  unit: StructuredUnit;
  scores: ChannelScores;
  /** The per-parameter ranking aggregated (absent for native channel Belsley). */
  parameters?: RelevanceResult;
  provenance: Provenance;
}

export async function channelRanking(
  graph: Graph,
  groups: ChannelGroups,
  split: DataSplit,
  req: RelevanceRequest | RelevanceResult,
  opts: { aggregate?: ChannelAggregate; unit?: StructuredUnit; signal?: AbortSignal } = {},
): Promise<ChannelRanking> {
  const aggregate = opts.aggregate ?? STRUCTURED_DEFAULTS.aggregate;
  const unit = opts.unit ?? 'channels';
  const spec = graph.toSpec();
  if (aggregate !== 'native') {
    const parameters =
      'scores' in req ? req : await computeRelevance(graph, split, { ...req, signal: opts.signal ?? req.signal });
    return {
      method: parameters.method,
      aggregate,
      unit,
      scores: channelScores(spec, groups, parameters.scores, aggregate, unit),
      parameters,
      provenance: parameters.provenance,
    };
  }
  if ('scores' in req || req.method !== 'belsley')
    throw badInput(
      `native channel relevance is Belsley's; got ${'scores' in req ? 'a parameter ranking' : req.method}`,
      {
        field: 'aggregate',
        expected: 'method belsley with aggregate native, or aggregate sum, mean or max',
      },
    );
  const covariance = req.covariance ?? RELEVANCE_DEFAULTS.covariance;
  if (covariance !== 'laplace' && covariance !== 'gradient')
    throw badInput(`covariance ${covariance} for native channel Belsley`, {
      field: 'covariance',
      expected: 'laplace or gradient (the channel gates have no trajectory or variational covariance)',
    });
  const d = split.dataset;
  const y = yTensor(split.train, d.task, numClasses(d));
  const yv = y.dataSync() as Float32Array;
  y.dispose();
  const r = channelBelsley(
    graph,
    groups,
    { x: split.train.x, y: yv, rows: split.train.rows },
    {
      source: covariance,
      ordering: req.ordering,
      signal: opts.signal ?? req.signal,
    },
  );
  const keep = new Set(prunableGroups(groups, unit).map((g) => g.id));
  const scores: ChannelScores = new Map([...r.scores].filter(([id]) => keep.has(id)));
  const provenance = makeProvenance({
    job: 'relevance',
    method: 'belsley',
    variant: 'channel-gates',
    covariance,
    modelHash: hashModel(graph.structure(), graph.toFlat()),
    data: {
      name: d.name,
      split: 'train',
      rows: split.train.rows,
      splitSeed: split.seed,
      testFraction: split.testFraction,
      standardized: !!split.standardization,
    },
    options: { aggregate, unit, ordering: req.ordering ?? 'auto' },
  });
  return { method: 'belsley', aggregate, unit, scores, provenance };
}
