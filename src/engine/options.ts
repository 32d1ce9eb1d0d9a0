// Every choice a user can make and its default, in one place. The engine, the CLI (flags and
// help), the worker's parameter checks, the notebook API and the VS Code settings and pickers all
// read this module, so the same request means the same thing everywhere (package.json's
// `contributes.configuration` is checked against it by test/extension/manifest.test.ts).
// No imports: the extension bundle and the webview read it without pulling in the engine.

/** A closed interval for a number, as a setting, a flag and a job parameter all check it. */
export interface NumberRange {
  min: number;
  max: number;
  /** The minimum itself is not allowed (a temperature must be > 0). */
  minExclusive?: boolean;
  integer?: boolean;
}

export function inRange(v: unknown, r: NumberRange): v is number {
  return (
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (r.minExclusive ? v > r.min : v >= r.min) &&
    v <= r.max &&
    (!r.integer || Number.isInteger(v))
  );
}

/** "a whole number from 1 to 100" / "a number greater than 0 and at most 1000": what `r` allows. */
export function describeRange(r: NumberRange): string {
  return r.integer
    ? `a whole number from ${r.min} to ${r.max}`
    : `a number ${r.minExclusive ? 'greater than' : 'from'} ${r.min}${r.minExclusive ? ' and at most' : ' to'} ${r.max}`;
}

// ---- Relevance (METHODS.md 2) ----

export const RELEVANCE_METHODS = ['random', 'obd', 'variational', 'belsley'] as const;
export type RelevanceMethod = (typeof RELEVANCE_METHODS)[number];
export const RELEVANCE_METHOD_DESCRIPTIONS: Record<RelevanceMethod, string> = {
  random: 'A random order (the baseline every method must beat)',
  obd: 'Optimal Brain Damage: saliency from the diagonal curvature',
  variational: 'Signal-to-noise of a fitted Gaussian posterior',
  belsley: 'Belsley collinearity analysis of the parameter covariance',
};

/** The curvature diagonal OBD's saliency uses (never call the Fisher "the Hessian"). */
export const OBD_VARIANTS = ['hessian', 'ggn', 'fisher', 'mc-ggn'] as const;
export type ObdVariant = (typeof OBD_VARIANTS)[number];
export const OBD_VARIANT_DESCRIPTIONS: Record<ObdVariant, string> = {
  hessian: 'Diagonal of the exact Hessian',
  ggn: 'Diagonal of the generalised Gauss-Newton matrix',
  fisher: 'Diagonal of the empirical Fisher',
  'mc-ggn': 'Monte-Carlo GGN diagonal: one sampled label per example (for many classes)',
};

/** `prunescope curvature --kind`: the OBD diagonals plus the per-sample gradient variance. */
export const CURVATURE_KINDS = [...OBD_VARIANTS, 'variance'] as const;
export type CurvatureKind = (typeof CURVATURE_KINDS)[number];

/** Where Belsley's parameter covariance comes from (variational-full is named and refused). */
export const BELSLEY_COVARIANCES = ['laplace', 'trajectory', 'gradient', 'variational-full'] as const;
export type BelsleyCovariance = (typeof BELSLEY_COVARIANCES)[number];

/**
 * Laplace covariance per layer: auto = a full block up to blockLimit active parameters, Kronecker
 * factors (K-FAC / KFC) above; block / kron / diag force one (diag carries no Belsley information).
 */
export const LAPLACE_STRUCTURES = ['auto', 'block', 'kron', 'diag'] as const;
export type LaplaceStructure = (typeof LAPLACE_STRUCTURES)[number];

/** Which weights a variational ranking's pruned models keep: its posterior mean (METHODS.md 2.5) or the teacher's. */
export const VARIATIONAL_WEIGHTS = ['mu', 'teacher'] as const;
export type VariationalWeights = (typeof VARIATIONAL_WEIGHTS)[number];

/** exact: remove the least relevant and recompute (O(n^4)); fast: one decomposition. */
export const BELSLEY_ORDERINGS = ['exact', 'fast'] as const;
export type BelsleyOrdering = (typeof BELSLEY_ORDERINGS)[number];

