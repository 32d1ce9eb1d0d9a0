// Targeted checks of the reader's defences the fuzzer relies on: path confinement, the byte
// budget (refused before any shard is touched, with the numbers in the message), JSON depth,
// shape products past 2^53, and budgets that are not numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backend, type JsonDoc } from '../helpers';
import { loadModel } from '../../src/engine/formats/modelFile';
import { readCsv } from '../../src/engine/data/readCsv';
import { ErrorCode, PruneScopeError } from '../../src/engine/errors';
import { jsonDepth } from '../../src/engine/util/jsonLimits';
import { tmpDir, writeTfjsModel } from '../fixtures/models/tfjsFiles';

/** h (3 -> 4) then out (4 -> 2): 26 float32 parameters = 104 bytes in one shard. */
async function fixture(): Promise<{ dir: string; file: string; json: JsonDoc }> {
  await backend();
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [3], units: 4, name: 'h' }), tf.layers.dense({ units: 2, name: 'out' })],
  });
  const dir = tmpDir('limits');
  const file = await writeTfjsModel(model, dir);
  model.dispose();
  return { dir, file, json: JSON.parse(fs.readFileSync(file, 'utf8')) };
}

async function refusal(p: Promise<unknown>, code: ErrorCode, file: string): Promise<PruneScopeError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof PruneScopeError, `expected a PruneScopeError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.ok(caught.message.includes(file), `does not name ${file}: ${caught.message}`);
  return caught;
}

test('shard paths escaping the folder are refused: via a symlinked folder, NUL, Windows forms, URL', async () => {
  const { dir, file, json } = await fixture();
  const outside = tmpDir('limits-outside');
  fs.copyFileSync(path.join(dir, json.weightsManifest[0].paths[0]), path.join(outside, 'w.bin'));
  fs.symlinkSync(outside, path.join(dir, 'sub'));
  const cases: [string, RegExp][] = [
    ['sub/w.bin', /link to .*outside the model folder/],
    ['w.bin\u0000', /NUL/],
    ['..\\..\\w.bin', /does not exist/], // on POSIX a backslash is a file name character, so this stays inside
    ['C:\\w.bin', /absolute or a URL/],
    ['file:///etc/passwd', /absolute or a URL/],
    ['a/../../w.bin', /leaves the model folder/],
  ];
  for (const [p, why] of cases) {
    json.weightsManifest[0].paths = [p];
    fs.writeFileSync(file, JSON.stringify(json));
    const e = await refusal(loadModel(file), why.source.includes('exist') ? 'not-found' : 'bad-input', file);
    assert.match(e.message, why, p);
    assert.match(e.message, /weightsManifest\[0\]\.paths\[0\]/);
  }
});

test('a model over the byte budget is refused before its shards are looked at, with both numbers', async () => {
  const { dir, file, json } = await fixture();
  // 104 bytes against a budget of 103 and 104: the boundary is inclusive.
  const e = await refusal(loadModel(file, { maxBytes: 103 }), 'too-large', file);
  assert.match(e.message, /declares 104 bytes/);
  assert.match(e.message, /limit of 103 bytes/);
  const ok = await loadModel(file, { maxBytes: 104 });
  assert.equal(ok.network.nParams, 26);
  ok.network.dispose();

  // A consistent model (topology and manifest agree) declaring 2^40 units in its last layer:
  // 4 * 4 * 2^40 + 4 * 2^40 bytes. Its shards are deleted: a too-large answer (not not-found)
  // shows the budget is checked before any shard is resolved, let alone read.
  const units = 2 ** 40;
  json.modelTopology.config.layers[1].config.units = units;
  json.weightsManifest[0].weights[2].shape = [4, units];
  json.weightsManifest[0].weights[3].shape = [units];
  fs.writeFileSync(file, JSON.stringify(json));
  for (const p of json.weightsManifest[0].paths) fs.rmSync(path.join(dir, p));
  const before = process.memoryUsage();
  const big = await refusal(loadModel(file), 'too-large', file);
  const declared = 4 * (3 * 4 + 4) + 4 * (4 * units + units);
  assert.ok(big.message.includes(`declares ${declared} bytes`), big.message);
  assert.ok(big.message.includes(String(2 * 1024 ** 3)), big.message);
  assert.ok(process.memoryUsage().rss - before.rss < 64 * 2 ** 20, 'refusal allocated memory');
});

test('shape products past 2^53 and non-numeric budgets are refused, not mis-computed', async () => {
  const { file, json } = await fixture();
  // 2^53 * 2^53 * 4 bytes is not a safe integer; before the fix [huge, huge, 0] gave NaN bytes,
  // which passed the budget check.
  json.weightsManifest[0].weights.push({ name: 'extra', shape: [2 ** 52, 2 ** 52], dtype: 'float32' });
  fs.writeFileSync(file, JSON.stringify(json));
  const e = await refusal(loadModel(file), 'too-large', file);
  assert.match(e.message, /extra\)\.shape/);
  json.weightsManifest[0].weights[4].shape = [2 ** 53 + 2, 3];
  fs.writeFileSync(file, JSON.stringify(json));
  assert.match((await refusal(loadModel(file), 'bad-input', file)).message, /non-negative integers/);
  json.weightsManifest[0].weights.pop();
  fs.writeFileSync(file, JSON.stringify(json));
  // A 1 MB layer name would otherwise be repeated in every message about the layer.
  json.modelTopology.config.layers[0].config.name = 'h'.repeat(1_000_000);
  fs.writeFileSync(file, JSON.stringify(json));
  const long = await refusal(loadModel(file), 'bad-input', file);
  assert.ok(long.message.length < 400 && /1000000 characters/.test(long.message), long.message.slice(0, 400));
  json.modelTopology.config.layers[0].config.name = 'h';
  fs.writeFileSync(file, JSON.stringify(json));
  for (const maxBytes of [NaN, -1]) {
    const b = await refusal(loadModel(file, { maxBytes }), 'bad-input', file);
    assert.ok(b.message.includes(`maxBytes is ${maxBytes}`), b.message);
  }
  const csv = path.join(path.dirname(file), 'd.csv');
  fs.writeFileSync(csv, 'a,b\n1,2\n3,4\n');
  assert.throws(
    () => readCsv(csv, { maxBytes: NaN }),
    (x: unknown) => x instanceof PruneScopeError && x.message.includes(csv) && /maxBytes is NaN/.test(x.message),
  );
});

test('deeply nested model.json is refused by depth before parsing, quickly and naming the file', async () => {
  const { file, json } = await fixture();
  assert.equal(jsonDepth('{"a":"[[[[","b":[[1],{"c":[]}]}'), 4); // brackets inside strings do not count
  assert.equal(jsonDepth('["\\"[["]'), 1); // an escaped quote does not end the string
  json.modelTopology.config.layers[0].config.units = JSON.parse('['.repeat(50) + ']'.repeat(50));
  fs.writeFileSync(file, JSON.stringify(json));
  const shallow = await refusal(loadModel(file), 'bad-input', file); // 50 levels (plus the file's own) parse, then fail as units
  assert.ok(shallow.message.length < 600, `message is ${shallow.message.length} chars`);
  fs.writeFileSync(file, '['.repeat(1_000_000) + ']'.repeat(1_000_000));
  const t0 = performance.now();
  const e = await refusal(loadModel(file), 'too-large', file);
  assert.ok(performance.now() - t0 < 1000, `took ${performance.now() - t0} ms`);
  assert.match(e.message, /more than 64 levels/);
});
