// The distilled student as a model of its own: the metadata that still describes it (the columns it
// reads with their standardization, the labels, how it was distilled), never the teacher's prune
// mask or training record.
import type { DataSplit } from '../data/dataset';
import type { PruneScopeMetadata } from '../model/metadata';
import type { DistilledStudent } from './experiment';

export function distilledMetadata(
  teacher: { path: string; metadata?: PruneScopeMetadata },
  split: DataSplit,
  kept: DistilledStudent,
  studentFeatures: number[] | undefined,
): PruneScopeMetadata {
  const d = split.dataset;
  const tm = teacher.metadata ?? {};
  const cols = studentFeatures ?? d.featureNames.map((_, i) => i);
  const st = split.standardization;
  const labelNames = tm.labelNames ?? d.labelNames;
  const preprocessing = {
    ...(tm.preprocessing ?? {}),
    ...(st ? { standardization: { mean: cols.map((c) => st.mean[c]), std: cols.map((c) => st.std[c]) } } : {}),
  };
  return {
    task: d.task,
    targetName: tm.targetName ?? d.targetName,
    featureNames: cols.map((c) => d.featureNames[c]),
    ...(labelNames ? { labelNames } : {}),
    ...(Object.keys(preprocessing).length ? { preprocessing } : {}),
    provenance: kept.provenance,
    distilled: { teacher: teacher.path, run: kept.row, seed: kept.seed, teacherProvenance: tm.provenance },
  };
}
