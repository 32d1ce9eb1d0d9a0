// What a loader knows of the model it loads for: the input (shape and layout), what it predicts
// (task, outputs, class names) and the pixel range its inputs are in. Labels read from a user's
// files are matched to the model's classes here, so a label the model does not know is refused.
import { badInput } from '../errors';
import { DATA_DEFAULTS } from '../options';
import type { Task } from './dataset';
import type { GraphSpec } from '../graphSpec';
import type { PruneScopeMetadata } from '../model/metadata';
import { elements, type InputSpec, type Layout } from './inputSpec';

export interface ModelTargets {
  task: Task;
  /** Output units: classes of a classifier, 1 for regression. */
  outputs: number;
  /** The model's class names (its metadata), index = output unit. */
  labelNames?: string[];
}

export interface PixelScale {
  /** 1: pixels fed in [0, 1]; 255: fed as 0..255. */
  scale: 1 | 255;
  /** Why: '--scale', 'the model's metadata', 'a leading Rescaling layer', 'default'. */
  reason: string;
}

export interface ModelInput {
  input: InputSpec;
  targets?: ModelTargets;
  pixelScale?: PixelScale;
}

export const DEFAULT_PIXEL_SCALE: PixelScale = {
  scale: DATA_DEFAULTS.pixelScale,
  reason: 'the default: the model records no pixel range and has no leading Rescaling layer',
};

export const pixelRange = (s: PixelScale) => ({
  range: s.scale === 1 ? ('[0, 1]' as const) : ('[0, 255]' as const),
  reason: s.reason,
});

/**
 * Class folder names to the model's output units: by name when the model names its classes,
 * else in sorted order (as Keras and torchvision number them). Returns the label of each class
 * and the data set's class names.
 */
export function mapClassNames(
  classes: string[],
  targets: ModelTargets | undefined,
  file: string,
): { labelOf: number[]; labelNames: string[] } {
  if (!targets) return { labelOf: classes.map((_, i) => i), labelNames: classes };
  if (targets.task !== 'classification')
    throw badInput(`class folders (${classes.length} classes) for a regression model`, {
      file,
      expected: 'data with numeric targets (a CSV or arrays) for a regression model',
    });
  const names = targets.labelNames;
  if (names) {
    const labelOf = classes.map((c) => {
      const k = names.indexOf(c);
      if (k < 0)
        throw badInput(`class folder "${c}" is not one of the model's classes`, {
          file,
          expected: `class folders named among the model's classes ${listNames(names)}`,
        });
      return k;
    });
    return { labelOf, labelNames: names };
  }
  if (classes.length !== targets.outputs)
    throw badInput(`${classes.length} class folders for a model with ${targets.outputs} outputs`, {
      file,
      expected: `${targets.outputs} class folders (the model's metadata names no classes, so folders map in sorted order)`,
    });
  return { labelOf: classes.map((_, i) => i), labelNames: classes };
}

export function listNames(names: string[], max = 12): string {
  const shown = names.slice(0, max).map((n) => `"${n.length > 40 ? n.slice(0, 40) + '...' : n}"`);
  return `${shown.join(', ')}${names.length > max ? `, ... (${names.length} in all)` : ''}`;
}

/** What a loaded model says about its input and outputs, whatever its format. */
export interface ModelFacts {
  /** Declared input shape without the batch dimension, NHWC (e.g. [28, 28] before a Flatten). */
  inputShape: number[];
  /** Values per input row; the declared shape is used when its size agrees. */
  inputSize: number;
  inputLayout?: Layout;
  task: Task;
  outputs: number;
  metadata?: PruneScopeMetadata;
  graph?: GraphSpec;
}

export function modelInputOf(f: ModelFacts): ModelInput {
  const shape = f.inputShape.length && elements(f.inputShape) === f.inputSize ? f.inputShape : [f.inputSize];
  return {
    input: { shape: [...shape], layout: f.inputLayout ?? f.graph?.inputLayout ?? 'NHWC' },
    targets: {
      task: f.task,
      outputs: f.outputs,
      ...(f.metadata?.labelNames ? { labelNames: f.metadata.labelNames } : {}),
    },
    pixelScale: impliedPixelScale(f.metadata, f.graph),
  };
}

/**
 * The pixel range a model expects: what its metadata records; else 0..255 when its first layer
 * (past identity layers such as random augmentation) is a Rescaling that shrinks its input
 * (1/255, 1/127.5); else [0, 1].
 */
export function impliedPixelScale(metadata?: PruneScopeMetadata, graph?: GraphSpec): PixelScale {
  const stored = metadata?.preprocessing?.pixelScale;
  if (stored === 1 || stored === 255)
    return { scale: stored, reason: "the model's metadata (preprocessing.pixelScale)" };
  if (graph && graph.inputs.length === 1) {
    let from = graph.inputs[0].name;
    for (;;) {
      const next = graph.nodes.filter((n) => n.inputs.includes(from));
      if (next.length !== 1) break;
      const n = next[0];
      if (n.className === 'Identity') {
        from = n.name;
        continue;
      }
      if (n.className === 'Rescaling') {
        const s = (n.config as { scale: number | number[] }).scale;
        const scales = Array.isArray(s) ? s : [s];
        if (scales.every((v) => v > 0 && v < 0.1))
          return { scale: 255, reason: `a leading Rescaling layer "${n.name}" (scale ${scales[0].toPrecision(4)})` };
      }
      break;
    }
  }
  return DEFAULT_PIXEL_SCALE;
}
