// Adam training with the variance tracker running from step 1 and parameters frozen by stages
// (METHODS.md 3, (3.7)-(3.8) with the text's intent: the smallest-variance parameters get
// alpha_j = 0). Uses the shared Trainer for the Adam update and its freeze mask; drives the one
// backward pass itself so the tracker sees each layer's per-sample block and forward record (no
// extra pass), and so the gradient of a wholly frozen layer (and blocks below it) can be skipped.
import * as tf from '@tensorflow/tfjs';
import type { Graph } from '../model/graph';
import { disposePass } from '../model/graph';
import { propagate } from '../model/backward';
import { lossKindOf, sampleLosses, topDelta } from '../model/loss';
import { checkFeatures } from '../data/forModel';
import { DataSplit, numClasses } from '../data/dataset';
import { Trainer } from '../train/trainer';
import { PermutedBatches, batchTensors } from '../train/batches';
import { countSet } from '../train/masks';
import { checkHead } from '../train/metrics';
import { PruneScopeError, badInput, throwIfCancelled } from '../errors';
import { Rng } from '../util/random';
import { checkNetworkFinite, parameterDiagnosis } from '../model/finiteParams';
import { GradientVarianceTracker } from './tracker';
import type { CovarianceMode, VarianceEstimator } from '../options';
import { FreezeStage, checkStages, plateauReached, stageTarget } from './schedule';
import { orderByVariance, ranksFromOrder } from './rank';

export type FreezePolicy = 'ordered' | 'random';

export interface FreezeTrainOptions {
  steps: number;
  batchSize: number;
  lr: number;
  /** Seeds minibatch shuffling exactly as train() does (one permutation per epoch). */
  seed: number;
  estimator?: VarianceEstimator;
  mode?: CovarianceMode;
  blockLimit?: number;
  stages?: FreezeStage[];
  /** ordered: least variance first; random: a seeded random choice (the essay's baseline). */
  policy?: FreezePolicy;
  policySeed?: number;
  /** Only kernel weights are candidates (biases always train). Default false. */
  weightsOnly?: boolean;
  /** A pruned model's mask (1 = pruned): those parameters stay exactly 0 and are never frozen. */
  pruneMask?: Uint8Array;
  /** Keep the tracker running after the last stage (default: stop, it has nothing left to decide). */
  trackToEnd?: boolean;
  /** Time backward and optimiser per step (adds no sync on wasm/cpu). Default true. */
  timing?: boolean;
  signal?: AbortSignal;
  onProgress?(step: number, steps: number): void;
  /** Called with the tracker before it is disposed (e.g. to read covariance blocks). */
  onTrackerDone?(tracker: GradientVarianceTracker): void;
}

export interface FreezeEvent {
  step: number;
  trigger: 'step' | 'plateau';
  /** Flat indices frozen at this step, in freezing order. */
  frozen: number[];
  totalFrozen: number;
}

export interface PhaseTiming {
  steps: number;
  /** Mean milliseconds per step. */
  backwardMs: number;
  optimiserMs: number;
}

export interface FreezeTrainResult {
  /** Minibatch training loss of every step. */
  losses: Float32Array;
  events: FreezeEvent[];
  /** freezeStep[j] = the step parameter j froze at, 0 = never. */
  freezeStep: Int32Array;
  /** Variances, order and ranks at the first freeze (or at the end without stages); ordered policy only. */
  ordering?: { step: number; variances: Float64Array; order: Int32Array; ranks: Int32Array };
  /** Layers whose every parameter ended frozen (their gradient was skipped). */
  frozenLayers: string[];
  timing: { beforeFreeze: PhaseTiming; afterFreeze: PhaseTiming };
  steps: number;
}

