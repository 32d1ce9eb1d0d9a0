// A small, strict argument parser: unknown flags are errors, so typos never pass silently.
import { badInput } from '../engine/errors';

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

export interface FlagSpec {
  /** Flag name without dashes. */
  name: string;
  /** true: takes a value; false: boolean switch. */
  value: boolean;
  help: string;
}

export function parseArgs(argv: string[], specs: FlagSpec[], command: string): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const spec = byName.get(name);
    if (!spec)
      throw badInput(`unknown option --${name}`, {
        field: command,
        expected: `one of ${specs.map((s) => '--' + s.name).join(', ') || 'no options'}`,
      });
    if (spec.value) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw badInput(`--${name} needs a value`, { field: command, expected: 'a value after it' });
      flags.set(name, v);
    } else {
      flags.set(name, true);
    }
  }
  return { positional, flags };
}

export function str(a: ParsedArgs, name: string): string | undefined {
  const v = a.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function bool(a: ParsedArgs, name: string): boolean {
  return a.flags.get(name) === true;
}

export function num(
  a: ParsedArgs,
  name: string,
  fallback: number,
  opts: { integer?: boolean; min?: number; max?: number } = {},
): number {
  const v = str(a, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  const bad =
    !Number.isFinite(n) ||
    (opts.integer && !Number.isInteger(n)) ||
    (opts.min !== undefined && n < opts.min) ||
    (opts.max !== undefined && n > opts.max);
  if (bad) {
    const range = [
      opts.integer ? 'an integer' : 'a number',
      opts.min !== undefined ? `>= ${opts.min}` : '',
      opts.max !== undefined ? `<= ${opts.max}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    throw badInput(`--${name} got "${v}"`, { field: `--${name}`, expected: range });
  }
  return n;
}

export function list(a: ParsedArgs, name: string): string[] | undefined {
  const v = str(a, name);
  return v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

export function numList(a: ParsedArgs, name: string): number[] | undefined {
  const l = list(a, name);
  if (!l) return undefined;
  return l.map((s) => {
    const n = Number(s);
    if (!Number.isFinite(n))
      throw badInput(`--${name} has "${s}"`, { field: `--${name}`, expected: 'a comma-separated list of numbers' });
    return n;
  });
}

export function oneOf<T extends string>(a: ParsedArgs, name: string, allowed: readonly T[], fallback: T): T {
  const v = str(a, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v))
    throw badInput(`--${name} got "${v}"`, { field: `--${name}`, expected: `one of ${allowed.join(', ')}` });
  return v as T;
}
