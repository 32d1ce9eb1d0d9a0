// media/examples/analysis.prune.ipynb runs top to bottom through the cell job: every code cell
// finishes without an error output, every plot is a valid figure, every writing cell creates its
// folder next to the notebook (the notebook and the shipped Wine model are copied to a temp tree).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as url from 'url';
import { backend } from '../helpers';
import { FIGURE_MIME, figureProblem } from '../../src/protocol';
import { cellJob } from '../../src/worker/jobs/cell';
import type { JobContext } from '../../src/worker/jobTypes';

const root = path.join(__dirname, '../../..');

test('the example notebook runs top to bottom', async () => {
  await backend();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-example-'));
  try {
    fs.mkdirSync(path.join(tmp, 'examples'));
    fs.cpSync(path.join(root, 'media/models/wine'), path.join(tmp, 'models/wine'), { recursive: true });
    const nbFile = path.join(tmp, 'examples', 'analysis.prune.ipynb');
    fs.copyFileSync(path.join(root, 'media/examples/analysis.prune.ipynb'), nbFile);
    const nb = JSON.parse(fs.readFileSync(nbFile, 'utf8'));
    assert.equal(nb.nbformat, 4);
    const ctx: JobContext = {
      signal: new AbortController().signal,
      progress: () => undefined,
      log: () => undefined,
      cache: new Map(),
    };
    let figures = 0;
    for (const [i, c] of (nb.cells as { cell_type: string; source: string[] }[]).entries()) {
      if (c.cell_type !== 'code') continue;
      const r = await cellJob.run(
        cellJob.parse({ source: c.source.join(''), notebook: url.pathToFileURL(nbFile).href, cellIndex: i }),
        ctx,
      );
      for (const o of r.result.outputs)
        if (o.mime === FIGURE_MIME) {
          figures++;
          assert.equal(figureProblem(o.data), undefined, `cell ${i}`);
        }
    }
    assert.ok(figures >= 8, `${figures} figures`);
    for (const d of ['wine-pruned-obd-50/model.json', 'wine-student-obd/student.json', 'wine-distill/report.html'])
      assert.ok(fs.existsSync(path.join(tmp, 'examples/out', d)), d);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
