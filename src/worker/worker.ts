// Engine worker: forked once by the extension host and kept alive, so loaded models, data sets
// and results stay in memory between jobs (re-plots need no recomputation). Talks IPC only.
import { getHeapStatistics } from 'v8';
import { PruneScopeError } from '../engine/errors';
import { parseHostMessage, type EngineErrorInfo, type WorkerToHost } from '../protocol';
import { handlers } from './registry';

const send = (m: WorkerToHost) => {
  if (process.send) process.send(m);
};
const running = new Map<number, AbortController>();
const cache = new Map<string, unknown>();

function toErrorInfo(e: unknown): EngineErrorInfo {
  if (e instanceof PruneScopeError) {
    return {
      code: e.code,
      message: e.message,
      file: e.context.file,
      field: e.context.field,
      expected: e.context.expected,
    };
  }
  const err = e as Error;
  // User code in notebook cells throws ordinary errors: report them as bad input, not bugs.
  return { code: 'internal', message: err?.message ?? String(e) };
}

async function run(id: number, kind: string, params: unknown): Promise<void> {
  const t0 = Date.now();
  const handler = handlers[kind];
  if (!handler) {
    send({ type: 'error', id, error: { code: 'unknown-job', message: `the engine has no job "${kind}" yet` }, ms: 0 });
    return;
  }
  const controller = new AbortController();
  running.set(id, controller);
  try {
    const typed = handler.parse(params);
    const out = await handler.run(typed, {
      signal: controller.signal,
      progress: (fraction, message) =>
        send({
          type: 'progress',
          id,
          fraction: fraction === undefined ? undefined : Math.min(1, Math.max(0, fraction)),
          message,
        }),
      log: (message) => send({ type: 'log', level: 'info', message, id }),
      cache,
    });
    send({ type: 'result', id, result: out.result, provenance: out.provenance, ms: Date.now() - t0 });
  } catch (e) {
    const info = controller.signal.aborted
      ? { code: 'cancelled' as const, message: `${kind} cancelled` }
      : toErrorInfo(e);
    if (info.code === 'internal' && process.env.PRUNESCOPE_DEBUG)
      send({ type: 'log', level: 'error', message: String((e as Error)?.stack), id });
    send({ type: 'error', id, error: info, ms: Date.now() - t0 });
  } finally {
    running.delete(id);
  }
}

process.on('message', (raw) => {
  const m = parseHostMessage(raw);
  if (!m) {
    send({ type: 'log', level: 'warn', message: 'worker: ignored malformed message' });
    return;
  }
  if (m.type === 'run') void run(m.id, m.kind, m.params);
  else if (m.type === 'cancel') running.get(m.id)?.abort();
  else if (m.type === 'ping') send({ type: 'pong', seq: m.seq, ...memoryMb() });
  else if (m.type === 'shutdown') process.exit(0);
});
// Answered from the event loop: a job that blocks it (a long synchronous computation, a hang)
// cannot answer, which is how the host's watchdog tells "busy for too long" from "working".
function memoryMb() {
  const mb = (b: number) => Math.round(b / 1048576);
  const m = process.memoryUsage();
  return { heapUsedMb: mb(m.heapUsed), heapLimitMb: mb(getHeapStatistics().heap_size_limit), rssMb: mb(m.rss) };
}
// The host going away must not leave an orphan holding memory.
process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', (e) => {
  process.stderr.write(`worker: uncaught ${e?.stack ?? e}\n`);
  process.exit(70);
});
process.on('unhandledRejection', (e) => {
  process.stderr.write(`worker: unhandled rejection ${(e as Error)?.stack ?? e}\n`);
});

send({ type: 'ready', pid: process.pid, jobs: Object.keys(handlers) });
