// The CLI as the packaged extension ships it: built with webpack into dist/cli.js and run through
// bin/prunescope.js (which prefers the bundle). Inside a bundle `require.main === module` holds for
// the entry module, so an entry that ran itself ran every command twice: two JSON documents on
// stdout, two trainings into one folder. Run by `npm run test:bundle` (CI), not by `npm test`.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.join(__dirname, '..', '..', '..');
const bundle = path.join(root, 'dist', 'cli.js');
const bin = path.join(root, 'bin', 'prunescope.js');
let tmp: string;

function prunescope(...argv: string[]) {
  const r = spawnSync(process.execPath, [bin, ...argv], { cwd: tmp, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file under `dir`, relative, sorted (hidden staging folders included). */
function listAll(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

before(() => {
  // The engine config builds dist/worker.js and dist/cli.js (the extension's bundles are not needed).
  const r = spawnSync(
    process.execPath,
    [require.resolve('webpack-cli/bin/cli.js'), '--mode', 'production', '--config-name', 'engine'],
    { cwd: root, encoding: 'utf8', timeout: 900_000 },
  );
  assert.equal(r.status, 0, `webpack failed:\n${r.stdout}\n${r.stderr}`);
  // webpack leaves an unchanged asset unwritten, so its mtime says nothing; it must exist.
  assert.ok(fs.existsSync(bundle), 'dist/cli.js built');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-bundle-'));
});

test('train from the bundle: one training, one set of files, the result printed once', () => {
  const r = prunescope('train', '--data', 'wine', '--layers', '4,3', '--epochs', '3', '--out', 'm');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.match(/^saved /gm)?.length, 1, `stdout:\n${r.stdout}`);
  // Two runs in one process interleave: both log their first epochs before either exits.
  for (const e of [1, 2, 3]) assert.equal(r.stderr.match(new RegExp(`^epoch ${e}/3`, 'gm'))?.length, 1, r.stderr);
  // A second run into the same folder would have failed with "not empty" and left staging files.
  assert.doesNotMatch(r.stderr, /not empty|error/i);
  assert.deepEqual(listAll(tmp), ['m/group1-shard1of1.bin', 'm/model.json']);
});

test('info --json from the bundle prints exactly one JSON document', () => {
  const r = prunescope('info', path.join('m', 'model.json'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout); // two documents back to back do not parse
  // 13 inputs -> 4 tanh -> 3 softmax: (13 + 1) * 4 + (4 + 1) * 3 parameters.
  assert.equal(doc.totalParams, 71);
  assert.deepEqual(
    doc.layers.map((l: { in: number; out: number }) => [l.in, l.out]),
    [
      [13, 4],
      [4, 3],
    ],
  );
});

test('a failing command from the bundle reports its error once and exits 1', () => {
  const r = prunescope('info', 'missing.json', '--json');
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.match(/^prunescope info: /gm)?.length, 1, r.stderr);
});
