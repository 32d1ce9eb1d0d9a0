// Cost of one variational-relevance epoch against one ordinary training epoch (train(): explicit
// backprop + Adam, JS-assembled batches) of the same network, data, batch size and backend.
// Target: <= 3x, judged on CPU time (process.cpuUsage: the work done, whereas wall time on this
// shared machine also counts the time other jobs hold the cores; wall is shown for reference).
// Each round runs a few epochs of training and then of the variational fit in the same process;
// per-epoch times are callback-to-callback differences (so the variational epoch includes its
// between-epoch work: prior update, KL, posterior average), the first epochs are warm-up, and the
// ratio is the median over rounds of each round's ratio of medians.
import type { BenchRow } from './table';

const TARGET = 3;
const ROUNDS = 5;
const WARM = 2;

interface Case {
  name: string;
  data: 'wine' | 'mnist';
  sizes: number[];
  rows: number;
  batch: number;
  epochs: number;
}

const CASES: Case[] = [
  { name: '13-13-3 tanh (Wine, 142 rows)', data: 'wine', sizes: [13, 13, 3], rows: 142, batch: 32, epochs: 40 },
  {
    name: '784-300-100-10 tanh (MNIST, 1024 rows)',
    data: 'mnist',
    sizes: [784, 300, 100, 10],
    rows: 1024,
    batch: 128,
    epochs: 8,
  },
];

function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

interface Times {
  wall: number;
  cpu: number;
}

/** Per-epoch (wall, cpu) seconds from an onEpoch-style callback: differences between calls. */
function epochClock(): { tick: () => void; times: Times[]; start: () => void } {
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  let w0 = 0,
    c0 = 0;
  const times: Times[] = [];
  return {
    times,
    start: () => {
      w0 = performance.now() / 1000;
      c0 = cpu();
    },
    tick: () => {
      const w = performance.now() / 1000,
        c = cpu();
      times.push({ wall: w - w0, cpu: c - c0 });
      w0 = w;
      c0 = c;
    },
  };
}

async function measure(c: Case): Promise<{ train: Times; variational: Times }> {
  const { initBackend } = await import('../src/engine/backend');
  const { randomDense } = await import('../src/engine/model/denseChain');
  const { train } = await import('../src/engine/train/train');
  const { variationalRelevance } = await import('../src/engine/relevance/variational');
  const { loadDataset, splitDataset } = await import('../src/engine/data');
  await initBackend();
  const d = c.sizes[0];
  const full = splitDataset(loadDataset(c.data), { seed: 0, testFraction: 0.2 });
  // The first c.rows training rows (a seeded shuffle already happened in the split).
  const rows = Math.min(c.rows, full.train.rows);
  const part = { x: full.train.x.subarray(0, rows * d), y: full.train.y.subarray(0, rows), rows };
  const split = {
    ...full,
    train: part,
    test: { x: full.test.x.subarray(0, 16 * d), y: full.test.y.subarray(0, 16), rows: 16 },
  };
  const spec = {
    inputSize: d,
    layers: c.sizes.slice(1).map((u, i, a) => ({
      name: `l${i}`,
      units: u,
      activation: i === a.length - 1 ? ('softmax' as const) : ('tanh' as const),
    })),
  };
  const net = randomDense(spec, 1);

  const tc = epochClock();
  const probe = net.clone();
  tc.start();
  await train(probe, split, {
    epochs: c.epochs,
    batchSize: c.batch,
    lr: 1e-3,
    seed: 1,
    evalEvery: 0,
    onEpoch: tc.tick,
  });
  probe.dispose();

  const vc = epochClock();
  vc.start();
  await variationalRelevance(net, split, { epochs: c.epochs, batchSize: c.batch, lr: 1e-3, seed: 1, onEpoch: vc.tick });
  net.dispose();
  const med = (t: Times[]) => ({
    wall: median(t.slice(WARM).map((e) => e.wall)),
    cpu: median(t.slice(WARM).map((e) => e.cpu)),
  });
  return { train: med(tc.times), variational: med(vc.times) };
}

export async function runVariationalBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const c of CASES) {
    const rounds: { train: Times; variational: Times }[] = [];
    for (let r = 0; r < ROUNDS; r++) rounds.push(await measure(c));
    const ms = (k: keyof Times, which: 'train' | 'variational') => median(rounds.map((m) => m[which][k])) * 1000;
    const ratio = (k: keyof Times) => median(rounds.map((m) => m.variational[k] / m.train[k]));
    const list = (k: keyof Times) => rounds.map((m) => (m.variational[k] / m.train[k]).toFixed(2)).join(', ');
    rows.push({
      group: 'variational',
      name: `train epoch, ${c.name}`,
      value: ms('cpu', 'train'),
      unit: 'cpu-ms',
      note: `batch ${c.batch}; wall ${ms('wall', 'train').toFixed(1)} ms`,
    });
    rows.push({
      group: 'variational',
      name: `variational epoch, ${c.name} (wall)`,
      value: ms('wall', 'variational'),
      unit: 'ms',
      ratio: ratio('wall'),
      ratioOf: 'x train epoch (wall)',
      note: `per-round ratios ${list('wall')}; for reference, the target is judged on CPU time`,
    });
    rows.push({
      group: 'variational',
      name: `variational epoch, ${c.name}`,
      value: ms('cpu', 'variational'),
      unit: 'cpu-ms',
      ratio: ratio('cpu'),
      ratioOf: 'x train epoch (cpu)',
      target: `<= ${TARGET}`,
      pass: ratio('cpu') <= TARGET,
      note: `batch ${c.batch}; median over ${ROUNDS} rounds (train then variational, ${c.epochs - WARM} timed epochs each) of per-round ratios ${list('cpu')}`,
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
