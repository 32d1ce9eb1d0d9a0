// `prunescope export-student MODEL --data D --method M (--fraction P | --widths 8,4) --out DIR`:
// prune, shrink to a physically smaller student and write it to a NEW folder (the teacher's files
// are never touched) with keras-config.json and student.json (sizes, latency, metrics, provenance).
import { Command } from '../command';
import { ParsedArgs, bool, numList, str } from '../args';
import { badInput } from '../../engine/errors';
import { MODEL_DATA_FLAGS, TEST_FRACTION_FLAG, openModelWithData } from '../modelData';
import { RELEVANCE_FLAGS, relevanceRequest } from '../relevanceOptions';
import { exportStudent } from '../../engine/prune/studentExport';
import { exportStructuredStudent, type StructuredStudentReport } from '../../engine/prune/structuredExport';
import {
  CHANNEL_FLAGS,
  FINETUNE_FLAG,
  FOLD_BN_FLAG,
  channelOptions,
  finetuneEpochs,
  foldBn,
} from '../structuredOptions';

/** The text summary of a channel-pruned student. */
export function structuredStudentText(r: StructuredStudentReport): string {
  const m = r.metrics;
  const fmt = (s: { accuracy?: number; mse?: number }) =>
    m.metric === 'accuracy' ? `accuracy ${s.accuracy!.toFixed(4)}` : `mse ${s.mse!.toPrecision(4)}`;
  const rows = r.layers
    .filter((l) => l.channelsBefore !== l.channelsAfter || l.macsBefore > 0)
    .map(
      (l) =>
        `  ${l.node.padEnd(14)} ${String(l.channelsBefore).padStart(5)} -> ${String(l.channelsAfter).padEnd(5)} params ${l.paramsBefore} -> ${l.paramsAfter}, MACs ${l.macsBefore} -> ${l.macsAfter}${l.foldedInto ? ` (folded into ${l.foldedInto})` : ''}`,
    );
  const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
  return [
    `channel student (${r.structured}, ${pct(r.share)} of removable channels by ${r.provenance.method}, ${r.aggregate}, ${r.scope}${r.foldBn ? ', BN folded' : ''})`,
    ...rows,
    `parameters ${r.totals.paramsBefore} -> ${r.totals.paramsAfter} (${pct(r.shares.params)} removed); MACs/example ${r.totals.macsBefore} -> ${r.totals.macsAfter} (${pct(r.shares.macs)} removed)`,
    `weight bytes ${r.bytes.teacherWeights} -> ${r.bytes.studentWeights}; files ${r.bytes.teacherTotal} -> ${r.bytes.studentTotal} bytes`,
    `latency on ${r.latency.batchRows} rows (${r.latency.backend}, median of ${r.latency.runs}): teacher ${r.latency.teacherMs.toFixed(3)} ms, student ${r.latency.studentMs.toFixed(3)} ms (x${r.latency.speedup.toFixed(2)})`,
    `test: teacher ${fmt(m.teacher)}, channel-masked teacher ${fmt(m.maskedTeacher)}, student ${fmt(m.student)}${m.finetuned ? `, after ${m.finetuned.epochs} fine-tuning epochs ${fmt(m.finetuned)}` : ''}`,
    `wrote ${r.out}`,
  ].join('\n');
}

