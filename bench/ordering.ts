// Overhead of the gradient-variance tracker over plain training, diag mode, on a 784-300-100-10
// tanh MLP with a softmax head, batch 128, MNIST digits. All three runs go through the same loop
// (trainWithFreezing): "plain" is the random policy with no stages (no tracker at all), the other
// two run the tracker every step on the step's own forward cache and deltas (no extra pass).
// Runs are interleaved (plain, essay, per-sample, repeat); per-step time is measured from the
// progress callback between a warm-up step and the last step, so data upload and the final sort
// are excluded; the ratio is taken per round against that round's plain run, then the median.
import * as tf from '@tensorflow/tfjs';
import type { BenchRow } from './table';
import { formatTable } from './table';
import { initBackend } from '../src/engine/backend';
import { Network, NetworkSpec } from '../src/engine/model/network';
import { loadDataset, splitDataset } from '../src/engine/data';
import { trainWithFreezing } from '../src/engine/ordering/freezeTrain';
import type { VarianceEstimator } from '../src/engine/ordering/types';

const BATCH = 128;
const WARM = 5;
const STEPS = 45;
const ROUNDS = Number(process.env.ORDERING_BENCH_ROUNDS ?? 7);
const TARGET = 0.15;

const SPEC: NetworkSpec = { inputSize: 784, layers: [
  { name: 'h1', units: 300, activation: 'tanh' }, { name: 'h2', units: 100, activation: 'tanh' }, { name: 'out', units: 10, activation: 'softmax' },
] };

function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

type Run = 'plain' | VarianceEstimator;

export async function runOrderingBench(): Promise<BenchRow[]> {
  const info = await initBackend();
  const split = splitDataset(loadDataset('mnist'), { seed: 0 });
  const runs: Run[] = ['plain', 'essay', 'per-sample'];
  const times: Record<Run, number[]> = { plain: [], essay: [], 'per-sample': [] };
  const before = tf.memory().numTensors;
  for (let r = -1; r < ROUNDS; r++) {
    for (const run of runs) {
      const net = Network.random(SPEC, 1);
      let tWarm = 0, tEnd = 0;
      await trainWithFreezing(net, split, {
        steps: STEPS, batchSize: BATCH, lr: 1e-3, seed: 1, timing: false,
        policy: run === 'plain' ? 'random' : 'ordered', estimator: run === 'plain' ? undefined : run, mode: 'diag',
        onProgress: (s) => { if (s === WARM) tWarm = performance.now(); if (s === STEPS) tEnd = performance.now(); },
      });
      net.dispose();
      if (r >= 0) times[run].push((tEnd - tWarm) / (STEPS - WARM));
    }
  }
  const leaked = tf.memory().numTensors - before;
  const plain = median(times.plain);
  const rows: BenchRow[] = [{
    group: 'ordering', name: 'plain Adam step (784-300-100-10 tanh, batch 128)', value: plain, unit: 'ms/step',
    note: `${info.name}; MNIST; ${ROUNDS} interleaved rounds of ${STEPS - WARM} timed steps`,
  }];
  for (const run of ['essay', 'per-sample'] as const) {
    const overhead = median(times[run].map((v, i) => v / times.plain[i] - 1));
    rows.push({
      group: 'ordering', name: `${run} estimator, diag, no extra pass`, value: median(times[run]), unit: 'ms/step',
      ratio: overhead * 100, ratioOf: '% overhead over plain', target: `<= ${TARGET * 100} %`, pass: overhead <= TARGET,
      note: leaked ? `${leaked} tensors leaked` : undefined,
    });
  }
  return rows;
}

if (require.main === module) {
  runOrderingBench().then((rows) => console.log(formatTable(rows)), (e) => { console.error(e); process.exit(1); });
}
