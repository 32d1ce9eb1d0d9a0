// The demo's choice of a student: among the methods' quality curves, the largest pruning share whose
// test quality stays within maxDrop of the unpruned teacher (classification: accuracy at least
// baseline - maxDrop, i.e. 0.01 = one percentage point; regression: MSE at most baseline * (1 + maxDrop),
// i.e. 0.01 = one per cent relative). The mask is rebuilt from the method's ranking and re-evaluated,
// because a curve is a mean over seeds (random) or may include re-ranking / fine-tuning: a share
// whose single-ranking mask misses the bound is skipped for the next smaller one.
import type { DataSplit } from '../data/dataset';
import { numClasses } from '../data/dataset';
import { badInput } from '../errors';
import type { Graph } from '../model/graph';
import type { RelevanceResult } from '../relevance/types';
import { evaluate } from '../train/metrics';
import type { CurvesResult } from './curves';
import { applyMask, candidateMask, pruneMaskAt } from './mask';

export interface BestShare {
  method: string;
  share: number;
  /** 1 = pruned, over the teacher's flat index. */
  mask: Uint8Array;
  /** Test metric of the masked teacher (re-evaluated) and of the teacher. */
  metric: number;
  baseline: number;
  rule: string;
}

export function studentAtBestShare(
  teacher: Graph,
  split: DataSplit,
  curves: CurvesResult,
  rankings: Record<string, RelevanceResult>,
  opts: { maxDrop?: number; includeBias?: boolean } = {},
): BestShare {
  const maxDrop = opts.maxDrop ?? 0.01;
  if (!(maxDrop >= 0)) throw badInput(`maxDrop ${maxDrop}`, { field: 'maxDrop', expected: 'a non-negative number' });
  const cls = curves.metric === 'accuracy';
  const base = curves.baseline;
  const ok = (m: number) => (cls ? m >= base - maxDrop - 1e-12 : m <= base * (1 + maxDrop) + 1e-12);
  const rule = cls
    ? `test accuracy >= teacher's ${base.toFixed(4)} - ${maxDrop}`
    : `test MSE <= teacher's ${base.toPrecision(4)} * (1 + ${maxDrop})`;
  const methods = Object.keys(rankings).filter((m) => curves.curves[m]);
  if (methods.length === 0)
    throw badInput('no method has both a curve and a ranking', {
      field: 'rankings',
      expected: `rankings for some of ${Object.keys(curves.curves).join(', ')}`,
    });
  // Candidates (method, share index), largest share first; at equal share, the better curve value first.
  const cand = methods
    .flatMap((m) => curves.shares.map((s, i) => ({ m, i, s, v: curves.curves[m].mean[i] })))
    .filter((c) => ok(c.v))
    .sort((a, b) => b.s - a.s || (cls ? b.v - a.v : a.v - b.v) || a.m.localeCompare(b.m));
  const includeBias =
    opts.includeBias ?? !!(curves.provenance.options as { includeBias?: boolean } | undefined)?.includeBias;
  const cands = candidateMask(teacher, { includeBias });
  const task = split.dataset.task;
  const work = teacher.clone();
  const flat = teacher.toFlat();
  try {
    for (const c of cand) {
      const mask = pruneMaskAt(rankings[c.m].order, cands, c.s);
      work.setFlat(applyMask(flat, mask));
      const r = evaluate(work, split.test, task, numClasses(split.dataset));
      const metric = cls ? r.accuracy! : r.mse!;
      if (ok(metric)) return { method: c.m, share: c.s, mask, metric, baseline: base, rule };
    }
  } finally {
    work.dispose();
  }
  // Share 0 (the teacher itself) always satisfies the rule.
  return { method: methods[0], share: 0, mask: new Uint8Array(teacher.nParams), metric: base, baseline: base, rule };
}
