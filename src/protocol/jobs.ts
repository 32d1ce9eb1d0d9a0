// Every engine job: its parameters and its result, keyed by kind. The host, the worker and the
// notebook kernel all use this one table, so a job's shape is defined exactly once.
import type { PlotlyFigure } from './figure';
import type { ModelFormat } from '../engine/options';

export interface LayerSummary {
  name: string;
  className: string;
  units?: number;
  activation?: string;
  params: number;
}

export interface ModelInfo {
  path: string;
  /** The file's format (as engine/options.ts MODEL_FORMATS names them). */
  format: 'tfjs' | 'keras' | 'h5' | 'onnx';
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

/**
 * A ranking's method and options (obd: variant; belsley: covariance, ordering). Left out, each
 * takes the engine's default (engine/options.ts), as the CLI's flags do.
 */
export interface RankingParams {
  method: string;
  variant?: string;
  covariance?: string;
  ordering?: string;
}

/**
 * Structured pruning (engine/options.ts STRUCTURED_*): `structured` channels (every dependency group)
 * or units (Dense layers only) makes `share` / `fraction` a share of the removable channels; absent
 * or 'none' keeps weight-level pruning. aggregate: sum | mean | max | native (belsley only).
 */
export interface StructuredParams {
  structured?: 'channels' | 'units' | 'none';
  aggregate?: string;
  scope?: string;
}

/** What a structured what-if removed: channels, and the parameters and multiply-adds left. */
export interface StructuredWhatif {
  unit: 'channels' | 'units';
  removedChannels: number;
  removableChannels: number;
  paramsLeft: number;
  paramsTotal: number;
  macsLeft: number;
  macsTotal: number;
}

/** One dependency group of a model, as the panel lists it. */
export interface GroupSummary {
  id: number;
  producers: string[];
  channels: number;
  removable: number;
  fixedBecause: string[];
  paramsPerChannel: number[];
  macsPerChannel: number[];
  members: { node: string; weight: string; axis: number; role: string }[];
}

/** One prunable dependency group's channel relevance (null: a fixed channel, never removed). */
export interface GroupChannelRelevance {
  group: number;
  producers: string[];
  scores: (number | null)[];
}

/**
 * The first Conv2D's kernel in Keras layout [kh, kw, inChannels, filters] (row-major, flat), and
 * each filter's channel relevance (null when its channel is fixed).
 */
export interface FirstConvFilters {
  layer: string;
  kernelSize: [number, number];
  inChannels: number;
  filters: number;
  kernel: number[];
  relevance: (number | null)[];
}

/**
 * How the worker reads the data a job names (the CLI flags of the same names): the labels .npy of
 * an x .npy, the array names of an .npz, the pixel range of images and uint8 arrays, whether
 * images may be resized, and how many rows to read ('all', or a seeded sample).
 */
export interface DataOptions {
  labels?: string;
  xKey?: string;
  yKey?: string;
  scale?: 1 | 255;
  resize?: boolean;
  maxRows?: number | 'all';
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
    params: RankingParams & { modelPath: string; data: string; dataOptions?: DataOptions; seed: number };
    result: { method: string; scores: number[]; order: number[]; figure: PlotlyFigure };
  };
  /** A notebook cell: source run as an async function with the PruneScope API in scope. */
  cell: { params: { source: string; notebook: string; cellIndex: number }; result: { outputs: CellOutput[] } };
  /**
   * Everything the side panel shows for one model + data: the method-comparison curves, per-method
   * relevance heatmaps of every layer, Belsley's view, the variational posterior, a summary. The
   * rankings stay in the worker's cache (keyed by model path + mtime + data + seed) for `whatif`.
   */
  analysis: {
    params: Omit<RankingParams, 'method'> & {
      modelPath: string;
      data: string;
      dataOptions?: DataOptions;
      seed: number;
      methods: string[];
      step: number;
    };
    result: {
      summary: {
        layers: { name: string; inSize: number; outSize: number; activation: string }[];
        params: number;
        active: number;
        pruned: number;
        backend: string;
        metric: 'accuracy' | 'mse';
        baseline: number;
      };
      curves: { shares: number[]; methods: Record<string, { mean: number[]; sd: number[] }> };
      figures: {
        curves: PlotlyFigure;
        heatmaps: Record<string, PlotlyFigure[]>;
        belsleyCondition?: PlotlyFigure;
        belsleyProportions?: PlotlyFigure;
        variational?: PlotlyFigure;
      };
    };
  };
  /**
   * The measured test metric of the model pruned at `share` by `method`, from the cached ranking (fast).
   * `share` is of the active (non-zero) weights, biases never; `pruned` = weights zeroed by this
   * what-if (round(share * candidates)), `candidates` = active weights; `ms` = mask + evaluate time.
   */
  whatif: {
    params: RankingParams &
      StructuredParams & { modelPath: string; data: string; dataOptions?: DataOptions; seed: number; share: number };
    result: {
      method: string;
      share: number;
      metric: 'accuracy' | 'mse';
      value: number;
      baseline: number;
      /** Parameters zeroed (weights; with `structured`, every parameter of the removed channels). */
      pruned: number;
      candidates: number;
      ms: number;
      structured?: StructuredWhatif;
    };
  };
  /** The channel dependency groups of a model (structured pruning removes each channel's members together). */
  groups: {
    params: { modelPath: string };
    result: { groups: GroupSummary[]; removableChannels: number };
  };
  /**
   * Relevance of every removable channel of every dependency group by one method (the cached
   * parameter ranking aggregated per channel, or native channel Belsley), and the first
   * convolution's filters with theirs (absent without a Conv2D).
   */
  'channel-relevance': {
    params: RankingParams & {
      modelPath: string;
      data: string;
      dataOptions?: DataOptions;
      seed: number;
      aggregate?: string;
    };
    result: { method: string; aggregate: string; groups: GroupChannelRelevance[]; firstConv?: FirstConvFilters };
  };
  /**
   * Prune a share of the active weights into the NEW folder `out` (never over the input): TF.js as
   * out/model.json, .keras / .h5 / .onnx as one file in it named after the input.
   */
  prune: {
    params: RankingParams &
      StructuredParams & {
        modelPath: string;
        data: string;
        dataOptions?: DataOptions;
        seed: number;
        fraction: number;
        includeBias?: boolean;
        /** Fine-tune the surviving weights this many epochs, mask held (default 0). */
        finetune?: number;
        out: string;
        /** Default: the input's format. */
        format?: ModelFormat;
      };
    result: {
      /** The model file written. */
      modelFile: string;
      format: ModelFormat;
      /** Same as modelFile (kept for callers written when only TF.js was written). */
      modelJson: string;
      method: string;
      fraction: number;
      prunedNow: number;
      prunedTotal: number;
      candidates: number;
      nParams: number;
      testBefore: number;
      testAfter: number;
      /** After fine-tuning, when asked. */
      testFinetuned?: number;
      metric: 'accuracy' | 'mse';
      /** With `structured`: channels removed of the removable ones. */
      removedChannels?: number;
      removableChannels?: number;
    };
  };
  /** A physically smaller student in the new folder `out` (model.json, keras-config.json, student.json). */
  'export-student': {
    params: RankingParams &
      StructuredParams & {
        modelPath: string;
        data: string;
        dataOptions?: DataOptions;
        seed: number;
        fraction?: number;
        widths?: number[];
        dropUnusedInputs?: boolean;
        /** With `structured`: fold BatchNormalization into the layer before it. */
        foldBn?: boolean;
        /** With `structured`: fine-tune the student this many epochs. */
        finetune?: number;
        out: string;
        /** The student's format (default: the teacher's). */
        format?: ModelFormat;
      };
    result: {
      out: string;
      modelJson: string;
      studentJson: string;
      widthsBefore: number[];
      widthsAfter: number[];
      paramsBefore: number;
      paramsAfter: number;
      bytesBefore: number;
      bytesAfter: number;
      /** With `structured`: multiply-adds per example and the measured latency (ms, backend named). */
      macsBefore?: number;
      macsAfter?: number;
      latency?: { backend: string; teacherMs: number; studentMs: number };
    };
  };
  /** Distil a teacher into a student (or target widths); the labels-only baseline is always reported. */
  distill: {
    /**
     * `method` + options: the ranking that selects the teacher's neurons for `widths`; `seeds` = how many, from `seed`.
     */
    params: Partial<RankingParams> & {
      teacherPath: string;
      studentPath?: string;
      widths?: number[];
      data: string;
      dataOptions?: DataOptions;
      seed: number;
      temperature: number;
      alpha: number;
      epochs: number;
      seeds: number;
      out: string;
      /** The distilled student's format (default: the teacher's). */
      format?: ModelFormat;
    };
    result: {
      out: string;
      report: string;
      /** The distilled student written into `out` (model.json for TF.js, else the .keras/.h5/.onnx file). */
      modelFile: string;
      format: ModelFormat;
      metric: 'accuracy' | 'mse';
      rows: { name: string; mean: number; sd: number }[];
    };
  };
  /** Gradient-variance ordering (essay section 3) with its figures. */
  'gradient-variance': {
    params: {
      modelPath: string;
      data: string;
      dataOptions?: DataOptions;
      seed: number;
      estimator: 'essay' | 'per-sample';
      mode: 'diag' | 'block';
      steps: number;
    };
    result: {
      variances: number[];
      order: number[];
      ranks: number[];
      figures: { variances: PlotlyFigure; covariance?: PlotlyFigure };
    };
  };
  /**
   * The freeze timeline on the model's own data: from the model's weights (a clone), `steps` Adam
   * steps with the variance tracker, `share` of the weights (least variance first; biases keep
   * training) frozen at step `t0`, and the same steps without freezing (same batches).
   * `lossFrozen[i]` / `lossPlain[i]` = minibatch loss of step i + 1; `weights` = freezing candidates.
   */
  'freeze-timeline': {
    params: {
      modelPath: string;
      data: string;
      dataOptions?: DataOptions;
      seed: number;
      estimator: 'essay' | 'per-sample';
      steps: number;
      t0: number;
      share: number;
    };
    result: {
      share: number;
      t0: number;
      steps: number;
      weights: number;
      events: { step: number; frozen: number; totalFrozen: number }[];
      lossFrozen: number[];
      lossPlain: number[];
      frozenLayers: string[];
      figure: PlotlyFigure;
    };
  };
  /** Forget a notebook's kernel state (the variables its cells defined): "Restart Notebook Kernel". */
  'cell-reset': { params: { notebook: string }; result: { cleared: boolean } };
}

export type JobKind = keyof JobSpecs;
export type JobParams<K extends JobKind> = JobSpecs[K]['params'];
export type JobResult<K extends JobKind> = JobSpecs[K]['result'];

export const JOB_KINDS: readonly JobKind[] = [
  'info',
  'demo-figure',
  'long-demo',
  'relevance',
  'cell',
  'analysis',
  'whatif',
  'prune',
  'export-student',
  'distill',
  'gradient-variance',
  'freeze-timeline',
  'cell-reset',
  'groups',
  'channel-relevance',
];

/**
 * Jobs the VS Code commands want beyond JOB_KINDS (none: every command's job ships). The worker
 * announces what it supports in its `ready` message; a command whose job is missing names it.
 */
export const PLANNED_JOBS: readonly string[] = [];
export type PlannedJob = string;
