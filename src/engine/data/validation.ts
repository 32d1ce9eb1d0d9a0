// A validation part held out of the training part, for choices that must not see the test part
// (the demo's student: method and share). The training part shrinks by it; the test part is
// untouched. Feature standardisation keeps the split's statistics (fitted on the whole training
// part, features only: no label of the validation rows is used to fit anything).
import { badInput } from '../errors';
import { Rng } from '../util/random';
import type { DataSplit, SplitPart } from './dataset';

export interface ValidationSplit {
  /** The split with the validation rows removed from its training part. */
  split: DataSplit;
  validation: SplitPart;
  fraction: number;
  seed: number;
}

export function holdOutValidation(split: DataSplit, fraction: number, seed: number): ValidationSplit {
  const rows = split.train.rows;
  if (!(fraction > 0 && fraction < 1))
    throw badInput(`validation fraction ${fraction}`, {
      field: 'validationFraction',
      expected: 'a number strictly between 0 and 1 (share of the training part)',
    });
  if (rows < 2)
    throw badInput(`the training part has ${rows} rows`, {
      file: split.dataset.name,
      field: 'validationFraction',
      expected: 'at least 2 training rows to hold some out',
    });
  const nVal = Math.min(rows - 1, Math.max(1, Math.round(rows * fraction)));
  const perm = new Rng(seed).permutation(rows);
  const pick = (sel: Int32Array): SplitPart => {
    const f = split.dataset.features;
    const x = new Float32Array(sel.length * f);
    const y = new Float32Array(sel.length);
    sel.forEach((r, i) => {
      x.set(split.train.x.subarray(r * f, (r + 1) * f), i * f);
      y[i] = split.train.y[r];
    });
    const idx = split.train.indices;
    return { x, y, rows: sel.length, ...(idx ? { indices: Int32Array.from(sel, (r) => idx[r]) } : {}) };
  };
  // Ascending within each part, so the remaining training rows keep their order.
  const val = Int32Array.from(perm.subarray(0, nVal)).sort();
  const fit = Int32Array.from(perm.subarray(nVal)).sort();
  return { split: { ...split, train: pick(fit) }, validation: pick(val), fraction, seed };
}