/** What `prunescope belsley --matrix` holds. */
export const BELSLEY_INPUTS = ['covariance', 'correlation', 'data'] as const;
export type BelsleyInput = (typeof BELSLEY_INPUTS)[number];

/**
 * The ranking a request without options gets, wherever it is asked for (relevance, prune, curves,
 * export-student, distill --widths, the panel, the notebook). OBD uses the exact Hessian diagonal,
 * the essay's h_jj (3.2.5); Belsley the Laplace covariance and its exact ordering up to
 * `exactOrderingLimit` active parameters (fast beyond).
 */
export const RELEVANCE_DEFAULTS = {
  method: 'obd' as RelevanceMethod,
  variant: 'hessian' as ObdVariant,
  covariance: 'laplace' as BelsleyCovariance,
  exactOrderingLimit: 200,
  /** Belsley on networks: a layer block is a full covariance up to this many parameters. */
  blockLimit: 2048,
  laplaceStructure: 'auto' as LaplaceStructure,
  /** Belsley's low-rank plus diagonal models (trajectory; gradient layers over blockLimit): weight of rho I. */
  rho: 0.05,
  seed: 0,
  /** Pruning by a variational ranking keeps mu. */
  variationalWeights: 'mu' as VariationalWeights,
};
export const BELSLEY_BLOCK_LIMIT_RANGE: NumberRange = { min: 1, max: 100_000, integer: true };

// ---- Data ----

export const TASKS = ['classification', 'regression'] as const;
export type Task = (typeof TASKS)[number];

/** Pixel range fed to a model: 1 for [0, 1], 255 for 0..255 (`--scale`). */
export const PIXEL_SCALES = [1, 255] as const;
export type PixelScaleChoice = (typeof PIXEL_SCALES)[number];

/** Files the data pickers and `--data` take besides built-in names and folders of images. */
export const DATA_FILE_EXTENSIONS = ['.csv', '.npy', '.npz'] as const;
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp'] as const;

export const DATA_DEFAULTS = {
  /**
   * Rows an analysis reads from an image folder or NumPy arrays (a seeded uniform sample beyond);
   * built-ins and CSV files are read whole, and so is everything `predict` and `train` read.
   */
  maxRowsAnalysis: 5000,
  /** Array names in an .npz. */
  xKey: 'x',
  yKey: 'y',
  /** Images of another size than the model's input are resized (bilinear) unless --no-resize. */
  resize: true,
  /** Without a model preference (metadata or a leading Rescaling layer), pixels are fed in [0, 1]. */
  pixelScale: 1 as PixelScaleChoice,
};
export const MAX_ROWS_RANGE: NumberRange = { min: 1, max: 100_000_000, integer: true };

/**
 * The labels file beside an x .npy, by the names training scripts use (x_test -> y_test,
 * X1 -> y1, train_images -> train_labels, inputs -> labels or targets): base names without
 * `.npy`, in the order tried. Both the loader (no --labels) and the data picker pair by this.
 */
export function labelFileNames(xBase: string): string[] {
  const names: string[] = [];
  const m = /^[xX](_.*|-.*|\d.*)?$/.exec(xBase);
  if (m) names.push(`y${m[1] ?? ''}`, `Y${m[1] ?? ''}`);
  const pairs: [string, string[]][] = [
    ['images', ['labels']],
    ['inputs', ['labels', 'targets']],
    ['features', ['labels', 'targets']],
    ['data', ['labels', 'targets']],
  ];
  for (const [from, to] of pairs) {
    const i = xBase.toLowerCase().indexOf(from);
    if (i >= 0) for (const t of to) names.push(xBase.slice(0, i) + t + xBase.slice(i + from.length));
  }
  return [...new Set(names)];
}

/** A .npy base name that holds labels (y_test, labels, targets2): never offered as inputs. */
export function isLabelFileName(base: string): boolean {
  return /^(y|labels?|targets?)([_\-.\d]|$)/i.test(base);
}

