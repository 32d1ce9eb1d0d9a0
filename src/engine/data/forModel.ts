// The data a model is analysed on: checked against the model's input and head, split with a seed,
// and preprocessed the way the model was trained — the standardisation stored in its metadata
// wins; otherwise features are raw unless the caller asks to standardise (fitted on train only).
import { badInput } from '../errors';
import type { Graph } from '../model/graph';
import type { PruneScopeMetadata } from '../model/metadata';
import { modelInputOf, type ModelInput } from './targetsForModel';
import { DataSplit, Dataset, numClasses } from './dataset';
import { applyStandardization, splitDataset } from './split';

export interface ForModelOptions {
  seed?: number;
  testFraction?: number;
  /** Fit a standardisation on the training part when the model does not carry one. */
  standardize?: boolean;
  /** Model file path, for error messages. */
  file?: string;
}

/** What a loaded model tells the data loader: input shape and layout, classes, pixel range. */
export function modelInputOfLoaded(model: { network: Graph; metadata?: PruneScopeMetadata }): ModelInput {
  const net = model.network;
  return modelInputOf({
    inputShape: net.inputShape,
    inputSize: net.inputSize,
    inputLayout: net.spec.inputLayout,
    task: net.task,
    outputs: net.outputSize,
    metadata: model.metadata,
    graph: net.spec,
  });
}

/**
 * Rows of `features` values feed a model whose input has as many elements: they are read row-major
 * (NHWC) into the input's shape. A mismatch names both sizes.
 */
export function checkFeatures(
  net: Graph,
  features: number,
  context: { file?: string; field?: string; what?: string } = {},
): void {
  if (features === net.inputSize) return;
  const shape = net.inputShape.length > 1 ? ` [${net.inputShape.join(', ')}]` : '';
  throw badInput(`${context.what ?? 'the data'} has ${features} features per row`, {
    file: context.file,
    field: context.field ?? 'input',
    expected: `${net.inputSize} values per row, the number of elements of the model's input${shape} (rows are read row-major into it)`,
  });
}

export function checkDataFitsModel(net: Graph, ds: Dataset, file = 'model'): void {
  checkFeatures(net, ds.features, { file, what: `data set ${ds.name}` });
  const outputs = ds.task === 'classification' ? numClasses(ds) : 1;
  if (ds.task !== net.task || outputs !== net.outputSize) {
    throw badInput(`data set ${ds.name} is ${ds.task} with ${outputs} output(s)`, {
      file,
      field: 'output layer',
      expected: `data for a ${net.task} model with ${net.outputSize} output(s)`,
    });
  }
}

export function splitForModel(
  net: Graph,
  metadata: PruneScopeMetadata | undefined,
  ds: Dataset,
  opts: ForModelOptions = {},
): DataSplit {
  checkDataFitsModel(net, ds, opts.file);
  const stored = metadata?.preprocessing?.standardization;
  if (!stored)
    return splitDataset(ds, { seed: opts.seed, testFraction: opts.testFraction, standardize: !!opts.standardize });
  if (stored.mean.length !== ds.features || stored.std.length !== ds.features) {
    throw badInput(`stored standardisation has ${stored.mean.length} columns`, {
      file: opts.file,
      field: 'userDefinedMetadata.prunescope.preprocessing.standardization',
      expected: `${ds.features} columns`,
    });
  }
  const raw = splitDataset(ds, { seed: opts.seed, testFraction: opts.testFraction, standardize: false });
  return {
    ...raw,
    train: { ...raw.train, x: applyStandardization(raw.train.x, ds.features, stored) },
    test: { ...raw.test, x: applyStandardization(raw.test.x, ds.features, stored) },
    standardization: stored,
  };
}
