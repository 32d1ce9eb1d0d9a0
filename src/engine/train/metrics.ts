// Loss and accuracy (classification) or MSE (regression) of a network on one part of a split,
// in batches so a large test set never materialises one huge activation, with one download.
import * as tf from '@tensorflow/tfjs';
import { sampleLosses, lossKindOf } from '../model/loss';
import type { Graph } from '../model/graph';
import type { SplitPart, Task } from '../data/dataset';
import { badInput } from '../errors';

export interface Metrics {
  /** Mean loss: cross-entropy for a softmax head, MSE (mean over outputs) otherwise. */
  loss: number;
  /** Fraction of rows whose argmax output equals the label (classification only). */
  accuracy?: number;
  /** Mean squared error over rows and outputs (regression only). */
  mse?: number;
  rows: number;
}

/** Checks that the network's head fits the task: softmax with K units, or K = 1 regression output. */
export function checkHead(net: Graph, task: Task, classes: number): void {
  if (task === 'classification') {
    if (net.task !== 'classification' || net.outputSize !== classes) {
      throw badInput(`network head is ${net.outputSize} units (${net.task})`, {
        field: 'network',
        expected: `a softmax head with ${classes} units for ${classes} classes`,
      });
    }
  } else if (net.task !== 'regression' || net.outputSize !== 1) {
    throw badInput(`network head is ${net.outputSize} units (${net.task})`, {
      field: 'network',
      expected: 'one non-softmax output unit for regression',
    });
  }
}

export function evaluate(net: Graph, part: SplitPart, task: Task, classes: number, batchSize = 2048): Metrics {
  const features = part.rows > 0 ? part.x.length / part.rows : 0;
  return evaluateOutputs(net, part, task, classes, batchSize, (start, end) =>
    net.predict(tf.tensor2d(part.x.subarray(start * features, end * features), [end - start, features])),
  );
}

/**
 * evaluate with the network's outputs for rows [start, end) from `outputs` (called once per batch
 * of `batchSize` rows, inside a tidy), e.g. a forward that starts from cached activations.
 */
export function evaluateOutputs(
  net: Graph,
  part: SplitPart,
  task: Task,
  classes: number,
  batchSize: number,
  outputs: (start: number, end: number) => tf.Tensor2D,
): Metrics {
  checkHead(net, task, classes);
  if (part.rows === 0) return { loss: NaN, rows: 0, ...(task === 'classification' ? { accuracy: NaN } : { mse: NaN }) };
  const kind = lossKindOf(net);
  // [loss sum, correct count] accumulated on the backend across batches.
  let acc: tf.Tensor1D = tf.zeros([2]);
  for (let start = 0; start < part.rows; start += batchSize) {
    const end = Math.min(part.rows, start + batchSize);
    const next = tf.tidy(() => {
      const yv = part.y.subarray(start, end);
      const out = outputs(start, end);
      let y: tf.Tensor2D;
      let correct: tf.Scalar;
      if (task === 'classification') {
        const labels = tf.tensor1d(Int32Array.from(yv), 'int32');
        y = tf.oneHot(labels, classes).toFloat() as tf.Tensor2D;
        correct = tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), labels), 'float32'));
      } else {
        y = tf.tensor2d(yv, [end - start, 1]);
        correct = tf.scalar(0);
      }
      return tf.add(acc, tf.stack([tf.sum(sampleLosses(kind, out, y)), correct])) as tf.Tensor1D;
    });
    acc.dispose();
    acc = next;
  }
  const [lossSum, correct] = acc.dataSync();
  acc.dispose();
  const loss = lossSum / part.rows;
  return task === 'classification'
    ? { loss, accuracy: correct / part.rows, rows: part.rows }
    : { loss, mse: loss, rows: part.rows };
}
