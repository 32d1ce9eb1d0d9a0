// The 10,000-digit MNIST subset, stored as uint8 by scripts/prepare-data.js (format described
// there): header "PSMNIST1", rows and pixels (uint32 LE), labels, then pixels row-major.
import { badInput } from '../errors';
import type { Dataset } from './dataset';
import { readDataFile } from './dataDirectory';

export const MNIST_FILE = 'mnist-10k.u8.gz';
const SIDE = 28;

export function loadMnist(provenance: string): Dataset {
  const b = readDataFile(MNIST_FILE);
  const magic = b.subarray(0, 8).toString('ascii');
  const rows = b.length >= 16 ? b.readUInt32LE(8) : 0;
  const features = b.length >= 16 ? b.readUInt32LE(12) : 0;
  if (magic !== 'PSMNIST1' || features !== SIDE * SIDE || b.length !== 16 + rows * (1 + features)) {
    throw badInput(`unexpected header or size (magic "${magic}", ${rows} x ${features}, ${b.length} bytes)`, {
      file: MNIST_FILE,
      expected: 'the format written by scripts/prepare-data.js',
    });
  }
  const y = new Float32Array(rows);
  for (let i = 0; i < rows; i++) y[i] = b[16 + i];
  const px = b.subarray(16 + rows);
  const x = new Float32Array(rows * features);
  // Pixels are scaled to [0, 1] as the npm package had them (k / 255).
  for (let i = 0; i < x.length; i++) x[i] = px[i] / 255;
  const featureNames: string[] = [];
  for (let r = 0; r < SIDE; r++) for (let c = 0; c < SIDE; c++) featureNames.push(`pixel_${r}_${c}`);
  return {
    name: 'mnist',
    task: 'classification',
    featureNames,
    targetName: 'digit',
    labelNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    x,
    y,
    rows,
    features,
    provenance,
  };
}