export const exportStudentCommand: Command = {
  name: 'export-student',
  summary:
    'Prune and shrink a model to a physically smaller student; write it with a Keras config and a size/latency/metric report',
  usage:
    'prunescope export-student MODEL --data D --method M (--fraction P | --widths 8,4) [--variant ...] [--drop-unused-inputs] [--structured channels|units [--aggregate A] [--scope S] [--fold-bn] [--finetune N]] [--seed S] --out DIR [--json]',
  flags: [
    ...MODEL_DATA_FLAGS,
    TEST_FRACTION_FLAG,
    ...RELEVANCE_FLAGS,
    {
      name: 'fraction',
      value: true,
      help: 'share of weights to prune before the structural shrink (with --structured: share of removable channels), in [0, 1]',
    },
    { name: 'widths', value: true, help: 'target hidden widths, e.g. 8,4 (neurons kept by summed relevance)' },
    {
      name: 'drop-unused-inputs',
      value: false,
      help: 'drop input columns left without weights (recorded in the metadata)',
    },
    ...CHANNEL_FLAGS,
    FOLD_BN_FLAG,
    FINETUNE_FLAG,
    { name: 'out', value: true, help: 'new output folder (refused if it exists and is not empty)' },
    { name: 'json', value: false, help: 'print one JSON document' },
  ],
  async run(args: ParsedArgs, ctx) {
    const out = str(args, 'out');
    if (!out) throw badInput('--out is required', { field: '--out', expected: 'a new folder for the student' });
    const request = relevanceRequest(args, 0); // checked before loading anything; the seed comes with the data
    const fractionText = str(args, 'fraction');
    const fraction = fractionText === undefined ? undefined : Number(fractionText);
    if (fractionText !== undefined && !(Number.isFinite(fraction) && fraction! >= 0 && fraction! <= 1)) {
      throw badInput(`--fraction got "${fractionText}"`, { field: '--fraction', expected: 'a number in [0, 1]' });
    }
    const widths = numList(args, 'widths');
    if ((fraction === undefined) === (widths === undefined))
      throw badInput('give exactly one of --fraction and --widths', {
        field: '--fraction',
        expected: '--fraction P or --widths 8,4',
      });
    const json = bool(args, 'json');
    const ch = channelOptions(args);
    const epochs = finetuneEpochs(args);
    if (ch.structured !== 'none') {
      if (fraction === undefined)
        throw badInput('--structured takes --fraction (the share of channels), not --widths', {
          field: '--fraction',
          expected: 'a share of removable channels in [0, 1]',
        });
      const { model, split, seed } = await openModelWithData(args, 'export-student', this.usage, ctx);
      try {
        const r = await exportStructuredStudent(model, split, {
          method: { ...request, seed },
          share: fraction,
          unit: ch.structured,
          aggregate: ch.aggregate,
          scope: ch.scope,
          foldBn: foldBn(args),
          finetune: epochs,
          seed,
          out,
          signal: ctx.signal,
          onProgress: (d, n, what) => {
            if (!json) ctx.log(`${d}/${n} ${what}`);
          },
        });
        ctx.out(json ? JSON.stringify(r) : structuredStudentText(r));
      } finally {
        model.network.dispose();
      }
      return;
    }
    if (foldBn(args) || epochs > 0)
      throw badInput('--fold-bn and --finetune go with --structured channels or units', {
        field: foldBn(args) ? '--fold-bn' : '--finetune',
        expected: '--structured channels|units',
      });
    const { model, split, seed } = await openModelWithData(args, 'export-student', this.usage, ctx);
    try {
      const r = await exportStudent(model, split, {
        method: { ...request, seed },
        fraction,
        widths,
        dropUnusedInputs: bool(args, 'drop-unused-inputs'),
        seed,
        out,
        signal: ctx.signal,
        onProgress: (d, n, what) => {
          if (!json) ctx.log(`${d}/${n} ${what}`);
        },
      });
      if (json) {
        ctx.out(JSON.stringify(r));
        return;
      }
      const m = r.metrics;
      const fmt = (s: typeof m.teacher) =>
        m.metric === 'accuracy' ? `accuracy ${s.accuracy!.toFixed(4)}` : `mse ${s.mse!.toPrecision(4)}`;
      ctx.out(
        [
          `student ${[r.inputsAfter, ...r.widthsAfter].join('-')} from teacher ${[r.inputsBefore, ...r.widthsBefore].join('-')} (${r.provenance.method}${r.provenance.variant ? ` ${r.provenance.variant}` : ''})`,
          `parameters ${r.paramsBefore} -> ${r.paramsAfter}; weight bytes ${r.bytes.teacherWeights} -> ${r.bytes.studentWeights}; files ${r.bytes.teacherTotal} -> ${r.bytes.studentTotal} bytes`,
          `latency on ${r.latency.batchRows} rows (median of ${r.latency.runs}): teacher ${r.latency.teacherMs.toFixed(3)} ms, student ${r.latency.studentMs.toFixed(3)} ms (x${r.latency.speedup.toFixed(2)})`,
          `test: teacher ${fmt(m.teacher)}, masked teacher ${fmt(m.maskedTeacher)}, student ${fmt(m.student)}`,
          ...(r.unusedInputs.length
            ? [
                `unused inputs: ${r.unusedInputs.join(', ')}${r.inputsAfter < r.inputsBefore ? ' (dropped)' : ' (kept; --drop-unused-inputs to drop)'}`,
              ]
            : []),
          `wrote ${r.out}`,
        ].join('\n'),
      );
    } finally {
      model.network.dispose();
    }
  },
};
