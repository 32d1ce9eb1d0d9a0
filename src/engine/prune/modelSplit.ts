// The data split a saved model is evaluated on: the seeded split of train, standardised with the
// model's stored statistics when it has them (so its inputs look as they did in training), else
// with the training part's own statistics.
import type { DataSplit, Dataset } from '../data/dataset';
import { applyStandardization, splitDataset } from '../data';
import type { PruneScopeMetadata } from '../model/metadata';

export function modelSplit(ds: Dataset, metadata: PruneScopeMetadata | undefined, opts: { seed: number; testFraction?: number }): DataSplit {
  const st = metadata?.preprocessing?.standardization;
  if (!st || st.mean.length !== ds.features) return splitDataset(ds, { seed: opts.seed, testFraction: opts.testFraction, standardize: true });
  const raw = splitDataset(ds, { seed: opts.seed, testFraction: opts.testFraction, standardize: false });
  const f = ds.features;
  return {
    ...raw,
    train: { ...raw.train, x: applyStandardization(raw.train.x, f, st) },
    test: { ...raw.test, x: applyStandardization(raw.test.x, f, st) },
    standardization: { mean: [...st.mean], std: [...st.std] },
  };
}
