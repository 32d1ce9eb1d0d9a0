// A new model from a data set: load and split the data, build the network (a dense one, or a
// built-in convolutional architecture on image data), train it with Adam and save it as a TF.js
// LayersModel carrying its task, names, standardisation, provenance and final metrics.
// `prunescope train` and the notebook's train() are this one function.
import { initBackend } from '../backend';
import {
  loadData,
  numClasses,
  splitDataset,
  splitRecord,
  type DataSplit,
  type Dataset,
  type LoadDataOptions,
} from '../data';
import type { HiddenActivation } from '../model/activations';
import { saveModel } from '../formats/modelFile';
import { mlpSpec } from '../model/mlpSpec';
import { Graph } from '../model/graph';
import { denseSpec } from '../model/denseChain';
import { lenet5Spec, resnet8Spec } from '../model/architectures';
import { architectureOf } from '../model/summary';
import type { GraphSpec } from '../graphSpec';
import { badInput } from '../errors';
import { SPLIT_DEFAULTS, TRAIN_DEFAULTS, type Architecture, type Task } from '../options';
import { hashModel, makeProvenance, type Provenance } from '../provenance';
import { train, type EpochMetrics, type TrainResult } from './train';

export interface NewModelOptions {
  /** A built-in name, a CSV file, an image folder, a .npy or an .npz (see loadData). */
  data: string;
  target?: string;
  task?: Task;
  /** How to read image folders and arrays (labels, keys, scale, rows); all rows by default. */
  dataOptions?: Omit<LoadDataOptions, 'target' | 'task' | 'signal' | 'seed'>;
  /** mlp (default), lenet5 or resnet8 (image data: the data set's row shape, or `inputShape`). */
  arch?: Architecture;
  /** The shape of one row as an image [H, W, C] when the data set does not say (rows are read row-major). */
  inputShape?: number[];
  /** mlp: hidden widths then the output width (default: one hidden layer as wide as the input). */
  layers?: unknown;
  /** Names where `layers` came from in errors (the CLI's --layers, the notebook's train.layers). */
  layersField?: string;
  activation?: HiddenActivation;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  l2?: number;
  seed?: number;
  testFraction?: number;
  standardize?: boolean;
  /** A new folder for model.json and its weights. */
  out: string;
  evalEvery?: number;
  signal?: AbortSignal;
  onEpoch?: (m: EpochMetrics) => void;
}

export interface NewModel {
  modelJson: string;
  bytes: number;
  spec: GraphSpec;
  /** [13, 13, 3] for a dense network, else the input shape and the layers with parameters. */
  architecture: (number | string)[];
  dataset: Dataset;
  split: DataSplit;
  result: TrainResult;
  provenance: Provenance;
  backend: string;
}

export async function trainNewModel(o: NewModelOptions): Promise<NewModel> {
  const T = TRAIN_DEFAULTS;
  const activation = o.activation ?? T.activation;
  const epochs = o.epochs ?? T.epochs;
  const batchSize = o.batchSize ?? T.batchSize;
  const lr = o.lr ?? T.lr;
  const l2 = o.l2 ?? T.l2;
  const seed = o.seed ?? SPLIT_DEFAULTS.seed;
  const testFraction = o.testFraction ?? SPLIT_DEFAULTS.testFraction;
  const standardize = !!o.standardize;
  const info = await initBackend();
  const ds = await loadData(o.data, undefined, {
    ...o.dataOptions,
    target: o.target,
    task: o.task,
    seed,
    signal: o.signal,
  });
  // Pixels the model was trained on: recorded so analyses feed images in the same range.
  const pixelScale = ds.source?.pixelRange && (ds.source.pixelRange.range === '[0, 1]' ? 1 : 255);
  const split = splitDataset(ds, { seed, testFraction, standardize });
  const outputs = ds.task === 'classification' ? numClasses(ds) : 1;
  const arch = o.arch ?? TRAIN_DEFAULTS.arch;
  const spec = buildArchitecture(arch, ds, outputs, activation, o);
  const net = Graph.random(spec, seed);
  const architecture = architectureOf(net);
  try {
    const result = await train(net, split, {
      epochs,
      batchSize,
      lr,
      l2,
      seed,
      signal: o.signal,
      evalEvery: o.evalEvery ?? 0,
      onEpoch: o.onEpoch,
    });
    const provenance = makeProvenance({
      job: 'train',
      seed,
      backend: info.name,
      modelHash: hashModel(net.structure(), net.toFlat()),
      data: splitRecord(split, 'train', split.train.rows),
      options: {
        arch,
        layers: architecture,
        activation: arch === 'resnet8' ? 'relu' : activation,
        epochs,
        batchSize,
        lr,
        l2,
        optimizer: 'adam(0.9, 0.999, 1e-7)',
      },
    });
    const saved = await saveModel(o.out, net, {
      task: ds.task,
      featureNames: ds.featureNames,
      targetName: ds.targetName,
      ...(ds.labelNames ? { labelNames: ds.labelNames } : {}),
      ...(split.standardization || pixelScale
        ? {
            preprocessing: {
              ...(split.standardization ? { standardization: split.standardization } : {}),
              ...(pixelScale ? { pixelScale } : {}),
            },
          }
        : {}),
      provenance,
      training: {
        final: result.final,
        epochs,
        steps: result.steps,
        seconds: result.seconds,
        samplesPerSecond: result.samplesPerSecond,
        dataProvenance: ds.provenance,
      },
    });
    return {
      modelJson: saved.modelJson,
      bytes: saved.bytes,
      spec: net.toSpec(),
      architecture,
      dataset: ds,
      split,
      result,
      provenance,
      backend: info.name,
    };
  } finally {
    net.dispose();
  }
}

/** The GraphSpec of `arch` for this data (images: the data set's row shape or o.inputShape). */
/** The spec of a built-in architecture for a data set (the experiments build theirs here too). */
export function buildArchitecture(
  arch: Architecture,
  ds: Dataset,
  outputs: number,
  activation: HiddenActivation,
  o: Pick<NewModelOptions, 'layers' | 'layersField' | 'inputShape'>,
): GraphSpec {
  if (arch === 'mlp') return denseSpec(mlpSpec(ds.features, outputs, ds.task, o.layers, activation, o.layersField));
  if (o.layers !== undefined)
    throw badInput(`layers given for --arch ${arch}`, {
      field: o.layersField ?? '--layers',
      expected: 'layer widths only with --arch mlp (lenet5 and resnet8 have fixed layers)',
    });
  const shape = o.inputShape ?? ds.shape;
  const elements = shape?.reduce((a, b) => a * b, 1);
  if (!shape || shape.length !== 3 || elements !== ds.features)
    throw badInput(
      shape
        ? `input shape [${shape.join(', ')}] has ${elements} elements, the data set ${ds.name} ${ds.features} features`
        : `data set ${ds.name} has no image shape`,
      {
        field: '--input-shape',
        expected: `an image shape H,W,C with H*W*C = ${ds.features} (mnist and digits have theirs)`,
      },
    );
  if (arch === 'lenet5') {
    if (activation !== 'tanh' && activation !== 'relu')
      throw badInput(`activation ${activation}`, { field: '--activation', expected: 'tanh or relu for lenet5' });
    return lenet5Spec(shape, outputs, activation, ds.task);
  }
  return resnet8Spec(shape, outputs, ds.task);
}
