// Windows bitmaps (.bmp): core (OS/2) and info headers (v1-v5), 1/4/8-bit palettes, 16/24/32-bit
// pixels with or without bit-field masks, bottom-up or top-down rows. RLE and embedded JPEG/PNG
// are refused. Every size is checked against the file before a pixel is read.
import { PruneScopeError, badInput } from '../../errors';
import { checkSize, type DecodedImage, type ImageLimits } from './decoded';

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

interface Mask {
  mask: number;
  shift: number;
  max: number;
}

function mask(m: number, file: string, channel: string): Mask {
  if (m === 0)
    throw new PruneScopeError('unsupported', `the ${channel} bit mask is empty`, {
      file,
      expected: 'non-zero red, green and blue masks',
    });
  let shift = 0;
  while (((m >>> shift) & 1) === 0) shift++;
  const bits = (m >>> shift).toString(2);
  if (!/^1+$/.test(bits))
    throw new PruneScopeError('unsupported', `the ${channel} bit mask 0x${m.toString(16)} is not contiguous`, {
      file,
      expected: 'contiguous bit masks',
    });
  return { mask: m, shift, max: 2 ** bits.length - 1 };
}

const channelOf = (px: number, m: Mask) => Math.round((((px & m.mask) >>> m.shift) * 255) / m.max);

export function decodeBmp(b: Uint8Array, file: string, limits: ImageLimits): DecodedImage {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const bad = (what: string, expected = 'a valid BMP file') => badInput(what, { file, expected });
  if (b.length < 26) throw bad(`the file is ${b.length} bytes long, too short for a bitmap header`);
  const pixelOffset = v.getUint32(10, true);
  const dib = v.getUint32(14, true);
  let width: number, height: number, bpp: number;
  let compression = BI_RGB;
  let colorsUsed = 0;
  let paletteEntry = 4;
  let masks: number[] | undefined;
  if (dib === 12) {
    width = v.getUint16(18, true);
    height = v.getUint16(20, true);
    bpp = v.getUint16(24, true);
    paletteEntry = 3;
  } else if ([40, 52, 56, 64, 108, 124].includes(dib)) {
    if (b.length < 14 + dib) throw bad(`the file ends inside its ${dib}-byte header`);
    width = v.getInt32(18, true);
    height = v.getInt32(22, true);
    bpp = v.getUint16(28, true);
    compression = v.getUint32(30, true);
    colorsUsed = v.getUint32(46, true);
    if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
      // Masks follow a 40-byte header; later headers hold them at the same place.
      const n = compression === BI_ALPHABITFIELDS ? 4 : 3;
      if (b.length < 54 + 4 * n) throw bad('the file ends inside its bit masks');
      masks = Array.from({ length: n }, (_, k) => v.getUint32(54 + 4 * k, true));
    }
  } else {
    throw new PruneScopeError('unsupported', `bitmap header of ${dib} bytes`, {
      file,
      expected: 'a BITMAPCOREHEADER (12) or BITMAPINFOHEADER (40, 52, 56, 108, 124 bytes)',
    });
  }
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS)
    throw new PruneScopeError('unsupported', `bitmap compression ${compression} (RLE, JPEG or PNG inside a BMP)`, {
      file,
      expected: 'uncompressed pixels (compression 0 or 3)',
    });
  if (![1, 4, 8, 16, 24, 32].includes(bpp))
    throw new PruneScopeError('unsupported', `${bpp} bits per pixel`, { file, expected: '1, 4, 8, 16, 24 or 32' });
  if (masks && bpp !== 16 && bpp !== 32)
    throw bad(`bit masks with ${bpp} bits per pixel`, 'masks only for 16 or 32 bits');
  const topDown = height < 0;
  const h = Math.abs(height);
  if (width <= 0 || h === 0) throw bad(`the image is ${width} x ${height} pixels`, 'a positive width and height');
  checkSize(width, h, file, limits);
  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  if (pixelOffset + stride * h > b.length)
    throw bad(
      `the pixel data (${stride * h} bytes from offset ${pixelOffset}) runs past the end of the ${b.length}-byte file`,
      'a complete BMP file (is it truncated?)',
    );

  let palette: Uint8Array | undefined;
  let gray = false;
  if (bpp <= 8) {
    const count = colorsUsed || 2 ** bpp;
    if (count > 2 ** bpp) throw bad(`the palette has ${count} colours for ${bpp}-bit pixels`, `at most ${2 ** bpp}`);
    const start = 14 + dib;
    if (start + count * paletteEntry > pixelOffset)
      throw bad(`the palette of ${count} colours overlaps the pixel data`, 'the palette before the pixel offset');
    palette = new Uint8Array(count * 3);
    gray = true;
    for (let k = 0; k < count; k++) {
      const p = start + k * paletteEntry;
      palette[3 * k] = b[p + 2];
      palette[3 * k + 1] = b[p + 1];
      palette[3 * k + 2] = b[p];
      gray &&= b[p] === b[p + 1] && b[p + 1] === b[p + 2];
    }
  }
  const channels = gray ? 1 : 3;
  const out = new Uint8Array(width * h * channels);
  const [mr, mg, mb] = (masks ?? (bpp === 16 ? [0x7c00, 0x03e0, 0x001f] : [0xff0000, 0x00ff00, 0x0000ff])).map(
    (m, k) => (bpp >= 16 ? mask(m >>> 0, file, ['red', 'green', 'blue'][k]) : undefined),
  );
  for (let y = 0; y < h; y++) {
    const row = pixelOffset + (topDown ? y : h - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      if (palette) {
        const per = 8 / bpp;
        const byte = b[row + Math.floor(x / per)];
        const idx = (byte >> (8 - bpp * ((x % per) + 1))) & ((1 << bpp) - 1);
        if (3 * idx >= palette.length)
          throw bad(`pixel (${x}, ${y}) uses colour ${idx} of a ${palette.length / 3}-colour palette`);
        if (gray) out[o] = palette[3 * idx];
        else out.set(palette.subarray(3 * idx, 3 * idx + 3), o);
      } else if (bpp === 24 && !masks) {
        const p = row + 3 * x;
        out[o] = b[p + 2];
        out[o + 1] = b[p + 1];
        out[o + 2] = b[p];
      } else {
        const px = bpp === 16 ? v.getUint16(row + 2 * x, true) : v.getUint32(row + 4 * x, true);
        out[o] = channelOf(px, mr!);
        out[o + 1] = channelOf(px, mg!);
        out[o + 2] = channelOf(px, mb!);
      }
    }
  }
  return { width, height: h, channels, data: out, format: 'bmp' };
}
