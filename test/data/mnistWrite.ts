// The built-in MNIST digits written as the files users have: a seeded sample of `rows` digits as
// 28 x 28 gray PNGs in class folders (zero-padded row numbers keep the built-in's order within
// each digit), as an .npz (compressed) and as x.npy + y.npy. Read with --max-rows `rows` and the
// same seed, the built-in holds the same rows in the same order.
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import { loadDataset } from '../../src/engine/data';
import { sampleRows } from '../../src/engine/data/sample';
import { npyBytes, npzBytes } from './npyWrite';

export interface MnistFiles {
  folder: string;
  npz: string;
  npy: string;
  labels: string;
}

export function writeMnistFiles(root: string, rows: number, seed: number): MnistFiles {
  const mnist = loadDataset('mnist');
  const picked = sampleRows(mnist.rows, rows, seed);
  const px = new Uint8Array(rows * 784);
  const y = new Int32Array(rows);
  picked.forEach((r, k) => {
    for (let j = 0; j < 784; j++) px[k * 784 + j] = Math.round(mnist.x[r * 784 + j] * 255);
    y[k] = mnist.y[r];
  });
  const folder = path.join(root, 'digits');
  picked.forEach((r, k) => {
    const dir = path.join(folder, String(y[k]));
    fs.mkdirSync(dir, { recursive: true });
    const png = new PNG({ width: 28, height: 28 });
    for (let j = 0; j < 784; j++) png.data.set([px[k * 784 + j], px[k * 784 + j], px[k * 784 + j], 255], 4 * j);
    fs.writeFileSync(path.join(dir, `${String(r).padStart(5, '0')}.png`), PNG.sync.write(png));
  });
  const x = npyBytes(px, [rows, 28, 28], '|u1');
  const labels = npyBytes(y, [rows], '<i4');
  const files = {
    folder,
    npz: path.join(root, 'mnist.npz'),
    npy: path.join(root, 'x.npy'),
    labels: path.join(root, 'y.npy'),
  };
  fs.writeFileSync(files.npz, npzBytes({ x, y: labels }, true));
  fs.writeFileSync(files.npy, x);
  fs.writeFileSync(files.labels, labels);
  return files;
}
