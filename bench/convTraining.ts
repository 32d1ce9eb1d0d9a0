// LeNet-5 training throughput (samples/s, batch 128) on the MNIST subset: PruneScope's layer graph
// on the wasm backend (the graph's one backward pass + Adam) against PyTorch on one thread, run by
// this bench where `/usr/bin/python3 -c "import torch"` works (bench/pytorch/lenet5.py). The two
// take turns epoch by epoch and the target (>= 0.3x PyTorch) is judged on CPU time, as
// bench/training.ts does: on a shared machine wall time also counts other jobs.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BenchRow } from './table';

const BATCH = 128;
const ROUNDS = 5;
/** Rows per epoch: throughput does not depend on it; fewer keep interleaved rounds short. */
const ROWS = 5000;
const TARGET = 0.3;
const PYTHON = '/usr/bin/python3';
const ACTIVATIONS = ['relu', 'tanh'] as const;

interface Epoch {
  cpu: number;
  wall: number;
}

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

interface Digits {
  x: Float32Array;
  labels: Float32Array;
  rows: number;
}

/** ROWS digits of the MNIST subset, drawn with a fixed seed (so every batch mixes digits). */
async function digits(): Promise<Digits> {
  const { loadDataset } = await import('../src/engine/data');
  const { Rng } = await import('../src/engine/util/random');
  const ds = loadDataset('mnist');
  const rows = Math.min(ROWS, ds.rows);
  const perm = new Rng(7).permutation(ds.rows).subarray(0, rows);
  const x = new Float32Array(rows * 784);
  const labels = new Float32Array(rows);
  perm.forEach((p, i) => {
    x.set(ds.x.subarray(p * 784, (p + 1) * 784), i * 784);
    labels[i] = ds.y[p];
  });
  return { x, labels, rows };
}

/** PruneScope: LeNet-5 from the architecture builder, one epoch of minibatch Adam per call. */
async function oursRunner(d: Digits, act: 'relu' | 'tanh'): Promise<() => Epoch> {
  const tf = await import('@tensorflow/tfjs');
  const { initBackend } = await import('../src/engine/backend');
  const { Graph } = await import('../src/engine/model/graph');
  const { lenet5Spec } = await import('../src/engine/model/architectures');
  const { lossGradients } = await import('../src/engine/model/gradients');
  await initBackend();
  const graph = Graph.random(lenet5Spec([28, 28, 1], 10, act, 'classification'), 1);
  const m = graph.params.map((p) => tf.variable(tf.zerosLike(p)));
  const v = graph.params.map((p) => tf.variable(tf.zerosLike(p)));
  const oneHot = new Float32Array(d.rows * 10);
  for (let i = 0; i < d.rows; i++) oneHot[i * 10 + d.labels[i]] = 1;
  let t = 0;
  const [lr, b1, b2, eps] = [1e-3, 0.9, 0.999, 1e-7];
  const epoch = (): Epoch => {
    const c0 = cpuSeconds();
    const w0 = performance.now();
    for (let s = 0; s + BATCH <= d.rows; s += BATCH) {
      const x = tf.tensor4d(d.x.subarray(s * 784, (s + BATCH) * 784), [BATCH, 28, 28, 1]);
      const y = tf.tensor2d(oneHot.subarray(s * 10, (s + BATCH) * 10), [BATCH, 10]);
      const { grads } = lossGradients(graph, x, y, 'train');
      t++;
      tf.tidy(() => {
        const lrT = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
        const epsT = eps * Math.sqrt(1 - b2 ** t);
        graph.params.forEach((p, k) => {
          m[k].assign(tf.add(tf.mul(m[k], b1), tf.mul(grads[k], 1 - b1)));
          v[k].assign(tf.add(tf.mul(v[k], b2), tf.mul(tf.square(grads[k]), 1 - b2)));
          p.assign(tf.sub(p, tf.mul(tf.div(m[k], tf.add(tf.sqrt(v[k]), epsT)), lrT)));
        });
      });
      tf.dispose([x, y, ...grads]);
    }
    return { cpu: cpuSeconds() - c0, wall: (performance.now() - w0) / 1000 };
  };
  epoch(); // warm-up (kernel compilation, first allocations)
  return epoch;
}

/** Why PyTorch cannot run here, or undefined when it can. */
function torchMissing(): string | undefined {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120000 });
  return r.status === 0 ? undefined : `${PYTHON} -c "import torch" failed (Debian: apt-get install python3-torch)`;
}

