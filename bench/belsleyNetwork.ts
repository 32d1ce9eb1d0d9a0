// Wall time of network-level Belsley relevance on the paper-1 networks: Wine 13-13-3 tanh (224
// parameters) and Boston 13-39-1 tanh (586), each trained first (seeded), for every covariance source
// and both orderings where they are affordable. The paper-1 experiment ranks 3 seeds x 4 methods, so
// the default path (laplace, ordering by size) should take seconds. Then the large case: an MNIST
// 784-300-100-10 ReLU network (266,610 parameters; the two hidden layers Kronecker-factored, the output
// layer a full block), target under 30 s on two cores; and LeNet-5 on MNIST (conv1 a full block,
// conv2 KFC, the dense layers K-FAC; untrained weights: the cost does not depend on them; no target).
// One run per row (the machine is shared; the
// minimum of BELSLEY_BENCH_ROUNDS runs, default 1, is reported).
// Run alone: node build/bench/belsleyNetwork.js
import type { BenchRow } from './table';
import { formatTable } from './table';
import { initBackend } from '../src/engine/backend';
import { NetworkSpec, randomDense } from '../src/engine/model/denseChain';
import { Graph } from '../src/engine/model/graph';
import { lenet5Spec } from '../src/engine/model/architectures';
import { loadDataset, splitDataset } from '../src/engine/data';
import { train } from '../src/engine/train/train';
import { belsleyRelevance, BelsleyRelevanceRequest } from '../src/engine/relevance/belsleyNetwork';

const ROUNDS = Number(process.env.BELSLEY_BENCH_ROUNDS ?? 1);
const WITH_SLOW = process.env.BELSLEY_BENCH_SLOW === '1';

const WINE: NetworkSpec = {
  inputSize: 13,
  layers: [
    { name: 'h', units: 13, activation: 'tanh' },
    { name: 'out', units: 3, activation: 'softmax' },
  ],
};
const BOSTON: NetworkSpec = {
  inputSize: 13,
  layers: [
    { name: 'h', units: 39, activation: 'tanh' },
    { name: 'out', units: 1, activation: 'linear' },
  ],
};

const DIGITS: NetworkSpec = {
  inputSize: 64,
  layers: [
    { name: 'h', units: 40, activation: 'tanh' },
    { name: 'out', units: 10, activation: 'softmax' },
  ],
};
const MNIST: NetworkSpec = {
  inputSize: 784,
  layers: [
    { name: 'h1', units: 300, activation: 'relu' },
    { name: 'h2', units: 100, activation: 'relu' },
    { name: 'out', units: 10, activation: 'softmax' },
  ],
};

export async function runBelsleyNetworkBench(): Promise<BenchRow[]> {
  await initBackend();
  const rows: BenchRow[] = [];
  const cases: {
    name: string;
    make: () => Graph;
    data: string;
    epochs: number;
    runs: [string, BelsleyRelevanceRequest, boolean][];
    batchSize?: number;
    lr?: number;
    standardize?: boolean;
    /** Seconds of wall time; null: a measurement without a target. */
    target?: number | null;
  }[] = [
    {
      name: 'wine 13-13-3',
      make: () => randomDense(WINE, 0),
      data: 'wine',
      epochs: 60,
      runs: [
        ['laplace default', {}, true],
        ['laplace fast', { ordering: 'fast' }, true],
        ['laplace exact', { ordering: 'exact' }, true],
        ['trajectory fast (K=100, every 5)', { covariance: 'trajectory', ordering: 'fast' }, true],
        ['trajectory exact', { covariance: 'trajectory', ordering: 'exact' }, false],
        ['gradient fast (200 steps)', { covariance: 'gradient', ordering: 'fast' }, true],
      ],
    },
    {
      name: 'boston 13-39-1',
      make: () => randomDense(BOSTON, 0),
      data: 'boston',
      epochs: 60,
      runs: [
        ['laplace default', {}, true],
        ['laplace exact', { ordering: 'exact' }, false],
        ['trajectory fast (K=100, every 5)', { covariance: 'trajectory', ordering: 'fast' }, true],
        ['gradient fast (200 steps)', { covariance: 'gradient', ordering: 'fast' }, true],
      ],
    },
    {
      name: 'digits 64-40-10',
      make: () => randomDense(DIGITS, 0),
      data: 'digits',
      epochs: 20,
      runs: [['laplace default (first layer Kronecker)', {}, true]],
    },
    {
      name: 'mnist 784-300-100-10',
      make: () => randomDense(MNIST, 0),
      data: 'mnist',
      epochs: 1,
      batchSize: 128,
      lr: 1e-3,
      standardize: false,
      target: 30,
      runs: [['laplace default (Kronecker hidden layers)', {}, true]],
    },
    {
      name: 'mnist lenet-5',
      make: () => Graph.random(lenet5Spec([28, 28, 1], 10, 'relu', 'classification'), 0),
      data: 'mnist',
      epochs: 0,
      standardize: false,
      target: null,
      runs: [['laplace default (conv2 KFC, dense layers K-FAC)', {}, true]],
    },
  ];
  for (const c of cases) {
    const split = splitDataset(loadDataset(c.data), { seed: 0, standardize: c.standardize ?? true });
    const target = c.target === undefined ? 10 : c.target;
    const net = c.make();
    if (c.epochs > 0)
      await train(net, split, {
        epochs: c.epochs,
        batchSize: c.batchSize ?? 16,
        lr: c.lr ?? 0.01,
        seed: 0,
        evalEvery: 0,
      });
    const active = Array.from(net.toFlat()).filter((v) => v !== 0).length;
    for (const [label, req, always] of c.runs) {
      if (!always && !WITH_SLOW) continue;
      let best = Infinity;
      let cpu = Infinity;
      let variant = '';
      for (let r = 0; r < ROUNDS; r++) {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const res = await belsleyRelevance(net, split, req);
        const dc = process.cpuUsage(c0);
        best = Math.min(best, (performance.now() - t0) / 1000);
        cpu = Math.min(cpu, (dc.user + dc.system) / 1e6);
        variant = res.variant ?? '';
      }
      // Wall time is what a user waits; CPU time of this process is the figure to compare across a
      // loaded machine (other jobs share the 2 cores).
      rows.push({
        group: 'belsley',
        name: `${c.name} (${active} active): ${label} -> ${variant}`,
        value: best,
        unit: 's wall',
        ratio: cpu,
        ratioOf: 's cpu',
        target: always && target !== null ? `<= ${target} s wall` : undefined,
        pass: always && target !== null ? best <= target : undefined,
      });
    }
    net.dispose();
  }
  return rows;
}

if (require.main === module) {
  runBelsleyNetworkBench().then(
    (rows) => console.log(formatTable(rows)),
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
