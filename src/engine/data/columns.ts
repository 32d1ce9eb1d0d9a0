// Column subsets of a data split: the student of a privileged-information setup (Lopez-Paz et al.
// 2016) or a student whose unused inputs were dropped reads only some of the teacher's columns.
import { badInput } from '../errors';
import type { DataSplit, SplitPart } from './dataset';

/** Checks that `cols` are distinct column indices of a `features`-column table; `field` names the option. */
export function checkColumns(cols: number[], features: number, field: string): void {
  const seen = new Set<number>();
  for (const c of cols) {
    if (!Number.isInteger(c) || c < 0 || c >= features || seen.has(c)) {
      throw badInput(`column ${c} is out of range or repeated`, {
        field,
        expected: `distinct integers in [0, ${features})`,
      });
    }
    seen.add(c);
  }
  if (cols.length === 0) throw badInput('no columns', { field, expected: 'at least one column' });
}

function part(p: SplitPart, features: number, cols: number[]): SplitPart {
  const x = new Float32Array(p.rows * cols.length);
  for (let i = 0; i < p.rows; i++)
    for (let k = 0; k < cols.length; k++) x[i * cols.length + k] = p.x[i * features + cols[k]];
  return { ...p, x };
}

/** The same rows and targets with only the columns `cols` (in that order), names and standardisation restricted too. */
export function selectColumns(split: DataSplit, cols: number[], field = 'columns'): DataSplit {
  const d = split.dataset;
  checkColumns(cols, d.features, field);
  const st = split.standardization;
  return {
    ...split,
    dataset: {
      ...d,
      features: cols.length,
      featureNames: cols.map((c) => d.featureNames[c]),
      x: part({ x: d.x, y: d.y, rows: d.rows }, d.features, cols).x,
    },
    train: part(split.train, d.features, cols),
    test: part(split.test, d.features, cols),
    standardization: st ? { mean: cols.map((c) => st.mean[c]), std: cols.map((c) => st.std[c]) } : undefined,
  };
}

/** Column indices of `names` in the data set, each name required to exist. */
export function columnsByName(featureNames: string[], names: string[], field: string): number[] {
  return names.map((n) => {
    const i = featureNames.indexOf(n);
    if (i < 0)
      throw badInput(`unknown column "${n}"`, {
        field,
        expected: `names among ${featureNames.slice(0, 20).join(', ')}${featureNames.length > 20 ? ', ...' : ''}`,
      });
    return i;
  });
}
