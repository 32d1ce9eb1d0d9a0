// What a worker job gets: its params (already shape-checked by the job), progress, cancel signal,
// a log, and the worker's long-lived cache (loaded models etc. survive between jobs).
import type { JobKind, JobParams, JobResult, ProvenanceRecord } from '../protocol';

export interface JobContext {
  signal: AbortSignal;
  progress(fraction: number | undefined, message?: string): void;
  log(message: string): void;
  cache: Map<string, unknown>;
}

export interface JobOutcome<K extends JobKind> {
  result: JobResult<K>;
  provenance?: ProvenanceRecord;
}

export interface JobHandler<K extends JobKind = JobKind> {
  kind: K;
  /** Checks the untyped params from IPC and returns them typed, or throws a bad-input error. */
  parse(params: unknown): JobParams<K>;
  run(params: JobParams<K>, ctx: JobContext): Promise<JobOutcome<K>>;
}
