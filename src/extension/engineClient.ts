// The extension host's handle on the engine worker: one long-lived child process (fork + IPC).
// Jobs are request/reply by id with streamed progress. Cancel sends a message first and kills
// the worker after a grace period if the job does not stop. If the worker dies, pending jobs
// fail with the exit reason and the last lines of its log, and the next job forks a fresh one.
// No vscode import, so it is unit-testable with a plain node child.
import { fork, type ChildProcess } from 'child_process';
import {
  parseWorkerMessage, type EngineErrorInfo, type HostToWorker, type JobKind, type JobParams, type JobResult,
  type ProvenanceRecord,
} from '../protocol';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface EngineClientOptions {
  workerPath: string;
  graceMs(): number;
  log(level: LogLevel, message: string): void;
  execArgv?(): string[];
  env?(): NodeJS.ProcessEnv;
  /** Called when the worker exits without being asked to (crash, OOM, kill by someone else). */
  onUnexpectedExit?(reason: string, logTail: string[]): void;
}

export class EngineError extends Error {
  constructor(readonly info: EngineErrorInfo, readonly logTail: string[] = []) {
    super(info.message);
    this.name = 'EngineError';
  }
  get code() { return this.info.code; }
}

export interface JobHandle<K extends JobKind> {
  id: number;
  done: Promise<{ result: JobResult<K>; provenance?: ProvenanceRecord; ms: number }>;
}

interface Pending {
  kind: string;
  resolve(v: { result: unknown; provenance?: ProvenanceRecord; ms: number }): void;
  reject(e: EngineError): void;
  onProgress?(fraction: number | undefined, message: string | undefined): void;
  cancelTimer?: NodeJS.Timeout;
}

const TAIL_LINES = 40;

export class EngineClient {
  private child: ChildProcess | undefined;
  private ready: Promise<string[]> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly tail: string[] = [];
  /** Children we killed on purpose (per child: a new worker may start before the old one's exit event). */
  private readonly expectedExit = new WeakMap<ChildProcess, string>();

  constructor(private readonly opts: EngineClientOptions) {}

  get runningJobs(): number[] { return [...this.pending.keys()]; }
  get pid(): number | undefined { return this.child?.pid; }

  /** The job kinds the worker supports (starts the worker if needed). */
  jobs(): Promise<string[]> { return this.start(); }

  run<K extends JobKind>(kind: K, params: JobParams<K>, onProgress?: Pending['onProgress']): JobHandle<K> {
    const id = this.nextId++;
    const done = new Promise<any>((resolve, reject) => {
      this.pending.set(id, { kind, resolve, reject, onProgress });
    });
    this.start().then(
      () => this.send({ type: 'run', id, kind, params }),
      (e: EngineError) => this.settleError(id, e),
    );
    return { id, done };
  }

  /** Ask the job to stop; if it has not within the grace period, kill the worker. */
  cancel(id: number): void {
    const p = this.pending.get(id);
    if (!p || p.cancelTimer) return;
    this.send({ type: 'cancel', id });
    p.cancelTimer = setTimeout(() => {
      if (!this.pending.has(id)) return;
      this.opts.log('warn', `job #${id} ${p.kind} did not stop within ${this.opts.graceMs()} ms: killing the engine worker`);
      this.settleError(id, new EngineError({ code: 'cancelled', message: `${p.kind} cancelled (engine restarted)` }));
      this.kill(`restarted to cancel job #${id}`);
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
    const child = this.child;
    if (!child) return;
    this.expectedExit.set(child, reason);
    this.failAll(new EngineError({ code: 'worker-exit', message: `engine worker stopped: ${reason}` }));
    this.detach();
    child.kill('SIGKILL');
  }

  private detach(): void {
    this.child = undefined;
    this.ready = undefined;
  }

  private start(): Promise<string[]> {
    if (this.ready) return this.ready;
    this.tail.length = 0;
    const child = fork(this.opts.workerPath, [], {
      silent: true, // capture stdout/stderr for the log tail shown when it dies
      execArgv: this.opts.execArgv?.() ?? [],
      env: { ...process.env, ...(this.opts.env?.() ?? {}), ELECTRON_RUN_AS_NODE: '1' },
    });
    this.child = child;
    this.opts.log('info', `engine worker started (pid ${child.pid})`);
    const capture = (stream: NodeJS.ReadableStream | null, level: LogLevel) => {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) this.remember(line, level);
      });
    };
    capture(child.stdout, 'info');
    capture(child.stderr, 'warn');
    this.ready = new Promise<string[]>((resolve, reject) => {
      child.on('message', (raw) => {
        const m = parseWorkerMessage(raw);
        if (!m) { this.opts.log('warn', 'engine worker sent a malformed message: ignored'); return; }
        if (m.type === 'ready') { resolve(m.jobs); return; }
        this.onMessage(m);
      });
      child.on('error', (e) => this.remember(`worker process error: ${e.message}`, 'error'));
      child.on('exit', (code, signal) => {
        const reason = signal ? `killed by ${signal}` : `exited with code ${code}`;
        if (this.child === child) this.detach();
        const expected = this.expectedExit.get(child);
        if (expected) { this.opts.log('info', `engine worker (pid ${child.pid}) stopped: ${expected}`); return; }
        this.opts.log('error', `engine worker (pid ${child.pid}) ${reason}`);
        const err = new EngineError({ code: 'worker-exit', message: `the engine worker ${reason}` }, [...this.tail]);
        reject(err);
        // Only jobs sent to this child die with it (a fresh worker may already be running others).
        if (!this.child) this.failAll(err);
        this.opts.onUnexpectedExit?.(reason, [...this.tail]);
      });
    });
    return this.ready;
  }

  private remember(line: string, level: LogLevel): void {
    if (!line) return;
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    this.opts.log(level, `[worker] ${line}`);
  }

  private onMessage(m: Exclude<ReturnType<typeof parseWorkerMessage>, undefined>): void {
    switch (m.type) {
      case 'progress':
        this.pending.get(m.id)?.onProgress?.(m.fraction, m.message);
        break;
      case 'log':
        this.remember(m.id !== undefined ? `#${m.id} ${m.message}` : m.message, m.level);
        break;
      case 'result': {
        const p = this.take(m.id);
        p?.resolve({ result: m.result, provenance: m.provenance, ms: m.ms });
        break;
      }
      case 'error':
        this.settleError(m.id, new EngineError(m.error));
        break;
    }
  }

  private take(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    if (p.cancelTimer) clearTimeout(p.cancelTimer);
    this.pending.delete(id);
    return p;
  }

  private settleError(id: number, e: EngineError): void {
    this.take(id)?.reject(e);
  }

  private failAll(e: EngineError): void {
    for (const id of [...this.pending.keys()]) this.settleError(id, e);
  }

  private send(m: HostToWorker): void {
    if (this.child?.connected) this.child.send(m);
  }
}
