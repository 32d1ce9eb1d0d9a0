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

/** A handler of some job kind: lists of handlers hold one of each. */
export type AnyJobHandler = { [K in JobKind]: JobHandler<K> }[JobKind];

/** Handlers by kind, for dispatch on a kind that arrives as a string. */
export function handlerTable(list: AnyJobHandler[]): Record<string, JobHandler<JobKind>> {
  return Object.fromEntries(list.map((h) => [h.kind, h])) as Record<string, JobHandler<JobKind>>;
}
