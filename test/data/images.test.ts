// Image decoding against files Pillow wrote (test/fixtures/data/make_fixtures.py) and bitmaps
// built here byte by byte: PNG (gray, RGB, alpha, palette, 16-bit), BMP (1/4/8/16/24/32-bit,
// bottom-up and top-down, bit fields, core header), JPEG against Pillow's decode; bilinear
// resizing against tfjs's resizeBilinear with half-pixel centres; the refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { decodeImage } from '../../src/engine/data/image/decode';
import { imageToRow, resizeBilinear } from '../../src/engine/data/image/toRow';
import { PruneScopeError } from '../../src/engine/errors';
import { Rng } from '../../src/engine/util/random';
import { backend } from '../helpers';
import { imageFixture } from './fixturePaths';

const H = 5;
const W = 7;
/** The fixtures' closed form. */
const v = (r: number, c: number, ch: number) => (37 * r + 11 * c + 101 * ch) % 256;
const expected = (channels: 1 | 3, f: (r: number, c: number, ch: number) => number = v) => {
  const out: number[] = [];
  for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) for (let ch = 0; ch < channels; ch++) out.push(f(r, c, ch));
  return out;
};
const decode = (name: string) => decodeImage(fs.readFileSync(imageFixture(name)), imageFixture(name));

function refusal(bytes: Uint8Array, re: RegExp, code?: string): void {
  try {
    decodeImage(bytes, 'case.img');
  } catch (e) {
    assert.ok(e instanceof PruneScopeError, String(e));
    assert.ok(e.message.startsWith('case.img: '), e.message);
    assert.match(e.message, re);
    if (code) assert.equal(e.code, code, e.message);
    return;
  }
  assert.fail(`accepted, expected ${re}`);
}

test('images: Pillow PNGs (L, LA, RGB, RGBA, 16-bit) decode to the closed form, alpha dropped', () => {
  for (const [name, ch] of [
    ['gray.png', 1],
    ['la.png', 1],
    ['gray16.png', 1],
    ['rgb.png', 3],
    ['rgba.png', 3],
  ] as const) {
    const img = decode(name);
    assert.equal(img.width, W);
    assert.equal(img.height, H);
    assert.equal(img.channels, ch, name);
    assert.deepEqual(Array.from(img.data), expected(ch), name);
  }
});

test('images: Pillow BMPs (8-bit gray palette, 24-bit, 32-bit, 1-bit) decode to the closed form', () => {
  assert.deepEqual(Array.from(decode('gray.bmp').data), expected(1));
  assert.equal(decode('gray.bmp').channels, 1);
  assert.deepEqual(Array.from(decode('rgb.bmp').data), expected(3));
  assert.deepEqual(Array.from(decode('rgba.bmp').data), expected(3));
  const bi = decode('bilevel.bmp');
  assert.equal(bi.channels, 1);
  assert.deepEqual(
    Array.from(bi.data),
    expected(1, (r, c) => (v(r, c, 0) > 128 ? 255 : 0)),
  );
});

test("images: palette PNG and BMP equal Pillow's own RGB conversion of the palette", () => {
  assert.deepEqual(Array.from(decode('palette.png').data), Array.from(decode('palette_expected.png').data));
  assert.deepEqual(Array.from(decode('palette.bmp').data), Array.from(decode('palette_bmp_expected.png').data));
});

test("images: JPEGs (gray, RGB, progressive) close to Pillow's libjpeg decode", () => {
  const ref = JSON.parse(fs.readFileSync(imageFixture('jpeg_reference.json'), 'utf8'));
  for (const name of ['gray.jpg', 'rgb.jpg', 'rgb_progressive.jpg', 'smooth_420.jpg']) {
    const img = decode(name);
    const r = ref[name] as { shape: number[]; values: number[] };
    assert.equal(img.channels, r.shape.length === 2 ? 1 : 3, name);
    assert.equal(img.data.length, r.values.length);
    let worst = 0;
    let sum = 0;
    r.values.forEach((x, i) => {
      worst = Math.max(worst, Math.abs(x - img.data[i]));
      sum += Math.abs(x - img.data[i]);
    });
    // 4:2:0 chroma: libjpeg interpolates it ("fancy upsampling"), jpeg-js repeats it: on this
    // gradient the RGB values differ by 3.5 levels on average, without bias.
    const subsampled = name.includes('420');
    assert.ok(worst <= (subsampled ? 10 : 2), `${name}: max difference ${worst}`);
    assert.ok(sum / r.values.length <= (subsampled ? 4 : 1), `${name}: mean difference ${sum / r.values.length}`);
  }
});

// ---------- hand-built bitmaps ----------

interface BmpSpec {
  bpp: number;
  width: number;
  height: number;
  topDown?: boolean;
  compression?: number;
  masks?: number[];
  palette?: number[][];
  dib?: 12 | 40;
  pixel: (r: number, c: number) => number;
}

