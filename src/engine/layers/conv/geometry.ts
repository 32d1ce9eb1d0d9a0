// The shape of a 2-D window operation (convolution, depthwise convolution, pooling) on NHWC
// tensors, with TensorFlow's padding rules: 'valid' uses only whole windows; 'same' gives
// ceil(in / stride) outputs and pads max((out - 1) * stride + window - in, 0) in total, the smaller
// half before the first row / column. Dilation is 1 throughout.
import type { Pair, Padding } from '../../graphSpec';

export interface WindowGeometry {
  /** Batch rows (samples, or rows of a curvature block). */
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  /** Padding before the first row and column. */
  pt: number;
  pl: number;
  oh: number;
  ow: number;
  /** Output channels. */
  co: number;
}

/** Output size and padding before the start along one axis. */
export function axisGeometry(
  size: number,
  window: number,
  stride: number,
  padding: Padding,
): { out: number; before: number } {
  if (padding === 'valid') return { out: Math.max(0, Math.floor((size - window) / stride) + 1), before: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + window - size, 0);
  return { out, before: Math.floor(total / 2) };
}

/** Geometry of a window op on inputs [n, h, w, c] with `co` output channels. */
export function windowGeometry(
  n: number,
  inShape: number[],
  kernel: Pair,
  strides: Pair,
  padding: Padding,
  co: number,
): WindowGeometry {
  const [h, w, c] = inShape;
  const y = axisGeometry(h, kernel[0], strides[0], padding);
  const x = axisGeometry(w, kernel[1], strides[1], padding);
  return {
    n,
    h,
    w,
    c,
    kh: kernel[0],
    kw: kernel[1],
    sh: strides[0],
    sw: strides[1],
    pt: y.before,
    pl: x.before,
    oh: y.out,
    ow: x.out,
    co,
  };
}

/** Output height and width of a window op on an [h, w, c] input. */
export function outputSize(
  inputShape: number[],
  spec: { kernelSize: Pair; strides: Pair; padding: Padding },
): [number, number] {
  return [
    axisGeometry(inputShape[0], spec.kernelSize[0], spec.strides[0], spec.padding).out,
    axisGeometry(inputShape[1], spec.kernelSize[1], spec.strides[1], spec.padding).out,
  ];
}

/** Padding [[top, bottom], [left, right]] as explicit numbers (tfjs accepts them for conv2d). */
export function explicitPadding(g: WindowGeometry): [[number, number], [number, number]] {
  const bottom = Math.max(0, (g.oh - 1) * g.sh + g.kh - g.h - g.pt);
  const right = Math.max(0, (g.ow - 1) * g.sw + g.kw - g.w - g.pl);
  return [
    [g.pt, bottom],
    [g.pl, right],
  ];
}

/** The thirteen int32 the wasm kernels read (wasm/geometry.h), in their order. */
export function packGeometry(g: WindowGeometry): Int32Array {
  return Int32Array.of(g.n, g.h, g.w, g.c, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.oh, g.ow, g.co);
}
