// `export-student`: a physically smaller student of the model in the NEW folder `out` (engine
// exportStudent: model.json + shard, keras-config.json, student.json, written in one rename). The
// ranking is the cached one of `method` (the same the panel's curves and what-if used).
import { badInput } from '../../engine/errors';
import { exportStudent } from '../../engine/prune/studentExport';
import { exportStructuredStudent } from '../../engine/prune/structuredExport';
import type { ProvenanceRecord } from '../../protocol';
import type { JobHandler } from '../jobTypes';
import { cachedChannelRanking, cachedRanking, checkOut, checkOutEmpty, modelAndSplit } from './modelCache';
import {
  finetuneParam,
  modelRef,
  obj,
  optBool,
  optWidths,
  rankingRequest,
  requestOf,
  str,
  structuredParams,
} from './params';

export const exportStudentJob: JobHandler<'export-student'> = {
  kind: 'export-student',
  parse(raw) {
    const job = 'export-student';
    const o = obj(raw, job);
    const ref = modelRef(o, job);
    const fraction = o.fraction;
    if (fraction !== undefined && (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)))
      throw badInput(`${job}: fraction out of range`, { field: 'fraction', expected: 'a number in [0, 1]' });
    const widths = optWidths(o, 'widths', job);
    if ((fraction === undefined) === (widths === undefined))
      throw badInput(`${job}: give exactly one of fraction and widths`, {
        field: 'fraction',
        expected: 'a pruning share in [0, 1] or target widths, not both',
      });
    return {
      ...ref,
      ...rankingRequest(o, job),
      fraction: fraction as number | undefined,
      widths,
      dropUnusedInputs: optBool(o, 'dropUnusedInputs', job),
      ...structuredParams(o, job),
      foldBn: optBool(o, 'foldBn', job),
      finetune: finetuneParam(o, job),
      out: checkOut(str(o, 'out', job), [ref.modelPath], job),
    };
  },
  async run(p, ctx) {
    const entry = await modelAndSplit(p, ctx);
    checkOutEmpty(p.out, 'export-student');
    if (p.structured && p.structured !== 'none') {
      if (p.fraction === undefined)
        throw badInput('export-student: structured takes a fraction (share of channels), not widths', {
          field: 'fraction',
          expected: 'a share of removable channels in [0, 1]',
        });
      const aggregate = (p.aggregate ?? 'sum') as 'sum' | 'mean' | 'max' | 'native';
      ctx.progress(0, `ranking ${p.structured} by ${p.method}`);
      const ranking = await cachedChannelRanking(
        entry,
        requestOf(p),
        { aggregate, unit: p.structured },
        ctx,
        (done, total, what) => ctx.progress(total > 0 ? (0.5 * done) / total : undefined, `${what}: ${done}/${total}`),
      );
      const r = await exportStructuredStudent(entry.model, entry.split, {
        method: requestOf(p),
        ranking,
        share: p.fraction,
        unit: p.structured,
        aggregate,
        scope: p.scope as 'per-group' | 'global' | undefined,
        foldBn: p.foldBn,
        finetune: p.finetune,
        seed: p.seed,
        out: p.out,
        signal: ctx.signal,
        onProgress: (done, total, what) => ctx.progress(0.5 + (0.5 * done) / total, what),
      });
      const widths = r.layers.filter((l) => l.macsBefore > 0 && l.paramsBefore > 0);
      return {
        result: {
          out: r.out,
          modelJson: r.files.modelJson,
          studentJson: r.files.studentJson,
          widthsBefore: widths.map((l) => l.channelsBefore),
          widthsAfter: widths.map((l) => l.channelsAfter),
          paramsBefore: r.totals.paramsBefore,
          paramsAfter: r.totals.paramsAfter,
          bytesBefore: r.bytes.teacherTotal,
          bytesAfter: r.bytes.studentTotal,
          macsBefore: r.totals.macsBefore,
          macsAfter: r.totals.macsAfter,
          latency: { backend: r.latency.backend, teacherMs: r.latency.teacherMs, studentMs: r.latency.studentMs },
        },
        provenance: r.provenance as unknown as ProvenanceRecord,
      };
    }
    ctx.progress(0, `ranking by ${p.method}`);
    const ranking = await cachedRanking(entry, requestOf(p), ctx, (done, total, what) =>
      ctx.progress(total > 0 ? (0.5 * done) / total : undefined, `${what}: ${done}/${total}`),
    );
    const r = await exportStudent(entry.model, entry.split, {
      method: ranking,
      fraction: p.fraction,
      widths: p.widths,
      dropUnusedInputs: p.dropUnusedInputs,
      seed: p.seed,
      out: p.out,
      signal: ctx.signal,
      onProgress: (done, total, what) => ctx.progress(0.5 + (0.5 * done) / total, what),
    });
    return {
      result: {
        out: r.out,
        modelJson: r.files.modelJson,
        studentJson: r.files.studentJson,
        widthsBefore: r.widthsBefore,
        widthsAfter: r.widthsAfter,
        paramsBefore: r.paramsBefore,
        paramsAfter: r.paramsAfter,
        bytesBefore: r.bytes.teacherTotal,
        bytesAfter: r.bytes.studentTotal,
      },
      provenance: r.provenance as unknown as ProvenanceRecord,
    };
  },
};