/** Trains `net` in place. The tracker (ordered policy) observes every step until the last stage. */
export async function trainWithFreezing(
  net: Graph,
  split: DataSplit,
  opts: FreezeTrainOptions,
): Promise<FreezeTrainResult> {
  const { task, features } = split.dataset;
  const classes = numClasses(split.dataset);
  checkHead(net, task, classes);
  checkFeatures(net, features, { what: `data set ${split.dataset.name}`, field: 'network' });
  if (!(Number.isInteger(opts.steps) && opts.steps >= 1))
    throw badInput(`steps = ${opts.steps}`, { field: 'steps', expected: 'an integer >= 1' });
  if (!(Number.isInteger(opts.batchSize) && opts.batchSize >= 1))
    throw badInput(`batchSize = ${opts.batchSize}`, { field: 'batchSize', expected: 'an integer >= 1' });
  if (split.train.rows === 0)
    throw badInput('the training part has no rows', { field: 'split.train', expected: 'at least one row' });
  const pruned = opts.pruneMask;
  const candidates = (
    opts.weightsOnly
      ? Array.from(net.kernelMask().entries())
          .filter(([, m]) => m)
          .map(([j]) => j)
      : Array.from({ length: net.nParams }, (_, j) => j)
  ).filter((j) => !pruned?.[j]);
  const stages = opts.stages ?? [];
  checkStages(stages, candidates.length, net.nParams);
  const policy = opts.policy ?? 'ordered';
  const timing = opts.timing ?? true;
  const layers = net.layers();

  const trainer = new Trainer(net, { lr: opts.lr, pruneMask: pruned });
  const tracker =
    policy === 'ordered'
      ? new GradientVarianceTracker(net, { estimator: opts.estimator, mode: opts.mode, blockLimit: opts.blockLimit })
      : undefined;
  const policyRng = new Rng(opts.policySeed ?? opts.seed + 7919);
  const kind = lossKindOf(net);
  const batches = new PermutedBatches(split.train.rows, opts.batchSize, opts.seed);
  const losses = new Float32Array(opts.steps);
  const freezeMask = new Uint8Array(net.nParams);
  const freezeStep = new Int32Array(net.nParams);
  const events: FreezeEvent[] = [];
  let ordering: FreezeTrainResult['ordering'];
  let nextStage = 0;
  // Layers whose every parameter is frozen: once tracking has stopped, their gradients (and blocks
  // below them, when nothing below trains) are never computed.
  let frozenOp = new Set<number>();
  const acc = { before: { steps: 0, b: 0, o: 0 }, after: { steps: 0, b: 0, o: 0 } };
  try {
    for (let step = 1; step <= opts.steps; step++) {
      if (step % 16 === 0) await new Promise<void>((r) => setImmediate(r));
      throwIfCancelled(opts.signal, 'training');
      const tracking = tracker !== undefined && (nextStage < stages.length || opts.trackToEnd || stages.length === 0);
      const t0 = timing ? performance.now() : 0;
      // Batches assembled in JS as train() assembles them (a wasm Gather is slow: bench/NOTES.md).
      const { perm, start, size } = batches.nextRange();
      const g = tf.tidy(() => {
        const [x, y] = batchTensors(split.train, features, task, classes, perm, start, size);
        const pass = net.forward(x, 'train');
        try {
          const out = pass.output as tf.Tensor2D;
          const delta = topDelta(kind, out, y);
          const grads: (tf.Tensor | undefined)[] = new Array(net.weights.length).fill(undefined);
          if (tracking) tracker!.beginStep();
          propagate(net, pass, {
            start: net.plan.top,
            block: delta,
            c: 1,
            // While tracking, the tracker needs every layer's g_S; afterwards wholly frozen layers skip it.
            wants: (op) => op.paramCount > 0 && (tracking || !frozenOp.has(op.index)),
            visit: (op, gOut, sv) => {
              const sums = op.layer.weightStats!(gOut, sv, net.vars[op.index], 1, { sum: true }).sum!;
              const gS = sums.map((t) => tf.keep(tf.mul(t, 1 / size)));
              tf.dispose(sums);
              gS.forEach((t, k) => (grads[op.weightIndex + k] = t));
              if (tracking) tracker!.observeLayer(op, gOut, sv, gS);
            },
          });
          if (tracking) tracker!.endStep();
          const filled = grads.map((t, i) => t ?? tf.zeros(net.weights[i].shape));
          const loss = tf.mean(sampleLosses(kind, out, y)) as tf.Scalar;
          return { grads: filled, loss, batchSize: size };
        } finally {
          disposePass(pass);
        }
      });
      const t1 = timing ? performance.now() : 0;
      losses[step - 1] = g.loss.dataSync()[0];
      if (!Number.isFinite(losses[step - 1])) {
        tf.dispose([...g.grads, g.loss]);
        throw new PruneScopeError(
          'numerical',
          `training loss became ${losses[step - 1]} at step ${step}; ${parameterDiagnosis(net)}; try a smaller --lr or standardised features`,
          { field: 'loss', expected: 'a finite value' },
        );
      }
      // Stages fire after this step's gradients and before its update, like train()'s onStep.
      while (nextStage < stages.length) {
        const s = stages[nextStage];
        const fire =
          s.atStep !== undefined
            ? step >= s.atStep
            : plateauReached(losses, step, s.plateau!.window, s.plateau!.tolerance);
        if (!fire) break;
        const target = stageTarget(s, candidates.length);
        const open = candidates.filter((j) => !freezeMask[j]);
        let chosen: number[];
        if (s.indices) {
          chosen = s.indices.filter((j) => !freezeMask[j] && !pruned?.[j]);
        } else if (tracker) {
          const o = tracker.ordering(open);
          if (!ordering)
            ordering = {
              step,
              variances: o.variances,
              order: orderByVariance(o.variances, candidates),
              ranks: new Int32Array(0),
            };
          chosen = Array.from(o.order.subarray(0, Math.max(0, target - (candidates.length - open.length))));
        } else {
          const p = policyRng.permutation(open.length);
          chosen = Array.from(p.subarray(0, Math.max(0, target - (candidates.length - open.length))), (i) => open[i]);
        }
        const already = countSet(freezeMask);
        for (const j of chosen) {
          freezeMask[j] = 1;
          freezeStep[j] = step;
        }
        events.push({
          step,
          trigger: s.atStep !== undefined ? 'step' : 'plateau',
          frozen: chosen,
          totalFrozen: already + chosen.length,
        });
        trainer.setFreezeMask(freezeMask);
        frozenOp = new Set(layers.filter((l) => allSet(freezeMask, l.offset, l.offset + l.size)).map((l) => l.op));
        nextStage++;
      }
      const t2 = timing ? performance.now() : 0;
      trainer.apply(g);
      tf.dispose([...g.grads, g.loss]);
      if (timing) {
        const ph = events.length ? acc.after : acc.before;
        ph.steps++;
        ph.b += t1 - t0;
        ph.o += performance.now() - t2;
      }
      opts.onProgress?.(step, opts.steps);
    }
    // A finite loss does not imply finite weights: check every layer once, at the end of the run.
    checkNetworkFinite(net, `by step ${opts.steps} (end of the run)`, 'try a smaller --lr or standardised features');
    if (tracker && !ordering) {
      const o = tracker.ordering(candidates);
      ordering = { step: opts.steps, variances: o.variances, order: o.order, ranks: new Int32Array(0) };
    }
    if (ordering) ordering.ranks = ranksFromOrder(ordering.order, net.nParams);
    if (tracker) opts.onTrackerDone?.(tracker);
  } finally {
    tracker?.dispose();
    trainer.dispose();
  }
  const phase = (p: { steps: number; b: number; o: number }): PhaseTiming => ({
    steps: p.steps,
    backwardMs: p.steps ? p.b / p.steps : 0,
    optimiserMs: p.steps ? p.o / p.steps : 0,
  });
  return {
    losses,
    events,
    freezeStep,
    ordering,
    steps: opts.steps,
    frozenLayers: layers.filter((l) => frozenOp.has(l.op)).map((l) => l.name),
    timing: { beforeFreeze: phase(acc.before), afterFreeze: phase(acc.after) },
  };
}

function allSet(mask: Uint8Array, from: number, to: number): boolean {
  for (let j = from; j < to; j++) if (!mask[j]) return false;
  return true;
}
