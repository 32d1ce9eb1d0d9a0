// When to freeze and how many: a list of cumulative stages, each fired at a step or when the
// training loss has settled, each freezing up to a count or a share of the candidate parameters.
import { badInput } from '../errors';

export interface FreezeStage {
  /** Fire at this 1-based step (the ordering uses C_t of the steps so far). */
  atStep?: number;
  /** Or fire when the loss has settled: |mean(last window) / mean(window before) - 1| < tolerance. */
  plateau?: { window: number; tolerance: number };
  /** Total frozen after this stage, as a count of candidates... */
  count?: number;
  /** ...or as a share of the candidates in [0, 1]... */
  share?: number;
  /** ...or exactly these flat indices (e.g. a whole layer chosen in the UI), whatever the policy. */
  indices?: number[];
}

export function checkStages(stages: readonly FreezeStage[], candidates: number, nParams: number): void {
  stages.forEach((s, i) => {
    const field = `stages[${i}]`;
    if ((s.atStep === undefined) === (s.plateau === undefined))
      throw badInput('needs exactly one of atStep, plateau', { field, expected: 'a step number or a plateau rule' });
    if (s.atStep !== undefined && !(Number.isInteger(s.atStep) && s.atStep >= 1))
      throw badInput(`atStep = ${s.atStep}`, { field: `${field}.atStep`, expected: 'an integer >= 1' });
    if (s.plateau && !(Number.isInteger(s.plateau.window) && s.plateau.window >= 1 && s.plateau.tolerance > 0)) {
      throw badInput(`plateau = ${JSON.stringify(s.plateau)}`, {
        field: `${field}.plateau`,
        expected: 'window an integer >= 1 and tolerance > 0',
      });
    }
    if ([s.count, s.share, s.indices].filter((v) => v !== undefined).length !== 1)
      throw badInput('needs exactly one of count, share, indices', {
        field,
        expected: 'a count, a share or a list of flat indices',
      });
    if (s.indices && !s.indices.every((j) => Number.isInteger(j) && j >= 0 && j < nParams))
      throw badInput('indices out of range', {
        field: `${field}.indices`,
        expected: `flat indices in [0, ${nParams})`,
      });
    if (s.share !== undefined && !(s.share >= 0 && s.share <= 1))
      throw badInput(`share = ${s.share}`, { field: `${field}.share`, expected: 'a number in [0, 1]' });
    if (s.count !== undefined && !(Number.isInteger(s.count) && s.count >= 0 && s.count <= candidates)) {
      throw badInput(`count = ${s.count}`, { field: `${field}.count`, expected: `an integer in [0, ${candidates}]` });
    }
  });
}

/** The total number frozen after a stage. */
export function stageTarget(s: FreezeStage, candidates: number): number {
  return s.count !== undefined ? s.count : Math.round((s.share ?? 0) * candidates);
}

/** Relative change of the mean loss between the last two windows; undefined until 2 windows exist. */
export function plateauReached(losses: ArrayLike<number>, upto: number, window: number, tolerance: number): boolean {
  if (upto < 2 * window) return false;
  let a = 0,
    b = 0;
  for (let i = upto - 2 * window; i < upto - window; i++) a += losses[i];
  for (let i = upto - window; i < upto; i++) b += losses[i];
  return Math.abs(b / a - 1) < tolerance;
}
