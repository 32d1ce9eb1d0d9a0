// Minibatches. batchTensors assembles one batch in JS from the split's arrays (train(), the
// variational loop, ordering/freezeTrain.ts, covariance clone training, distillation, which also
// takes the teacher's outputs with copyRows); PermutedBatches is the endless step stream of the
// step-budget loops: one seeded permutation (Rng(seed)) per pass over the rows, a pass's last batch
// may be short, the next step starts a fresh permutation. Same draws and boundaries as train()'s
// epochs, so ordering/freezeTrain.ts with neutral settings reproduces train(), and
// relevance/covariance/cloneTraining.ts (the covariance `gradient` source) sees exactly the batches
// `orderParameters` sees.
import * as tf from '@tensorflow/tfjs';
import type { SplitPart, Task } from '../data/dataset';
import { Rng } from '../util/random';

/**
 * Rows perm[start .. start+size) of a row-major [rows, cols] array, copied whole (on wasm a Gather
 * copies element by element, far slower: bench/NOTES.md).
 */
export function copyRows(src: Float32Array, cols: number, perm: Int32Array, start: number, size: number): Float32Array {
  const out = new Float32Array(size * cols);
  for (let i = 0; i < size; i++) {
    const r = perm[start + i];
    out.set(src.subarray(r * cols, (r + 1) * cols), i * cols);
  }
  return out;
}

/**
 * Rows perm[start .. start+size) of the split as fresh [size, features] and [size, cols] tensors
 * owned by the caller. Targets are built as yTensor builds them: one-hot [size, K] for
 * classification, [size, 1] for regression.
 */
export function batchTensors(
  part: SplitPart,
  features: number,
  task: Task,
  classes: number,
  perm: Int32Array,
  start: number,
  size: number,
): [tf.Tensor2D, tf.Tensor2D] {
  const cols = task === 'classification' ? classes : 1;
  const y = new Float32Array(size * cols);
  for (let i = 0; i < size; i++) {
    const r = perm[start + i];
    if (task === 'classification') {
      // Int32Array.from truncation, as yTensor; out-of-range labels give a zero row, as tf.oneHot
      const k = part.y[r] | 0;
      if (k >= 0 && k < classes) y[i * classes + k] = 1;
    } else {
      y[i] = part.y[r];
    }
  }
  return [tf.tensor2d(copyRows(part.x, features, perm, start, size), [size, features]), tf.tensor2d(y, [size, cols])];
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

  constructor(
    private readonly rows: number,
    private readonly batchSize: number,
    seed: number,
  ) {
    this.rng = new Rng(seed);
    this.pos = rows;
  }

  /** The next batch's rows (for batchTensors). */
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
}
