// The in-memory data set every engine job consumes. Rows are samples; x is row-major [rows, features].
import * as tf from '@tensorflow/tfjs';

import type { Task } from '../options';
import type { DataSource } from '../provenance';
export type { Task };

export interface Dataset {
  /** Built-in name or the CSV file path it came from. */
  name: string;
  task: Task;
  featureNames: string[];
  targetName: string;
  /** Class names for classification (index = label); absent for regression. */
  labelNames?: string[];
  /** [rows * features], row-major. */
  x: Float32Array;
  /** Class index (classification) or value (regression), one per row. */
  y: Float32Array;
  rows: number;
  features: number;
  /** Where the data came from (citation, licence, notes such as Boston's B column). */
  provenance?: string;
  /** The shape of one row in the engine's layout (NHWC, no batch), when rows are images or arrays. */
  shape?: number[];
  /** Rows without labels (y is NaN): accepted only where labels are not needed, e.g. predictions. */
  unlabelled?: boolean;
  /** How the rows were read from the user's files (sampling, classes, conversions), for results. */
  source?: DataSource;
}

export interface Standardization {
  mean: number[];
  std: number[];
}

export interface SplitPart {
  x: Float32Array;
  y: Float32Array;
  rows: number;
  /** The data set row of each sample (set by splitDataset). */
  indices?: Int32Array;
}

export interface DataSplit {
  dataset: Dataset;
  train: SplitPart;
  test: SplitPart;
  seed: number;
  testFraction: number;
  /** Present when features were standardised (fitted on the training part only). */
  standardization?: Standardization;
}

export function numClasses(d: Dataset): number {
  return d.labelNames ? d.labelNames.length : 0;
}

/** Inputs as a [rows, features] tensor. */
export function xTensor(part: SplitPart, features: number): tf.Tensor2D {
  return tf.tensor2d(part.x, [part.rows, features]);
}

/** Targets as the network sees them: one-hot [rows, K] for classification, [rows, 1] for regression. */
export function yTensor(part: SplitPart, task: Task, classes: number): tf.Tensor2D {
  if (task === 'classification') {
    return tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(part.y), 'int32'), classes).toFloat() as tf.Tensor2D);
  }
  return tf.tensor2d(part.y, [part.rows, 1]);
}
