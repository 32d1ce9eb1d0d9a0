// `prunescope order MODEL --data D`: train from the model's weights for T steps with the
// gradient-variance estimator running, and print the variances, the order and the essay's ranks.
import { Command } from '../command';
import { ParsedArgs, bool, num, oneOf } from '../args';
import { MODEL_DATA_FLAGS, openModelWithData } from '../modelData';
import { orderParameters } from '../../engine/ordering/orderModel';
import { COVARIANCE_MODES, ORDER_DEFAULTS, VARIANCE_ESTIMATORS } from '../../engine/options';

const D = ORDER_DEFAULTS;

export const orderCommand: Command = {
  name: 'order',
  summary: 'Order parameters by gradient variance (essay eq. 3.6) while training with Adam',
  usage:
    'prunescope order MODEL --data D [--estimator essay|per-sample] [--mode diag|block|full] [--steps T] [--batch B] [--seed S] [--json]',
  flags: [
    ...MODEL_DATA_FLAGS,
    {
      name: 'estimator',
      value: true,
      help: `essay (g_1 - g_S) or per-sample (exact batch variance); default ${D.estimator}`,
    },
    { name: 'mode', value: true, help: `diag, block (per layer) or full (small models only); default ${D.mode}` },
    { name: 'steps', value: true, help: `Adam steps T (default ${D.steps})` },
    { name: 'batch', value: true, help: `minibatch size (default ${D.batchSize})` },
    { name: 'lr', value: true, help: `Adam learning rate (default ${D.lr})` },
    { name: 'json', value: false, help: 'print one JSON document' },
  ],
  async run(args: ParsedArgs, ctx) {
    const estimator = oneOf(args, 'estimator', VARIANCE_ESTIMATORS, D.estimator);
    const mode = oneOf(args, 'mode', COVARIANCE_MODES, D.mode);
    const steps = num(args, 'steps', D.steps, { integer: true, min: 1 });
    const batchSize = num(args, 'batch', D.batchSize, { integer: true, min: 1 });
    const lr = num(args, 'lr', D.lr, { min: 1e-12 });
    const { model, split, seed } = await openModelWithData(args, 'order', this.usage, ctx);
    const r = await orderParameters(model.network, split, {
      estimator,
      mode,
      steps,
      batchSize,
      lr,
      seed,
      pruneMask: model.pruneMask,
      signal: ctx.signal,
      onProgress: (s, n) => {
        if (!bool(args, 'json') && (s % 50 === 0 || s === n)) ctx.log(`step ${s}/${n}`);
      },
    });
    model.network.dispose();
    const doc = {
      estimator: r.estimator,
      mode: r.mode,
      steps: r.steps,
      variances: Array.from(r.variances),
      order: Array.from(r.order),
      ranks: Array.from(r.ranks),
      ...(r.blocks
        ? {
            blocks: r.blocks.map((b) => ({
              layer: b.layer,
              name: b.name,
              offset: b.offset,
              size: b.size,
              matrix: Array.from(b.matrix),
            })),
          }
        : {}),
      ...(r.diagonalLayers ? { diagonalLayers: r.diagonalLayers } : {}),
      provenance: r.provenance,
    };
    if (bool(args, 'json')) {
      ctx.out(JSON.stringify(doc));
      return;
    }
    const head = Array.from(r.order.subarray(0, 10))
      .map((j) => `${j} (${r.variances[j].toExponential(3)})`)
      .join(', ');
    ctx.out(
      [
        `${r.estimator} estimator, ${r.mode} mode, ${r.steps} steps, ${r.variances.length} parameters`,
        `least variance first: ${head}${r.order.length > 10 ? ', ...' : ''}`,
        `largest variance: ${r.order[r.order.length - 1]} (${r.variances[r.order[r.order.length - 1]].toExponential(3)})`,
        ...(r.diagonalLayers ? [`kept diagonal (over the block size limit): ${r.diagonalLayers.join(', ')}`] : []),
      ].join('\n'),
    );
  },
};