/** Row r (top first) holds pixel(r, c) as a bpp-bit value, stored bottom-up unless topDown. */
function bmp(s: BmpSpec): Uint8Array {
  const dib = s.dib ?? 40;
  const entry = dib === 12 ? 3 : 4;
  const pal = s.palette ?? [];
  const maskBytes = s.masks ? 4 * s.masks.length : 0;
  const offset = 14 + dib + maskBytes + pal.length * entry;
  const stride = Math.floor((s.bpp * s.width + 31) / 32) * 4;
  const b = Buffer.alloc(offset + stride * s.height);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(offset, 10);
  b.writeUInt32LE(dib, 14);
  if (dib === 12) {
    b.writeUInt16LE(s.width, 18);
    b.writeUInt16LE(s.height, 20);
    b.writeUInt16LE(1, 22);
    b.writeUInt16LE(s.bpp, 24);
  } else {
    b.writeInt32LE(s.width, 18);
    b.writeInt32LE(s.topDown ? -s.height : s.height, 22);
    b.writeUInt16LE(1, 26);
    b.writeUInt16LE(s.bpp, 28);
    b.writeUInt32LE(s.compression ?? (s.masks ? 3 : 0), 30);
    b.writeUInt32LE(pal.length, 46);
  }
  s.masks?.forEach((m, k) => b.writeUInt32LE(m >>> 0, 14 + dib + 4 * k));
  pal.forEach(([r, g, bl], k) => {
    const p = 14 + dib + maskBytes + k * entry;
    b[p] = bl;
    b[p + 1] = g;
    b[p + 2] = r;
  });
  for (let r = 0; r < s.height; r++) {
    const row = offset + (s.topDown ? r : s.height - 1 - r) * stride;
    for (let c = 0; c < s.width; c++) {
      const px = s.pixel(r, c);
      const bit = c * s.bpp;
      if (s.bpp < 8) b[row + (bit >> 3)] |= px << (8 - s.bpp - (bit & 7));
      else if (s.bpp === 8) b[row + c] = px;
      else if (s.bpp === 16) b.writeUInt16LE(px, row + 2 * c);
      else if (s.bpp === 24) b.writeUIntLE(px, row + 3 * c, 3);
      else b.writeUInt32LE(px >>> 0, row + 4 * c);
    }
  }
  return b;
}

const rgbPixel = (r: number, c: number) => (v(r, c, 0) << 16) | (v(r, c, 1) << 8) | v(r, c, 2);

test('bmp: top-down 24-bit, 32-bit bit fields, 16-bit 5-6-5 and 5-5-5, 4-bit palette, core header', () => {
  const top = decodeImage(bmp({ bpp: 24, width: W, height: H, topDown: true, pixel: rgbPixel }), 't.bmp');
  assert.deepEqual(Array.from(top.data), expected(3));
  // 32-bit with masks in the order B, G, R within the word, plus alpha in the top byte.
  const bf = decodeImage(
    bmp({
      bpp: 32,
      width: W,
      height: H,
      compression: 6,
      masks: [0x0000ff00, 0x00ff0000, 0xff000000, 0x000000ff],
      pixel: (r, c) => ((v(r, c, 2) << 24) | (v(r, c, 1) << 16) | (v(r, c, 0) << 8) | 0x11) >>> 0,
    }),
    'bf.bmp',
  );
  assert.deepEqual(Array.from(bf.data), expected(3));
  // 5-6-5: each channel's top bits, scaled back to 0..255 as round(q * 255 / max).
  const q = (x: number, bits: number) => x >> (8 - bits);
  const back = (x: number, bits: number) => Math.round((q(x, bits) * 255) / (2 ** bits - 1));
  const b565 = decodeImage(
    bmp({
      bpp: 16,
      width: W,
      height: H,
      masks: [0xf800, 0x07e0, 0x001f],
      pixel: (r, c) => (q(v(r, c, 0), 5) << 11) | (q(v(r, c, 1), 6) << 5) | q(v(r, c, 2), 5),
    }),
    '565.bmp',
  );
  assert.deepEqual(
    Array.from(b565.data),
    expected(3, (r, c, ch) => back(v(r, c, ch), ch === 1 ? 6 : 5)),
  );
  const b555 = decodeImage(
    bmp({
      bpp: 16,
      width: W,
      height: H,
      pixel: (r, c) => (q(v(r, c, 0), 5) << 10) | (q(v(r, c, 1), 5) << 5) | q(v(r, c, 2), 5),
    }),
    '555.bmp',
  );
  assert.deepEqual(
    Array.from(b555.data),
    expected(3, (r, c, ch) => back(v(r, c, ch), 5)),
  );
  // 4-bit, 16-colour palette of (17 k, 255 - 17 k, 3 k); pixel index (r + c) % 16.
  const pal = Array.from({ length: 16 }, (_, k) => [17 * k, 255 - 17 * k, 3 * k]);
  for (const dib of [40, 12] as const) {
    const p4 = decodeImage(
      bmp({ bpp: 4, width: W, height: H, palette: pal, dib, pixel: (r, c) => (r + c) % 16 }),
      'p4.bmp',
    );
    assert.equal(p4.channels, 3);
    assert.deepEqual(
      Array.from(p4.data),
      expected(3, (r, c, ch) => pal[(r + c) % 16][ch]),
    );
  }
});

