// Evaluating one model under many channel removals on the same rows (the structured what-if slider).
// The model's stem (the ops from the input up to and including its first channel-making layer, and
// the per-channel layers after it) computes each output channel from that channel's own weights
// only, and removal zeroes exactly those weights. So the stem's output under a removal is the
// teacher's for the kept channels and, for the removed ones, the zero channel passed through the
// per-channel layers, the same for every row: the teacher's stem output is computed once per batch
// and kept on the backend, and each removal runs the masked stem on one row for the removed
// channels, selects per channel, and runs the rest of the graph from there. Same kernels on the
// same batches as evaluate, so the same metrics.
import * as tf from '@tensorflow/tfjs';
import type { SplitPart, Task } from '../data/dataset';
import type { Graph } from '../model/graph';
import { sizeOf } from '../layers/util';
import { evaluateOutputs, type Metrics } from '../train/metrics';
import type { ChannelGroups } from './groups';
import type { RemovedChannels } from './structuredMask';

/** Largest cached stem output, in float32 entries over all rows (64 MB): above it, evaluate plainly. */
const MAX_STEM_ENTRIES = 16 * 1024 * 1024;

/**
 * The tensor id where the stem ends (0: no stem): a chain from the input of per-channel ops and at
 * most one channel-making op (Dense, Conv2D), no later op reading inside it.
 */
export function stemEnd(net: Graph): number {
  let end = 0;
  let made = 0;
  for (const op of net.ops) {
    if (op.inputs.length !== 1 || op.inputs[0] !== end) break;
    const kind = op.layer.channels.kind;
    if (kind === 'new') made++;
    else if (kind !== 'same') break;
    if (made > 1) break;
    end++;
  }
  // A later reader of an earlier tensor (a skip from inside the stem) moves the cut back to it.
  for (let moved = true; moved;) {
    moved = false;
    const reads = [net.plan.top, ...net.ops.slice(end).flatMap((op) => op.inputs)];
    for (const t of reads)
      if (t < end) {
        end = t;
        moved = true;
      }
  }
  return end;
}

export class StemCache {
  private constructor(
    private readonly end: number,
    /** Per stem channel (last axis of the stem output), its group and the group's channel. */
    private readonly channels: { group: number; channel: Int32Array },
    private readonly part: SplitPart,
    private readonly batchSize: number,
    /** The teacher's stem output, one tensor per batch of rows. */
    private readonly batches: tf.Tensor[],
    /** One row of input, for the removed channels' values. */
    private readonly row: tf.Tensor2D,
    /**
     * Every reader of the stem output is a Dense or Conv2D, whose input weights of a removed channel
     * are zeroed with it: the removed channels' values are multiplied by zero there, so the teacher's
     * (finite) values give the same sums and need no replacing.
     */
    private readonly readersMaskInputs: boolean,
  ) {}

  /**
   * The stem of `teacher` (unpruned weights) on the rows of `part`, or undefined when the model has
   * no stem whose channels the groups know, or its output on `part` is too large to keep.
   */
  static build(teacher: Graph, groups: ChannelGroups, part: SplitPart, batchSize = 2048): StemCache | undefined {
    const end = stemEnd(teacher);
    if (end === 0 || part.rows === 0) return undefined;
    const channels = groups.tensorChannels.get(teacher.ops[end - 1].node.name);
    if (!channels) return undefined;
    const shape = teacher.plan.shapes.get(teacher.ops[end - 1].node.name)!;
    if (sizeOf(shape) * part.rows > MAX_STEM_ENTRIES || shape[shape.length - 1] !== channels.channel.length)
      return undefined;
    const features = part.x.length / part.rows;
    const rowsOf = (start: number, stop: number) =>
      tf.tensor2d(part.x.subarray(start * features, stop * features), [stop - start, features]);
    const batches: tf.Tensor[] = [];
    for (let start = 0; start < part.rows; start += batchSize)
      batches.push(tf.tidy(() => teacher.activationAt(rowsOf(start, Math.min(part.rows, start + batchSize)), end)));
    // A non-finite teacher activation would turn into NaN under the 0/1 channel scale in evaluate.
    const finite = batches.every((b) => tf.tidy(() => tf.all(tf.isFinite(b)).dataSync()[0] === 1));
    if (!finite) {
      tf.dispose(batches);
      return undefined;
    }
    const readers = teacher.ops.filter((op) => op.inputs.includes(end));
    const readersMaskInputs =
      teacher.plan.top !== end && readers.every((op) => op.role === 'layer' && op.layer.channels.kind === 'new');
    return new StemCache(end, channels, part, batchSize, batches, rowsOf(0, 1), readersMaskInputs);
  }

  /** evaluate(net, part, ...) for `net`, the teacher with the channels of `removed` zeroed (structuredMask). */
  evaluate(net: Graph, removed: RemovedChannels, task: Task, classes: number): Metrics {
    const c = this.channels.channel.length;
    const keep = new Float32Array(c);
    const drop = new Float32Array(c);
    let removedHere = 0;
    const gone = new Set(removed.get(this.channels.group) ?? []);
    for (let j = 0; j < c; j++) {
      keep[j] = gone.has(this.channels.channel[j]) ? 0 : 1;
      drop[j] = 1 - keep[j];
      removedHere += drop[j];
    }
    const shape = [...Array<number>(this.batches[0].rank - 1).fill(1), c];
    if (removedHere === 0 || this.readersMaskInputs)
      return evaluateOutputs(net, this.part, task, classes, this.batchSize, (start) =>
        net.predictFrom(this.end, this.batches[start / this.batchSize]),
      );
    // Multiply-add, not tf.where (whose broadcast is slow on wasm): t * 1 + 0 and t * 0 + z are
    // exactly t and z for the finite t build checked; z (the removed channels' values) is usually 0.
    const zeroed = tf.tidy(() => tf.mul(net.activationAt(this.row, this.end), tf.tensor(drop, shape)));
    const scale = tf.tensor(keep, shape);
    const add = zeroed.dataSync().some((v) => v !== 0);
    try {
      return evaluateOutputs(net, this.part, task, classes, this.batchSize, (start) => {
        const kept = tf.mul(this.batches[start / this.batchSize], scale);
        return net.predictFrom(this.end, add ? tf.add(kept, zeroed) : kept);
      });
    } finally {
      tf.dispose([zeroed, scale]);
    }
  }

  dispose(): void {
    tf.dispose([...this.batches, this.row]);
  }
}
