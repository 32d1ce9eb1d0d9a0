// Messages between the extension host and the engine worker (child_process.fork, IPC).
// Request/reply by job id; progress streams while a job runs; cancel is a message first.
import type { JobKind, ProvenanceRecord } from './jobs';

/**
 * Mirrors the engine's ErrorCode, plus 'worker-exit' when the process died (or was stopped for not
 * responding) under a job, and 'busy' when the host refused a job that would write where another
 * running job writes.
 */
export type EngineErrorCode =
  | 'bad-input'
  | 'unsupported'
  | 'not-found'
  | 'too-large'
  | 'numerical'
  | 'cancelled'
  | 'internal'
  | 'unknown-job'
  | 'worker-exit'
  | 'busy';

export const ENGINE_ERROR_CODES: readonly EngineErrorCode[] = [
  'bad-input',
  'unsupported',
  'not-found',
  'too-large',
  'numerical',
  'cancelled',
  'internal',
  'unknown-job',
  'worker-exit',
  'busy',
];

export interface EngineErrorInfo {
  code: EngineErrorCode;
  message: string;
  file?: string;
  field?: string;
  expected?: string;
}

export type HostToWorker =
  | { type: 'run'; id: number; kind: JobKind | string; params: unknown }
  | { type: 'cancel'; id: number }
  /** Heartbeat while jobs run: the worker answers `pong` from its event loop, so a blocked loop is noticed. */
  | { type: 'ping'; seq: number }
  | { type: 'shutdown' };

export type WorkerToHost =
  | { type: 'ready'; pid: number; jobs: string[] }
  | { type: 'progress'; id: number; fraction?: number; message?: string }
  | { type: 'log'; level: 'trace' | 'debug' | 'info' | 'warn' | 'error'; message: string; id?: number }
  | { type: 'result'; id: number; result: unknown; provenance?: ProvenanceRecord; ms: number }
  | { type: 'error'; id: number; error: EngineErrorInfo; ms: number }
  /** Answer to `ping`, with the worker's memory (MiB) so an out-of-memory death can be explained. */
  | { type: 'pong'; seq: number; heapUsedMb?: number; heapLimitMb?: number; rssMb?: number };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The worker process is ours, but IPC still crosses a process boundary: check the envelope. */
export function parseWorkerMessage(v: unknown): WorkerToHost | undefined {
  if (!isObj(v) || typeof v.type !== 'string') return undefined;
  switch (v.type) {
    case 'ready':
      return typeof v.pid === 'number' && Array.isArray(v.jobs) && v.jobs.every((j) => typeof j === 'string')
        ? (v as WorkerToHost)
        : undefined;
    case 'progress':
      if (!isId(v.id)) return undefined;
      if (v.fraction !== undefined && (typeof v.fraction !== 'number' || !(v.fraction >= 0 && v.fraction <= 1)))
        return undefined;
      if (v.message !== undefined && typeof v.message !== 'string') return undefined;
      return v as WorkerToHost;
    case 'log':
      return typeof v.message === 'string' && ['trace', 'debug', 'info', 'warn', 'error'].includes(v.level as string)
        ? (v as WorkerToHost)
        : undefined;
    case 'result':
      return isId(v.id) && typeof v.ms === 'number' ? (v as WorkerToHost) : undefined;
    case 'error':
      return isId(v.id) && isObj(v.error) && typeof v.error.code === 'string' && typeof v.error.message === 'string'
        ? (v as WorkerToHost)
        : undefined;
    case 'pong':
      return isId(v.seq) &&
        ['heapUsedMb', 'heapLimitMb', 'rssMb'].every(
          (k) => v[k] === undefined || (typeof v[k] === 'number' && Number.isFinite(v[k])),
        )
        ? (v as WorkerToHost)
        : undefined;
    default:
      return undefined;
  }
}

export function parseHostMessage(v: unknown): HostToWorker | undefined {
  if (!isObj(v)) return undefined;
  if (v.type === 'run' && isId(v.id) && typeof v.kind === 'string') return v as HostToWorker;
  if (v.type === 'cancel' && isId(v.id)) return v as HostToWorker;
  if (v.type === 'ping' && isId(v.seq)) return v as HostToWorker;
  if (v.type === 'shutdown') return v as HostToWorker;
  return undefined;
}
