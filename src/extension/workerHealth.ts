// What happened to an engine worker that went away under a job, in words a user can act on:
// killed by a signal, out of memory, exited with a code, or stopped by the host for not answering
// its heartbeat. Pure functions (no vscode, no process handles) so they are unit-testable.

export type WorkerFault =
  | { kind: 'exit'; code: number | null }
  | { kind: 'signal'; signal: string }
  | { kind: 'oom'; heapLimitMb?: number; signal?: string; code?: number | null }
  | { kind: 'hung'; seconds: number };

/** V8's last words when the JavaScript heap is exhausted (printed to stderr before it aborts). */
const OOM_LINE =
  /JavaScript heap out of memory|Reached heap limit|Ineffective mark-compacts near heap limit|Fatal process out of memory/;

/** Native frames V8 prints after a fatal error: noise in a user-facing log tail (still logged). */
export const isNativeFrame = (line: string) =>
  /^\s*\d+: 0x[0-9a-f]+\b/i.test(line) || /^-+ Native stack trace -+$/.test(line.trim());

export function classifyExit(
  code: number | null,
  signal: string | null,
  tail: readonly string[],
  heapLimitMb?: number,
): WorkerFault {
  if (tail.some((l) => OOM_LINE.test(l))) return { kind: 'oom', heapLimitMb, signal: signal ?? undefined, code };
  if (signal) return { kind: 'signal', signal };
  return { kind: 'exit', code };
}

/** Reads after "the engine worker ", e.g. "ran out of memory (heap limit 96 MB)". */
export function faultReason(f: WorkerFault): string {
  switch (f.kind) {
    case 'exit':
      return `exited with code ${f.code}`;
    case 'signal':
      return f.signal === 'SIGKILL'
        ? 'was killed by SIGKILL (by another process, or by the system when memory ran out)'
        : `was killed by ${f.signal}`;
    case 'oom':
      return `ran out of memory${f.heapLimitMb ? ` (JavaScript heap limit ${f.heapLimitMb} MB; raise prunescope.worker.maxMemoryMb or use a smaller model or data set)` : ''}`;
    case 'hung':
      return `stopped responding for ${f.seconds} s while a job was running and was restarted`;
  }
}

/** The heap limit the worker was started with, from its execArgv (fallback when it never answered a ping). */
export function heapLimitFromExecArgv(execArgv: readonly string[]): number | undefined {
  for (const a of execArgv) {
    const m = /^--max-old-space-size=(\d+)$/.exec(a);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** How often to ping for a given timeout: several pings per timeout, never busier than 20 Hz or rarer than 5 s. */
export function pingIntervalMs(timeoutMs: number): number {
  return Math.min(5000, Math.max(50, Math.floor(timeoutMs / 4)));
}
