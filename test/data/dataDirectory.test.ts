// dataDirectory(): found by walking up from the compiled code, in the tsc layout and in a
// bundle-like layout elsewhere; explicit overrides win.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { dataDirectory, setDataDirectory } from '../../src/engine/data';

const repoData = path.resolve(__dirname, '..', '..', '..', 'media', 'data');

test('from build/src/engine/data/ it finds the repository media/data', () => {
  assert.equal(dataDirectory(), repoData);
  assert.ok(fs.existsSync(path.join(dataDirectory(), 'mnist-10k.u8.gz')));
});

test("from another install layout (code three folders deep) it finds that install's media/data", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-install-'));
  try {
    const built = path.resolve(__dirname, '..', '..', 'src', 'engine');
    fs.mkdirSync(path.join(root, 'dist', 'engine', 'data'), { recursive: true });
    fs.copyFileSync(
      path.join(built, 'data', 'dataDirectory.js'),
      path.join(root, 'dist', 'engine', 'data', 'dataDirectory.js'),
    );
    fs.copyFileSync(path.join(built, 'errors.js'), path.join(root, 'dist', 'engine', 'errors.js'));
    fs.mkdirSync(path.join(root, 'media', 'data'), { recursive: true });
    fs.writeFileSync(path.join(root, 'media', 'data', 'wine_data.csv'), '');
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the copy is made at run time
    const copy = require(path.join(root, 'dist', 'engine', 'data', 'dataDirectory.js'));
    assert.equal(copy.dataDirectory(), path.join(root, 'media', 'data'));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('setDataDirectory and PRUNESCOPE_DATA_DIR override the search', () => {
  process.env.PRUNESCOPE_DATA_DIR = '/somewhere/env';
  assert.equal(dataDirectory(), '/somewhere/env');
  setDataDirectory('/somewhere/explicit');
  assert.equal(dataDirectory(), '/somewhere/explicit');
  setDataDirectory(undefined);
  delete process.env.PRUNESCOPE_DATA_DIR;
  assert.equal(dataDirectory(), repoData);
});
