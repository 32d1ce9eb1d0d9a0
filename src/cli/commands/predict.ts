// `prunescope predict MODEL --data D [--split all|train|test] [--json]`: the model's outputs
// (after its final activation) for every row, in order. The user's first check that PruneScope
// reads their model as their framework does: same file, same rows, same numbers.
import { Command } from '../command';
import { ParsedArgs, bool, num, oneOf } from '../args';
import { badInput } from '../../engine/errors';
import { initBackend } from '../../engine/backend';
import { loadModel, type LoadedModel } from '../../engine/formats/modelFile';
import { applyStandardization, checkFeatures, splitDataset, type Dataset } from '../../engine/data';
import { predictRows } from '../../engine/model/predictRows';
import { hashModel, makeProvenance, type Provenance } from '../../engine/provenance';
import { PREDICT_SPLITS, SPLIT_DEFAULTS, type PredictSplit } from '../../engine/options';
import { DATA_FILE_FLAGS, TEST_FRACTION_FLAG, dataRequest, loadDataForModel } from '../modelData';

export interface PredictReport {
  model: string;
  /** One name per output: the model's class names when it records them, else out0, out1, ... */
  columns: string[];
  /** The data set row (0-based, among the rows read) of each output row. */
  rows: number[];
  outputs: number[][];
  provenance: Provenance;
}

/** Rows of `ds` for `split`, with their data set indices ('all': every row in order). */
function rowsOf(ds: Dataset, split: PredictSplit, seed: number, testFraction: number) {
  if (split === 'all') return { x: ds.x, rows: ds.rows, index: Array.from({ length: ds.rows }, (_, i) => i) };
  const part = splitDataset(ds, { seed, testFraction, standardize: false })[split];
  return { x: part.x, rows: part.rows, index: Array.from(part.indices!) };
}

export async function predictReport(
  model: LoadedModel,
  ds: Dataset,
  o: { split: PredictSplit; seed: number; testFraction: number; signal?: AbortSignal },
): Promise<PredictReport> {
  const net = model.network;
  checkFeatures(net, ds.features, { file: model.path, what: `data set ${ds.name}` });
  const picked = rowsOf(ds, o.split, o.seed, o.testFraction);
  const stored = model.metadata?.preprocessing?.standardization;
  const x = stored ? applyStandardization(picked.x, ds.features, stored) : picked.x;
  const flat = predictRows(net, x, picked.rows, { signal: o.signal });
  const k = net.outputSize;
  const outputs = Array.from({ length: picked.rows }, (_, i) => Array.from(flat.subarray(i * k, (i + 1) * k)));
  const names = model.metadata?.labelNames;
  const columns = names && names.length === k ? names.slice() : Array.from({ length: k }, (_, j) => `out${j}`);
  return {
    model: model.path,
    columns,
    rows: picked.index,
    outputs,
    provenance: makeProvenance({
      job: 'predict',
      seed: o.seed,
      data: {
        name: ds.name,
        split: o.split,
        rows: picked.rows,
        ...(o.split === 'all' ? {} : { splitSeed: o.seed, testFraction: o.testFraction }),
        standardized: !!stored,
        source: ds.source,
      },
      modelHash: hashModel(net.structure(), net.toFlat()),
    }),
  };
}

/** CSV text: a header `row,<columns>` and one line per output row. */
export function predictText(r: PredictReport): string {
  return [['row', ...r.columns].join(','), ...r.outputs.map((o, i) => [r.rows[i], ...o].join(','))].join('\n');
}

export const predictCommand: Command = {
  name: 'predict',
  summary: "Print the model's outputs (after its final activation) for every row of a data set",
  usage: 'prunescope predict MODEL --data D [--split all|train|test] [--max-rows N] [--seed S] [--json]',
  flags: [
    { name: 'data', value: true, help: 'the rows to predict (labels are optional)' },
    ...DATA_FILE_FLAGS.map((f) =>
      f.name === 'max-rows' ? { ...f, help: 'rows to read (a seeded sample in file order) or all (default: all)' } : f,
    ),
    { name: 'target', value: true, help: 'CSV target column, left out of the inputs (default: the last column)' },
    {
      name: 'split',
      value: true,
      help: `all rows in order (default), or the train or test part of the seeded split other commands use`,
    },
    {
      name: 'seed',
      value: true,
      help: `seed of the split and of a --max-rows sample (default ${SPLIT_DEFAULTS.seed})`,
    },
    TEST_FRACTION_FLAG,
    { name: 'json', value: false, help: 'print {"outputs": [[...]], "rows", "columns", "provenance"}' },
  ],
  async run(args: ParsedArgs, ctx) {
    if (args.positional.length !== 1)
      throw badInput(`got ${args.positional.length} arguments`, { field: 'predict', expected: this.usage });
    const split = oneOf(args, 'split', PREDICT_SPLITS, 'all');
    const seed = num(args, 'seed', SPLIT_DEFAULTS.seed, { integer: true });
    const testFraction = num(args, 'test-fraction', SPLIT_DEFAULTS.testFraction, { min: 1e-9, max: 1 - 1e-9 });
    const { data, ...request } = dataRequest(args, 'all');
    await initBackend();
    const model = await loadModel(args.positional[0]);
    try {
      const ds = await loadDataForModel(model, data, { ...request, requireLabels: false }, seed, ctx);
      const r = await predictReport(model, ds, { split, seed, testFraction, signal: ctx.signal });
      ctx.out(bool(args, 'json') ? JSON.stringify(r) : predictText(r));
    } finally {
      model.network.dispose();
    }
  },
};
