// Small checkers for job params arriving over IPC (the notebook path lets users send anything).
// Enums, ranges and defaults come from engine/options.ts, as the CLI's do.
import { badInput } from '../../engine/errors';
import {
  BELSLEY_COVARIANCES,
  MAX_ROWS_RANGE,
  PIXEL_SCALES,
  BELSLEY_ORDERINGS,
  CHANNEL_AGGREGATES,
  CHANNEL_SCOPES,
  FINETUNE_EPOCHS_RANGE,
  STRUCTURED_DEFAULTS,
  STRUCTURED_MODES,
  type ChannelAggregate,
  type ChannelScope,
  type StructuredMode,
  OBD_VARIANTS,
  RELEVANCE_DEFAULTS,
  RELEVANCE_METHODS,
  SEED_RANGE,
  SPLIT_DEFAULTS,
  describeRange,
  inRange,
  type NumberRange,
} from '../../engine/options';
import type { RelevanceRequest } from '../../engine/relevance/compute';
import type { DataOptions, RankingParams } from '../../protocol';

export function obj(v: unknown, job: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badInput(`${job}: params must be an object`);
  return v as Record<string, unknown>;
}

export function str(o: Record<string, unknown>, key: string, job: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0)
    throw badInput(`${job}: parameter is missing or not a string`, { field: key, expected: 'a non-empty string' });
  return v;
}

export function int(
  o: Record<string, unknown>,
  key: string,
  job: string,
  lo: number,
  hi: number,
  dflt?: number,
): number {
  const v = o[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw badInput(`${job}: parameter out of range`, { field: key, expected: `an integer in [${lo}, ${hi}]` });
  }
  return v;
}

export function num(
  o: Record<string, unknown>,
  key: string,
  job: string,
  lo: number,
  hi: number,
  dflt?: number,
): number {
  const v = o[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
    throw badInput(`${job}: parameter out of range`, { field: key, expected: `a number in [${lo}, ${hi}]` });
  }
  return v;
}

export function optBool(o: Record<string, unknown>, key: string, job: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean')
    throw badInput(`${job}: parameter is not a boolean`, { field: key, expected: 'true or false' });
  return v;
}

export function optStr(o: Record<string, unknown>, key: string, job: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, job);
}

/** One of `allowed` (default `dflt`), named in the error when it is not. */
export function oneOf<T extends string>(
  o: Record<string, unknown>,
  key: string,
  job: string,
  allowed: readonly T[],
  dflt?: T,
): T {
  const v = o[key] ?? dflt;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw badInput(`${job}: unknown ${key} ${JSON.stringify(v)}`, { field: key, expected: allowed.join(', ') });
  }
  return v as T;
}

export function optWidths(o: Record<string, unknown>, key: string, job: string): number[] | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0 || v.some((w) => typeof w !== 'number' || !Number.isInteger(w) || w < 1)) {
    throw badInput(`${job}: widths must be positive integers`, {
      field: key,
      expected: 'one positive integer width per hidden layer',
    });
  }
  return v as number[];
}

/** A number in `r` (default `dflt`), as a setting or a flag with the same range checks it. */
export function ranged(o: Record<string, unknown>, key: string, job: string, r: NumberRange, dflt?: number): number {
  const v = o[key] ?? dflt;
  if (!inRange(v, r)) throw badInput(`${job}: parameter out of range`, { field: key, expected: describeRange(r) });
  return v;
}

/** The split (and stochastic methods') seed, default SPLIT_DEFAULTS.seed. */
export function seed(o: Record<string, unknown>, job: string): number {
  return int(o, 'seed', job, SEED_RANGE.min, SEED_RANGE.max, SPLIT_DEFAULTS.seed);
}

const DATA_OPTION_KEYS = ['labels', 'xKey', 'yKey', 'scale', 'resize', 'maxRows'];

