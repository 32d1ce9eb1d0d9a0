// Where a window (convolution, pooling) reaches into padding, under TF's rule: `same` gives
// ceil(in / stride) outputs with the odd padded pixel after. A constant input stays constant
// through a window only when no window reaches into zero padding (channel pruning's bias folding).
import type { Pair, Shape } from '../graphSpec';

/** Output length and padding before / after of one spatial axis under TF's rules. */
export function padding1d(
  inSize: number,
  k: number,
  stride: number,
  dilation: number,
  mode: 'same' | 'valid',
): { out: number; before: number; after: number } {
  const kEff = (k - 1) * dilation + 1;
  if (mode === 'valid') return { out: Math.floor((inSize - kEff) / stride) + 1, before: 0, after: 0 };
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + kEff - inSize, 0);
  return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) };
}

/** Spatial geometry of a windowed layer (convolution or pooling) on an [H, W, C] input. */
export function windowGeometry(
  input: Shape,
  kernel: Pair,
  strides: Pair,
  dilation: Pair,
  padding: 'same' | 'valid',
): { outH: number; outW: number; padded: boolean } {
  const h = padding1d(input[0], kernel[0], strides[0], dilation[0], padding);
  const w = padding1d(input[1], kernel[1], strides[1], dilation[1], padding);
  return { outH: h.out, outW: w.out, padded: h.before + h.after + w.before + w.after > 0 };
}
