// Bounded handling of JSON from untrusted files. JSON.parse accepts any nesting depth, and every
// later recursive walk or JSON.stringify of such a value (error messages included) can overflow
// the stack or produce a message megabytes long; so depth is checked before parsing, and values
// quoted in messages are previewed, never stringified whole.
import { PruneScopeError } from '../errors';

/** Keras configs nest about 10 levels; 64 leaves ample room for real files. */
export const MAX_JSON_DEPTH = 64;

/** Deepest [ / { nesting of JSON text, ignoring brackets inside strings; stops once over `limit`. */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return max;
}

/** JSON.parse with a nesting limit; every failure is a PruneScopeError naming `file`. */
export function parseJsonBounded(text: string, file: string, expected: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (jsonDepth(text, maxDepth) > maxDepth) {
    throw new PruneScopeError('too-large', `nests JSON more than ${maxDepth} levels deep`, {
      file,
      expected: `${expected} nested at most ${maxDepth} levels`,
    });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new PruneScopeError('bad-input', `is not valid JSON: ${clip((e as Error).message, 200)}`, { file, expected });
  }
}

/** At most `max` characters of s, marking the cut. */
export function clip(s: string, max = 80): string {
  return s.length <= max ? s : `${s.slice(0, max)}... (${s.length} characters)`;
}

/** A short JSON rendering of a value for an error message (huge arrays and strings are cut). */
export function preview(v: unknown, max = 80): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = Array.isArray(v) ? `an array of ${v.length}` : typeof v;
  }
  return clip(s, max);
}