/** The seeded train/test split every model command uses (the first paper's 80/20). */
export const SPLIT_DEFAULTS = { seed: 0, testFraction: 0.2 };
/** Rows `prunescope predict` prints: every row in order, or one part of that split. */
export const PREDICT_SPLITS = ['all', 'train', 'test'] as const;
export type PredictSplit = (typeof PREDICT_SPLITS)[number];
export const SEED_RANGE: NumberRange = { min: 0, max: 2 ** 31 - 1, integer: true };

// ---- Training (`prunescope train`, the notebook's train()) ----

/** Built-in architectures of `train --arch` (model/architectures.ts). */
export const ARCHITECTURES = ['mlp', 'lenet5', 'resnet8'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];
export const ARCHITECTURE_DESCRIPTIONS: Record<Architecture, string> = {
  mlp: 'Dense layers (--layers): hidden widths then the output',
  lenet5: 'LeNet-5: Conv 6 5x5, pool, Conv 16 5x5, pool, Dense 120, 84, classes (images of at least 12x12)',
  resnet8: 'A small residual network: 3 stages with batch normalisation and Add skips, global average pooling',
};

export const TRAIN_DEFAULTS = {
  arch: 'mlp' as Architecture,
  epochs: 100,
  batchSize: 32,
  lr: 1e-3,
  l2: 0,
  activation: 'tanh' as const,
  /** The notebook's train() standardises unless told not to (the CLI's --standardize is a switch). */
  notebookStandardize: true,
};

/**
 * Choices that must not see the test part (the demo's student: method and share) are made on a
 * validation part of the training part, held out of the teacher's training.
 */
export const SELECTION_DEFAULTS = { validationFraction: 0.2 };
export const VALIDATION_FRACTION_RANGE: NumberRange = { min: 0, max: 0.5, minExclusive: true };

// ---- Quality-against-share curves ----

export const CURVE_DEFAULTS = {
  /** CLI and jobs: 51 points. */
  step: 0.02,
  /** The side panel's setting: coarser, so a first look at a model comes back quickly. */
  panelStep: 0.05,
  /** Seeds of the random method in `prunescope curves` (its curve is a mean over them). */
  randomSeeds: 5,
  finetuneEpochs: 0,
  recomputeEvery: 0,
};
/** The panel's curve step (1/step must be an integer). */
export const PANEL_CURVE_STEP_RANGE: NumberRange = { min: 0.01, max: 0.5 };

// ---- Structured pruning (channels of dependency groups, units of Dense layers) ----

/**
 * What a share removes: channels (every dependency group: conv channels and Dense units), units
 * (only groups made by Dense layers; convolutions stay whole), none (individual weights).
 */
export const STRUCTURED_MODES = ['channels', 'units', 'none'] as const;
export type StructuredMode = (typeof STRUCTURED_MODES)[number];
/**
 * How a channel's relevance comes from its parameters' relevance (sum, mean, max), or natively
 * (belsley only): Belsley on the covariance of the channels' gates.
 */
export const CHANNEL_AGGREGATES = ['sum', 'mean', 'max', 'native'] as const;
export type ChannelAggregate = (typeof CHANNEL_AGGREGATES)[number];
/** per-group: every layer loses the same share of its channels; global: one ranking over all channels. */
export const CHANNEL_SCOPES = ['per-group', 'global'] as const;
export type ChannelScope = (typeof CHANNEL_SCOPES)[number];

export const STRUCTURED_DEFAULTS = {
  structured: 'none' as StructuredMode,
  aggregate: 'sum' as ChannelAggregate,
  scope: 'per-group' as ChannelScope,
  /** export-student: fold BatchNormalization into the layer before it (no BN left). */
  foldBn: false,
  /** Epochs of fine-tuning with the mask held after pruning (prune, curves, export-student). */
  finetuneEpochs: 0,
};
export const FINETUNE_EPOCHS_RANGE: NumberRange = { min: 0, max: 10_000, integer: true };

