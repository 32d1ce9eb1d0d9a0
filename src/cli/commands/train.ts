// `prunescope train --data D --out DIR`: build a dense network for the data, train it with Adam
// and save it as a TF.js LayersModel carrying its task, names, standardisation, provenance and
// final metrics. --layers lists hidden widths then the output width (the paper's "13-13-3" minus
// the input); the output width must match the data (K classes, or 1 for regression).
import { Command } from '../command';
import { ParsedArgs, bool, num, numList, oneOf, str } from '../args';
import { badInput } from '../../engine/errors';
import { DATA_FILE_FLAGS, DATA_HELP, TEST_FRACTION_FLAG, dataProgress, dataRequest } from '../modelData';
import { HIDDEN_ACTIVATIONS } from '../../engine/model/activations';
import { ARCHITECTURES, ARCHITECTURE_DESCRIPTIONS, SPLIT_DEFAULTS, TRAIN_DEFAULTS } from '../../engine/options';
import { trainNewModel } from '../../engine/train/newModel';
import type { Metrics } from '../../engine/train/metrics';

const T = TRAIN_DEFAULTS;

function fmtMetrics(m: Metrics): string {
  return [
    `loss ${m.loss.toPrecision(4)}`,
    m.accuracy !== undefined ? `accuracy ${m.accuracy.toFixed(4)}` : '',
    m.mse !== undefined ? `mse ${m.mse.toPrecision(4)}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

export const trainCommand: Command = {
  name: 'train',
  summary:
    'Train a network (dense, LeNet-5 or a small ResNet) with Adam on a data set and save it as a TF.js LayersModel',
  usage:
    'prunescope train --data NAME|FILE.csv|DIR|X.npy|XY.npz --out DIR [--labels Y.npy] [--x-key K] [--y-key K] [--scale 1|255] [--no-resize] [--max-rows N] [--arch mlp|lenet5|resnet8] [--input-shape H,W,C] [--target COL] [--task classification|regression] [--layers 13,3] [--activation tanh] [--epochs N] [--batch B] [--lr X] [--l2 X] [--seed S] [--standardize] [--json]',
  flags: [
    { name: 'data', value: true, help: DATA_HELP },
    ...DATA_FILE_FLAGS,
    { name: 'target', value: true, help: 'CSV target column (default: the last column)' },
    { name: 'task', value: true, help: 'classification or regression (default: inferred from the target)' },
    {
      name: 'arch',
      value: true,
      help: `architecture: ${ARCHITECTURES.map((a) => `${a} (${ARCHITECTURE_DESCRIPTIONS[a]})`).join('; ')} (default ${T.arch})`,
    },
    {
      name: 'input-shape',
      value: true,
      help: 'lenet5/resnet8: the image shape H,W,C of a row when the data set does not give it (mnist, digits do)',
    },
    {
      name: 'layers',
      value: true,
      help: 'hidden widths then the output width, e.g. 13,3 (default: one hidden layer as wide as the input)',
    },
    {
      name: 'activation',
      value: true,
      help: `hidden activation: ${HIDDEN_ACTIVATIONS.join(', ')} (default ${T.activation})`,
    },
    { name: 'epochs', value: true, help: `passes over the training part (default ${T.epochs})` },
    { name: 'batch', value: true, help: `minibatch size (default ${T.batchSize})` },
    { name: 'lr', value: true, help: `Adam learning rate (default ${T.lr})` },
    { name: 'l2', value: true, help: `lambda of + (lambda/2) * sum of squared kernel weights (default ${T.l2})` },
    {
      name: 'seed',
      value: true,
      help: `seed of the split, the initialisation and the shuffling (default ${SPLIT_DEFAULTS.seed})`,
    },
    TEST_FRACTION_FLAG,
    { name: 'standardize', value: false, help: 'z-score features with training-part statistics (stored in the model)' },
    { name: 'out', value: true, help: 'new output folder for model.json and its weights' },
    { name: 'json', value: false, help: 'print one JSON document' },
  ],
  async run(args: ParsedArgs, ctx) {
    if (args.positional.length)
      throw badInput(`unexpected argument ${args.positional[0]}`, { field: 'train', expected: this.usage });
    const { data, target, task, ...dataOptions } = dataRequest(args, 'all');
    const out = str(args, 'out');
    if (!out) throw badInput('--out is required', { field: '--out', expected: 'a new folder for the trained model' });
    const epochs = num(args, 'epochs', T.epochs, { integer: true, min: 1 });
    const json = bool(args, 'json');
    const every = Math.max(1, Math.round(epochs / 10));
    const m = await trainNewModel({
      data,
      target,
      task,
      dataOptions: { ...dataOptions, onProgress: dataProgress(ctx) },
      arch: oneOf(args, 'arch', ARCHITECTURES, T.arch),
      inputShape: numList(args, 'input-shape'),
      layers: numList(args, 'layers'),
      activation: oneOf(args, 'activation', HIDDEN_ACTIVATIONS, T.activation),
      epochs,
      batchSize: num(args, 'batch', T.batchSize, { integer: true, min: 1 }),
      lr: num(args, 'lr', T.lr, { min: 1e-12 }),
      l2: num(args, 'l2', T.l2, { min: 0 }),
      seed: num(args, 'seed', SPLIT_DEFAULTS.seed, { integer: true }),
      testFraction: num(args, 'test-fraction', SPLIT_DEFAULTS.testFraction, { min: 1e-9, max: 1 - 1e-9 }),
      standardize: bool(args, 'standardize'),
      out,
      signal: ctx.signal,
      evalEvery: every,
      onEpoch: (e) => {
        if (!json && (e.epoch % every === 0 || e.epoch === epochs))
          ctx.log(
            `epoch ${e.epoch}/${epochs}: train loss ${e.trainLoss.toPrecision(4)}${e.test ? `; test ${fmtMetrics(e.test)}` : ''}`,
          );
      },
    });
    const r = m.result;
    if (json) {
      ctx.out(
        JSON.stringify({
          out,
          modelJson: m.modelJson,
          bytes: m.bytes,
          final: r.final,
          history: r.history,
          steps: r.steps,
          seconds: r.seconds,
          samplesPerSecond: r.samplesPerSecond,
          provenance: m.provenance,
        }),
      );
      return;
    }
    const opts = m.provenance.options as { activation: string };
    ctx.out(
      [
        `trained ${m.architecture.join('-')} ${opts.activation} on ${m.dataset.name} (${m.split.train.rows} train / ${m.split.test.rows} test rows), ${r.steps} Adam steps in ${r.seconds.toFixed(1)} s (${r.samplesPerSecond.toFixed(0)} samples/s, ${m.backend})`,
        `train: ${fmtMetrics(r.final.train)}`,
        `test:  ${fmtMetrics(r.final.test)}`,
        `saved ${m.modelJson}`,
      ].join('\n'),
    );
  },
};
