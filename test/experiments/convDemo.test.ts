// demo --conv on a small budget: the teacher file it writes is the model it analysed, pruning
// nothing keeps the teacher's accuracy on every curve, the report carries the conv-kernel figures,
// and the student hook gets the rankings and lands in the report and the output folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { backend } from '../helpers';
import { runConvDemo } from '../../src/engine/experiments/convDemo';
import { loadModel } from '../../src/engine/formats/modelFile';
import { evaluate } from '../../src/engine/train/metrics';
import type { DataSplit } from '../../src/engine/data';
import { tmpDir } from '../fixtures/models/tfjsFiles';

test('demo --conv (quick): teacher file, curves from the teacher, conv figures, the student hook', async () => {
  await backend();
  const out = path.join(tmpDir('convdemo'), 'demo-conv');
  let hook: { methods: string[]; params: number; rows: number[] } | undefined;
  let analysed: DataSplit | undefined;
  const r = await runConvDemo({
    out,
    quick: true,
    rows: 600,
    analysisRows: { train: 300, test: 100 },
    methods: ['random', 'obd'],
    student: async (ctx) => {
      hook = {
        methods: Object.keys(ctx.rankings).sort(),
        params: ctx.teacher.network.nParams,
        rows: [ctx.split.train.rows, ctx.split.test.rows],
      };
      analysed = ctx.split;
      fs.mkdirSync(path.join(ctx.folder, 'student'));
      fs.writeFileSync(path.join(ctx.folder, 'student', 'note.txt'), 'channel student');
      return { heading: 'Hooked channel student', text: ['from the hook'] };
    },
  });
  assert.deepEqual(fs.readdirSync(out).sort(), ['curves.json', 'report.html', 'student', 'summary.json', 'teacher']);
  // The hook saw every ranking the curves used, on the teacher LeNet-5 (61,706 parameters for 10 classes).
  assert.deepEqual(hook, { methods: ['obd', 'random:0', 'random:1'], params: 61706, rows: [300, 100] });

  // The saved file is the analysed model: read back, its accuracy on the analysed test rows is
  // the curves' baseline; training reported its accuracy on all 120 test rows.
  const teacher = await loadModel(r.teacher.modelJson);
  assert.deepEqual([...teacher.network.inputShape], [28, 28, 1]);
  const acc = evaluate(teacher.network, analysed!.test, 'classification', 10).accuracy;
  teacher.network.dispose();
  assert.equal(acc, r.curves.baseline);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.equal(summary.teacher.analysedTestRows, 100);
  assert.equal(r.curves.provenance.data?.rows, 100);
  // Pruning nothing keeps the teacher's accuracy on every curve; the grid ends at everything removed.
  for (const [name, c] of Object.entries(r.curves.curves)) assert.equal(c.mean[0], r.curves.baseline, name);
  assert.equal(r.curves.shares.at(-1), 1);
  // Kernel figures of conv1 and conv2 (per output x input channel) for OBD, and the hook's section.
  const html = fs.readFileSync(r.report, 'utf8');
  assert.match(html, /obd relevance of layer conv1/);
  assert.match(html, /obd relevance of layer conv2/);
  assert.match(html, /Hooked channel student/);
});
