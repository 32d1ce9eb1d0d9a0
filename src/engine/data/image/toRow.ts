// A decoded image to one model input row, in the order TensorFlow's image loaders use: channels
// converted (gray -> RGB by copying, RGB -> gray by ITU-R 601 luma, as PIL's convert('L')), then
// resized bilinearly with half-pixel centres (tf.image.resize, no antialiasing), then scaled.
import type { DecodedImage } from './decoded';

export const LUMA = [0.299, 0.587, 0.114] as const;
export const RESIZE_METHOD = 'bilinear, half-pixel centres, no antialiasing (as tf.image.resize)';

export interface RowTarget {
  height: number;
  width: number;
  channels: 1 | 3;
  /** Pixels fed in [0, 1] (1) or 0..255 (255): a value v becomes v * scale / 255, as v / 255 for 1. */
  scale: 1 | 255;
}

/** Writes height x width x channels values into `out` at `at`. */
export function imageToRow(img: DecodedImage, t: RowTarget, out: Float32Array, at: number): void {
  const c = t.channels;
  const src = convertChannels(img, c);
  if (img.width === t.width && img.height === t.height) {
    for (let i = 0; i < src.length; i++) out[at + i] = (src[i] * t.scale) / 255;
    return;
  }
  resizeBilinear(src, img.height, img.width, c, t.height, t.width, out, at, t.scale);
}

function convertChannels(img: DecodedImage, c: 1 | 3): ArrayLike<number> {
  const d = img.data;
  if (img.channels === c) return d;
  const n = img.width * img.height;
  if (c === 3) {
    const out = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = d[i];
    return out;
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = LUMA[0] * d[3 * i] + LUMA[1] * d[3 * i + 1] + LUMA[2] * d[3 * i + 2];
  return out;
}

/** out(y, x) from the source position ((y + 0.5) * h0 / h - 0.5, (x + 0.5) * w0 / w - 0.5), edges clamped. */
export function resizeBilinear(
  src: ArrayLike<number>,
  h0: number,
  w0: number,
  c: number,
  h: number,
  w: number,
  out: Float32Array,
  at = 0,
  scale = 255,
): void {
  const xs = axis(w0, w);
  for (let y = 0; y < h; y++) {
    const sy = Math.max(0, (y + 0.5) * (h0 / h) - 0.5);
    const y0 = Math.min(Math.floor(sy), h0 - 1);
    const y1 = Math.min(y0 + 1, h0 - 1);
    const dy = sy - Math.floor(sy);
    for (let x = 0; x < w; x++) {
      const { lo, hi, f } = xs[x];
      for (let ch = 0; ch < c; ch++) {
        const tl = src[(y0 * w0 + lo) * c + ch];
        const tr = src[(y0 * w0 + hi) * c + ch];
        const bl = src[(y1 * w0 + lo) * c + ch];
        const br = src[(y1 * w0 + hi) * c + ch];
        const top = tl + (tr - tl) * f;
        const bottom = bl + (br - bl) * f;
        out[at + (y * w + x) * c + ch] = ((top + (bottom - top) * dy) * scale) / 255;
      }
    }
  }
}

function axis(n0: number, n: number): { lo: number; hi: number; f: number }[] {
  return Array.from({ length: n }, (_, x) => {
    const s = Math.max(0, (x + 0.5) * (n0 / n) - 0.5);
    const lo = Math.min(Math.floor(s), n0 - 1);
    return { lo, hi: Math.min(lo + 1, n0 - 1), f: s - Math.floor(s) };
  });
}
