// `gradient-variance`: the essay's section-3 order (engine orderParameters: a clone trained for
// `steps` Adam steps with the variance tracker on; the model itself is untouched), with the ordered
// variance figure and, in block mode, the first layer's covariance heatmap.
import { orderParameters } from '../../engine/ordering/orderModel';
import { covarianceHeatmapFigure, orderedVarianceFigure } from '../../engine/ordering/figures';
import type { ProvenanceRecord } from '../../protocol';
import type { JobHandler } from '../jobTypes';
import { modelAndSplit, toPlotly } from './modelCache';
import { int, modelRef, obj, oneOf } from './params';
import { ORDER_DEFAULTS, VARIANCE_ESTIMATORS } from '../../engine/options';

export const gradientVarianceJob: JobHandler<'gradient-variance'> = {
  kind: 'gradient-variance',
  parse(raw) {
    const job = 'gradient-variance';
    const o = obj(raw, job);
    return {
      ...modelRef(o, job),
      estimator: oneOf(o, 'estimator', job, VARIANCE_ESTIMATORS, ORDER_DEFAULTS.estimator),
      // full (one n x n matrix) is for the CLI's small models only; the panel shows one layer's block.
      mode: oneOf(o, 'mode', job, ['diag', 'block'] as const, ORDER_DEFAULTS.mode as 'diag'),
      steps: int(o, 'steps', job, 2, 1_000_000, ORDER_DEFAULTS.steps),
    };
  },
  async run(p, ctx) {
    const entry = await modelAndSplit(p, ctx);
    const r = await orderParameters(entry.model.network, entry.split, {
      estimator: p.estimator,
      mode: p.mode,
      steps: p.steps,
      seed: p.seed,
      pruneMask: entry.model.pruneMask,
      signal: ctx.signal,
      onProgress: (step, steps) => ctx.progress(step / steps, `step ${step}/${steps}`),
    });
    const variances = Array.from(r.variances);
    const order = Array.from(r.order);
    const block = r.blocks?.[0];
    return {
      result: {
        variances,
        order,
        ranks: Array.from(r.ranks),
        figures: {
          variances: toPlotly(orderedVarianceFigure(variances, order)),
          ...(block ? { covariance: toPlotly(covarianceHeatmapFigure(block)) } : {}),
        },
      },
      provenance: r.provenance as unknown as ProvenanceRecord,
    };
  },
};
