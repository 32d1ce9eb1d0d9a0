// Strict numeric cells: JavaScript's Number() accepts '', '0x1f', 'Infinity' and whitespace-only
// strings, all of which would silently corrupt a data set, so cells must look like decimals.
import { clip } from '../util/jsonLimits';

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i;

export type Cell = { kind: 'number'; value: number } | { kind: 'empty' } | { kind: 'non-finite' } | { kind: 'text' };

export function parseCell(raw: string): Cell {
  const s = raw.trim();
  if (s === '') return { kind: 'empty' };
  if (DECIMAL.test(s)) {
    const value = Number(s);
    // '1e999' is a valid decimal that overflows to Infinity.
    return Number.isFinite(value) ? { kind: 'number', value } : { kind: 'non-finite' };
  }
  if (NON_FINITE.test(s)) return { kind: 'non-finite' };
  return { kind: 'text' };
}

/** Why a cell is not a usable number, for error messages; undefined when it is one. */
export function cellProblem(raw: string, cell: Cell): string | undefined {
  switch (cell.kind) {
    case 'number':
      return undefined;
    case 'empty':
      return 'empty value (missing data is not supported)';
    case 'non-finite':
      return `value "${clip(raw.trim(), 60)}" is NaN or infinite`;
    case 'text':
      return `value "${clip(raw.trim(), 60)}" is not a number`;
  }
}
