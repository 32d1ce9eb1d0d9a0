// `freeze-timeline`: the side panel's freeze timeline on the model's own data. Two runs from the
// model's weights (clones; the model is untouched) with the same seed, so the same minibatches:
// one freezing `share` of the weights at t0 by the gradient-variance order, one freezing nothing
// at t0. Both take the tracker and the same code path up to t0, so their losses agree bit for bit
// there and any difference after t0 is the freezing alone. Drawn by the engine's figure builder.
import { throwIfCancelled } from '../../engine/errors';
import { trainWithFreezing, type FreezeTrainResult } from '../../engine/ordering/freezeTrain';
import type { FreezeTimeline } from '../../engine/ordering/experiment';
import { freezeTimelineFigure } from '../../engine/ordering/figures';
import { hashModel, makeProvenance } from '../../engine/provenance';
import type { ProvenanceRecord } from '../../protocol';
import type { JobHandler } from '../jobTypes';
import { modelAndSplit, toPlotly } from './modelCache';
import { int, modelRef, num, obj, oneOf } from './params';
import { FREEZE_TIMELINE_DEFAULTS, ORDER_DEFAULTS, VARIANCE_ESTIMATORS } from '../../engine/options';
import { splitRecord } from '../../engine/data/split';

const D = FREEZE_TIMELINE_DEFAULTS;
const BATCH = D.batchSize;
const LR = D.lr;

export const freezeTimelineJob: JobHandler<'freeze-timeline'> = {
  kind: 'freeze-timeline',
  parse(raw) {
    const job = 'freeze-timeline';
    const o = obj(raw, job);
    const steps = int(o, 'steps', job, 2, 1_000_000, D.steps);
    const t0 = int(o, 't0', job, 1, steps, Math.max(1, Math.floor(steps / 2)));
    return {
      ...modelRef(o, job),
      estimator: oneOf(o, 'estimator', job, VARIANCE_ESTIMATORS, ORDER_DEFAULTS.estimator),
      steps,
      t0,
      share: num(o, 'share', job, 0, 1, D.share),
    };
  },
  async run(p, ctx) {
    const entry = await modelAndSplit(p, ctx);
    const model = entry.model.network;
    const runs: FreezeTrainResult[] = [];
    // Frozen run first: the panel's point; the plain run is the reference curve.
    for (const [i, share] of [p.share, 0].entries()) {
      throwIfCancelled(ctx.signal, 'freeze-timeline');
      const net = model.clone();
      try {
        runs.push(
          await trainWithFreezing(net, entry.split, {
            steps: p.steps,
            batchSize: BATCH,
            lr: LR,
            seed: p.seed,
            estimator: p.estimator,
            mode: 'diag',
            weightsOnly: true,
            pruneMask: entry.model.pruneMask,
            stages: [{ atStep: p.t0, share }],
            timing: false,
            signal: ctx.signal,
            onProgress: (step, steps) => {
              if (step % 10 === 0 || step === steps)
                ctx.progress(
                  (i * steps + step) / (2 * steps),
                  `${share ? `freezing ${share}` : 'no freezing'}: step ${step}/${steps}`,
                );
            },
          }),
        );
      } finally {
        net.dispose();
      }
    }
    const [frozen, plain] = runs;
    const timeline: FreezeTimeline = {
      share: p.share,
      seed: p.seed,
      events: frozen.events,
      freezeStep: Array.from(frozen.freezeStep),
      lossFrozen: Array.from(frozen.losses),
      lossPlain: Array.from(plain.losses),
    };
    const figure = toPlotly(freezeTimelineFigure(timeline)); // the report's figure, one implementation
    // The freezing candidates: kernel weights, less any the model's prune mask removed.
    const pruned = entry.model.pruneMask;
    let weights = 0;
    model.kernelMask().forEach((m, j) => {
      if (m && !pruned?.[j]) weights++;
    });
    return {
      result: {
        share: p.share,
        t0: p.t0,
        steps: p.steps,
        weights,
        events: frozen.events.map((e) => ({ step: e.step, frozen: e.frozen.length, totalFrozen: e.totalFrozen })),
        lossFrozen: timeline.lossFrozen,
        lossPlain: timeline.lossPlain,
        frozenLayers: frozen.frozenLayers,
        figure,
      },
      provenance: makeProvenance({
        job: 'freeze-timeline',
        method: 'gradient-variance',
        variant: `${p.estimator}/diag`,
        seed: p.seed,
        modelHash: hashModel(model.structure(), model.toFlat()),
        data: splitRecord(entry.split, 'train', entry.split.train.rows),
        options: {
          steps: p.steps,
          t0: p.t0,
          share: p.share,
          batchSize: BATCH,
          lr: LR,
          optimiser: 'adam',
          weightsOnly: true,
          init: "the model's weights",
        },
      }) as unknown as ProvenanceRecord,
    };
  },
};
