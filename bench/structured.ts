// Structured pruning: building the channel dependency groups of resnet8 (ms); one structured
// what-if move of the panel's slider on LeNet-5 with its channel ranking cached (the `whatif` job:
// channel mask, setFlat, evaluate the MNIST test part from the cached stem output, prune/stemCache.ts;
// target <= 300 ms); and the latency of the
// student over the teacher's at 50 % of the channels removed, LeNet-5 and resnet8 on 28x28x1, the
// same batch, median of interleaved runs. Weights are the architectures' random initialisation:
// none of these timings depends on the weight values.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/engine/backend';
import { loadDataset, splitDataset } from '../src/engine/data';
import { saveModel } from '../src/engine/formats/modelFile';
import { lenet5Spec, resnet8Spec } from '../src/engine/model/architectures';
import { Graph } from '../src/engine/model/graph';
import type { GraphSpec } from '../src/engine/graphSpec';
import { channelStudent } from '../src/engine/prune/channelStudent';
import { channelGroups } from '../src/engine/prune/groups';
import { measureLatency } from '../src/engine/prune/studentExport';
import { whatifJob } from '../src/worker/jobs/whatif';
import type { BenchRow } from './table';
import { quietJobContext } from './whatif';

const median = (v: number[]) => v.slice().sort((a, b) => a - b)[v.length >> 1];

function groupConstruction(spec: GraphSpec): { ms: number; groups: number } {
  let groups = channelGroups(spec).groups.length; // warm-up
  const t: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    groups = channelGroups(spec).groups.length;
    t.push(performance.now() - t0);
  }
  return { ms: median(t), groups };
}

export async function runStructuredBench(): Promise<BenchRow[]> {
  const b = await initBackend();
  const rows: BenchRow[] = [];
  const specs = {
    'LeNet-5': lenet5Spec([28, 28, 1], 10, 'relu', 'classification'),
    resnet8: resnet8Spec([28, 28, 1], 10, 'classification'),
  };
  const g = groupConstruction(specs.resnet8);
  rows.push({ group: 'structured', name: `resnet8: build the ${g.groups} dependency groups`, value: g.ms, unit: 'ms' });

  const ds = loadDataset('mnist');
  const split = splitDataset(ds, { seed: 0 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-structured-bench-'));
  try {
    const lenet = Graph.random(specs['LeNet-5'], 1);
    const saved = await saveModel(path.join(dir, 'lenet5'), lenet, { task: 'classification' });
    lenet.dispose();
    const ctx = quietJobContext();
    const params = (share: number) =>
      whatifJob.parse({
        modelPath: saved.modelJson,
        data: 'mnist',
        seed: 0,
        method: 'obd',
        share,
        structured: 'channels',
      });
    const first = await whatifJob.run(params(0.5), ctx); // ranking + clone, cached from here on
    const wall: number[] = [];
    for (let i = 0; i <= 20; i++) {
      const t0 = performance.now();
      await whatifJob.run(params(i / 20), ctx);
      wall.push(performance.now() - t0);
    }
    const m = median(wall);
    rows.push({
      group: 'structured',
      name: `LeNet-5 structured what-if move, cached obd ranking (${first.result.structured?.removableChannels} channels, MNIST test part), ${b.name}: median job ms`,
      value: m,
      unit: 'ms',
      ratio: 300 / m,
      ratioOf: 'x faster than the 300 ms budget',
      target: '>= 1',
      pass: m <= 300,
    });

    for (const [name, spec] of Object.entries(specs)) {
      const teacher = Graph.random(spec, 1);
      const built = await channelStudent(teacher, split, { method: 'random', seed: 0 }, { share: 0.5 });
      const rowsIn = Math.min(512, split.test.rows);
      const x = tf.tensor2d(split.test.x.subarray(0, rowsIn * ds.features), [rowsIn, ds.features]);
      try {
        const lat = measureLatency(teacher, built.student, x, undefined, 15);
        rows.push({
          group: 'structured',
          name: `${name}: student latency / teacher at 50 % of channels removed (batch ${rowsIn}, teacher ${lat.teacherMs.toFixed(1)} ms, student ${lat.studentMs.toFixed(1)} ms, MACs x${(built.plan.studentCost.macs / built.plan.teacherCost.macs).toFixed(2)}), ${b.name}`,
          value: lat.studentMs / lat.teacherMs,
          unit: 'x',
        });
      } finally {
        x.dispose();
        teacher.dispose();
        built.student.dispose();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
