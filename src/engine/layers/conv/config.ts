// Checks shared by the window layers (Conv2D, DepthwiseConv2D, pooling): an image input [h, w, c],
// positive window and strides, dilation 1, and a non-empty output. Errors name the layer.
import type { NodeSpec, Pair, Padding, Shape } from '../../graphSpec';
import type { PruneScopeError } from '../../errors';
import { layerError } from '../util';
import { axisGeometry } from './geometry';
import type { WindowSpec } from './conv2d';

const positivePair = (p: unknown): p is Pair =>
  Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v > 0);

/** The window spec of a node, or a PruneScopeError naming what is wrong. */
export function windowSpec(
  node: NodeSpec,
  inputShape: Shape,
  window: Pair,
  strides: Pair,
  padding: Padding,
  dilation: Pair = [1, 1],
  windowField = 'kernel_size',
): WindowSpec {
  const fail = (msg: string, expected: string): PruneScopeError => layerError(node, msg, expected);
  if (inputShape.length !== 3)
    throw fail(`input has shape [${inputShape.join(', ')}]`, 'an image input [height, width, channels]');
  if (!positivePair(window)) throw fail(`${windowField} = ${JSON.stringify(window)}`, 'two positive integers');
  if (!positivePair(strides)) throw fail(`strides = ${JSON.stringify(strides)}`, 'two positive integers');
  if (padding !== 'same' && padding !== 'valid')
    throw fail(`padding = ${JSON.stringify(padding)}`, "'same' or 'valid'");
  if (!(dilation[0] === 1 && dilation[1] === 1))
    throw fail(
      `dilation_rate = ${JSON.stringify(dilation)}`,
      'dilation_rate (1, 1) (dilated convolutions are not supported)',
    );
  const oh = axisGeometry(inputShape[0], window[0], strides[0], padding).out;
  const ow = axisGeometry(inputShape[1], window[1], strides[1], padding).out;
  if (oh <= 0 || ow <= 0)
    throw fail(
      `a ${window[0]}x${window[1]} window with 'valid' padding on a ${inputShape[0]}x${inputShape[1]} input leaves no output`,
      'a window no larger than the input',
    );
  return { kernelSize: window, strides, padding };
}
