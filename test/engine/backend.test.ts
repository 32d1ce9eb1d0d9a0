import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as path from 'path';

// Each case runs in its own process: the backend is chosen once per process.
const root = path.resolve(__dirname, '..', '..', '..');
function probe(env: Record<string, string | undefined>) {
  const code = `require(${JSON.stringify(path.join(root, 'build/src/engine/backend.js'))}).initBackend()
    .then((b) => { const tf = require('@tensorflow/tfjs'); console.log(JSON.stringify({ ...b, active: tf.getBackend() })); })
    .catch((e) => { console.error(e.message); process.exit(3); });`;
  return spawnSync(process.execPath, ['-e', code], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('PRUNESCOPE_BACKEND=cpu and =wasm force that backend, and the choice is reported', () => {
  for (const name of ['cpu', 'wasm']) {
    const r = probe({ PRUNESCOPE_BACKEND: name });
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.name, name);
    assert.equal(info.active, name);
    assert.match(info.reason, /forced/);
  }
});

test('without tfjs-node the default is wasm; forcing tensorflow fails with a message naming the optional dependency', () => {
  const r = probe({ PRUNESCOPE_BACKEND: undefined });
  assert.equal(r.status, 0, r.stderr);
  let hasNode = true;
  try {
    require.resolve('@tensorflow/tfjs-node');
  } catch {
    hasNode = false;
  }
  assert.equal(JSON.parse(r.stdout).name, hasNode ? 'tensorflow' : 'wasm');
  if (!hasNode) {
    const t = probe({ PRUNESCOPE_BACKEND: 'tensorflow' });
    assert.equal(t.status, 3);
    assert.match(t.stderr, /@tensorflow\/tfjs-node/);
  }
  const bad = probe({ PRUNESCOPE_BACKEND: 'gpu' });
  assert.equal(bad.status, 3);
  assert.match(bad.stderr, /PRUNESCOPE_BACKEND=gpu: expected one of tensorflow, wasm, cpu/);
});