test('bmp: RLE, truncated pixels, a palette index past the palette and huge sizes are refused', () => {
  const ok = bmp({ bpp: 24, width: W, height: H, pixel: rgbPixel });
  refusal(
    bmp({ bpp: 8, width: W, height: H, compression: 1, palette: [[0, 0, 0]], pixel: () => 0 }),
    /compression 1 \(RLE/,
    'unsupported',
  );
  refusal(ok.subarray(0, ok.length - 5), /pixel data .* runs past the end of the \d+-byte file/);
  refusal(
    bmp({
      bpp: 8,
      width: W,
      height: H,
      palette: [
        [1, 2, 3],
        [4, 5, 6],
      ],
      pixel: () => 9,
    }),
    /uses colour 9 of a 2-colour palette/,
  );
  const huge = Buffer.from(ok);
  huge.writeInt32LE(100_000, 18);
  huge.writeInt32LE(100_000, 22);
  refusal(huge, /the image is 100000 x 100000 pixels/, 'too-large');
  const zero = Buffer.from(ok);
  zero.writeInt32LE(0, 18);
  refusal(zero, /0 x 5 pixels/);
  refusal(ok.subarray(0, 20), /too short for a bitmap header/);
  refusal(
    bmp({ bpp: 32, width: 2, height: 2, masks: [0xf0f0, 0xff00, 0xff], pixel: () => 0 }),
    /red bit mask 0xf0f0 is not contiguous/,
  );
});

test('png/jpeg: truncated files, bad CRCs, huge headers and unknown formats are refused', () => {
  const png = fs.readFileSync(imageFixture('rgb.png'));
  refusal(png.subarray(0, png.length - 20), /cannot decode the PNG/);
  const crc = Buffer.from(png);
  crc[crc.length - 20] ^= 0xff;
  refusal(crc, /cannot decode the PNG/);
  const big = Buffer.from(png);
  big.writeUInt32BE(60_000, 16);
  refusal(big, /the image is 60000 x 5 pixels/, 'too-large');
  const jpg = fs.readFileSync(imageFixture('rgb.jpg'));
  refusal(jpg.subarray(0, Math.floor(jpg.length / 2)), /cannot decode the JPEG|JPEG/);
  refusal(jpg.subarray(0, 40), /no frame header/);
  refusal(Buffer.from('GIF89a....'), /not a PNG, JPEG or BMP image \(starts with 47 49 46 38\)/, 'unsupported');
});

// ---------- pixels to rows ----------

test('resize: bilinear with half-pixel centres equals tfjs resizeBilinear (halfPixelCenters)', async () => {
  await backend();
  const rng = new Rng(5);
  for (const [h0, w0, h, w, c] of [
    [5, 7, 11, 4, 3],
    [28, 28, 14, 14, 1],
    [9, 6, 32, 32, 3],
    [3, 3, 2, 5, 1],
  ]) {
    const src = Float32Array.from({ length: h0 * w0 * c }, () => rng.int(256));
    const out = new Float32Array(h * w * c);
    resizeBilinear(src, h0, w0, c, h, w, out);
    const ref = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(src, [h0, w0, c]), [h, w], false, true).dataSync());
    let worst = 0;
    ref.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - out[i]))));
    assert.ok(worst < 1e-3, `${h0}x${w0} -> ${h}x${w}: ${worst}`);
  }
});

test('toRow: gray <-> RGB conversion, then scale: closed forms', () => {
  const rgb = decode('rgb.png');
  const gray = new Float32Array(H * W);
  imageToRow(rgb, { height: H, width: W, channels: 1, scale: 1 }, gray, 0);
  const want = expected(1, (r, c) => (0.299 * v(r, c, 0) + 0.587 * v(r, c, 1) + 0.114 * v(r, c, 2)) / 255);
  gray.forEach((x, i) => assert.ok(Math.abs(x - want[i]) < 1e-6, `${x} vs ${want[i]}`));
  const three = new Float32Array(H * W * 3);
  imageToRow(decode('gray.png'), { height: H, width: W, channels: 3, scale: 255 }, three, 0);
  assert.deepEqual(
    Array.from(three),
    expected(3, (r, c) => v(r, c, 0)),
  );
});

test('toRow: a PNG written by pngjs itself at 28 x 28 is not resized and keeps its values', () => {
  const png = new PNG({ width: 28, height: 28 });
  for (let i = 0; i < 28 * 28; i++) png.data.set([i % 256, 0, 0, 255], 4 * i);
  const img = decodeImage(PNG.sync.write(png), 'p.png');
  const row = new Float32Array(28 * 28 * 3);
  imageToRow(img, { height: 28, width: 28, channels: 3, scale: 255 }, row, 0);
  for (let i = 0; i < 28 * 28; i++) assert.equal(row[3 * i], i % 256);
});
