// Fuzz harness: cases run in a worker thread so that a hang (a synchronous loop the event loop
// can never interrupt) or an out-of-memory is caught by the watchdog here instead of taking the
// test runner down, and reported with the seed and mutation that reproduce it.
import * as path from 'path';
import { Worker } from 'worker_threads';

export type Suite = 'model' | 'csv' | 'args' | 'h5' | 'keras' | 'onnx' | 'npy' | 'npz' | 'image';

/** Posted by the worker for every case. */
export interface CaseReport {
  i: number;
  mutation: string;
  /** 'loaded' (accepted) or 'refused' (a proper PruneScopeError) or 'failed' (anything else). */
  outcome: 'loaded' | 'refused' | 'failed';
  /** Error code + normalised message, for counting distinct refusals. */
  key?: string;
  reason?: string;
  ms: number;
}

export interface SuiteSummary {
  suite: Suite;
  seed: number;
  cases: number;
  loaded: number;
  refused: number;
  failures: { i: number; mutation: string; reason: string }[];
  distinct: Map<string, number>;
  slowest: { i: number; mutation: string; ms: number };
  peakRssMb: number;
  peakHeapGrowthMb: number;
  wallMs: number;
}

export const FUZZ_SEED = Number(process.env.PRUNESCOPE_FUZZ_SEED ?? 20240611);
/** Scales every suite's case budget (e.g. 0.1 for a smoke run, 10 for a long soak). */
const SCALE = Number(process.env.PRUNESCOPE_FUZZ_SCALE ?? 1);
/** A case that takes longer than this is a failure (the reader must refuse quickly, not grind). */
export const CASE_MS = 5_000;
/** A case with no answer after this long is a hang: the worker is killed. */
const HANG_MS = 20_000;
/** Heap growth over the post-warm-up baseline that counts as unbounded memory use. */
export const HEAP_GROWTH_LIMIT_MB = 256;
export const RSS_GROWTH_LIMIT_MB = 768;

export function budget(n: number): number {
  return Math.max(1, Math.round(n * SCALE));
}

/** Per-case seed: case i of a run is reproducible on its own (PRUNESCOPE_FUZZ_CASE=i). */
export function caseSeed(seed: number, i: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x01000193) + Math.imul(i + 1, 0x9e3779b1)) >>> 0;
}

/** Numbers, temp paths and long quoted values vary per case; strip them to count kinds of errors. */
export function normalise(code: string, message: string): string {
  const m = message
    .replace(/"(?:[^"\\]|\\.){24,}"/g, '"<long>"')
    .replace(/(?:[A-Za-z]:)?[\\/][^\s"',)\]]*/g, '<path>')
    .replace(/-?\d+(?:\.\d+)?(?:e[+-]?\d+)?/gi, 'N')
    .slice(0, 200);
  return `${code}: ${m}`;
}

export async function runSuite(suite: Suite, cases: number, data: Record<string, unknown> = {}): Promise<SuiteSummary> {
  const only = process.env.PRUNESCOPE_FUZZ_CASE !== undefined ? Number(process.env.PRUNESCOPE_FUZZ_CASE) : undefined;
  const summary: SuiteSummary = {
    suite,
    seed: FUZZ_SEED,
    cases: 0,
    loaded: 0,
    refused: 0,
    failures: [],
    distinct: new Map(),
    slowest: { i: -1, mutation: '', ms: 0 },
    peakRssMb: 0,
    peakHeapGrowthMb: 0,
    wallMs: 0,
  };
  const t0 = Date.now();
  const worker = new Worker(path.join(__dirname, 'worker.js'), {
    workerData: { suite, seed: FUZZ_SEED, cases, only, data },
    // A reader that tries to allocate without bound dies here, not in the test runner.
    resourceLimits: { maxOldGenerationSizeMb: 1024 },
  });
  let current: { i: number; mutation: string; since: number } | undefined;
  await new Promise<void>((resolve) => {
    const watchdog = setInterval(() => {
      if (current && Date.now() - current.since > HANG_MS) {
        summary.failures.push({
          i: current.i,
          mutation: current.mutation,
          reason: `hang: no result after ${HANG_MS} ms`,
        });
        current = undefined;
        void worker.terminate();
      }
    }, 250);
    worker.on('message', (m: { type: string } & Partial<CaseReport> & { rssMb?: number; heapGrowthMb?: number }) => {
      if (m.type === 'start') current = { i: m.i!, mutation: m.mutation!, since: Date.now() };
      else if (m.type === 'case') {
        current = undefined;
        const r = m as CaseReport;
        summary.cases++;
        if (r.outcome === 'loaded') summary.loaded++;
        else if (r.outcome === 'refused') summary.refused++;
        else summary.failures.push({ i: r.i, mutation: r.mutation, reason: r.reason ?? 'failed' });
        if (r.key) summary.distinct.set(r.key, (summary.distinct.get(r.key) ?? 0) + 1);
        if (r.ms > summary.slowest.ms) summary.slowest = { i: r.i, mutation: r.mutation, ms: r.ms };
        summary.peakRssMb = Math.max(summary.peakRssMb, m.rssMb ?? 0);
        summary.peakHeapGrowthMb = Math.max(summary.peakHeapGrowthMb, m.heapGrowthMb ?? 0);
      }
    });
    worker.on('error', (e: Error & { code?: string }) => {
      const what = e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'out of memory' : `worker crashed: ${e.stack ?? e.message}`;
      summary.failures.push({ i: current?.i ?? -1, mutation: current?.mutation ?? '(between cases)', reason: what });
      current = undefined;
    });
    worker.on('exit', () => {
      clearInterval(watchdog);
      resolve();
    });
  });
  summary.wallMs = Date.now() - t0;
  return summary;
}

export function report(s: SuiteSummary): string {
  const top = [...s.distinct.entries()].sort((a, b) => b[1] - a[1]);
  const lines = [
    `[fuzz ${s.suite}] seed ${s.seed}: ${s.cases} cases in ${(s.wallMs / 1000).toFixed(1)} s, ${s.loaded} loaded, ${s.refused} refused, ${s.failures.length} failed`,
    `[fuzz ${s.suite}] ${s.distinct.size} distinct error kinds; slowest case #${s.slowest.i} ${s.slowest.ms.toFixed(0)} ms (${s.slowest.mutation.slice(0, 120)})`,
    `[fuzz ${s.suite}] peak rss ${s.peakRssMb.toFixed(0)} MB, peak heap growth ${s.peakHeapGrowthMb.toFixed(0)} MB`,
    ...top.slice(0, 12).map(([k, n]) => `    ${String(n).padStart(5)}  ${k}`),
    ...(top.length > 12 ? [`    ... and ${top.length - 12} more kinds`] : []),
    ...s.failures
      .slice(0, 20)
      .map(
        (f) =>
          `  FAILED case #${f.i} (seed ${s.seed}, PRUNESCOPE_FUZZ_CASE=${f.i}) mutation: ${f.mutation}\n    ${f.reason}`,
      ),
  ];
  return lines.join('\n');
}
