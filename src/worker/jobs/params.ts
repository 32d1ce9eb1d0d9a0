// Small checkers for job params arriving over IPC (the notebook path lets users send anything).
import { badInput } from '../../engine/errors';

export function obj(v: unknown, job: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badInput(`${job}: params must be an object`);
  return v as Record<string, unknown>;
}

export function str(o: Record<string, unknown>, key: string, job: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) throw badInput(`${job}: parameter is missing or not a string`, { field: key, expected: 'a non-empty string' });
  return v;
}

export function int(o: Record<string, unknown>, key: string, job: string, lo: number, hi: number, dflt?: number): number {
  const v = o[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw badInput(`${job}: parameter out of range`, { field: key, expected: `an integer in [${lo}, ${hi}]` });
  }
  return v;
}
