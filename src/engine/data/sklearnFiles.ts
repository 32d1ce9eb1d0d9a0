// The scikit-learn CSV files shipped verbatim in media/data. Their first line is
// `n_samples,n_features,<class names...>`, not a header; it is checked against the data.
import { badInput } from '../errors';
import type { Dataset, Task } from './dataset';
import { forEachCsvRecord } from './csvTokenize';
import { cellProblem, parseCell } from './csvValues';
import { readDataFile } from './dataDirectory';

export interface NumericTable {
  rows: number;
  cols: number;
  /** float64, row-major, as written in the file. */
  values: Float64Array;
  /** The physical line of each row, for error messages. */
  lines: number[];
}

/** All records from `skip` on, every cell a finite number, every row as wide as the first. */
export function numericTable(text: string, file: string, skip: number, delimiter = ','): NumericTable {
  const out: number[] = [];
  const lines: number[] = [];
  let cols = -1;
  let seen = 0;
  forEachCsvRecord(
    text,
    file,
    (fields, line) => {
      if (seen++ < skip) return;
      if (cols < 0) cols = fields.length;
      if (fields.length !== cols) {
        throw badInput(`the row has ${fields.length} fields`, {
          file,
          field: `row ${line}, column ${Math.min(fields.length, cols) + 1}`,
          expected: `${cols} fields`,
        });
      }
      fields.forEach((raw, j) => {
        const cell = parseCell(raw);
        if (cell.kind !== 'number')
          throw badInput(cellProblem(raw, cell)!, {
            file,
            field: `row ${line}, column ${j + 1}`,
            expected: 'a finite number',
          });
        out.push(cell.value);
      });
      lines.push(line);
    },
    delimiter,
  );
  return { rows: lines.length, cols: Math.max(cols, 0), values: Float64Array.from(out), lines };
}

export interface SklearnSpec {
  file: string;
  name: string;
  task: Task;
  featureNames: string[];
  targetName: string;
  /** Lines after the count line that are not data (Boston's column-name line). */
  extraHeaderLines?: number;
  /** Class names when the count line does not carry them (digits). */
  labelNames?: string[];
  provenance: string;
}

export function loadSklearnCsv(spec: SklearnSpec): Dataset {
  const { file } = spec;
  const text = readDataFile(file).toString('utf8');
  let first: string[] = [];
  const end = text.search(/\r?\n/);
  forEachCsvRecord(text.slice(0, end < 0 ? undefined : end), file, (f) => {
    first = f;
  });
  const nSamples = Number(first[0]);
  const nFeatures = Number(first[1]);
  const labelNames = spec.task === 'classification' ? (spec.labelNames ?? first.slice(2)) : undefined;
  const t = numericTable(text, file, 1 + (spec.extraHeaderLines ?? 0));
  if (t.rows !== nSamples || t.cols !== nFeatures + 1) {
    throw badInput(
      `the data are ${t.rows} x ${t.cols} but the first line says ${first[0]} samples and ${first[1]} features + target`,
      { file, field: 'row 1', expected: 'the counts of the first line' },
    );
  }
  return fromTable(t, spec, labelNames);
}

/** Splits a table whose last column is the target into a Dataset. */
export function fromTable(
  t: NumericTable,
  spec: Omit<SklearnSpec, 'extraHeaderLines'>,
  labelNames?: string[],
): Dataset {
  const features = t.cols - 1;
  if (spec.featureNames.length !== features) {
    throw badInput(`${features} feature columns but ${spec.featureNames.length} names`, {
      file: spec.file,
      expected: 'one name per feature',
    });
  }
  const x = new Float32Array(t.rows * features);
  const y = new Float32Array(t.rows);
  for (let i = 0; i < t.rows; i++) {
    for (let j = 0; j < features; j++) x[i * features + j] = t.values[i * t.cols + j];
    const v = t.values[i * t.cols + features];
    if (labelNames && !(Number.isInteger(v) && v >= 0 && v < labelNames.length)) {
      throw badInput(`class label ${v} is not an index`, {
        file: spec.file,
        field: `row ${t.lines[i]}, column ${t.cols}`,
        expected: `an integer in 0..${labelNames.length - 1}`,
      });
    }
    y[i] = v;
  }
  return {
    name: spec.name,
    task: spec.task,
    featureNames: spec.featureNames,
    targetName: spec.targetName,
    labelNames,
    x,
    y,
    rows: t.rows,
    features,
    provenance: spec.provenance,
  };
}
