// What a loader needs to know about the model's input: its shape in the engine's layout (NHWC,
// without the batch dimension) and the layout of the model's own framework. Loaders always hand
// back flat NHWC rows; data given in the framework's NCHW order is transposed here.
import { PruneScopeError } from '../errors';

export type Layout = 'NHWC' | 'NCHW';

export interface InputSpec {
  /** Without the batch dimension, in the engine's layout: [features] or [H, W, C]. */
  shape: number[];
  /** GraphSpec.inputLayout: how the model's framework orders an image's values. */
  layout: Layout;
}

export function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The shape of one row as the model's framework lays it out: [C, H, W] for an NCHW image input. */
export function frameworkShape(spec: InputSpec): number[] {
  const s = spec.shape;
  return spec.layout === 'NCHW' && s.length === 3 ? [s[2], s[0], s[1]] : [...s];
}

/** Copies one [C, H, W] row into `dst` at `at` as [H, W, C]. */
export function chwToHwc(src: ArrayLike<number>, c: number, h: number, w: number, dst: Float32Array, at = 0): void {
  if (src.length !== c * h * w) throw new PruneScopeError('internal', `${src.length} values for ${c} x ${h} x ${w}`);
  const hw = h * w;
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) dst[at + p * c + ch] = src[ch * hw + p];
}

export function formatShape(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/** Feature names of an image row (as the built-in MNIST names its pixels) or of a flat row. */
export function featureNamesFor(shape: readonly number[]): string[] {
  const n = elements(shape);
  if (shape.length === 3) {
    const [h, w, c] = shape;
    const names = new Array<string>(n);
    for (let r = 0, k = 0; r < h; r++)
      for (let q = 0; q < w; q++)
        for (let ch = 0; ch < c; ch++, k++) names[k] = c === 1 ? `pixel_${r}_${q}` : `pixel_${r}_${q}_${ch}`;
    return names;
  }
  return Array.from({ length: n }, (_, k) => `x${k}`);
}