/** How to read `data` (DataOptions): each field checked, unknown ones refused; absent stays absent. */
export function dataOptions(o: Record<string, unknown>, job: string): DataOptions | undefined {
  const v = o.dataOptions;
  if (v === undefined) return undefined;
  const d = obj(v, `${job}: dataOptions`);
  const unknown = Object.keys(d).find((k) => !DATA_OPTION_KEYS.includes(k));
  if (unknown !== undefined)
    throw badInput(`${job}: unknown data option ${JSON.stringify(unknown)}`, {
      field: `dataOptions.${unknown}`,
      expected: DATA_OPTION_KEYS.join(', '),
    });
  const out: DataOptions = {};
  for (const k of ['labels', 'xKey', 'yKey'] as const)
    if (d[k] !== undefined) out[k] = str(d, k, `${job}: dataOptions`);
  if (d.scale !== undefined) {
    if (!(PIXEL_SCALES as readonly unknown[]).includes(d.scale))
      throw badInput(`${job}: dataOptions.scale is ${JSON.stringify(d.scale)}`, {
        field: 'dataOptions.scale',
        expected: PIXEL_SCALES.join(' or '),
      });
    out.scale = d.scale as 1 | 255;
  }
  const resize = optBool(d, 'resize', `${job}: dataOptions`);
  if (resize !== undefined) out.resize = resize;
  if (d.maxRows !== undefined)
    out.maxRows = d.maxRows === 'all' ? 'all' : ranged(d, 'maxRows', `${job}: dataOptions`, MAX_ROWS_RANGE);
  return out;
}

/** modelPath + data (+ how to read it) + seed: the cache key every model job shares. */
export function modelRef(
  o: Record<string, unknown>,
  job: string,
): { modelPath: string; data: string; dataOptions?: DataOptions; seed: number } {
  const d = dataOptions(o, job);
  return {
    modelPath: str(o, 'modelPath', job),
    data: str(o, 'data', job),
    ...(d ? { dataOptions: d } : {}),
    seed: seed(o, job),
  };
}

/**
 * The ranking a job asks for: `method` (default RELEVANCE_DEFAULTS.method) and its options
 * (variant, covariance, ordering), each left to the engine's default when absent: the same
 * request the CLI's relevance flags make, so the same options give the same ranking.
 */
export function rankingRequest(
  o: Record<string, unknown>,
  job: string,
  methodKey = 'method',
): RelevanceRequest & { method: (typeof RELEVANCE_METHODS)[number] } {
  const opt = <T extends string>(key: string, allowed: readonly T[]) =>
    o[key] === undefined ? undefined : oneOf(o, key, job, allowed);
  return {
    method: oneOf(o, methodKey, job, RELEVANCE_METHODS, RELEVANCE_DEFAULTS.method),
    variant: opt('variant', OBD_VARIANTS),
    covariance: opt('covariance', BELSLEY_COVARIANCES),
    ordering: opt('ordering', BELSLEY_ORDERINGS),
  };
}

/** A parsed job's ranking params as the engine's request (parse has checked every field). */
export function requestOf(p: Partial<RankingParams> & { seed: number }, method = p.method): RelevanceRequest {
  return {
    method: method ?? RELEVANCE_DEFAULTS.method,
    variant: p.variant,
    covariance: p.covariance,
    ordering: p.ordering,
    seed: p.seed,
  } as RelevanceRequest;
}

/** structured / aggregate / scope, each defaulting as the CLI's flags do (STRUCTURED_DEFAULTS). */
export function structuredParams(
  o: Record<string, unknown>,
  job: string,
): { structured: StructuredMode; aggregate: ChannelAggregate; scope: ChannelScope } {
  return {
    structured: oneOf(o, 'structured', job, STRUCTURED_MODES, STRUCTURED_DEFAULTS.structured),
    aggregate: oneOf(o, 'aggregate', job, CHANNEL_AGGREGATES, STRUCTURED_DEFAULTS.aggregate),
    scope: oneOf(o, 'scope', job, CHANNEL_SCOPES, STRUCTURED_DEFAULTS.scope),
  };
}

/** Epochs of fine-tuning with the mask held (default 0). */
export function finetuneParam(o: Record<string, unknown>, job: string): number {
  return ranged(o, 'finetune', job, FINETUNE_EPOCHS_RANGE, STRUCTURED_DEFAULTS.finetuneEpochs);
}
