// The training loop: seeded shuffling, minibatch Adam (trainer.ts), per-epoch progress, test
// metrics, cancellation between steps, and a non-finite-loss stop. Step losses stay on the
// backend and are read once per epoch.
import * as tf from '@tensorflow/tfjs';
import type { Graph } from '../model/graph';
import { checkFeatures } from '../data/forModel';
import { DataSplit, numClasses } from '../data/dataset';
import { PruneScopeError, badInput, throwIfCancelled } from '../errors';
import { Rng } from '../util/random';
import { AdamOptions, StepGradients, Trainer } from './trainer';
import { Metrics, checkHead, evaluate } from './metrics';
import { checkNetworkFinite, parameterDiagnosis } from '../model/finiteParams';
import { batchTensors } from './batches';

export interface EpochMetrics {
  /** 1-based. */
  epoch: number;
  /** Adam steps taken so far (all epochs). */
  steps: number;
  /** Mean minibatch loss over this epoch's samples (data loss only, without the L2 term). */
  trainLoss: number;
  /** Test metrics, on epochs selected by evalEvery and on the last epoch. */
  test?: Metrics;
  /** Training seconds so far (evaluation excluded). */
  seconds: number;
}

/** What the per-step hook sees. Tensors are owned by the loop and valid only during the call. */
export interface StepContext {
  /** 1-based index of this step over the whole run. */
  step: number;
  /** 1-based epoch. */
  epoch: number;
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  /** Mean data-loss gradients on this batch (no L2 term, no masking). */
  gradients: StepGradients;
  /** Set masks here (trainer.setFreezeMask / setPruneMask): they apply to this step's update. */
  trainer: Trainer;
}

export interface TrainOptions extends Omit<AdamOptions, 'lr'> {
  epochs: number;
  batchSize: number;
  lr: number;
  /** Seeds the minibatch shuffling (the network's initialisation is the caller's). */
  seed: number;
  onEpoch?(m: EpochMetrics): void;
  /** Runs synchronously after each step's gradients, before its update. */
  onStep?(ctx: StepContext): void;
  signal?: AbortSignal;
  /** Evaluate the test part every this many epochs (and always after the last). 0 = last only. Default 1. */
  evalEvery?: number;
}

export interface TrainResult {
  history: EpochMetrics[];
  final: { train: Metrics; test: Metrics };
  steps: number;
  /** Training seconds (evaluation excluded). */
  seconds: number;
  samplesPerSecond: number;
}

function checkOptions(o: TrainOptions, rows: number): void {
  const int = (v: number, name: string, min: number) => {
    if (!Number.isInteger(v) || v < min)
      throw badInput(`${name} = ${v}`, { field: name, expected: `an integer >= ${min}` });
  };
  int(o.epochs, 'epochs', 0);
  int(o.batchSize, 'batchSize', 1);
  int(o.evalEvery ?? 1, 'evalEvery', 0);
  if (!Number.isFinite(o.seed)) throw badInput(`seed = ${o.seed}`, { field: 'seed', expected: 'a finite number' });
  if (rows === 0)
    throw badInput('the training part has no rows', { field: 'split.train', expected: 'at least one row' });
}

/** Trains `net` in place on split.train; returns the history and final train/test metrics. */
export async function train(net: Graph, split: DataSplit, opts: TrainOptions): Promise<TrainResult> {
  const { task, features } = split.dataset;
  const classes = numClasses(split.dataset);
  checkHead(net, task, classes);
  checkFeatures(net, features, { what: `data set ${split.dataset.name}`, field: 'network' });
  const rows = split.train.rows;
  checkOptions(opts, rows);
  const trainer = new Trainer(net, opts);
  const rng = new Rng(opts.seed);
  const evalEvery = opts.evalEvery ?? 1;
  const history: EpochMetrics[] = [];
  let step = 0;
  let seconds = 0;
  let lastYield = -Infinity;
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      const t0 = performance.now();
      const perm = rng.permutation(rows);
      const stepLosses: tf.Scalar[] = [];
      const batchSizes: number[] = [];
      try {
        for (let start = 0; start < rows; start += opts.batchSize) {
          // Yield now and then (~20 ms) so an abort from outside (SIGINT, a UI cancel) is delivered
          // without paying a macrotask per tiny step; the signal itself is checked before every step.
          if (performance.now() - lastYield > 20) {
            await new Promise<void>((r) => setImmediate(r));
            lastYield = performance.now();
          }
          throwIfCancelled(opts.signal, 'training');
          const size = Math.min(opts.batchSize, rows - start);
          const [x, y] = batchTensors(split.train, features, task, classes, perm, start, size);
          step += 1;
          const s = step;
          try {
            const hook = opts.onStep
              ? (g: StepGradients) => opts.onStep!({ step: s, epoch, x, y, gradients: g, trainer })
              : undefined;
            stepLosses.push(trainer.step(x, y, hook));
            batchSizes.push(size);
          } finally {
            tf.dispose([x, y]);
          }
        }
        const stacked = tf.stack(stepLosses);
        const losses = stacked.dataSync() as Float32Array; // the one download of the epoch
        stacked.dispose();
        const bad = losses.findIndex((l) => !Number.isFinite(l));
        if (bad >= 0) {
          const at = step - losses.length + bad + 1;
          throw new PruneScopeError(
            'numerical',
            `training loss became ${losses[bad]} at step ${at} (epoch ${epoch}); ${parameterDiagnosis(net)}; try a smaller --lr or standardised features`,
            { field: 'loss', expected: 'a finite value' },
          );
        }
        // A finite loss does not imply finite weights (an Inf weight into a saturated tanh): check
        // every layer's parameters once per epoch, on the backend, before anything can save them.
        checkNetworkFinite(net, `by step ${step} (epoch ${epoch})`, 'try a smaller --lr or standardised features');
        let sum = 0;
        losses.forEach((l, i) => (sum += l * batchSizes[i]));
        seconds += (performance.now() - t0) / 1000;
        const m: EpochMetrics = { epoch, steps: step, trainLoss: sum / rows, seconds };
        if (epoch === opts.epochs || (evalEvery > 0 && epoch % evalEvery === 0))
          m.test = evaluate(net, split.test, task, classes);
        history.push(m);
        opts.onEpoch?.(m);
      } finally {
        tf.dispose(stepLosses);
      }
    }
  } finally {
    trainer.dispose();
  }
  const final = { train: evaluate(net, split.train, task, classes), test: evaluate(net, split.test, task, classes) };
  return { history, final, steps: step, seconds, samplesPerSecond: seconds > 0 ? (rows * opts.epochs) / seconds : 0 };
}
