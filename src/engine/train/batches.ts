// Minibatches as an endless stream of steps: one seeded permutation (Rng(seed)) per pass over the
// rows, a pass's last batch may be short, the next step starts a fresh permutation. The step-budget
// loops (ordering/freezeTrain.ts, relevance/covariance/cloneTraining.ts) share it so the covariance
// `gradient` source sees exactly the batches `orderParameters` sees. (train/train.ts counts epochs
// and assembles batches in JS instead.)
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/random';

export class PermutedBatches {
  private readonly rng: Rng;
  private perm: tf.Tensor1D | undefined;
  private pos: number;

  constructor(private readonly rows: number, private readonly batchSize: number, seed: number) {
    this.rng = new Rng(seed);
    this.pos = rows;
  }

  /**
   * The next batch's row indices, a new int32 tensor owned by the caller (safe inside tf.tidy: the
   * permutation itself is kept out of the caller's scope).
   */
  next(): tf.Tensor1D {
    if (this.pos >= this.rows) {
      this.perm?.dispose();
      this.perm = tf.keep(tf.tensor1d(this.rng.permutation(this.rows), 'int32'));
      this.pos = 0;
    }
    const size = Math.min(this.batchSize, this.rows - this.pos);
    const idx = tf.slice(this.perm!, this.pos, size);
    this.pos += size;
    return idx;
  }

  dispose(): void {
    this.perm?.dispose();
    this.perm = undefined;
  }
}
