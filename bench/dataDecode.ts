// Reading the user's data: the 10,000 MNIST digits as 28 x 28 grayscale PNGs in class folders
// (pngjs) and as a compressed .npz, read whole by the loader every command uses. Each read runs
// in a fresh process so its peak RSS is its own (the process's maximum resident set, baseline
// included); writing the files is not timed.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import { loadData, loadDataset } from '../src/engine/data';
import { npyBytes, npzBytes } from '../test/data/npyWrite';
import type { BenchRow } from './table';

interface Measured {
  rows: number;
  /** Wall and CPU (user + system) milliseconds of the read. */
  ms: number;
  cpuMs: number;
  baselineMb: number;
  peakMb: number;
}

/**
 * Child process: read `source` whole and report time and memory. The peak is sampled at every
 * progress call (every 32 images, 256 array rows): the kernel's maxrss would also count the
 * parent's pages copied at fork.
 */
async function child(source: string): Promise<void> {
  const baselineMb = process.memoryUsage().rss / 2 ** 20;
  let peak = baselineMb;
  const sample = () => (peak = Math.max(peak, process.memoryUsage().rss / 2 ** 20));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const ds = await loadData(source, undefined, { onProgress: sample });
  const c = process.cpuUsage(c0);
  const ms = performance.now() - t0;
  sample();
  const m: Measured = { rows: ds.rows, ms, cpuMs: (c.user + c.system) / 1000, baselineMb, peakMb: peak };
  process.stdout.write(JSON.stringify(m));
}

function measure(source: string): Measured {
  const out = execFileSync(process.execPath, [__filename, source], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out) as Measured;
}

function writeFiles(dir: string): { folder: string; npz: string } {
  const mnist = loadDataset('mnist');
  const px = new Uint8Array(mnist.rows * 784);
  for (let i = 0; i < px.length; i++) px[i] = Math.round(mnist.x[i] * 255);
  const folder = path.join(dir, 'digits');
  for (let r = 0; r < mnist.rows; r++) {
    const cls = path.join(folder, String(mnist.y[r]));
    fs.mkdirSync(cls, { recursive: true });
    const png = new PNG({ width: 28, height: 28 });
    for (let j = 0; j < 784; j++) {
      const v = px[r * 784 + j];
      png.data.set([v, v, v, 255], 4 * j);
    }
    fs.writeFileSync(path.join(cls, `${String(r).padStart(5, '0')}.png`), PNG.sync.write(png, { colorType: 0 }));
  }
  const npz = path.join(dir, 'mnist.npz');
  const y = Int32Array.from(mnist.y);
  fs.writeFileSync(
    npz,
    npzBytes({ x: npyBytes(px, [mnist.rows, 28, 28], '|u1'), y: npyBytes(y, [mnist.rows], '<i4') }, true),
  );
  return { folder, npz };
}

export async function runDataDecodeBench(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-data-bench-'));
  try {
    const { folder, npz } = writeFiles(dir);
    const rows: BenchRow[] = [];
    for (const [what, source] of [
      ['10,000 28x28 PNGs in class folders', folder],
      ['10,000 x 28 x 28 uint8 .npz (deflated)', npz],
    ] as const) {
      const m = measure(source);
      rows.push(
        {
          group: 'data',
          name: `${what}: rows/s`,
          value: (1000 * m.rows) / m.cpuMs,
          unit: 'rows/CPU s',
          note: `${m.rows} rows in ${m.cpuMs.toFixed(0)} ms CPU, ${m.ms.toFixed(0)} ms wall (${((1000 * m.rows) / m.ms).toFixed(0)} rows/s)`,
        },
        {
          group: 'data',
          name: `${what}: peak RSS`,
          value: m.peakMb,
          unit: 'MB',
          note: `sampled during the read; process baseline ${m.baselineMb.toFixed(0)} MB, the rows are ${((m.rows * 784 * 4) / 2 ** 20).toFixed(0)} MB of float32`,
        },
      );
    }
    return rows;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module && process.argv[2]) {
  child(process.argv[2]).catch((e) => {
    process.stderr.write(String((e as Error).stack ?? e));
    process.exit(1);
  });
}
