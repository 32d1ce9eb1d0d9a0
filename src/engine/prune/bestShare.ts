// The demo's choice of a student: among the methods' rankings, the largest pruning share up to which
// the pruned teacher stays within maxDrop of the unpruned teacher on a VALIDATION part of the training
// data (classification: accuracy at least the teacher's - maxDrop, 0.01 = one point; regression: MSE
// at most the teacher's * (1 + maxDrop)) at every grid share, the larger share winning across methods
// (ties: the better validation metric, then the method name). The choice never sees the test part;
// the chosen mask is then evaluated once on test, and both are reported. A variational ranking's
// masks apply to its posterior mean mu unless told otherwise (prune/variationalWeights.ts).
import type { SplitPart } from '../data/dataset';
import { badInput } from '../errors';
import type { Graph } from '../model/graph';
import type { Task } from '../options';
import type { RelevanceResult } from '../relevance/types';
import { evaluate } from '../train/metrics';
import { applyMask, candidateMask, pruneMaskAt } from './mask';
import { pruningBase, VariationalWeights } from './variationalWeights';

export interface SelectionData {
  /** Where the choice is made: held out of the teacher's training (data/validation.ts). */
  validation: SplitPart;
  /** Where the chosen student is reported. */
  test: SplitPart;
  task: Task;
  classes: number;
  /** Share of the training part held out (recorded). */
  validationFraction?: number;
}

export interface BestShare {
  method: string;
  share: number;
  /** 1 = pruned, over the teacher's flat index. */
  mask: Uint8Array;
  /** The weights the student keeps: the teacher's or a variational ranking's mu. */
  weights: 'network' | 'mu';
  /** The chosen student's and the teacher's metric on test (where it is reported). */
  metric: number;
  baseline: number;
  /** The same on the validation part (where it was chosen). */
  validation: { metric: number; baseline: number; rows: number; fraction?: number };
  testRows: number;
  rule: string;
}

export function studentAtBestShare(
  teacher: Graph,
  data: SelectionData,
  rankings: Record<string, RelevanceResult>,
  opts: { maxDrop?: number; includeBias?: boolean; shares: number[]; variationalWeights?: VariationalWeights },
): BestShare {
  const maxDrop = opts.maxDrop ?? 0.01;
  if (!(maxDrop >= 0)) throw badInput(`maxDrop ${maxDrop}`, { field: 'maxDrop', expected: 'a non-negative number' });
  if (data.validation.rows === 0)
    throw badInput('the validation part is empty', { field: 'validation', expected: 'at least one row' });
  const methods = Object.keys(rankings);
  if (methods.length === 0) throw badInput('no ranking', { field: 'rankings', expected: 'at least one method' });
  const cls = data.task === 'classification';
  const metricOn = (n: Graph, part: SplitPart) => {
    const m = evaluate(n, part, data.task, data.classes);
    return cls ? m.accuracy! : m.mse!;
  };
  const valBase = metricOn(teacher, data.validation);
  const ok = (m: number) => (cls ? m >= valBase - maxDrop - 1e-12 : m <= valBase * (1 + maxDrop) + 1e-12);
  const rule = cls
    ? `validation accuracy >= teacher's ${valBase.toFixed(4)} - ${maxDrop} at every grid share up to the chosen one`
    : `validation MSE <= teacher's ${valBase.toPrecision(4)} * (1 + ${maxDrop}) at every grid share up to the chosen one`;
  const cands = candidateMask(teacher, { includeBias: opts.includeBias });
  const flat = teacher.toFlat();
  const shares = [...opts.shares].sort((a, b) => a - b);
  const work = teacher.clone();
  type Pick = {
    method: string;
    share: number;
    value: number;
    mask: Uint8Array;
    base: Float32Array;
    weights: 'network' | 'mu';
  };
  let best: Pick | undefined;
  try {
    for (const m of methods) {
      const { base, weights } = pruningBase(flat, rankings[m], opts.variationalWeights);
      let kept: Pick | undefined;
      for (const s of shares) {
        const mask = pruneMaskAt(rankings[m].order, cands, s);
        work.setFlat(applyMask(base, mask));
        const value = metricOn(work, data.validation);
        if (!ok(value)) break;
        kept = { method: m, share: s, value, mask, base, weights };
      }
      if (!kept) continue;
      const better =
        !best ||
        kept.share > best.share ||
        (kept.share === best.share &&
          (cls ? kept.value > best.value : kept.value < best.value || (kept.value === best.value && m < best.method)));
      if (better) best = kept;
    }
    // Nothing kept (mu itself off by more than maxDrop at share 0): the teacher, unpruned.
    const chosen: Pick = best ?? {
      method: methods[0],
      share: 0,
      value: valBase,
      mask: new Uint8Array(teacher.nParams),
      base: flat,
      weights: 'network',
    };
    work.setFlat(applyMask(chosen.base, chosen.mask));
    return {
      method: chosen.method,
      share: chosen.share,
      mask: chosen.mask,
      weights: chosen.weights,
      metric: metricOn(work, data.test),
      baseline: metricOn(teacher, data.test),
      validation: {
        metric: chosen.value,
        baseline: valBase,
        rows: data.validation.rows,
        fraction: data.validationFraction,
      },
      testRows: data.test.rows,
      rule,
    };
  } finally {
    work.dispose();
  }
}
