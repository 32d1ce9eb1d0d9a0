// The dense network `prunescope train` and the notebook's train() build for a data set: hidden
// layers of the given widths, then an output layer that fits the task (softmax over K classes, or
// one linear output). The widths are checked against the data, naming where they came from.
import { badInput } from '../errors';
import type { Task } from '../options';
import type { HiddenActivation } from './activations';
import type { NetworkSpec } from './denseChain';

/**
 * Layer widths (hidden..., output), checked against the data's output width. `field` names where
 * they came from: the CLI's --layers or the notebook's train({ layers }). Undefined: one hidden
 * layer as wide as the input.
 */
export function mlpSpec(
  features: number,
  outputs: number,
  task: Task,
  layers: unknown,
  activation: HiddenActivation,
  field = '--layers',
): NetworkSpec {
  const widths = layers === undefined ? [features, outputs] : layers;
  if (!Array.isArray(widths) || widths.length === 0 || widths.some((w) => !Number.isInteger(w) || w < 1)) {
    throw badInput(`got ${JSON.stringify(widths)}`, {
      field,
      expected: 'positive integer widths: hidden layers then the output',
    });
  }
  const out = widths[widths.length - 1] as number;
  if (out !== outputs) {
    const example = [...widths, outputs].join(', ');
    throw badInput(`the last width is ${out}, the output layer`, {
      field,
      expected: `hidden widths then ${outputs} (${task === 'classification' ? `${outputs} classes` : 'one regression output'}), e.g. ${example}`,
    });
  }
  return {
    inputSize: features,
    layers: widths.map((units, i) =>
      i === widths.length - 1
        ? { name: 'output', units, activation: task === 'classification' ? ('softmax' as const) : ('linear' as const) }
        : { name: `hidden${i + 1}`, units, activation },
    ),
  };
}
