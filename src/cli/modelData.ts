// What the model commands share: load MODEL (a TF.js model.json or its folder, .keras, .h5, .onnx)
// and the data it is analysed on (--data and the flags that say how to read it, --seed,
// --standardize), preprocessed the way the model was trained.
import { FlagSpec, ParsedArgs, bool, num, oneOf, str } from './args';
import type { CliContext } from './command';
import { badInput } from '../engine/errors';
import { initBackend } from '../engine/backend';
import { loadModel, LoadedModel } from '../engine/formats/modelFile';
import { dataKind, defaultMaxRows, loadData, modelInputOfLoaded, splitForModel } from '../engine/data';
import type { DataSplit, Dataset, LoadDataOptions } from '../engine/data';
import { DATA_DEFAULTS, MAX_ROWS_RANGE, PIXEL_SCALES, SPLIT_DEFAULTS, TASKS } from '../engine/options';

export const DATA_HELP =
  'built-in data set name, CSV file, folder of class folders of images, .npy (with --labels) or .npz';

/** How to read the user's data files: shared by every command that takes --data. */
export const DATA_FILE_FLAGS: FlagSpec[] = [
  {
    name: 'labels',
    value: true,
    help: 'the labels .npy of an x .npy given as --data (default: y_test.npy beside x_test.npy, and the like)',
  },
  { name: 'x-key', value: true, help: `.npz: the array of inputs (default ${DATA_DEFAULTS.xKey})` },
  { name: 'y-key', value: true, help: `.npz: the array of labels (default ${DATA_DEFAULTS.yKey})` },
  {
    name: 'scale',
    value: true,
    help: "images and uint8 arrays: 1 (pixels in [0, 1]) or 255 (0..255); default: the model's metadata or leading Rescaling layer, else 1",
  },
  {
    name: 'no-resize',
    value: false,
    help: "refuse images whose size differs from the model's input (default: resize)",
  },
  {
    name: 'max-rows',
    value: true,
    help: `rows to read, a seeded sample beyond, or all (default: ${DATA_DEFAULTS.maxRowsAnalysis} from image folders and arrays, all from built-ins and CSV)`,
  },
];

/** The data flags as loader options; `purpose` chooses the default row count. */
export function dataRequest(args: ParsedArgs, purpose: 'analysis' | 'all'): LoadDataOptions & { data: string } {
  const data = str(args, 'data');
  if (!data) throw badInput('--data is required', { field: '--data', expected: DATA_HELP });
  const rowsArg = str(args, 'max-rows');
  const maxRows =
    rowsArg === 'all'
      ? undefined
      : rowsArg !== undefined
        ? num(args, 'max-rows', 0, MAX_ROWS_RANGE)
        : defaultMaxRows(dataKind(data), purpose);
  const scale = str(args, 'scale');
  return {
    data,
    target: str(args, 'target'),
    task: str(args, 'task') === undefined ? undefined : oneOf(args, 'task', TASKS, 'classification'),
    labels: str(args, 'labels'),
    xKey: str(args, 'x-key'),
    yKey: str(args, 'y-key'),
    scale: scale === undefined ? undefined : (Number(oneOf(args, 'scale', PIXEL_SCALES.map(String), '1')) as 1 | 255),
    resize: bool(args, 'no-resize') ? false : undefined,
    maxRows,
  };
}

/** Decoding progress on stderr, about every tenth of the way. */
export function dataProgress(ctx: CliContext | undefined): LoadDataOptions['onProgress'] {
  if (!ctx) return undefined;
  let shown = -1;
  return (done, total, what) => {
    const tenth = Math.floor((10 * done) / Math.max(1, total));
    if (total >= 1000 && tenth !== shown) {
      shown = tenth;
      ctx.log(`${what}: ${done}/${total}`);
    }
  };
}

export const MODEL_DATA_FLAGS: FlagSpec[] = [
  { name: 'data', value: true, help: DATA_HELP },
  ...DATA_FILE_FLAGS,
  { name: 'target', value: true, help: 'CSV target column (default: the last column)' },
  { name: 'task', value: true, help: 'classification or regression (default: inferred)' },
  {
    name: 'seed',
    value: true,
    help: `seed of the train/test split and of stochastic methods (default ${SPLIT_DEFAULTS.seed})`,
  },
  {
    name: 'standardize',
    value: false,
    help: 'z-score features on the training part (when the model does not record its own preprocessing)',
  },
];

/** Offered by commands whose held-out share is the user's choice (default 0.2, the paper's 80/20). */
export const TEST_FRACTION_FLAG: FlagSpec = {
  name: 'test-fraction',
  value: true,
  help: `share of rows held out for testing (default ${SPLIT_DEFAULTS.testFraction})`,
};

export interface ModelAndData {
  file: string;
  model: LoadedModel;
  split: DataSplit;
  seed: number;
}

/** The data set `data` read for `model`: its input shape, classes and pixel range decide how. */
export function loadDataForModel(
  model: LoadedModel,
  data: string,
  request: LoadDataOptions,
  seed: number,
  ctx?: CliContext,
): Promise<Dataset> {
  const input = modelInputOfLoaded(model);
  return loadData(data, input, { ...request, seed, signal: ctx?.signal, onProgress: dataProgress(ctx) });
}

/**
 * Loads the model named by the first positional argument and its data (`purpose`: 'analysis'
 * samples large image folders and arrays, 'all' reads every row). Caller disposes model.network.
 */
export async function openModelWithData(
  args: ParsedArgs,
  command: string,
  usage: string,
  ctx?: CliContext,
  purpose: 'analysis' | 'all' = 'analysis',
): Promise<ModelAndData> {
  const file = args.positional[0];
  if (!file || args.positional.length > 1)
    throw badInput('expected one MODEL (model.json or its folder, .keras, .h5, .onnx)', {
      field: command,
      expected: usage,
    });
  const { data, ...request } = dataRequest(args, purpose);
  const seed = num(args, 'seed', SPLIT_DEFAULTS.seed, { integer: true });
  const testFraction = num(args, 'test-fraction', SPLIT_DEFAULTS.testFraction, { min: 1e-9, max: 1 - 1e-9 });
  await initBackend();
  const model = await loadModel(file);
  try {
    const ds = await loadDataForModel(model, data, request, seed, ctx);
    const split = splitForModel(model.network, model.metadata, ds, {
      seed,
      testFraction,
      standardize: bool(args, 'standardize'),
      file,
    });
    return { file, model, split, seed };
  } catch (e) {
    model.network.dispose();
    throw e;
  }
}
