// Jobs the worker runs. Engine features add one handler each here as they land; the list is
// announced to the host in the `ready` message, so commands know what is available.
import type { JobKind } from '../protocol';
import { handlerTable, type JobHandler } from './jobTypes';
import { demoFigureJob, longDemoJob } from './jobs/demo';
import { infoJob } from './jobs/modelInfo';
import { cellJob, cellResetJob } from './jobs/cell';
import { freezeTimelineJob } from './jobs/freezeTimeline';
import { relevanceJob } from './jobs/relevance';
import { analysisJob } from './jobs/analysis';
import { whatifJob } from './jobs/whatif';
import { pruneJob } from './jobs/prune';
import { exportStudentJob } from './jobs/exportStudent';
import { distillJob } from './jobs/distill';
import { gradientVarianceJob } from './jobs/gradientVariance';
import { groupsJob } from './jobs/groups';
import { channelRelevanceJob } from './jobs/channelRelevance';

export const handlers: Record<string, JobHandler<JobKind>> = handlerTable([
  infoJob,
  demoFigureJob,
  longDemoJob,
  relevanceJob,
  cellJob,
  analysisJob,
  whatifJob,
  pruneJob,
  exportStudentJob,
  distillJob,
  gradientVarianceJob,
  freezeTimelineJob,
  cellResetJob,
  groupsJob,
  channelRelevanceJob,
]);
