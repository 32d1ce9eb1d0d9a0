// A new model from a data set: load and split the data, build the dense network, train it with
// Adam and save it as a TF.js LayersModel carrying its task, names, standardisation, provenance
// and final metrics. `prunescope train` and the notebook's train() are this one function.
import { initBackend } from '../backend';
import { loadDataset, numClasses, splitDataset, type DataSplit, type Dataset } from '../data';
import type { HiddenActivation } from '../model/activations';
import { saveModel } from '../model/layersModel';
import { mlpSpec } from '../model/mlpSpec';
import { Network, type NetworkSpec } from '../model/network';
import { SPLIT_DEFAULTS, TRAIN_DEFAULTS, type Task } from '../options';
import { hashModel, makeProvenance, type Provenance } from '../provenance';
import { train, type EpochMetrics, type TrainResult } from './train';

export interface NewModelOptions {
  /** A built-in data set name or a CSV path. */
  data: string;
  target?: string;
  task?: Task;
  /** Hidden widths then the output width (default: one hidden layer as wide as the input). */
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
  spec: NetworkSpec;
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
  const ds = loadDataset(o.data, { target: o.target, task: o.task });
  const split = splitDataset(ds, { seed, testFraction, standardize });
  const outputs = ds.task === 'classification' ? numClasses(ds) : 1;
  const spec = mlpSpec(ds.features, outputs, ds.task, o.layers, activation, o.layersField);
  const net = Network.random(spec, seed);
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
      modelHash: hashModel(spec, net.toFlat()),
      data: {
        name: ds.name,
        split: 'train',
        rows: split.train.rows,
        splitSeed: seed,
        testFraction,
        standardized: standardize,
      },
      options: {
        layers: spec.layers.map((l) => l.units),
        activation,
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
      ...(split.standardization ? { preprocessing: { standardization: split.standardization } } : {}),
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
      spec,
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
