// Cost of one variational-relevance epoch against one ordinary training epoch (train(): explicit
// backprop + Adam) of the same network, data and batch size. Target: <= 3x. Both are timed per
// epoch through their onEpoch callbacks; the first epochs are warm-up; medians over the rest
// (the machine is shared, so single timings are noisy).
import type { BenchRow } from './table';

const TARGET = 3;

interface Case { name: string; sizes: number[]; hidden: 'tanh'; rows: number; batch: number; epochs: number }

const CASES: Case[] = [
  { name: '13-13-3 tanh (Wine-sized, 142 rows)', sizes: [13, 13, 3], hidden: 'tanh', rows: 142, batch: 32, epochs: 40 },
  { name: '784-300-100-10 tanh (1024 random rows)', sizes: [784, 300, 100, 10], hidden: 'tanh', rows: 1024, batch: 128, epochs: 8 },
];

function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

async function measure(c: Case): Promise<{ train: number; variational: number }> {
  const { initBackend } = await import('../src/engine/backend');
  const { Network } = await import('../src/engine/model/network');
  const { train } = await import('../src/engine/train/train');
  const { variationalRelevance } = await import('../src/engine/relevance/variational');
  const { Rng } = await import('../src/engine/util/random');
  await initBackend();
  const rng = new Rng(7);
  const d = c.sizes[0];
  const k = c.sizes[c.sizes.length - 1];
  const x = Float32Array.from({ length: c.rows * d }, () => rng.normal());
  const y = Float32Array.from({ length: c.rows }, () => rng.int(k));
  const part = { x, y, rows: c.rows };
  const dataset = {
    name: 'random', task: 'classification' as const, featureNames: [], targetName: 'c',
    labelNames: Array.from({ length: k }, (_, i) => String(i)), x, y, rows: c.rows, features: d,
  };
  const split = { dataset, train: part, test: { x: x.subarray(0, d * 16), y: y.subarray(0, 16), rows: 16 }, seed: 0, testFraction: 0 };
  const spec = {
    inputSize: d,
    layers: c.sizes.slice(1).map((u, i, a) => ({ name: `l${i}`, units: u, activation: i === a.length - 1 ? ('softmax' as const) : c.hidden })),
  };
  const net = Network.random(spec, 1);
  const warm = 2;

  const trainTimes: number[] = [];
  let last = 0;
  const probe = net.clone();
  await train(probe, split, {
    epochs: c.epochs, batchSize: c.batch, lr: 1e-3, seed: 1, evalEvery: 0,
    onEpoch: (m) => { trainTimes.push(m.seconds - last); last = m.seconds; },
  });
  probe.dispose();

  const varTimes: number[] = [];
  let t0 = performance.now();
  await variationalRelevance(net, split, {
    epochs: c.epochs, batchSize: c.batch, lr: 1e-3, seed: 1,
    onEpoch: () => { const t = performance.now(); varTimes.push((t - t0) / 1000); t0 = t; },
  });
  net.dispose();
  return { train: median(trainTimes.slice(warm)), variational: median(varTimes.slice(warm)) };
}

export async function runVariationalBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const c of CASES) {
    // Alternate three rounds and take medians: other work on the machine comes and goes.
    const tr: number[] = [];
    const va: number[] = [];
    for (let r = 0; r < 3; r++) {
      const m = await measure(c);
      tr.push(m.train);
      va.push(m.variational);
    }
    const train = median(tr);
    const variational = median(va);
    const ratio = variational / train;
    rows.push({ group: 'variational', name: `train epoch, ${c.name}`, value: train * 1000, unit: 'ms', note: `batch ${c.batch}` });
    rows.push({
      group: 'variational', name: `variational epoch, ${c.name}`, value: variational * 1000, unit: 'ms',
      ratio, ratioOf: 'x train epoch', target: `<= ${TARGET}`, pass: ratio <= TARGET,
      note: `batch ${c.batch}; median of 3 runs x ${c.epochs - 2} epochs`,
    });
  }
  return rows;
}

if (require.main === module) {
  void (async () => {
    const { formatTable } = await import('./table');
    console.log(formatTable(await runVariationalBench()));
  })();
}
