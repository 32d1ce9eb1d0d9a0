// What the model commands share: load MODEL.json and the data it is analysed on (--data, --target,
// --task, --seed, --standardize), preprocessed the way the model was trained.
import { FlagSpec, ParsedArgs, bool, num, oneOf, str } from './args';
import { badInput } from '../engine/errors';
import { initBackend } from '../engine/backend';
import { loadModel, LoadedModel } from '../engine/model/layersModel';
import { loadDataset, splitForModel } from '../engine/data';
import type { DataSplit } from '../engine/data';
import { SPLIT_DEFAULTS, TASKS } from '../engine/options';

export const MODEL_DATA_FLAGS: FlagSpec[] = [
  { name: 'data', value: true, help: 'built-in data set name or CSV path' },
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

/** Loads the model named by the first positional argument and its data. Caller disposes model.network. */
export async function openModelWithData(args: ParsedArgs, command: string, usage: string): Promise<ModelAndData> {
  const file = args.positional[0];
  if (!file || args.positional.length > 1)
    throw badInput('expected one MODEL.json', { field: command, expected: usage });
  const data = str(args, 'data');
  if (!data)
    throw badInput('--data is required', { field: '--data', expected: 'a built-in data set name or a CSV path' });
  const task = str(args, 'task') === undefined ? undefined : oneOf(args, 'task', TASKS, 'classification');
  const seed = num(args, 'seed', SPLIT_DEFAULTS.seed, { integer: true });
  const testFraction = num(args, 'test-fraction', SPLIT_DEFAULTS.testFraction, { min: 1e-9, max: 1 - 1e-9 });
  await initBackend();
  const model = await loadModel(file);
  try {
    const ds = loadDataset(data, { target: str(args, 'target'), task });
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
