// Minibatches. batchTensors assembles one batch in JS from the split's arrays (train(), the
// variational loop, ordering/freezeTrain.ts); PermutedBatches is the endless step stream of the
// step-budget loops: one seeded permutation (Rng(seed)) per pass over the rows, a pass's last batch
// may be short, the next step starts a fresh permutation. Same draws and boundaries as train()'s
// epochs, so ordering/freezeTrain.ts with neutral settings reproduces train(), and
// relevance/covariance/cloneTraining.ts (the covariance `gradient` source) sees exactly the batches
// `orderParameters` sees.
import * as tf from '@tensorflow/tfjs';
import type { SplitPart, Task } from '../data/dataset';
import { Rng } from '../util/random';

/** One batch's inputs [size, features] and targets [size, cols], row-major, as uploaded. */
export interface BatchArrays {
  x: Float32Array;
  y: Float32Array;
  cols: number;
}

/**
 * Rows perm[start .. start+size) of the split, copied row by row. On wasm a Gather copies element
 * by element (~7-15 ms for 128 x 784, a quarter to half of a training step); whole-row copies cost
 * ~0.2 ms. Targets are built as yTensor builds them: one-hot [size, K] for classification,
 * [size, 1] for regression.
 */
export function batchArrays(part: SplitPart, features: number, task: Task, classes: number, perm: Int32Array, start: number, size: number): BatchArrays {
  const x = new Float32Array(size * features);
  const cols = task === 'classification' ? classes : 1;
  const y = new Float32Array(size * cols);
  for (let i = 0; i < size; i++) {
    const r = perm[start + i];
    x.set(part.x.subarray(r * features, (r + 1) * features), i * features);
    if (task === 'classification') {
      const k = part.y[r] | 0; // Int32Array.from truncation, as yTensor; out-of-range labels give a zero row, as tf.oneHot
      if (k >= 0 && k < classes) y[i * classes + k] = 1;
    } else {
      y[i] = part.y[r];
    }
  }
  return { x, y, cols };
}

/** batchArrays uploaded: fresh [size, features] and [size, cols] tensors owned by the caller. */
export function batchTensors(part: SplitPart, features: number, task: Task, classes: number, perm: Int32Array, start: number, size: number): [tf.Tensor2D, tf.Tensor2D] {
  const b = batchArrays(part, features, task, classes, perm, start, size);
  return [tf.tensor2d(b.x, [size, features]), tf.tensor2d(b.y, [size, b.cols])];
}

/** A batch of the stream: rows perm[start .. start+size). `perm` is only valid until the next call. */
export interface BatchRange {
  perm: Int32Array;
  start: number;
  size: number;
}

export class PermutedBatches {
  private readonly rng: Rng;
  private perm: Int32Array = new Int32Array(0);
  private pos: number;

  constructor(private readonly rows: number, private readonly batchSize: number, seed: number) {
    this.rng = new Rng(seed);
    this.pos = rows;
  }

  /** The next batch's rows (for batchArrays / batchTensors). */
  nextRange(): BatchRange {
    if (this.pos >= this.rows) {
      this.perm = this.rng.permutation(this.rows);
      this.pos = 0;
    }
    const size = Math.min(this.batchSize, this.rows - this.pos);
    const r = { perm: this.perm, start: this.pos, size };
    this.pos += size;
    return r;
  }

  /** Nothing is held on the backend any more; kept so callers need not change. */
  dispose(): void {
    this.perm = new Int32Array(0);
  }
}
