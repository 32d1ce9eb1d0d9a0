// A user's CSV file as a Dataset: header row, numeric features, a target column by name.
import * as fs from 'fs';
import * as path from 'path';
import { PruneScopeError, badInput } from '../errors';
import type { Dataset, Task } from './dataset';
import { forEachCsvRecord } from './csvTokenize';
import { cellProblem, parseCell } from './csvValues';
import { encodeTarget } from './targets';
import { clip } from '../util/jsonLimits';

/** Files are read whole into memory, so their size is checked before reading. */
export const DEFAULT_MAX_CSV_BYTES = 512 * 1024 * 1024;

export interface CsvOptions {
  /** Target column name; default the last column. */
  target?: string;
  /** Default: inferred (see encodeTarget). */
  task?: Task;
  /** Refuse files larger than this many bytes (default 512 MiB). */
  maxBytes?: number;
}

export function readCsv(file: string, opts: CsvOptions = {}): Dataset {
  let size: number;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw badInput('is not a regular file', { file, expected: 'a CSV file' });
    size = st.size;
  } catch (e) {
    if (e instanceof PruneScopeError) throw e;
    throw new PruneScopeError('not-found', 'cannot read the file', { file, expected: 'an existing CSV file' });
  }
  const budget = opts.maxBytes ?? DEFAULT_MAX_CSV_BYTES;
  // NaN would compare false against every size and silently switch the budget off.
  if (!(budget >= 0))
    throw badInput(`the byte budget maxBytes is ${budget}`, {
      file,
      field: 'maxBytes',
      expected: 'a non-negative number of bytes',
    });
  if (size > budget) {
    throw new PruneScopeError(
      'too-large',
      `the file is ${size} bytes (${mib(size)} MiB), over the ${budget} byte (${mib(budget)} MiB) budget`,
      { file, expected: `at most ${budget} bytes` },
    );
  }
  const ds = parseCsv(fs.readFileSync(file, 'utf8'), file, opts);
  ds.provenance = `CSV file ${path.resolve(file)} (${size} bytes), target column "${ds.targetName}", task ${ds.task}${opts.task ? '' : ' (inferred)'}.`;
  return ds;
}

/** Parses CSV text; `file` is only used in error messages and as the data set name. */
export function parseCsv(text: string, file: string, opts: CsvOptions = {}): Dataset {
  let header: string[] | undefined;
  let targetCol = -1;
  let featureCols: number[] = [];
  let x = new Float32Array(1024);
  let rows = 0;
  const targetRaw: string[] = [];
  const rowLines: number[] = [];

  forEachCsvRecord(text, file, (fields, line) => {
    if (!header) {
      header = readHeader(fields, file, line);
      targetCol = opts.target === undefined ? header.length - 1 : header.indexOf(opts.target);
      if (targetCol < 0) {
        throw new PruneScopeError('not-found', `target column "${opts.target}" is not in the header`, {
          file,
          field: `row ${line}`,
          expected: `one of ${columnList(header)}`,
        });
      }
      featureCols = header.map((_, j) => j).filter((j) => j !== targetCol);
      return;
    }
    if (fields.length !== header.length) {
      const col = Math.min(fields.length, header.length) + 1;
      const what =
        fields.length < header.length
          ? `is missing column ${col} "${header[col - 1]}" onwards`
          : `has an extra column ${col}`;
      throw badInput(`the row has ${fields.length} fields and ${what}`, {
        file,
        field: `row ${line}, column ${col}`,
        expected: `${header.length} fields as in the header (row 1)`,
      });
    }
    const f = featureCols.length;
    if ((rows + 1) * f > x.length) {
      const grown = new Float32Array(Math.max(x.length * 2, (rows + 1) * f));
      grown.set(x);
      x = grown;
    }
    for (let k = 0; k < f; k++) {
      const j = featureCols[k];
      const cell = parseCell(fields[j]);
      if (cell.kind !== 'number') {
        throw badInput(cellProblem(fields[j], cell)!, {
          file,
          field: `row ${line}, column ${j + 1} "${header[j]}"`,
          expected: 'a finite decimal number in every feature column',
        });
      }
      x[rows * f + k] = cell.value;
    }
    targetRaw.push(fields[targetCol]);
    rowLines.push(line);
    rows++;
  });

  if (!header) throw badInput('the file is empty', { file, expected: 'a header row followed by data rows' });
  // One data row cannot be split into training and test parts.
  if (rows < 2) {
    throw badInput(rows === 0 ? 'the file has a header but no data rows' : 'the file has only one data row', {
      file,
      field: `row ${rows === 0 ? 1 : rowLines[0]}`,
      expected: 'a header row followed by at least 2 data rows',
    });
  }
  const h = header;
  const target = encodeTarget(
    targetRaw,
    { file, rowOf: (i) => rowLines[i], column: `${targetCol + 1} "${h[targetCol]}"` },
    opts.task,
  );
  const features = featureCols.length;
  return {
    name: file,
    task: target.task,
    featureNames: featureCols.map((j) => h[j]),
    targetName: h[targetCol],
    labelNames: target.labelNames,
    x: x.length === rows * features ? x : x.slice(0, rows * features),
    y: target.y,
    rows,
    features,
  };
}

function readHeader(fields: string[], file: string, line: number): string[] {
  const names = fields.map((s) => s.trim());
  if (names.length < 2) {
    throw badInput(`the header has ${names.length} column`, {
      file,
      field: `row ${line}`,
      expected: 'at least 2 comma-separated columns (features and a target)',
    });
  }
  const seen = new Map<string, number>();
  names.forEach((name, j) => {
    if (name === '')
      throw badInput('empty column name', {
        file,
        field: `row ${line}, column ${j + 1}`,
        expected: 'a name for every column in the header',
      });
    const prev = seen.get(name);
    if (prev !== undefined) {
      throw badInput(`duplicate column name "${clip(name, 60)}" (also column ${prev + 1})`, {
        file,
        field: `row ${line}, column ${j + 1}`,
        expected: 'unique column names',
      });
    }
    seen.set(name, j);
  });
  return names;
}

/** The header's names for a message; a wide file would otherwise put every column in it. */
function columnList(header: string[], max = 20): string {
  const shown = header
    .slice(0, max)
    .map((h) => `"${clip(h, 60)}"`)
    .join(', ');
  return header.length > max ? `${shown}, ... (${header.length} columns)` : shown;
}

function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}
