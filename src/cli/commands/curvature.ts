// `prunescope curvature MODEL --data D --kind K`: a curvature diagonal (exact Hessian, GGN,
// empirical Fisher) or the per-sample gradient variance of the mean loss, in the flat parameter
// order, with the layer layout needed to read it. Inputs are preprocessed as the model was trained.
import * as tf from '@tensorflow/tfjs';
import { Command } from '../command';
import { ParsedArgs, bool, num, oneOf, str } from '../args';
import { badInput } from '../../engine/errors';
import { splitRecord, xTensor, yTensor, SplitPart } from '../../engine/data';
import { MODEL_DATA_FLAGS, openModelWithData } from '../modelData';
import { curvatureDiagonal, gradientVariance } from '../../engine/curvature';
import { hashModel, makeProvenance } from '../../engine/provenance';
import { denseLayersJson, weightIndex } from '../../engine/model/summary';

import { CURVATURE_KINDS as KINDS } from '../../engine/options';
const SPLITS = ['train', 'test', 'all'] as const;

/** Both parts of a split as one (the rows of --split all, preprocessed like the rest). */
function concatParts(a: SplitPart, b: SplitPart, features: number): SplitPart {
  const x = new Float32Array((a.rows + b.rows) * features);
  x.set(a.x);
  x.set(b.x, a.x.length);
  const y = new Float32Array(a.rows + b.rows);
  y.set(a.y);
  y.set(b.y, a.rows);
  return { x, y, rows: a.rows + b.rows };
}

export const curvatureCommand: Command = {
  name: 'curvature',
  summary:
    'Diagonal of the Hessian, GGN, Monte-Carlo GGN or empirical Fisher, or the per-sample gradient variance, of the mean loss',
  usage:
    'prunescope curvature MODEL --data NAME|FILE.csv --kind hessian|ggn|fisher|mc-ggn|variance [--samples K] [--target COL] [--task classification|regression] [--split train|test|all] [--seed S] [--chunk N] [--json]',
  flags: [
    ...MODEL_DATA_FLAGS,
    {
      name: 'kind',
      value: true,
      help: 'hessian (exact, may be negative), ggn, fisher (empirical), mc-ggn (one sampled label per example; for many classes) or variance (population variance of per-sample gradients)',
    },
    { name: 'samples', value: true, help: 'mc-ggn: sampled labels per example, averaged (default 1)' },
    { name: 'split', value: true, help: 'train (default), test or all rows' },
    { name: 'chunk', value: true, help: 'samples per chunk (bounds memory; default from a budget)' },
    { name: 'json', value: false, help: 'print one JSON document' },
  ],
  async run(args: ParsedArgs, ctx) {
    const kindArg = str(args, 'kind');
    if (!kindArg) throw badInput('--kind is required', { field: '--kind', expected: KINDS.join(', ') });
    const kind = oneOf(args, 'kind', KINDS, KINDS[0]);
    const split = oneOf(args, 'split', SPLITS, 'train');
    const chunkSize = str(args, 'chunk') === undefined ? undefined : num(args, 'chunk', 0, { integer: true, min: 1 });
    const samples = str(args, 'samples') === undefined ? 1 : num(args, 'samples', 1, { integer: true, min: 1 });
    const { model, split: parts, seed } = await openModelWithData(args, 'curvature', this.usage, ctx);
    const net = model.network;
    try {
      const ds = parts.dataset;
      const part: SplitPart = split === 'all' ? concatParts(parts.train, parts.test, ds.features) : parts[split];
      const x = xTensor(part, ds.features);
      const y = yTensor(part, ds.task, net.outputSize);
      let values: Float32Array;
      let loss: number;
      try {
        if (kind === 'variance')
          ({ variance: values, loss } = await gradientVariance(net, x, y, { chunkSize, signal: ctx.signal }));
        else
          ({ values, loss } = await curvatureDiagonal(net, x, y, kind, {
            chunkSize,
            signal: ctx.signal,
            seed,
            samples,
          }));
      } finally {
        tf.dispose([x, y]);
      }
      const doc = {
        kind,
        loss,
        nParams: net.nParams,
        values: Array.from(values),
        weights: weightIndex(net),
        ...(denseLayersJson(net) ? { layers: denseLayersJson(net) } : {}),
        provenance: makeProvenance({
          job: 'curvature',
          method: kind,
          data: splitRecord(parts, split, part.rows),
          modelHash: hashModel(net.structure(), net.toFlat()),
          options: {
            chunkSize: chunkSize ?? 'default',
            meanLoss: true,
            ...(kind === 'variance' ? { variance: 'population (1/N)' } : {}),
            ...(kind === 'mc-ggn' ? { samples, labelSeed: seed } : {}),
          },
        }),
      };
      if (bool(args, 'json')) {
        ctx.out(JSON.stringify(doc));
        return;
      }
      let neg = 0,
        lo = Infinity,
        hi = -Infinity;
      for (const v of values) {
        if (v < 0) neg++;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      ctx.out(
        [
          `${kind} diagonal of the mean loss on ${ds.name} (${split}, ${part.rows} rows): loss ${loss.toPrecision(6)}, ${net.nParams} parameters`,
          `range [${lo.toExponential(3)}, ${hi.toExponential(3)}]${neg ? `, ${neg} negative entries (exact Hessian)` : ''}`,
          ...net.weights.map((w) => `  ${w.name} [${w.shape.join(', ')}] at ${w.offset}`),
        ].join('\n'),
      );
    } finally {
      net.dispose();
    }
  },
};
