// What a loader knows of the model it loads for: the input (shape and layout), what it predicts
// (task, outputs, class names) and the pixel range its inputs are in. Labels read from a user's
// files are matched to the model's classes here, so a label the model does not know is refused.
import { badInput } from '../errors';
import type { Task } from './dataset';
import type { InputSpec } from './inputSpec';

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

export const DEFAULT_PIXEL_SCALE: PixelScale = { scale: 1, reason: 'the default (no model preference known)' };

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
