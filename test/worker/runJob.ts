// Runs worker jobs in the test process, as the worker does: each test file gets one job context
// whose cache (loaded models, rankings) is shared by its jobs.
import { handlers } from '../../src/worker/registry';
import type { JobContext } from '../../src/worker/jobTypes';
import type { JobKind, JobParams, JobResult } from '../../src/protocol';

export function jobRunner(): {
  ctx: () => JobContext;
  run: <K extends JobKind>(kind: K, params: unknown) => Promise<JobResult<K>>;
} {
  const cache = new Map<string, unknown>();
  const ctx = (): JobContext => ({
    signal: new AbortController().signal,
    progress: () => undefined,
    log: () => undefined,
    cache,
  });
  const run = async <K extends JobKind>(kind: K, params: unknown): Promise<JobResult<K>> => {
    const h = handlers[kind];
    return (await h.run(h.parse(params) as JobParams<K>, ctx())).result as JobResult<K>;
  };
  return { ctx, run };
}