// ---- Gradient-variance ordering and freezing (METHODS.md 3) ----

export const VARIANCE_ESTIMATORS = ['essay', 'per-sample'] as const;
export type VarianceEstimator = (typeof VARIANCE_ESTIMATORS)[number];
export const COVARIANCE_MODES = ['diag', 'block', 'full'] as const;
export type CovarianceMode = (typeof COVARIANCE_MODES)[number];

export const ORDER_DEFAULTS = {
  estimator: 'essay' as VarianceEstimator,
  mode: 'diag' as CovarianceMode,
  steps: 200,
  batchSize: 32,
  lr: 1e-3,
  /** Block mode: layers with more parameters than this stay diagonal (2048^2 floats = 16 MiB). */
  blockLimit: 2048,
};

/** The panel's freeze timeline: `share` of the weights frozen at t0 = steps / 2, and no freezing. */
export const FREEZE_TIMELINE_DEFAULTS = { steps: 200, share: 0.5, batchSize: 32, lr: 1e-3 };

/** `prunescope experiment freeze` (the essay's comparison, retrained from scratch). */
/** `experiment freeze --model`: the essay's linear and mlp models, or a built-in image architecture. */
export const FREEZE_EXPERIMENT_MODELS = ['linear', 'mlp', 'lenet5', 'resnet8'] as const;
export type FreezeExperimentModel = (typeof FREEZE_EXPERIMENT_MODELS)[number];

export const FREEZE_EXPERIMENT_DEFAULTS = {
  t0: 50,
  /** Step budget per run: this many times t0. */
  stepsPerT0: 4,
  shares: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
  seeds: 5,
  batchSize: 32,
  lr: 0.01,
  estimator: 'essay' as VarianceEstimator,
  weightsOnly: true,
  mlpLayers: [32],
};

/** The notebook's freeze(): the same experiment on the model's architecture, sized for a cell. */
export const NOTEBOOK_FREEZE_DEFAULTS = {
  steps: 300,
  t0: 100,
  shares: [0, 0.25, 0.5, 0.75],
  seeds: 3,
  batchSize: 32,
  lr: 1e-3,
};

// ---- Distillation (METHODS.md 4) ----

/** Which distilled students run (the labels-only baseline always does). */
export const DISTILL_INIT_CHOICES = ['both', 'scratch', 'teacher'] as const;
export type DistillInitChoice = (typeof DISTILL_INIT_CHOICES)[number];

export const DISTILL_DEFAULTS = {
  temperature: 4,
  /** Weight of the soft-target (teacher) loss; 1 - alpha weighs the labels. */
  alpha: 0.7,
  epochs: 100,
  batchSize: 32,
  lr: 1e-3,
  /** Repetitions the results are a mean and spread over. */
  seeds: 3,
  init: 'both' as DistillInitChoice,
  /** The ranking that selects the teacher's neurons for target widths (its options: RELEVANCE_DEFAULTS). */
  method: 'obd' as RelevanceMethod,
};
export const DISTILL_RANGES: Record<'temperature' | 'alpha' | 'epochs' | 'seeds', NumberRange> = {
  temperature: { min: 0, max: 1000, minExclusive: true },
  alpha: { min: 0, max: 1 },
  epochs: { min: 1, max: 100_000, integer: true },
  seeds: { min: 1, max: 100, integer: true },
};

// ---- Model files (formats/) ----

/** tfjs: a LayersModel folder (model.json + shards); keras: a Keras 3 `.keras` zip; h5: legacy Keras HDF5; onnx. */
export const MODEL_FORMATS = ['tfjs', 'keras', 'h5', 'onnx'] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];
export const MODEL_FORMAT_DESCRIPTIONS: Record<ModelFormat, string> = {
  tfjs: 'TF.js LayersModel (a folder with model.json and weight shards)',
  keras: 'Keras 3 .keras file',
  h5: 'Keras legacy .h5 file (Keras 2 layout; Keras 3 reads it too)',
  onnx: 'ONNX .onnx file (NCHW, as PyTorch exports)',
};
