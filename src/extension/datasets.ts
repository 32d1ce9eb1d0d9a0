// The built-in data sets as the extension offers them. A copy of names and shapes (the extension
// bundle must not pull in the engine's loaders); test/extension/datasets.test.ts checks it against
// the engine's listBuiltinDatasets(), so the two cannot drift apart silently.
export interface BuiltinChoice {
  name: string;
  features: number;
  classes: number;
  rows: number;
  label: string;
}

export const BUILTIN_DATASETS: readonly BuiltinChoice[] = [
  { name: 'wine', rows: 178, features: 13, classes: 3, label: 'Wine recognition: 13 features, 3 classes' },
  { name: 'iris', rows: 150, features: 4, classes: 3, label: 'Iris: 4 features, 3 classes' },
  {
    name: 'breast-cancer',
    rows: 569,
    features: 30,
    classes: 2,
    label: 'Breast cancer Wisconsin: 30 features, 2 classes',
  },
  { name: 'digits', rows: 1797, features: 64, classes: 10, label: 'Handwritten digits 8x8: 64 features, 10 classes' },
  { name: 'mnist', rows: 10000, features: 784, classes: 10, label: 'MNIST 10k subset: 784 features, 10 classes' },
  {
    name: 'boston',
    rows: 506,
    features: 13,
    classes: 0,
    label: 'Boston housing: 13 features, regression (B column encodes race)',
  },
  { name: 'diabetes', rows: 442, features: 10, classes: 0, label: 'Diabetes: 10 features, regression' },
  {
    name: 'paper1-synthetic',
    rows: 10000,
    features: 100,
    classes: 0,
    label: 'Paper 1 synthetic: 100 features, regression',
  },
  { name: 'sincos', rows: 1001, features: 6, classes: 0, label: 'Belsley sin/cos example: 6 features, regression' },
];

export const BUILTIN_NAMES = BUILTIN_DATASETS.map((d) => d.name);

/**
 * Built-ins in pick order: those whose shape fits the model (inputs, outputs) first, since a
 * 4-input 3-class model can only be run on iris-like data; the rest after, still selectable.
 */
export function rankBuiltins(inputs?: number, outputs?: number): { fits: BuiltinChoice[]; others: BuiltinChoice[] } {
  const fit = (d: BuiltinChoice) =>
    inputs !== undefined &&
    d.features === inputs &&
    (outputs === undefined ||
      (d.classes === 0 ? outputs === 1 : d.classes === outputs || (d.classes === 2 && outputs === 1)));
  return { fits: BUILTIN_DATASETS.filter(fit), others: BUILTIN_DATASETS.filter((d) => !fit(d)) };
}
