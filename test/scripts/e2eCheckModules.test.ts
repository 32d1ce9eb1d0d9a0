import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// The e2e driver's hook (plain JS, run by node outside tsc): compiled tests live in build/test/scripts/.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { loadCheckModules, onlyPattern } = require(path.resolve(__dirname, '../../../test/e2e/checkModules.js')) as {
  loadCheckModules: (dir: string) => { file: string; title: string; run?: unknown; error?: string }[];
  onlyPattern: (env: Record<string, string | undefined>) => RegExp | undefined;
};

function folder(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-checks-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

test('check modules run in file-name order; other files are not checks', () => {
  const dir = folder({
    '20-formats.js': "exports.title = 'reads ONNX'; exports.run = async () => 'formats';",
    '10-data.js': "exports.run = async () => 'data';",
    'README.md': '# not a check',
    'helper.json': '{}',
  });
  try {
    const mods = loadCheckModules(dir);
    assert.deepEqual(
      mods.map((m) => [m.file, m.title, m.error]),
      [
        ['10-data.js', '10-data.js: 10-data.js', undefined],
        ['20-formats.js', '20-formats.js: reads ONNX', undefined],
      ],
    );
    assert.equal(typeof mods[1].run, 'function');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a module without run(ctx), or one that throws on load, is listed with the reason', () => {
  const dir = folder({ 'a.js': 'exports.title = "no run";', 'b.js': 'throw new Error("typo in b");' });
  try {
    const [a, b] = loadCheckModules(dir);
    assert.match(a.error ?? '', /a\.js exports no run\(ctx\) function/);
    assert.equal(a.run, undefined);
    assert.match(b.error ?? '', /b\.js failed to load: typo in b/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('no checks folder means no checks; E2E_ONLY selects by file name', () => {
  assert.deepEqual(loadCheckModules(path.join(os.tmpdir(), 'no-such-e2e-checks-folder')), []);
  assert.equal(onlyPattern({}), undefined);
  const only = onlyPattern({ E2E_ONLY: '^20-' });
  assert.ok(only?.test('20-formats.js'));
  assert.ok(!only?.test('10-data.js'));
});
