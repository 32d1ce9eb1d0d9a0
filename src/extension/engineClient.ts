// The extension host's handle on the engine worker: one long-lived child process (fork + IPC), jobs
// as request/reply by id with streamed progress, and every fault (death, a blocked event loop, a
// cancel that is ignored, a malformed message) noticed, explained and cleaned up after
// (docs/DESIGN.md). No vscode import, so it is unit-tested with a plain node child.
import { fork, type ChildProcess } from 'child_process';
import {
  ENGINE_ERROR_CODES,
  parseWorkerMessage,
  type EngineErrorCode,
  type EngineErrorInfo,
  type HostToWorker,
  type JobKind,
  type JobParams,
  type JobResult,
  type ProvenanceRecord,
  type WorkerToHost,
} from '../protocol';
import { JobLocks, jobResources, type JobResources } from './jobQueue';
import { cleanupAfterWorker } from './outputCleanup';
import {
  classifyExit,
  faultReason,
  heapLimitFromExecArgv,
  isNativeFrame,
  pingIntervalMs,
  type WorkerFault,
} from './workerHealth';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type { WorkerFault } from './workerHealth';

export interface EngineClientOptions {
  workerPath: string;
  graceMs(): number;
  log(level: LogLevel, message: string): void;
  execArgv?(): string[];
  /** Heap limit of the worker in MiB (adds --max-old-space-size unless execArgv already sets it). */
  maxMemoryMb?(): number | undefined;
  /** A running job's worker must answer a ping within this many ms (default 30000; 0 = never declare it hung). */
  heartbeatTimeoutMs?(): number;
  /** A fresh worker must say `ready` within this many ms (default 60000, at least the heartbeat). */
  startTimeoutMs?(): number;
  env?(): NodeJS.ProcessEnv;
  /** What a job writes and reads, for queueing/refusing (default: jobResources by kind). */
  resources?(kind: string, params: unknown): JobResources;
  /** Called when the worker dies without being asked to (crash, OOM, kill by someone else) or hangs. */
  onUnexpectedExit?(reason: string, logTail: string[], fault: WorkerFault): void;
}

export class EngineError extends Error {
  constructor(
    readonly info: EngineErrorInfo,
    readonly logTail: string[] = [],
    readonly fault?: WorkerFault,
  ) {
    super(info.message);
    this.name = 'EngineError';
  }
  get code() {
    return this.info.code;
  }
}

export interface JobHandle<K extends JobKind> {
  id: number;
  done: Promise<{ result: JobResult<K>; provenance?: ProvenanceRecord; ms: number }>;
}

interface Proc {
  child: ChildProcess;
  pid: number | undefined;
  tail: string[];
  ready: Promise<string[]>;
  readyDone: boolean;
  lastAlive: number;
  heapLimitMb?: number;
  /** Set when the host stops this worker on purpose (with the fault to report, for a hang). */
  stop?: { reason: string; fault?: WorkerFault };
  outputs: Set<string>;
  timers: NodeJS.Timeout[];
  seq: number;
  gone: boolean;
}

interface Pending {
  kind: string;
  res: JobResources;
  resolve(v: { result: unknown; provenance?: ProvenanceRecord; ms: number }): void;
  reject(e: EngineError): void;
  onProgress?(fraction: number | undefined, message: string | undefined): void;
  proc?: Proc;
  queued: boolean;
  params: unknown;
  cancelRequested?: boolean;
  cancelTimer?: NodeJS.Timeout;
}

const TAIL_LINES = 40;
const MAX_TEXT = 4000;
/** After SIGKILL, how long to wait for the exit event before settling anyway. */
const EXIT_WAIT_MS = 2000;
/** After exit, how long to wait for the last stdio (the OOM message) before settling. */
const CLOSE_WAIT_MS = 500;
const HOST_ONLY_CODES: readonly EngineErrorCode[] = ['worker-exit', 'busy'];

