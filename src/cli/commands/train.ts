// `prunescope train --data D --out DIR`: build a dense network for the data, train it with Adam
// and save it as a TF.js LayersModel carrying its task, names, standardisation, provenance and
// final metrics. --layers lists hidden widths then the output width (the paper's "13-13-3" minus
// the input); the output width must match the data (K classes, or 1 for regression).
import { Command } from '../command';
import { ParsedArgs, bool, num, numList, oneOf, str } from '../args';
import { badInput } from '../../engine/errors';
import { TEST_FRACTION_FLAG } from '../modelData';
import { initBackend } from '../../engine/backend';
import { HIDDEN_ACTIVATIONS } from '../../engine/model/activations';
import { Network, NetworkSpec } from '../../engine/model/network';
import { saveModel } from '../../engine/model/layersModel';
import { loadDataset, numClasses, splitDataset } from '../../engine/data';
import type { Task } from '../../engine/data';
import { hashModel, makeProvenance } from '../../engine/provenance';
import { train } from '../../engine/train/train';
import type { Metrics } from '../../engine/train/metrics';

const TASKS: readonly Task[] = ['classification', 'regression'];

function fmtMetrics(m: Metrics): string {
  return [
    `loss ${m.loss.toPrecision(4)}`,
    m.accuracy !== undefined ? `accuracy ${m.accuracy.toFixed(4)}` : '',
    m.mse !== undefined ? `mse ${m.mse.toPrecision(4)}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/**
 * Layer widths (hidden..., output), checked against the data's output width. `field` names where
 * they came from: the CLI's --layers or the notebook's train({ layers }).
 */
export function buildSpec(
  features: number,
  outputs: number,
  task: Task,
  layers: unknown,
  activation: (typeof HIDDEN_ACTIVATIONS)[number],
  field = '--layers',
): NetworkSpec {
  const widths = layers === undefined ? [features, outputs] : layers;
  if (!Array.isArray(widths) || widths.length === 0 || widths.some((w) => !Number.isInteger(w) || w < 1)) {
    throw badInput(`got ${JSON.stringify(widths)}`, {
      field,
      expected: 'positive integer widths: hidden layers then the output',
    });
  }
  const out = widths[widths.length - 1] as number;
  if (out !== outputs) {
    const example = [...widths, outputs].join(', ');
    throw badInput(`the last width is ${out}, the output layer`, {
      field,
      expected: `hidden widths then ${outputs} (${task === 'classification' ? `${outputs} classes` : 'one regression output'}), e.g. ${example}`,
    });
  }
  return {
    inputSize: features,
    layers: widths.map((units, i) =>
      i === widths.length - 1
        ? { name: 'output', units, activation: task === 'classification' ? ('softmax' as const) : ('linear' as const) }
        : { name: `hidden${i + 1}`, units, activation },
    ),
  };
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'Train a dense network with Adam on a data set and save it as a TF.js LayersModel',
  usage:
    'prunescope train --data NAME|FILE.csv --out DIR [--target COL] [--task classification|regression] [--layers 13,3] [--activation tanh] [--epochs N] [--batch B] [--lr X] [--l2 X] [--seed S] [--standardize] [--json]',
  flags: [
    { name: 'data', value: true, help: 'built-in data set name or CSV path' },
    { name: 'target', value: true, help: 'CSV target column (default: the last column)' },
    { name: 'task', value: true, help: 'classification or regression (default: inferred from the target)' },
    {
      name: 'layers',
      value: true,
      help: 'hidden widths then the output width, e.g. 13,3 (default: one hidden layer as wide as the input)',
    },
    { name: 'activation', value: true, help: `hidden activation: ${HIDDEN_ACTIVATIONS.join(', ')} (default tanh)` },
    { name: 'epochs', value: true, help: 'passes over the training part (default 100)' },
    { name: 'batch', value: true, help: 'minibatch size (default 32)' },
    { name: 'lr', value: true, help: 'Adam learning rate (default 0.001)' },
    { name: 'l2', value: true, help: 'lambda of + (lambda/2) * sum of squared kernel weights (default 0)' },
    { name: 'seed', value: true, help: 'seed of the split, the initialisation and the shuffling (default 0)' },
    TEST_FRACTION_FLAG,
    { name: 'standardize', value: false, help: 'z-score features with training-part statistics (stored in the model)' },
    { name: 'out', value: true, help: 'new output folder for model.json and its weights' },
    { name: 'json', value: false, help: 'print one JSON document' },
  ],
  async run(args: ParsedArgs, ctx) {
    if (args.positional.length)
      throw badInput(`unexpected argument ${args.positional[0]}`, { field: 'train', expected: this.usage });
    const data = str(args, 'data');
    if (!data)
      throw badInput('--data is required', { field: '--data', expected: 'a built-in data set name or a CSV path' });
    const out = str(args, 'out');
    if (!out) throw badInput('--out is required', { field: '--out', expected: 'a new folder for the trained model' });
    const task = str(args, 'task') === undefined ? undefined : oneOf(args, 'task', TASKS, 'classification');
    const activation = oneOf(args, 'activation', HIDDEN_ACTIVATIONS, 'tanh');
    const epochs = num(args, 'epochs', 100, { integer: true, min: 1 });
    const batchSize = num(args, 'batch', 32, { integer: true, min: 1 });
    const lr = num(args, 'lr', 1e-3, { min: 1e-12 });
    const l2 = num(args, 'l2', 0, { min: 0 });
    const seed = num(args, 'seed', 0, { integer: true });
    const testFraction = num(args, 'test-fraction', 0.2, { min: 1e-9, max: 1 - 1e-9 });
    const standardize = bool(args, 'standardize');
    const json = bool(args, 'json');

    const info = await initBackend();
    const ds = loadDataset(data, { target: str(args, 'target'), task });
    const split = splitDataset(ds, { seed, testFraction, standardize });
    const outputs = ds.task === 'classification' ? numClasses(ds) : 1;
    const spec = buildSpec(ds.features, outputs, ds.task, numList(args, 'layers'), activation);
    const net = Network.random(spec, seed);
    try {
      const every = Math.max(1, Math.round(epochs / 10));
      const r = await train(net, split, {
        epochs,
        batchSize,
        lr,
        l2,
        seed,
        signal: ctx.signal,
        evalEvery: every,
        onEpoch: (m) => {
          if (!json && (m.epoch % every === 0 || m.epoch === epochs))
            ctx.log(
              `epoch ${m.epoch}/${epochs}: train loss ${m.trainLoss.toPrecision(4)}${m.test ? `; test ${fmtMetrics(m.test)}` : ''}`,
            );
        },
      });
      const flat = net.toFlat();
      const provenance = makeProvenance({
        job: 'train',
        seed,
        backend: info.name,
        modelHash: hashModel(spec, flat),
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
      const saved = await saveModel(out, net, {
        task: ds.task,
        featureNames: ds.featureNames,
        targetName: ds.targetName,
        ...(ds.labelNames ? { labelNames: ds.labelNames } : {}),
        ...(split.standardization ? { preprocessing: { standardization: split.standardization } } : {}),
        provenance,
        training: {
          final: r.final,
          epochs,
          steps: r.steps,
          seconds: r.seconds,
          samplesPerSecond: r.samplesPerSecond,
          dataProvenance: ds.provenance,
        },
      });
      const doc = {
        out,
        modelJson: saved.modelJson,
        bytes: saved.bytes,
        final: r.final,
        history: r.history,
        steps: r.steps,
        seconds: r.seconds,
        samplesPerSecond: r.samplesPerSecond,
        provenance,
      };
      if (json) {
        ctx.out(JSON.stringify(doc));
        return;
      }
      ctx.out(
        [
          `trained ${[spec.inputSize, ...spec.layers.map((l) => l.units)].join('-')} ${activation} on ${ds.name} (${split.train.rows} train / ${split.test.rows} test rows), ${r.steps} Adam steps in ${r.seconds.toFixed(1)} s (${r.samplesPerSecond.toFixed(0)} samples/s, ${info.name})`,
          `train: ${fmtMetrics(r.final.train)}`,
          `test:  ${fmtMetrics(r.final.test)}`,
          `saved ${saved.modelJson}`,
        ].join('\n'),
      );
    } finally {
      net.dispose();
    }
  },
};
