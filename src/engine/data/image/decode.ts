// One image file to pixels, by its content (not its extension): PNG through pngjs, JPEG through
// jpeg-js, BMP through our own reader. Each header's size is checked against the limits before
// the decoder allocates; a decoder's own failure becomes a bad-input error naming the file.
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { PruneScopeError, badInput } from '../../errors';
import { decodeBmp } from './bmp';
import { checkSize, DEFAULT_IMAGE_LIMITS, type DecodedImage, type ImageLimits } from './decoded';

export type { DecodedImage, ImageLimits } from './decoded';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function imageFormat(b: Uint8Array): DecodedImage['format'] | undefined {
  if (b.length >= 8 && PNG_MAGIC.every((m, i) => b[i] === m)) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  return undefined;
}

export function decodeImage(b: Uint8Array, file: string, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): DecodedImage {
  const format = imageFormat(b);
  if (!format) {
    const head = Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
    throw new PruneScopeError('unsupported', `not a PNG, JPEG or BMP image (starts with ${head || 'nothing'})`, {
      file,
      expected: 'a .png, .jpg/.jpeg or .bmp image',
    });
  }
  try {
    if (format === 'bmp') return decodeBmp(b, file, limits);
    if (format === 'png') return decodePng(b, file, limits);
    return decodeJpeg(b, file, limits);
  } catch (e) {
    if (e instanceof PruneScopeError) throw e;
    throw badInput(
      `cannot decode the ${format.toUpperCase()} image: ${String((e as Error)?.message ?? e).slice(0, 200)}`,
      {
        file,
        expected: `a valid ${format.toUpperCase()} file (is it truncated or corrupt?)`,
      },
    );
  }
}

function decodePng(b: Uint8Array, file: string, limits: ImageLimits): DecodedImage {
  if (b.length < 24 || String.fromCharCode(b[12], b[13], b[14], b[15]) !== 'IHDR')
    throw badInput('the PNG has no IHDR header chunk', { file, expected: 'a valid PNG file' });
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  checkSize(v.getUint32(16), v.getUint32(20), file, limits);
  const png = PNG.sync.read(Buffer.from(b.buffer, b.byteOffset, b.byteLength), { checkCRC: true });
  const { width, height } = png;
  const rgba = png.data;
  if (rgba.length !== width * height * 4) throw badInput('the PNG decoded to the wrong number of pixels', { file });
  const channels = png.color ? 3 : 1;
  const out = new Uint8Array(width * height * channels);
  const n = width * height;
  if (channels === 1) for (let i = 0; i < n; i++) out[i] = rgba[4 * i];
  else
    for (let i = 0; i < n; i++) {
      out[3 * i] = rgba[4 * i];
      out[3 * i + 1] = rgba[4 * i + 1];
      out[3 * i + 2] = rgba[4 * i + 2];
    }
  return { width, height, channels, data: out, format: 'png' };
}

/** SOFn markers (baseline, extended, progressive, lossless; Huffman and arithmetic). */
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** Size and component count from the frame header, found by walking the marker segments. */
function jpegFrame(b: Uint8Array, file: string): { width: number; height: number; components: number } {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) throw badInput(`no JPEG marker at byte ${i}`, { file, expected: 'a valid JPEG file' });
    const m = b[i + 1];
    if (m === 0xff) {
      i++;
      continue;
    }
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      i += 2;
      continue;
    }
    const len = (b[i + 2] << 8) | b[i + 3];
    if (SOF.has(m)) {
      if (i + 10 > b.length) break;
      return { height: (b[i + 5] << 8) | b[i + 6], width: (b[i + 7] << 8) | b[i + 8], components: b[i + 9] };
    }
    if (m === 0xda || m === 0xd9) break;
    i += 2 + len;
  }
  throw badInput('the JPEG has no frame header before its image data', {
    file,
    expected: 'a valid JPEG file (is it truncated?)',
  });
}

function decodeJpeg(b: Uint8Array, file: string, limits: ImageLimits): DecodedImage {
  const frame = jpegFrame(b, file);
  if (frame.width === 0 || frame.height === 0)
    throw badInput(`the JPEG frame is ${frame.width} x ${frame.height} pixels`, {
      file,
      expected: 'a positive width and height',
    });
  checkSize(frame.width, frame.height, file, limits);
  const img = jpeg.decode(b, {
    useTArray: true,
    formatAsRGBA: false,
    // A truncated file must fail, not come back half grey.
    tolerantDecoding: false,
    maxResolutionInMP: limits.maxPixels / 1e6,
    maxMemoryUsageInMB: Math.ceil((limits.maxPixels * 8) / 2 ** 20) + 64,
  });
  const { width, height, data } = img;
  if (data.length !== width * height * 3) throw badInput('the JPEG decoded to the wrong number of pixels', { file });
  if (frame.components !== 1) return { width, height, channels: 3, data, format: 'jpeg' };
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = data[3 * i];
  return { width, height, channels: 1, data: out, format: 'jpeg' };
}
