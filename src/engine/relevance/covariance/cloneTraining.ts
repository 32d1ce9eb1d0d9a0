// Continued Adam training on a CLONE of the model (the caller's model is never changed), for the
// covariance sources that watch training: `trajectory` (snapshots of the iterates) and `gradient`
// (the section 3 tracker). Pruned (exactly zero) parameters stay pruned through the Trainer's prune
// mask. Minibatches come from train/batches.ts PermutedBatches, as in ordering/freezeTrain.ts, so the
// gradient source sees the same batches as `orderParameters`.
import * as tf from '@tensorflow/tfjs';
import type { Graph } from '../../model/graph';
import { DataSplit, numClasses } from '../../data/dataset';
import { PruneScopeError, badInput, throwIfCancelled } from '../../errors';
import { StepGradients, Trainer } from '../../train/trainer';
import { PermutedBatches, batchTensors } from '../../train/batches';

export interface CloneTrainingOptions {
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  signal?: AbortSignal;
  /** After each step's gradients, before its update. */
  onGradients?(step: number, x: tf.Tensor2D, y: tf.Tensor2D, g: StepGradients, clone: Graph): void;
  /** After each step's update. */
  onUpdated?(step: number, clone: Graph): void;
}

export async function trainClone(
  net: Graph,
  split: DataSplit,
  pruneMask: Uint8Array,
  o: CloneTrainingOptions,
): Promise<void> {
  for (const [k, v] of [
    ['steps', o.steps],
    ['batchSize', o.batchSize],
  ] as const) {
    if (!(Number.isInteger(v) && v >= 1)) throw badInput(`${k} = ${v}`, { field: k, expected: 'an integer >= 1' });
  }
  if (!(o.lr > 0 && Number.isFinite(o.lr)))
    throw badInput(`lr = ${o.lr}`, { field: 'lr', expected: 'a positive number' });
  const rows = split.train.rows;
  if (rows === 0)
    throw badInput('the training part has no rows', { field: 'split.train', expected: 'at least one row' });
  const d = split.dataset;
  const clone = net.clone();
  const trainer = new Trainer(clone, { lr: o.lr, pruneMask });
  const classes = numClasses(d);
  const batches = new PermutedBatches(rows, o.batchSize, o.seed);
  try {
    for (let step = 1; step <= o.steps; step++) {
      if (step % 16 === 0) await new Promise<void>((r) => setImmediate(r));
      throwIfCancelled(o.signal, 'covariance training');
      const { perm, start, size } = batches.nextRange();
      const [x, y] = batchTensors(split.train, d.features, d.task, classes, perm, start, size);
      const g = trainer.gradients(x, y);
      try {
        o.onGradients?.(step, x, y, g, clone);
        trainer.apply(g);
        if (step === o.steps || step % 50 === 0) {
          const l = g.loss.dataSync()[0];
          if (!Number.isFinite(l))
            throw new PruneScopeError('numerical', `training loss became ${l} at step ${step}; try a smaller lr`, {
              field: 'loss',
              expected: 'a finite value',
            });
        }
      } finally {
        tf.dispose([x, y, ...g.grads, g.loss]);
      }
      o.onUpdated?.(step, clone);
    }
  } finally {
    trainer.dispose();
    clone.dispose();
  }
}
