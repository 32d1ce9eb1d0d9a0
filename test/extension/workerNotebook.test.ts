// The compiled worker, forked as the extension does: it announces every panel job, and a notebook
// cell drives the whole API (train -> analysis -> whatif -> prune -> exportStudent -> figures)
// with paths relative to the notebook. Cross-checks two code paths: the what-if at a grid share
// must equal the analysis curve there (qualityCurves vs the cached-clone mask + evaluate).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { fork } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as url from 'url';
import { FIGURE_MIME, type CellOutput, type WorkerToHost } from '../../src/protocol';

const workerPath = path.join(__dirname, '../../src/worker/worker.js');

test('forked worker: all panel jobs announced; a notebook cell runs the API end to end', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-nb-'));
  const child = fork(workerPath, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const messages: WorkerToHost[] = [];
  let wake = () => undefined as void;
  child.on('message', (m) => {
    messages.push(m as WorkerToHost);
    wake();
  });
  const next = async (pred: (m: WorkerToHost) => boolean): Promise<WorkerToHost> => {
    for (;;) {
      const m = messages.find(pred);
      if (m) return m;
      await new Promise<void>((r) => {
        wake = r;
      });
    }
  };
  try {
    const ready = (await next((m) => m.type === 'ready')) as Extract<WorkerToHost, { type: 'ready' }>;
    for (const k of ['analysis', 'whatif', 'prune', 'export-student', 'distill', 'gradient-variance'])
      assert.ok(ready.jobs.includes(k), k);
    const source = `
      const t = await prunescope.train({ data: 'wine', layers: [6, 3], epochs: 20, out: 'm/model.json' });
      const a = await prunescope.analysis({ model: 'm/model.json', data: 'wine', methods: ['random', 'obd'], step: 0.25 });
      const w = await prunescope.whatif({ model: 'm/model.json', data: 'wine', method: 'obd', share: 0.5 });
      const p = await prunescope.prune({ model: 'm/model.json', data: 'wine', method: 'obd', fraction: 0.5, out: 'm-pruned' });
      const e = await prunescope.exportStudent({ model: 'm/model.json', data: 'wine', method: 'obd', widths: [2], out: 'm-student' });
      plot(await prunescope.figures.heatmap({ model: 'm/model.json', data: 'wine', method: 'obd', layer: 1 }));
      plot(a.figures.curves);
      return { t: t.layers, curve: a.curves.methods.obd.mean[2], baseline: a.summary.baseline, share0: a.curves.methods.obd.mean[0], w: w.value, wBase: w.baseline, p: p.modelJson, e: e.widthsAfter };`;
    child.send({
      type: 'run',
      id: 1,
      kind: 'cell',
      params: { source, notebook: url.pathToFileURL(path.join(dir, 'a.prune.ipynb')).href, cellIndex: 0 },
    });
    const done = await next((m) => (m.type === 'result' || m.type === 'error') && m.id === 1);
    assert.equal(done.type, 'result', JSON.stringify(done));
    const outputs = (done as Extract<WorkerToHost, { type: 'result' }>).result as { outputs: CellOutput[] };
    const figs = outputs.outputs.filter((o) => o.mime === FIGURE_MIME);
    assert.equal(figs.length, 2);
    const text = outputs.outputs
      .filter((o) => o.mime === 'text/plain')
      .map((o) => o.data)
      .join('\n');
    // The returned object is printed with util.inspect: pull the numbers back out.
    const num = (k: string) => Number(new RegExp(`${k}: ([0-9.e-]+)`).exec(text)?.[1]);
    for (const k of ['curve', 'w', 'share0', 'baseline', 'wBase'])
      assert.ok(Number.isFinite(num(k)) && num(k) > 0, `${k} in ${text}`);
    assert.equal(num('curve'), num('w'), 'whatif at share 0.5 equals the analysis curve at 0.5');
    assert.equal(num('share0'), num('baseline'));
    assert.equal(num('wBase'), num('baseline'));
    assert.ok(fs.existsSync(path.join(dir, 'm-pruned', 'model.json')), 'relative out resolved next to the notebook');
    assert.ok(fs.existsSync(path.join(dir, 'm-student', 'student.json')));
    assert.match(text, /e: \[ 2, 3 \]/);
  } finally {
    child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
