// `prunescope curvature MODEL.json --data D --kind K`: a curvature diagonal (exact Hessian, GGN,
// empirical Fisher) or the per-sample gradient variance of the mean loss, in the flat parameter
// order, with the layer layout needed to read it. Inputs get the model's stored standardisation.
import * as tf from '@tensorflow/tfjs';
import { Command } from '../command';
import { ParsedArgs, bool, num, oneOf, str } from '../args';
import { badInput } from '../../engine/errors';
import { initBackend } from '../../engine/backend';
import { loadModel } from '../../engine/model/layersModel';
import { loadDataset, splitDataset, applyStandardization, numClasses, xTensor, yTensor, SplitPart } from '../../engine/data';
import { curvatureDiagonal, gradientVariance } from '../../engine/curvature';
import { hashModel, makeProvenance } from '../../engine/provenance';

const KINDS = ['hessian', 'ggn', 'fisher', 'variance'] as const;
const SPLITS = ['train', 'test', 'all'] as const;
const TASKS = ['classification', 'regression'] as const;

export const curvatureCommand: Command = {
  name: 'curvature',
  summary: 'Diagonal of the Hessian, GGN or empirical Fisher, or the per-sample gradient variance, of the mean loss',
  usage: 'prunescope curvature MODEL.json --data NAME|FILE.csv --kind hessian|ggn|fisher|variance [--target COL] [--task classification|regression] [--split train|test|all] [--seed S] [--chunk N] [--json]',
  flags: [
    { name: 'data', value: true, help: 'built-in data set name or CSV path' },
    { name: 'kind', value: true, help: 'hessian (exact, may be negative), ggn, fisher (empirical) or variance (population variance of per-sample gradients)' },
    { name: 'target', value: true, help: 'target column of a CSV file' },
    { name: 'task', value: true, help: 'classification or regression (CSV files)' },
    { name: 'split', value: true, help: 'train (default), test or all rows' },
    { name: 'seed', value: true, help: 'split seed (default 0, as in train)' },
    { name: 'chunk', value: true, help: 'samples per chunk (bounds memory; default from a budget)' },
    { name: 'json', value: false, help: 'print one JSON document' },
  ],
  async run(args: ParsedArgs, ctx) {
    const file = args.positional[0];
    if (!file || args.positional.length > 1) throw badInput('expected one MODEL.json', { field: 'curvature', expected: this.usage });
    const data = str(args, 'data');
    if (!data) throw badInput('--data is required', { field: '--data', expected: 'a built-in data set name or a CSV path' });
    const kindArg = str(args, 'kind');
    if (!kindArg) throw badInput('--kind is required', { field: '--kind', expected: KINDS.join(', ') });
    const kind = oneOf(args, 'kind', KINDS, 'hessian');
    const split = oneOf(args, 'split', SPLITS, 'train');
    const taskArg = str(args, 'task');
    const task = taskArg === undefined ? undefined : oneOf(args, 'task', TASKS, 'classification');
    const seed = num(args, 'seed', 0, { integer: true });
    const chunkSize = str(args, 'chunk') === undefined ? undefined : num(args, 'chunk', 0, { integer: true, min: 1 });
    await initBackend();
    const model = await loadModel(file);
    const net = model.network;
    try {
      const ds = loadDataset(data, { target: str(args, 'target'), task });
      if (ds.features !== net.spec.inputSize) {
        throw badInput(`data set has ${ds.features} features`, { file: ds.name, field: 'features', expected: `${net.spec.inputSize}, the model's input size` });
      }
      const outputs = ds.task === 'classification' ? numClasses(ds) : 1;
      if (ds.task !== net.task || outputs !== net.outputSize) {
        throw badInput(`data set is ${ds.task} with ${outputs} outputs`, { file, field: 'output layer', expected: `a ${net.task} model with ${net.outputSize} outputs to match` });
      }
      let part: SplitPart;
      let splitSeed: number | undefined;
      let testFraction: number | undefined;
      if (split === 'all') part = { x: ds.x, y: ds.y, rows: ds.rows };
      else {
        const s = splitDataset(ds, { seed, standardize: false });
        part = s[split];
        splitSeed = seed;
        testFraction = s.testFraction;
      }
      const st = model.metadata?.preprocessing?.standardization;
      if (st) part = { ...part, x: applyStandardization(part.x, ds.features, st) };
      const x = xTensor(part, ds.features);
      const y = yTensor(part, ds.task, outputs);
      let values: Float32Array;
      let loss: number;
      try {
        if (kind === 'variance') ({ variance: values, loss } = await gradientVariance(net, x, y, { chunkSize, signal: ctx.signal }));
        else ({ values, loss } = await curvatureDiagonal(net, x, y, kind, { chunkSize, signal: ctx.signal }));
      } finally {
        tf.dispose([x, y]);
      }
      const doc = {
        kind, loss, nParams: net.nParams,
        values: Array.from(values),
        layers: net.layout.map((l) => ({ name: l.name, offset: l.kernelOffset, kernelShape: [l.inSize, l.outSize], biasSize: l.biasSize })),
        provenance: makeProvenance({
          job: 'curvature', method: kind,
          data: { name: ds.name, split, rows: part.rows, splitSeed, testFraction, standardized: !!st },
          modelHash: hashModel(net.spec, net.toFlat()),
          options: { chunkSize: chunkSize ?? 'default', meanLoss: true, ...(kind === 'variance' ? { variance: 'population (1/N)' } : {}) },
        }),
      };
      if (bool(args, 'json')) { ctx.out(JSON.stringify(doc)); return; }
      let neg = 0, lo = Infinity, hi = -Infinity;
      for (const v of values) { if (v < 0) neg++; lo = Math.min(lo, v); hi = Math.max(hi, v); }
      ctx.out([
        `${kind} diagonal of the mean loss on ${ds.name} (${split}, ${part.rows} rows): loss ${loss.toPrecision(6)}, ${net.nParams} parameters`,
        `range [${lo.toExponential(3)}, ${hi.toExponential(3)}]${neg ? `, ${neg} negative entries (exact Hessian)` : ''}`,
        ...net.layout.map((l) => `  ${l.name}: kernel [${l.inSize}, ${l.outSize}] at ${l.kernelOffset}, bias ${l.biasSize} at ${l.biasOffset}`),
      ].join('\n'));
    } finally {
      net.dispose();
    }
  },
};
