// The panel's what-if slider: median ms of one `whatif` job (prefix mask of the cached obd
// ranking, setFlat into the cached clone, evaluate on the test part) on Wine- and Boston-sized
// models, against the 200 ms the slider must answer in. The first call (ranking + clone) is not timed.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../src/engine/backend';
import { NetworkSpec, randomDense } from '../src/engine/model/denseChain';
import { saveModel } from '../src/engine/formats/modelFile';
import { loadDataset, splitDataset } from '../src/engine/data';
import { train } from '../src/engine/train/train';
import { whatifJob } from '../src/worker/jobs/whatif';
import type { JobContext } from '../src/worker/jobTypes';
import type { BenchRow } from './table';

const CASES: { data: string; spec: NetworkSpec }[] = [
  {
    data: 'wine',
    spec: {
      inputSize: 13,
      layers: [
        { name: 'h1', units: 32, activation: 'tanh' },
        { name: 'h2', units: 16, activation: 'tanh' },
        { name: 'out', units: 3, activation: 'softmax' },
      ],
    },
  },
  {
    data: 'boston',
    spec: {
      inputSize: 13,
      layers: [
        { name: 'h1', units: 64, activation: 'relu' },
        { name: 'h2', units: 32, activation: 'relu' },
        { name: 'out', units: 1, activation: 'linear' },
      ],
    },
  },
];

/** A worker job context with its own cache and no output, for timing jobs in the bench. */
export function quietJobContext(): JobContext {
  return { signal: new AbortController().signal, progress: () => undefined, log: () => undefined, cache: new Map() };
}

export async function runWhatifBench(): Promise<BenchRow[]> {
  const b = await initBackend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-whatif-bench-'));
  const rows: BenchRow[] = [];
  try {
    for (const c of CASES) {
      const ds = loadDataset(c.data);
      const split = splitDataset(ds, { seed: 0, standardize: true });
      const net = randomDense(c.spec, 1);
      await train(net, split, { epochs: 20, batchSize: 32, lr: 0.01, seed: 1, evalEvery: 0 });
      const saved = await saveModel(path.join(dir, c.data), net, {
        task: ds.task,
        featureNames: ds.featureNames,
        preprocessing: { standardization: split.standardization! },
      });
      net.dispose();
      const ctx = quietJobContext();
      const params = (share: number) =>
        whatifJob.parse({ modelPath: saved.modelJson, data: c.data, seed: 0, method: 'obd', share });
      await whatifJob.run(params(0.5), ctx); // ranking + clone, cached from here on
      const wall: number[] = [];
      const inner: number[] = [];
      for (let i = 0; i <= 40; i++) {
        const t0 = performance.now();
        const r = await whatifJob.run(params(i / 40), ctx);
        wall.push(performance.now() - t0);
        inner.push(r.result.ms);
      }
      const median = (v: number[]) => v.slice().sort((a, b) => a - b)[v.length >> 1];
      const p = net.nParams;
      const m = median(wall);
      rows.push({
        group: 'whatif',
        name: `${c.data} ${[13, ...c.spec.layers.map((l) => l.units)].join('-')} (${p} params, ${split.test.rows} test rows), ${b.name}: median job ms`,
        value: m,
        unit: 'ms',
        ratio: 200 / m,
        ratioOf: 'x faster than the 200 ms budget',
        target: '>= 1',
        pass: m <= 200,
      });
      rows.push({
        group: 'whatif',
        name: `${c.data}: median mask+evaluate ms (result.ms)`,
        value: median(inner),
        unit: 'ms',
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
