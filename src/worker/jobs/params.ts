// Small checkers for job params arriving over IPC (the notebook path lets users send anything).
import { badInput } from '../../engine/errors';

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

/** modelPath + data + seed: the cache key every model job shares. */
export function modelRef(o: Record<string, unknown>, job: string): { modelPath: string; data: string; seed: number } {
  return {
    modelPath: str(o, 'modelPath', job),
    data: str(o, 'data', job),
    seed: int(o, 'seed', job, 0, 2 ** 31 - 1, 0),
  };
}
