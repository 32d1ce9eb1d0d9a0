// `prunescope belsley`: JSON output shape on METHODS.md reference cases, and file errors naming row/column.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { belsleyCommand } from '../../src/cli/commands/belsley';
import { parseArgs } from '../../src/cli/args';
import { PruneScopeError } from '../../src/engine/errors';

async function run(argv: string[]): Promise<string> {
  let out = '';
  const args = parseArgs(argv, belsleyCommand.flags, 'belsley');
  await belsleyCommand.run(args, {
    log: () => undefined,
    out: (t) => {
      out += t;
    },
    signal: new AbortController().signal,
  });
  return out;
}

test('belsley CLI on CSV and JSON: 2 x 2 correlation and Hald data matrix with --intercept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'belsley-'));
  try {
    writeFileSync(join(dir, 'r.csv'), '1, 0.9\n0.9, 1\n');
    const a = JSON.parse(await run(['--matrix', join(dir, 'r.csv'), '--json']));
    assert.ok(Math.abs(a.conditionIndices[0] - 19) < 1e-12 && Math.abs(a.conditionIndices[1] - 1) < 1e-12);
    assert.ok(Math.abs(a.proportions[0][0] - 0.95) < 1e-12 && Math.abs(a.proportions[1][0] - 0.95) < 1e-12);
    assert.deepEqual([a.xi, a.zeta, a.order], [0, 0, [0, 1]]);

    const X = [
      [7, 26, 6, 60],
      [1, 29, 15, 52],
      [11, 56, 8, 20],
      [11, 31, 8, 47],
      [7, 52, 6, 33],
      [11, 55, 9, 22],
      [3, 71, 17, 6],
      [1, 31, 22, 44],
      [2, 54, 18, 22],
      [21, 47, 4, 26],
      [1, 40, 23, 34],
      [11, 66, 9, 12],
      [10, 68, 8, 12],
    ];
    writeFileSync(join(dir, 'hald.json'), JSON.stringify(X));
    const h = JSON.parse(
      await run(['--matrix', join(dir, 'hald.json'), '--input', 'data', '--intercept', '--ordering', 'fast', '--json']),
    );
    assert.ok(Math.abs(h.conditionIndicesBKW[0] - 249.578252) < 5e-7);
    assert.equal(h.proportions.length, 5);
    assert.ok(Math.abs(h.proportions[3][0] - 0.94985) < 5e-6);
    assert.equal(h.order.length, 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('belsley CLI: bad files name the file, row and column', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'belsley-'));
  try {
    const bad = (re: RegExp) => (e: unknown) => e instanceof PruneScopeError && re.test(e.message);
    writeFileSync(join(dir, 'h.csv'), 'a,b\n1,2\n');
    await assert.rejects(
      run(['--matrix', join(dir, 'h.csv')]),
      bad(/h\.csv: row 0, column 0: "a" is not a finite number/),
    );
    writeFileSync(join(dir, 'j.json'), '[[1, 0.5], [0.5, "x"]]');
    await assert.rejects(run(['--matrix', join(dir, 'j.json')]), bad(/j\.json: row 1, column 1/));
    writeFileSync(join(dir, 'ragged.csv'), '1,2\n3\n');
    await assert.rejects(
      run(['--matrix', join(dir, 'ragged.csv')]),
      bad(/ragged\.csv: row 1: row has 1 columns \(expected 2 columns/),
    );
    writeFileSync(join(dir, 'rect.csv'), '1,2,3\n4,5,6\n');
    await assert.rejects(run(['--matrix', join(dir, 'rect.csv')]), bad(/matrix is 2 x 3.*--input data/));
    await assert.rejects(
      run(['--matrix', join(dir, 'missing.csv')]),
      (e: unknown) => e instanceof PruneScopeError && e.code === 'not-found',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
