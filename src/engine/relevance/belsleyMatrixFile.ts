// Reading a numeric matrix for `prunescope belsley`: CSV (no header, numbers only, comma
// separated) or JSON (an array of rows, each an array of numbers). Every complaint names the file,
// the row and the column (0-based, as in the output's indices).
import { readFileSync } from 'fs';
import { badInput, PruneScopeError } from '../errors';

export interface NumericMatrix {
  rows: number;
  cols: number;
  /** Row-major rows x cols. */
  data: Float64Array;
}

export function readMatrixFile(file: string): NumericMatrix {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PruneScopeError('not-found', `cannot read: ${(e as Error).message}`, { file, field: '--matrix' });
  }
  return /\.json$/i.test(file) ? parseJsonMatrix(text, file) : parseCsvMatrix(text, file);
}

export function parseCsvMatrix(text: string, file: string): NumericMatrix {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  const rows: number[][] = lines.map((line, r) => {
    if (line.trim() === '')
      throw badInput('empty line', {
        file,
        field: `row ${r}`,
        expected: 'comma-separated numbers (no blank lines inside the matrix)',
      });
    return line.split(',').map((cell, c) => {
      const t = cell.trim();
      const v = t === '' ? NaN : Number(t);
      if (!Number.isFinite(v))
        throw badInput(`"${t}" is not a finite number`, {
          file,
          field: `row ${r}, column ${c}`,
          expected: 'numbers only (no header row)',
        });
      return v;
    });
  });
  return pack(rows, file);
}

export function parseJsonMatrix(text: string, file: string): NumericMatrix {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw badInput(`not valid JSON: ${(e as Error).message}`, {
      file,
      field: 'matrix',
      expected: 'a JSON array of rows, each an array of numbers',
    });
  }
  if (!Array.isArray(doc))
    throw badInput('top level is not an array', {
      file,
      field: 'matrix',
      expected: 'a JSON array of rows, each an array of numbers',
    });
  const rows = doc.map((row, r) => {
    if (!Array.isArray(row))
      throw badInput('row is not an array', { file, field: `row ${r}`, expected: 'an array of numbers' });
    return row.map((v, c) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw badInput(`${JSON.stringify(v)} is not a finite number`, {
          file,
          field: `row ${r}, column ${c}`,
          expected: 'a finite number',
        });
      return v;
    });
  });
  return pack(rows, file);
}

function pack(rows: number[][], file: string): NumericMatrix {
  if (rows.length === 0) throw badInput('no rows', { file, field: 'matrix', expected: 'at least one row of numbers' });
  const cols = rows[0].length;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((row, r) => {
    if (row.length !== cols)
      throw badInput(`row has ${row.length} columns`, {
        file,
        field: `row ${r}`,
        expected: `${cols} columns, as in row 0`,
      });
    data.set(row, r * cols);
  });
  return { rows: rows.length, cols, data };
}