/** bench/pytorch/lenet5.py in a child process, one epoch per request. */
class TorchRunner {
  private readonly proc: ChildProcess;
  private buf = '';
  private stderr = '';
  private waiting?: { resolve: (line: string) => void; reject: (e: Error) => void };
  version = '';

  constructor(dir: string, rows: number, act: string) {
    const script = path.resolve(__dirname, '..', '..', 'bench', 'pytorch', 'lenet5.py');
    this.proc = spawn(
      PYTHON,
      [script, path.join(dir, 'x.f32'), path.join(dir, 'y.f32'), String(rows), act, String(BATCH)],
      { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' } },
    );
    this.proc.stdout!.on('data', (b) => {
      this.buf += String(b);
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        const w = this.waiting;
        this.waiting = undefined;
        w?.resolve(line);
      }
    });
    this.proc.stderr!.on('data', (b) => {
      this.stderr = (this.stderr + String(b)).slice(-2000);
    });
    this.proc.on('exit', (code) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(new Error((this.stderr.trim().split('\n').pop() ?? '') || `python exited with ${code}`));
    });
  }

  private line(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  async ready(): Promise<void> {
    this.version = (JSON.parse(await this.line()) as { ready: string }).ready;
  }

  async epoch(): Promise<Epoch> {
    const p = this.line();
    this.proc.stdin!.write('epoch\n');
    return JSON.parse(await p) as Epoch;
  }

  close(): void {
    this.proc.stdin!.end();
    if (this.proc.exitCode === null) this.proc.kill();
  }
}

export async function runConvTrainingBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const d = await digits();
  const missing = torchMissing();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-bench-'));
  try {
    if (!missing) {
      fs.writeFileSync(path.join(dir, 'x.f32'), Buffer.from(d.x.buffer, d.x.byteOffset, d.x.byteLength));
      fs.writeFileSync(path.join(dir, 'y.f32'), Buffer.from(d.labels.buffer, d.labels.byteOffset, d.labels.byteLength));
    }
    for (const act of ACTIVATIONS) {
      const name = `LeNet-5 ${act} b${BATCH}`;
      const samples = Math.floor(d.rows / BATCH) * BATCH;
      const ours = await oursRunner(d, act);
      const torch = missing ? undefined : new TorchRunner(dir, d.rows, act);
      try {
        await torch?.ready();
        const o: Epoch[] = [];
        const p: Epoch[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          // Alternate who goes first, so a load change within a round does not always favour one side.
          if (r % 2 === 0 || !torch) {
            o.push(ours());
            if (torch) p.push(await torch.epoch());
          } else {
            p.push(await torch.epoch());
            o.push(ours());
          }
        }
        const rate = (e: Epoch[], k: keyof Epoch) => median(e.map((x) => samples / x[k]));
        const list = (e: Epoch[]) => e.map((x) => (samples / x.cpu).toFixed(0)).join(', ');
        const ratio = torch ? median(o.map((e, r) => p[r].cpu / e.cpu)) : NaN;
        if (torch)
          rows.push({
            group: 'conv training',
            name: `PyTorch ${torch.version} 1 thread ${name}`,
            value: rate(p, 'cpu'),
            unit: 'samples/cpu-s',
            note: `MNIST subset, ${d.rows} rows per epoch; epochs ${list(p)} samples/cpu-s; ${rate(p, 'wall').toFixed(0)} samples/s wall`,
          });
        rows.push({
          group: 'conv training',
          name: `prunescope wasm ${name}`,
          value: rate(o, 'cpu'),
          unit: 'samples/cpu-s',
          ratio: torch ? ratio : undefined,
          ratioOf: 'x PyTorch 1 thread (cpu-s)',
          target: `>= ${TARGET}`,
          pass: torch ? ratio >= TARGET : undefined,
          note: torch
            ? `epochs ${list(o)} samples/cpu-s, ${rate(o, 'wall').toFixed(0)} samples/s wall; median over ${ROUNDS} interleaved rounds of per-round ratios`
            : `PyTorch not measured: ${missing}; epochs ${list(o)} samples/cpu-s`,
        });
      } catch (e) {
        rows.push({
          group: 'conv training',
          name: `${name} failed`,
          value: NaN,
          unit: '',
          note: String((e as Error).message ?? e).slice(0, 200),
        });
      } finally {
        torch?.close();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
