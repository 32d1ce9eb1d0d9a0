// Every engine job: its parameters and its result, keyed by kind. The host, the worker and the
// notebook kernel all use this one table, so a job's shape is defined exactly once.
import type { PlotlyFigure } from './figure';

export interface LayerSummary {
  name: string;
  className: string;
  units?: number;
  activation?: string;
  params: number;
}

export interface ModelInfo {
  path: string;
  format: 'layers-model';
  layers: LayerSummary[];
  totalParams: number;
  inputShape?: (number | null)[];
  weightFiles: string[];
}

/** Whatever the engine's Provenance holds; kept opaque here so protocol has no engine import. */
export type ProvenanceRecord = Record<string, unknown> & { job: string; time: string };

export interface CellOutput {
  mime: string;
  /** JSON-serialisable value (figures, objects) or a string (text/plain, text/html). */
  data: unknown;
}

export interface JobSpecs {
  /** Summary of a TF.js LayersModel file. */
  info: { params: { modelPath: string }; result: { info: ModelInfo; figure: PlotlyFigure } };
  /** A small seeded figure: proves the worker -> webview path without an engine dependency. */
  'demo-figure': { params: { seed: number; n: number }; result: { figure: PlotlyFigure } };
  /** A slow job with progress, used to exercise cancel end to end. */
  'long-demo': { params: { steps: number; stepMs: number }; result: { completed: number } };
  /** Relevance of every parameter by one method (random, obd, variational, belsley), with a heatmap. */
  relevance: {
    params: { modelPath: string; data: string; method: string; seed: number };
    result: { method: string; scores: number[]; order: number[]; figure: PlotlyFigure };
  };
  /** A notebook cell: source run as an async function with the PruneScope API in scope. */
  cell: { params: { source: string; notebook: string; cellIndex: number }; result: { outputs: CellOutput[] } };
}

export type JobKind = keyof JobSpecs;
export type JobParams<K extends JobKind> = JobSpecs[K]['params'];
export type JobResult<K extends JobKind> = JobSpecs[K]['result'];

export const JOB_KINDS: readonly JobKind[] = ['info', 'demo-figure', 'long-demo', 'relevance', 'cell'];

/**
 * Jobs the VS Code commands want but whose engine part has not landed yet. The worker announces
 * what it supports in its `ready` message; the extension shows "not available yet" for the rest.
 */
export const PLANNED_JOBS = ['prune', 'export-student', 'distill', 'gradient-variance'] as const;
export type PlannedJob = (typeof PLANNED_JOBS)[number];
