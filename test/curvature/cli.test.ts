// `prunescope curvature` end to end on the e2e fixture model (4-8-3 tanh/softmax) and iris: the
// printed Hessian diagonal against the float64 recursion (itself checked by finite differences).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { backend, maxRelErr, type JsonDoc } from '../helpers';
import { curvatureCommand } from '../../src/cli/commands/curvature';
import { loadDataset, splitDataset } from '../../src/engine/data';
import { denseLayout } from '../../src/engine/model/denseChain';
import { loadModel } from '../../src/engine/formats/modelFile';
import { recursionDiag, fdHessianDiag, Net64 } from './reference64';
import { runCommand } from '../cliRun';

const MODEL = path.join(__dirname, '..', '..', '..', 'test', 'e2e', 'fixtures', 'model.json');

async function runJson(argv: string[]): Promise<JsonDoc> {
  return JSON.parse(await runCommand(curvatureCommand, argv));
}

test('prunescope curvature --kind hessian --json matches the float64 reference on iris (train split)', async () => {
  await backend();
  const doc = await runJson([MODEL, '--data', 'iris', '--kind', 'hessian', '--json']);
  const m = await loadModel(MODEL);
  const w = Float64Array.from(m.network.toFlat());
  const ref: Net64 = { sizes: [4, 8, 3], acts: ['tanh', 'softmax'] };
  assert.deepEqual(
    denseLayout(m.network)!.map((l) => [l.inSize, l.outSize, l.activation]),
    [
      [4, 8, 'tanh'],
      [8, 3, 'softmax'],
    ],
  );
  m.network.dispose();
  const s = splitDataset(loadDataset('iris'), { seed: 0, standardize: false }).train;
  const X = Array.from({ length: s.rows }, (_, n) => Array.from(s.x.subarray(n * 4, n * 4 + 4)));
  const Y = Array.from(s.y, (c) => [0, 1, 2].map((k) => (k === c ? 1 : 0)));
  const h = recursionDiag(ref, w, X, Y, true);
  assert.ok(maxRelErr(h, fdHessianDiag(ref, w, X, Y)) < 1e-6);
  assert.equal(doc.kind, 'hessian');
  assert.equal(doc.nParams, 67);
  assert.deepEqual(
    doc.layers.map((l: JsonDoc) => [l.offset, l.kernelShape, l.biasSize]),
    [
      [0, [4, 8], 8],
      [40, [8, 3], 3],
    ],
  );
  // The flat index of any graph: one entry per trainable weight.
  assert.deepEqual(doc.weights, [
    { name: 'hidden/kernel', layer: 'hidden', offset: 0, shape: [4, 8] },
    { name: 'hidden/bias', layer: 'hidden', offset: 32, shape: [8] },
    { name: 'out/kernel', layer: 'out', offset: 40, shape: [8, 3] },
    { name: 'out/bias', layer: 'out', offset: 64, shape: [3] },
  ]);
  const e = maxRelErr(doc.values, h);
  assert.ok(e < 1e-3, `CLI hessian vs float64: ${e}`);
  assert.equal(doc.provenance.job, 'curvature');
  assert.equal(doc.provenance.data.rows, s.rows);
});

test('prunescope curvature rejects a data set of the wrong width, naming both sizes', async () => {
  await backend();
  await assert.rejects(runJson([MODEL, '--data', 'wine', '--kind', 'ggn', '--json']), /13 features.*expected 4/);
});
