// Overhead of the gradient-variance tracker over plain training, diag mode. All runs go through the
// same loop (trainWithFreezing): "plain" is the random policy with no stages (no tracker at all),
// the other two run the tracker every step on the step's own forward cache and deltas (no extra
// pass). Runs are interleaved (plain, essay, per-sample, repeat); per-step cost is taken from the
// progress callback between a warm-up step and the last step (data upload and the final sort are
// excluded) as process CPU time, which other jobs on a shared machine disturb far less than wall
// time; the ratio is taken per round against that round's plain run, then the median.
// Cases: MNIST (784-300-100-10 tanh, batch 128; the target), the same net on dense Gaussian inputs
// (no input sparsity to exploit) and a Boston-sized net (launch-bound small layers), both for context.
import * as tf from '@tensorflow/tfjs';
import type { BenchRow } from './table';
import { formatTable } from './table';
import { initBackend } from '../src/engine/backend';
import { NetworkSpec, randomDense } from '../src/engine/model/denseChain';
import { loadDataset, splitDataset } from '../src/engine/data';
import type { DataSplit } from '../src/engine/data/dataset';
import { trainWithFreezing } from '../src/engine/ordering/freezeTrain';
import type { VarianceEstimator } from '../src/engine/options';
import { Rng } from '../src/engine/util/random';

const WARM = 5;
const STEPS = 45;
const ROUNDS = Number(process.env.ORDERING_BENCH_ROUNDS ?? 7);
const TARGET = 0.15;

const MLP: NetworkSpec = {
  inputSize: 784,
  layers: [
    { name: 'h1', units: 300, activation: 'tanh' },
    { name: 'h2', units: 100, activation: 'tanh' },
    { name: 'out', units: 10, activation: 'softmax' },
  ],
};
const SMALL: NetworkSpec = {
  inputSize: 13,
  layers: [
    { name: 'h1', units: 64, activation: 'tanh' },
    { name: 'h2', units: 32, activation: 'tanh' },
    { name: 'out', units: 1, activation: 'linear' },
  ],
};

interface Case {
  label: string;
  spec: NetworkSpec;
  split: DataSplit;
  batch: number;
  target: boolean;
}

/** 10-class data with standard normal features: every input entry non-zero. */
function denseSplit(rows: number, features: number): DataSplit {
  const rng = new Rng(5);
  const part = (n: number) => {
    const x = new Float32Array(n * features);
    for (let i = 0; i < x.length; i++) x[i] = rng.normal();
    return { x, y: Float32Array.from({ length: n }, () => rng.int(10)), rows: n };
  };
  const dataset = {
    name: 'dense-gaussian',
    task: 'classification' as const,
    featureNames: Array.from({ length: features }, (_, i) => `f${i}`),
    labelNames: Array.from({ length: 10 }, (_, i) => String(i)),
    targetName: 'y',
    x: new Float32Array(0),
    y: new Float32Array(0),
    rows,
    features,
  };
  return { dataset, train: part(rows), test: part(100), seed: 0, testFraction: 0.2 };
}

function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

type Run = 'plain' | VarianceEstimator;

async function measure(c: Case, backendName: string): Promise<BenchRow[]> {
  const runs: Run[] = ['plain', 'essay', 'per-sample'];
  const cpu: Record<Run, number[]> = { plain: [], essay: [], 'per-sample': [] };
  const wall: Record<Run, number[]> = { plain: [], essay: [], 'per-sample': [] };
  const before = tf.memory().numTensors;
  for (let r = -1; r < ROUNDS; r++) {
    for (const run of runs) {
      const net = randomDense(c.spec, 1);
      let cWarm = 0,
        cEnd = 0,
        tWarm = 0,
        tEnd = 0;
      await trainWithFreezing(net, c.split, {
        steps: STEPS,
        batchSize: c.batch,
        lr: 1e-3,
        seed: 1,
        timing: false,
        policy: run === 'plain' ? 'random' : 'ordered',
        estimator: run === 'plain' ? undefined : run,
        mode: 'diag',
        onProgress: (s) => {
          if (s === WARM) {
            cWarm = cpuMs();
            tWarm = performance.now();
          }
          if (s === STEPS) {
            cEnd = cpuMs();
            tEnd = performance.now();
          }
        },
      });
      net.dispose();
      if (r >= 0) {
        cpu[run].push((cEnd - cWarm) / (STEPS - WARM));
        wall[run].push((tEnd - tWarm) / (STEPS - WARM));
      }
    }
  }
  const leaked = tf.memory().numTensors - before;
  const rows: BenchRow[] = [
    {
      group: 'ordering',
      name: `plain Adam step, ${c.label}`,
      value: median(cpu.plain),
      unit: 'CPU ms/step',
      note: `${backendName}; ${ROUNDS} interleaved rounds of ${STEPS - WARM} timed steps; wall ${median(wall.plain).toFixed(1)} ms`,
    },
  ];
  for (const run of ['essay', 'per-sample'] as const) {
    const overhead = median(cpu[run].map((v, i) => v / cpu.plain[i] - 1));
    const wallOverhead = median(wall[run].map((v, i) => v / wall.plain[i] - 1));
    rows.push({
      group: 'ordering',
      name: `${run} estimator, diag, ${c.label}`,
      value: median(cpu[run]),
      unit: 'CPU ms/step',
      ratio: overhead * 100,
      ratioOf: '% overhead over plain',
      target: c.target ? `<= ${TARGET * 100} %` : undefined,
      pass: c.target ? overhead <= TARGET : undefined,
      note: `wall overhead ${(wallOverhead * 100).toFixed(1)} %${leaked ? `; ${leaked} tensors leaked` : ''}`,
    });
  }
  return rows;
}

export async function runOrderingBench(): Promise<BenchRow[]> {
  const info = await initBackend();
  const cases: Case[] = [
    {
      label: 'MNIST 784-300-100-10 tanh, batch 128',
      spec: MLP,
      split: splitDataset(loadDataset('mnist'), { seed: 0 }),
      batch: 128,
      target: true,
    },
    {
      label: 'dense Gaussian input 784-300-100-10, batch 128',
      spec: MLP,
      split: denseSplit(4000, 784),
      batch: 128,
      target: false,
    },
    {
      label: 'Boston 13-64-32-1, batch 32',
      spec: SMALL,
      split: splitDataset(loadDataset('boston'), { seed: 0 }),
      batch: 32,
      target: false,
    },
  ];
  const only = process.env.ORDERING_BENCH_CASES?.split(',').map(Number);
  const rows: BenchRow[] = [];
  for (const [i, c] of cases.entries()) if (!only || only.includes(i)) rows.push(...(await measure(c, info.name)));
  return rows;
}

if (require.main === module) {
  runOrderingBench().then(
    (rows) => {
      console.log(formatTable(rows));
      for (const r of rows) if (r.note) console.log(`${r.name}: ${r.note}`);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