const clip = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}... (${s.length} characters)` : s);

export class EngineClient {
  private proc: Proc | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly locks = new JobLocks();
  private nextId = 1;
  private malformed = 0;

  constructor(private readonly opts: EngineClientOptions) {}

  get runningJobs(): number[] {
    return [...this.pending.keys()];
  }
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** The job kinds the worker supports (starts the worker if needed). */
  jobs(): Promise<string[]> {
    return this.ensure().ready;
  }

  run<K extends JobKind>(kind: K, params: JobParams<K>, onProgress?: Pending['onProgress']): JobHandle<K> {
    const id = this.nextId++;
    const res = (this.opts.resources ?? jobResources)(kind, params);
    // The worker's result for this kind (the protocol's JobSpecs; the worker checks its params).
    const done = new Promise<Awaited<JobHandle<K>['done']>>((resolve, reject) => {
      const settle = (v: { result: unknown; provenance?: ProvenanceRecord; ms: number }) =>
        resolve(v as Awaited<JobHandle<K>['done']>);
      this.pending.set(id, { kind, res, params, resolve: settle, reject, onProgress, queued: false });
    });
    const adm = this.locks.admit(id, kind, res);
    if ('refuse' in adm) {
      this.opts.log('warn', `job #${id} ${kind} refused: ${adm.refuse}`);
      this.settle(id, new EngineError({ code: 'busy', message: adm.refuse }));
    } else if ('waitFor' in adm) {
      this.pending.get(id)!.queued = true;
      this.opts.log('info', `job #${id} ${kind} queued: ${adm.message}`);
      this.progress(id, undefined, adm.message);
    } else {
      this.dispatch(id);
    }
    return { id, done };
  }

  /** Ask the job to stop; if it has not within the grace period, kill the worker. */
  cancel(id: number): void {
    const p = this.pending.get(id);
    if (!p || p.cancelRequested) return;
    p.cancelRequested = true;
    if (p.queued || !p.proc || !p.proc.readyDone) {
      // Never reached the worker: nothing to stop.
      this.settle(id, new EngineError({ code: 'cancelled', message: `${p.kind} cancelled` }));
      return;
    }
    const proc = p.proc;
    this.send(proc, { type: 'cancel', id });
    p.cancelTimer = setTimeout(() => {
      if (!this.pending.has(id)) return;
      this.opts.log(
        'warn',
        `job #${id} ${p.kind} did not stop within ${this.opts.graceMs()} ms: killing the engine worker`,
      );
      this.stop(proc, { reason: `restarted to cancel job #${id}` });
    }, this.opts.graceMs());
  }

  /** Kill the worker now; pending jobs fail; the next job starts a fresh worker. */
  restart(reason = 'engine restarted by the user'): void {
    this.kill(reason);
  }

  dispose(): void {
    this.kill('extension deactivated');
  }

  private kill(reason: string): void {
    const err = new EngineError({ code: 'worker-exit', message: `engine worker stopped: ${reason}` });
    // Queued jobs go too: they were waiting for jobs on the worker being stopped.
    for (const id of [...this.pending.keys()]) this.settle(id, err, false);
    if (this.proc) this.stop(this.proc, { reason });
  }

  private dispatch(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    p.queued = false;
    const proc = this.ensure();
    p.proc = proc;
    proc.ready.then(
      () => {
        if (this.pending.get(id) !== p || proc.gone || proc.stop) return;
        if (p.res.writes) proc.outputs.add(p.res.writes);
        proc.lastAlive = Date.now(); // the heartbeat window of a job starts when it is sent
        this.send(proc, { type: 'run', id, kind: p.kind, params: p.params });
      },
      () => {
        /* the worker died before it was ready: finish() fails the job */
      },
    );
  }

  private ensure(): Proc {
    if (this.proc && !this.proc.gone && !this.proc.stop) return this.proc;
    const execArgv = [...(this.opts.execArgv?.() ?? [])];
    const maxMb = this.opts.maxMemoryMb?.();
    if (maxMb && !execArgv.some((a) => a.startsWith('--max-old-space-size=')))
      execArgv.push(`--max-old-space-size=${Math.floor(maxMb)}`);
    const child = fork(this.opts.workerPath, [], {
      silent: true, // capture stdout/stderr for the log tail shown when it dies
      execArgv,
      env: { ...process.env, ...(this.opts.env?.() ?? {}), ELECTRON_RUN_AS_NODE: '1' },
    });
    let readyResolve!: (jobs: string[]) => void;
    let readyReject!: (e: EngineError) => void;
    const proc: Proc = {
      child,
      pid: child.pid,
      tail: [],
      readyDone: false,
      lastAlive: Date.now(),
      heapLimitMb: heapLimitFromExecArgv(execArgv),
      outputs: new Set(),
      timers: [],
      seq: 0,
      gone: false,
      ready: new Promise<string[]>((resolve, reject) => {
        readyResolve = resolve;
        readyReject = reject;
      }),
    };
    proc.ready.catch(() => {
      /* callers of jobs() see it; jobs are failed by finish() */
    });
    (proc as Proc & { readyReject: typeof readyReject }).readyReject = readyReject;
    this.proc = proc;
    this.opts.log('info', `engine worker started (pid ${child.pid})`);

    const capture = (stream: NodeJS.ReadableStream | null, level: LogLevel) => {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        if (partial.length > MAX_TEXT) {
          lines.push(partial);
          partial = '';
        }
        for (const line of lines) this.remember(proc, line, level);
      });
      stream?.on('end', () => {
        if (partial) this.remember(proc, partial, level);
        partial = '';
      });
    };
    capture(child.stdout, 'info');
    capture(child.stderr, 'warn');

    child.on('message', (raw) => {
      if (proc.gone) return;
      proc.lastAlive = Date.now(); // any message proves the event loop turns
      let m: WorkerToHost | undefined;
      try {
        m = parseWorkerMessage(raw);
      } catch {
        m = undefined;
      }
      if (!m) {
        this.malformedMessage(proc);
        return;
      }
      if (m.type === 'ready') {
        if (!proc.readyDone) {
          proc.readyDone = true;
          readyResolve(m.jobs.map(clip));
        }
        return;
      }
      this.onMessage(proc, m);
    });
    child.on('error', (e) => this.remember(proc, `worker process error: ${e.message}`, 'error'));
    // 'exit' can come before the last stderr lines (V8's out-of-memory message); wait for 'close'
    // (all stdio drained), but not forever: a grandchild could hold the pipes open.
    child.on('exit', (code, signal) => {
      proc.timers.push(setTimeout(() => this.finish(proc, code, signal), CLOSE_WAIT_MS));
    });
    child.on('close', (code, signal) => this.finish(proc, code, signal));

    const watchdog = setInterval(() => this.watch(proc), pingIntervalMs(Math.min(this.heartbeatMs(), 60_000)));
    watchdog.unref();
    proc.timers.push(watchdog);
    return proc;
  }

  /** 0 turns hang detection off (a user running very long synchronous kernels); unset or invalid: 30 s. */
  private heartbeatMs(): number {
    const v = this.opts.heartbeatTimeoutMs?.();
    if (v === 0) return Infinity;
    return typeof v === 'number' && v > 0 ? v : 30_000;
  }

  private watch(proc: Proc): void {
    if (proc.gone || proc.stop) return;
    const now = Date.now();
    const busy = [...this.pending.values()].some((p) => p.proc === proc);
    if (!busy) {
      proc.lastAlive = now;
      return;
    } // an idle worker may sleep; its window starts with the next job
    const limit = proc.readyDone
      ? this.heartbeatMs()
      : Math.max(this.heartbeatMs(), this.opts.startTimeoutMs?.() ?? 60_000);
    if (now - proc.lastAlive > limit) {
      const fault: WorkerFault = { kind: 'hung', seconds: Math.round(limit / 100) / 10 };
      this.opts.log(
        'error',
        `engine worker (pid ${proc.pid}) sent nothing for ${now - proc.lastAlive} ms while a job ran: killing it`,
      );
      this.stop(proc, { reason: faultReason(fault), fault });
      return;
    }
    if (proc.readyDone) this.send(proc, { type: 'ping', seq: ++proc.seq });
  }

  /** Kill a worker on purpose; finish() settles its jobs once it is gone. */
  private stop(proc: Proc, stop: NonNullable<Proc['stop']>): void {
    if (proc.stop || proc.gone) return;
    proc.stop = stop;
    if (this.proc === proc) this.proc = undefined; // the next job forks a fresh one at once
    proc.child.kill('SIGKILL');
    proc.timers.push(setTimeout(() => this.finish(proc, null, 'SIGKILL'), EXIT_WAIT_MS));
  }

  private finish(proc: Proc, code: number | null, signal: NodeJS.Signals | null): void {
    if (proc.gone) return;
    proc.gone = true;
    for (const t of proc.timers) clearTimeout(t);
    if (this.proc === proc) this.proc = undefined;
    const fault = proc.stop ? proc.stop.fault : classifyExit(code, signal, proc.tail, proc.heapLimitMb);
    const reason = proc.stop && !proc.stop.fault ? proc.stop.reason : faultReason(fault!);
    // Clean the disk before any promise settles: whoever awaits a job sees the final state.
    if (proc.pid !== undefined && proc.outputs.size > 0) {
      try {
        const r = cleanupAfterWorker([...proc.outputs], proc.pid);
        for (const p of r.removed) this.opts.log('info', `removed the partial output ${p} of the stopped worker`);
        for (const p of r.restored) this.opts.log('warn', `restored ${p}, which the stopped worker was replacing`);
      } catch (e) {
        this.opts.log('error', `could not clean the outputs of the stopped worker: ${(e as Error).message}`);
      }
    }
    const tail = [...proc.tail];
    (proc as Proc & { readyReject(e: EngineError): void }).readyReject(
      new EngineError({ code: 'worker-exit', message: `the engine worker ${reason}` }, tail, fault),
    );
    for (const [id, p] of [...this.pending]) {
      if (p.proc !== proc) continue;
      this.settle(
        id,
        p.cancelRequested
          ? new EngineError({ code: 'cancelled', message: `${p.kind} cancelled (engine restarted)` })
          : new EngineError({ code: 'worker-exit', message: `the engine worker ${reason}` }, tail, fault),
      );
    }
    if (fault) {
      this.opts.log('error', `engine worker (pid ${proc.pid}) ${reason}`);
      this.opts.onUnexpectedExit?.(reason, tail, fault);
    } else {
      this.opts.log('info', `engine worker (pid ${proc.pid}) stopped: ${reason}`);
    }
  }

  private remember(proc: Proc, line: string, level: LogLevel): void {
    if (!line) return;
    line = clip(line);
    this.opts.log(level, `[worker] ${line}`);
    if (isNativeFrame(line)) return;
    proc.tail.push(line);
    if (proc.tail.length > TAIL_LINES) proc.tail.shift();
  }

  private malformedMessage(proc: Proc): void {
    this.malformed++;
    if (this.malformed <= 5 || this.malformed % 100 === 0) {
      this.opts.log(
        'warn',
        `engine worker (pid ${proc.pid}) sent a malformed message: ignored (${this.malformed} so far)`,
      );
    }
  }

  /** The job `id` if it is running on `proc` (a worker cannot touch another worker's jobs, or queued ones). */
  private ownJob(proc: Proc, id: number): Pending | undefined {
    const p = this.pending.get(id);
    return p && p.proc === proc && !p.queued ? p : undefined;
  }

  private onMessage(proc: Proc, m: WorkerToHost): void {
    switch (m.type) {
      case 'progress':
        if (this.ownJob(proc, m.id))
          this.progress(m.id, m.fraction, m.message === undefined ? undefined : clip(m.message));
        break;
      case 'log':
        this.remember(proc, typeof m.id === 'number' ? `#${m.id} ${m.message}` : m.message, m.level);
        break;
      case 'result': {
        const p = this.ownJob(proc, m.id);
        if (!p) {
          this.malformedMessage(proc);
          break;
        }
        this.take(m.id)?.resolve({ result: m.result, provenance: m.provenance, ms: m.ms });
        break;
      }
      case 'error':
        if (!this.ownJob(proc, m.id)) {
          this.malformedMessage(proc);
          break;
        }
        this.settle(m.id, new EngineError(this.errorInfo(m.error)));
        break;
      case 'pong':
        if (m.heapLimitMb) proc.heapLimitMb = m.heapLimitMb;
        break;
    }
  }

  /** An error as the worker described it, with codes the worker may not claim mapped to internal. */
  private errorInfo(e: EngineErrorInfo): EngineErrorInfo {
    const known = ENGINE_ERROR_CODES.includes(e.code) && !HOST_ONLY_CODES.includes(e.code);
    const str = (v: unknown) => (typeof v === 'string' ? clip(v) : undefined);
    return {
      code: known ? e.code : 'internal',
      message: clip(e.message),
      file: str(e.file),
      field: str(e.field),
      expected: str(e.expected),
    };
  }

  private progress(id: number, fraction: number | undefined, message: string | undefined): void {
    try {
      this.pending.get(id)?.onProgress?.(fraction, message);
    } catch (e) {
      this.opts.log('warn', `progress listener of job #${id} threw: ${(e as Error)?.message}`);
    }
  }

  private take(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    if (p.cancelTimer) clearTimeout(p.cancelTimer);
    this.pending.delete(id);
    // Queued jobs whose turn it is now start (on a fresh worker if this one is gone).
    for (const next of this.locks.release(id)) this.dispatch(next);
    return p;
  }

  private settle(id: number, e: EngineError, startQueued = true): void {
    if (!startQueued) {
      // Stopping everything: fail without letting queued jobs start in between.
      const p = this.pending.get(id);
      if (!p) return;
      if (p.cancelTimer) clearTimeout(p.cancelTimer);
      this.pending.delete(id);
      this.locks.release(id);
      p.reject(e);
      return;
    }
    this.take(id)?.reject(e);
  }

  private send(proc: Proc, m: HostToWorker): void {
    if (proc.gone || !proc.child.connected) return;
    try {
      proc.child.send(m, (err) => {
        if (err) this.opts.log('debug', `send to worker failed: ${err.message}`);
      });
    } catch (e) {
      this.opts.log('debug', `send to worker failed: ${(e as Error).message}`);
    }
  }
}
