// Turning a target column into y: class indices (with label names) or regression values.
import { badInput } from '../errors';
import { clip } from '../util/jsonLimits';
import type { Task } from './dataset';
import { cellProblem, parseCell } from './csvValues';

/** An integer target with at most this many distinct values is taken to be a class label. */
export const MAX_INFERRED_CLASSES = 50;

export interface EncodedTarget {
  task: Task;
  y: Float32Array;
  labelNames?: string[];
}

/** Where each value came from, for error messages: file, the row of value i, the column. */
export interface TargetSource {
  file: string;
  rowOf: (i: number) => number;
  column: string;
}

/**
 * Encodes raw target cells. Without a task: all-integer with <= 50 distinct values, or any
 * non-numeric value, means classification; otherwise regression. Class labels become indices
 * in sorted order (numeric order for numbers, code-unit order for text, so the result does not
 * depend on the locale) and their names are kept as strings.
 */
export function encodeTarget(raw: string[], src: TargetSource, task?: Task): EncodedTarget {
  const cells = raw.map(parseCell);
  const where = (i: number) => ({ file: src.file, field: `row ${src.rowOf(i)}, column ${src.column}` });
  for (let i = 0; i < raw.length; i++) {
    const k = cells[i].kind;
    // Text is a valid class label; empty and NaN are never valid targets.
    if (k === 'empty' || k === 'non-finite') {
      throw badInput(cellProblem(raw[i], cells[i])!, { ...where(i), expected: 'a target value' });
    }
  }
  const firstText = cells.findIndex((c) => c.kind === 'text');
  const numbers = firstText < 0 ? cells.map((c) => (c.kind === 'number' ? c.value : NaN)) : undefined;
  let resolved: Task;
  if (task) {
    resolved = task;
  } else if (!numbers) {
    resolved = 'classification';
  } else {
    const integer = numbers.every((v) => Number.isInteger(v));
    resolved = integer && new Set(numbers).size <= MAX_INFERRED_CLASSES ? 'classification' : 'regression';
  }

  if (resolved === 'regression') {
    if (!numbers) {
      throw badInput(cellProblem(raw[firstText], cells[firstText])!, {
        ...where(firstText),
        expected: 'a number for a regression target',
      });
    }
    return { task: 'regression', y: Float32Array.from(numbers) };
  }

  // Classification: numbers are compared by value so "3" and "3.0" are one class.
  const keys = numbers ? numbers.map((v) => String(v)) : raw.map((s) => s.trim());
  const names = [...new Set(keys)];
  if (numbers) names.sort((a, b) => Number(a) - Number(b));
  else names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (names.length < 2) {
    throw badInput(`the target has a single class "${clip(names[0], 60)}"`, {
      file: src.file,
      field: `column ${src.column}`,
      expected: 'at least 2 classes',
    });
  }
  const index = new Map(names.map((name, i) => [name, i]));
  const y = new Float32Array(keys.length);
  for (let i = 0; i < keys.length; i++) y[i] = index.get(keys[i])!;
  return { task: 'classification', y, labelNames: names };
}
