// A decoded image as the readers hand it over, and the size limits every reader checks against
// the file's header before it allocates pixels.
import { PruneScopeError } from '../../errors';

export interface DecodedImage {
  width: number;
  height: number;
  /** 1 (grayscale) or 3 (RGB); alpha is dropped, as TensorFlow's decoders do for 1 or 3 channels. */
  channels: 1 | 3;
  /** Row-major, top row first, `channels` interleaved values per pixel. */
  data: Uint8Array;
  format: 'png' | 'jpeg' | 'bmp';
}

export interface ImageLimits {
  maxSide: number;
  maxPixels: number;
  maxFileBytes: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = {
  maxSide: 16384,
  maxPixels: 2 ** 26,
  maxFileBytes: 256 * 2 ** 20,
};

export function checkSize(width: number, height: number, file: string, limits: ImageLimits): void {
  if (width > limits.maxSide || height > limits.maxSide || width * height > limits.maxPixels)
    throw new PruneScopeError('too-large', `the image is ${width} x ${height} pixels`, {
      file,
      expected: `at most ${limits.maxSide} pixels a side and ${limits.maxPixels} pixels in all`,
    });
}
