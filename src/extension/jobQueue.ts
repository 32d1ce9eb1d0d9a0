// Which jobs may run together in the one engine worker. The worker itself runs every job it is
// sent concurrently (they interleave at their awaits), so the host decides:
// - a job that writes an output folder that another active job writes (same folder, or one inside
//   the other) is REFUSED at once with a message naming that job: running it after the first would
//   either fail ("folder exists") or replace what the first one just produced;
// - jobs that write (prune, export-student, distill) from the SAME model are QUEUED, first come
//   first served: they would otherwise each hold a copy of the model's work in the worker's memory
//   and both write at the end; one after the other is what the user meant;
// - read-only jobs (info, relevance, analysis, what-if, cells) never wait: they write nothing.
// No vscode import: unit-tested in plain Node.
import * as path from 'path';

export interface JobResources {
  /** Absolute output folder the job creates. */
  writes?: string;
  /** Absolute path of the model the writing job reads. */
  model?: string;
}

/** Output folder and input model of each job kind that writes files (by its params' field names). */
const WRITERS: Record<string, { out: string; model: string }> = {
  prune: { out: 'out', model: 'modelPath' },
  'export-student': { out: 'out', model: 'modelPath' },
  distill: { out: 'out', model: 'teacherPath' },
};

const norm = (p: string) => {
  const r = path.resolve(p);
  return process.platform === 'win32' || process.platform === 'darwin' ? r.toLowerCase() : r;
};

export function jobResources(kind: string, params: unknown): JobResources {
  const w = WRITERS[kind];
  if (!w || typeof params !== 'object' || params === null) return {};
  const p = params as Record<string, unknown>;
  const out = typeof p[w.out] === 'string' && p[w.out] ? norm(p[w.out] as string) : undefined;
  const model = typeof p[w.model] === 'string' && p[w.model] ? norm(p[w.model] as string) : undefined;
  return { writes: out, model };
}

const overlaps = (a: string, b: string) => a === b || a.startsWith(b + path.sep) || b.startsWith(a + path.sep);

export type Admission = { run: true } | { waitFor: number; message: string } | { refuse: string };

interface Entry {
  id: number;
  kind: string;
  res: JobResources;
  running: boolean;
}

export class JobLocks {
  /** Active jobs (running or queued) in the order they were admitted. */
  private readonly entries: Entry[] = [];

  admit(id: number, kind: string, res: JobResources): Admission {
    if (res.writes) {
      const clash = this.entries.find((e) => e.res.writes && overlaps(e.res.writes, res.writes!));
      if (clash) {
        return {
          refuse: `${res.writes} is already being written by job #${clash.id} (${clash.kind}); wait for it to finish or choose another output folder`,
        };
      }
    }
    const blocker = this.blockerOf(res, this.entries.length);
    this.entries.push({ id, kind, res, running: !blocker });
    if (!blocker) return { run: true };
    return {
      waitFor: blocker.id,
      message: `waiting for job #${blocker.id} (${blocker.kind}) on the same model to finish`,
    };
  }

  /** Forget a job (finished, failed, cancelled); returns the queued jobs that may start now, in order. */
  release(id: number): number[] {
    const i = this.entries.findIndex((e) => e.id === id);
    if (i >= 0) this.entries.splice(i, 1);
    const start: number[] = [];
    this.entries.forEach((e, j) => {
      if (!e.running && !this.blockerOf(e.res, j)) {
        e.running = true;
        start.push(e.id);
      }
    });
    return start;
  }

  isQueued(id: number): boolean {
    return this.entries.some((e) => e.id === id && !e.running);
  }

  /** The first earlier-admitted writing job on the same model (queues are first come, first served). */
  private blockerOf(res: JobResources, before: number): Entry | undefined {
    if (!res.writes || !res.model) return undefined;
    return this.entries.slice(0, before).find((e) => e.res.writes && e.res.model === res.model);
  }
}
