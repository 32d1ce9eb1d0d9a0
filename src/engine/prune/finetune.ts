// Fine-tuning after pruning: train the surviving weights with the mask held (pruned parameters stay
// exactly 0: the trainer zeroes their updates and Adam state), and report the test metric before
// and after, as every pruning toolkit's users expect.
import type { DataSplit } from '../data/dataset';
import { numClasses } from '../data/dataset';
import type { Graph } from '../model/graph';
import { TRAIN_DEFAULTS } from '../options';
import { evaluate, type Metrics } from '../train/metrics';
import { train } from '../train/train';

export interface FinetuneOptions {
  epochs: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  signal?: AbortSignal;
}

export interface FinetuneResult {
  epochs: number;
  before: Metrics;
  after: Metrics;
  seconds: number;
}

/** Trains `graph` in place with `mask` (1 = pruned) held at 0; epochs 0 only evaluates. */
export async function finetuneWithMask(
  graph: Graph,
  split: DataSplit,
  mask: Uint8Array | undefined,
  o: FinetuneOptions,
): Promise<FinetuneResult> {
  const d = split.dataset;
  const before = evaluate(graph, split.test, d.task, numClasses(d));
  if (o.epochs === 0) return { epochs: 0, before, after: before, seconds: 0 };
  const r = await train(graph, split, {
    epochs: o.epochs,
    batchSize: o.batchSize ?? TRAIN_DEFAULTS.batchSize,
    lr: o.lr ?? TRAIN_DEFAULTS.lr,
    seed: o.seed ?? 0,
    evalEvery: 0,
    ...(mask ? { pruneMask: mask } : {}),
    signal: o.signal,
  });
  return { epochs: o.epochs, before, after: r.final.test, seconds: r.seconds };
}
