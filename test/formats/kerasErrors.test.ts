// Bad .h5 and .keras files are refused with a PruneScopeError naming the file, the place in it and
// what was expected; nothing runs, nothing hangs, and a trap or a hang inside the HDF5 library
// (compiled C) ends only its worker thread: the next read works.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { strToU8, zipSync } from 'fflate';
import { readModel, writeModel } from '../../src/engine/formats';
import { buildHdf5, h5Service } from '../../src/engine/formats/hdf5/h5Client';
import { ErrorCode, PruneScopeError } from '../../src/engine/errors';
import type { GraphSpec } from '../../src/engine/graphSpec';
import { tmpDir } from '../fixtures/models/tfjsFiles';

after(() => h5Service.stop());

async function refused(p: Promise<unknown>, code: ErrorCode, parts: (string | RegExp)[]): Promise<PruneScopeError> {
  let err: PruneScopeError | undefined;
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof PruneScopeError, `not a PruneScopeError: ${String((e as Error)?.stack ?? e)}`);
    assert.equal(e.code, code, e.message);
    for (const x of parts)
      if (typeof x === 'string') assert.ok(e.message.includes(x), `"${x}" missing from: ${e.message}`);
      else assert.match(e.message, x);
    err = e;
    return true;
  });
  return err!;
}

/** A small Dense model: 3 -> 4 (tanh) -> 2 (softmax). */
function spec(): GraphSpec {
  const v = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * s));
  return {
    inputs: [{ name: 'x', shape: [3] }],
    nodes: [
      {
        name: 'h',
        className: 'Dense',
        config: { units: 4, activation: 'tanh', useBias: true },
        inputs: ['x'],
        weights: [
          { name: 'kernel', shape: [3, 4], trainable: true, values: v(12, 0.7) },
          { name: 'bias', shape: [4], trainable: true, values: v(4, 1.3) },
        ],
      },
      {
        name: 'out',
        className: 'Dense',
        config: { units: 2, activation: 'softmax', useBias: true },
        inputs: ['h'],
        weights: [
          { name: 'kernel', shape: [4, 2], trainable: true, values: v(8, 0.3) },
          { name: 'bias', shape: [2], trainable: true, values: v(2, 2.1) },
        ],
      },
    ],
    outputs: ['out'],
    inputLayout: 'NHWC',
  };
}

test('truncated and corrupted .h5 files are refused naming the file and the HDF5 cause', async () => {
  const dir = tmpDir('h5bad');
  const good = (await writeModel(path.join(dir, 'good.h5'), { spec: spec() }, 'h5')).path;
  const bytes = fs.readFileSync(good);
  const cut = path.join(dir, 'cut.h5');
  fs.writeFileSync(cut, bytes.subarray(0, 1500));
  await refused(readModel(cut), 'bad-input', [cut, /truncated file/, /expected an intact HDF5 file/]);
  // Not HDF5 at all, under an .h5 name.
  const junk = path.join(dir, 'junk.h5');
  fs.writeFileSync(junk, Buffer.from('this is not a model, just text with an h5 name'));
  await refused(readModel(junk), 'bad-input', [junk, /HDF5/]);
  // The reader still works after all that.
  const m = await readModel(good);
  assert.deepEqual(Array.from(m.spec.nodes[1].weights[1].values), Array.from(spec().nodes[1].weights[1].values));
});

test('.h5 contents: weights only, Lambda code, a wrong weight shape, a missing weight group, an oversized dataset', async () => {
  const dir = tmpDir('h5content');
  const cfg = (layers: unknown[]) => JSON.stringify({ class_name: 'Sequential', config: { name: 's', layers } });
  const input = { class_name: 'InputLayer', config: { name: 'x', batch_input_shape: [null, 3] } };
  const dense = { class_name: 'Dense', config: { name: 'd', units: 2 } };
  const write = async (name: string, attrs: Record<string, string>, kernelShape = [3, 2], groups = true) => {
    const f = path.join(dir, name);
    fs.writeFileSync(
      f,
      await buildHdf5(
        {
          attrs,
          groups: groups
            ? [
                { path: 'model_weights', attrs: { layer_names: ['d'] } },
                { path: 'model_weights/d', attrs: { weight_names: ['d/kernel:0', 'd/bias:0'] } },
                { path: 'model_weights/d/d' },
              ]
            : [],
          datasets: groups
            ? [
                {
                  path: 'model_weights/d/d/kernel:0',
                  shape: kernelShape,
                  dtype: '<f',
                  data: new Float32Array(kernelShape[0] * kernelShape[1]),
                },
                { path: 'model_weights/d/d/bias:0', shape: [2], dtype: '<f', data: new Float32Array(2) },
              ]
            : [],
        },
        f,
      ),
    );
    return f;
  };
  const weightsOnly = await write('weights.h5', {});
  await refused(readModel(weightsOnly), 'unsupported', [weightsOnly, 'model_config', /weights-only/]);
  const lambda = await write('lambda.h5', {
    model_config: cfg([
      input,
      { class_name: 'Lambda', config: { name: 'lam', function: ['4wEA', null, null], function_type: 'lambda' } },
      dense,
    ]),
  });
  await refused(readModel(lambda), 'unsupported', [lambda, 'layer lam (Lambda)', /never runs code/]);
  const wrong = await write('wrong.h5', { model_config: cfg([input, dense]) }, [2, 3]);
  await refused(readModel(wrong), 'bad-input', [
    wrong,
    'layer d (Dense) weight kernel',
    /shape \[2, 3\]/,
    /expected \[3, 2\]/,
  ]);
  const missing = await write('missing.h5', { model_config: cfg([input, dense]) }, [3, 2], false);
  await refused(readModel(missing), 'bad-input', [missing, 'layer d (Dense) weights', /no weight group \/d/]);
  const big = await write('big.h5', {
    model_config: cfg([input, { class_name: 'Dense', config: { name: 'd', units: 2 } }]),
  });
  await refused(readModel(big, { maxBytes: 16 }), 'too-large', [
    big,
    '/model_weights/d/d/kernel:0',
    /declares 24 bytes, over the 16 bytes left of the budget/,
  ]);
});

/** A .keras zip with the given entries (stored). */
function kerasZip(file: string, entries: Record<string, Uint8Array>): string {
  fs.writeFileSync(file, zipSync(Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, [v, { level: 0 }]]))));
  return file;
}

test('.keras archives: entry paths leaving the folder, zip bombs, CRC damage, truncation, missing parts', async () => {
  const dir = tmpDir('kerasbad');
  const good = (await writeModel(path.join(dir, 'good.keras'), { spec: spec() }, 'keras')).path;
  const m = await readModel(good);
  assert.equal(m.format.type, 'keras');
  const parts = (await import('fflate')).unzipSync(new Uint8Array(fs.readFileSync(good)));

  const evil = kerasZip(path.join(dir, 'evil.keras'), { ...parts, '../../etc/evil.txt': strToU8('x') });
  await refused(readModel(evil), 'bad-input', [evil, 'zip entry "../../etc/evil.txt"', /leaves the archive's folder/]);
  const abs = kerasZip(path.join(dir, 'abs.keras'), { ...parts, '/tmp/abs.txt': strToU8('x') });
  await refused(readModel(abs), 'bad-input', [abs, /leaves the archive's folder/]);

  // A bomb: 200 MB of zeros deflate to ~200 KB; the declared size is then raised past the budget.
  const bomb = path.join(dir, 'bomb.keras');
  fs.writeFileSync(
    bomb,
    zipSync({ 'config.json': parts['config.json'], 'model.weights.h5': new Uint8Array(200 * 1024 ** 2) }),
  );
  await refused(readModel(bomb, { maxBytes: 1024 ** 2 }), 'too-large', [
    bomb,
    'zip entry model.weights.h5',
    /declares 209715200 bytes/,
  ]);
  // A declared size deflate could never reach from the compressed bytes.
  const liar = Buffer.from(
    zipSync({ 'config.json': parts['config.json'], 'model.weights.h5': [new Uint8Array(4096), { level: 9 }] }),
  );
  patchSize(liar, 'model.weights.h5', 500 * 1024 ** 2);
  const liarFile = path.join(dir, 'liar.keras');
  fs.writeFileSync(liarFile, liar);
  await refused(readModel(liarFile), 'bad-input', [liarFile, /zip bomb/]);

  const flipped = Buffer.from(fs.readFileSync(good));
  const at = flipped.indexOf(Buffer.from('"Dense"'));
  flipped[at + 2] ^= 0x20;
  const crcFile = path.join(dir, 'crc.keras');
  fs.writeFileSync(crcFile, flipped);
  await refused(readModel(crcFile), 'bad-input', [crcFile, 'zip entry', /CRC-32/]);

  const cut = path.join(dir, 'cut.keras');
  fs.writeFileSync(cut, fs.readFileSync(good).subarray(0, 700));
  await refused(readModel(cut), 'bad-input', [cut, /end-of-central-directory/]);

  const noWeights = kerasZip(path.join(dir, 'noweights.keras'), {
    'config.json': parts['config.json'],
    'metadata.json': parts['metadata.json'],
  });
  await refused(readModel(noWeights), 'bad-input', [noWeights, 'model.weights.h5']);
  const badJson = kerasZip(path.join(dir, 'badjson.keras'), {
    ...parts,
    'config.json': strToU8('{"class_name": "Sequential", '),
  });
  await refused(readModel(badJson), 'bad-input', [badJson, 'config.json', /not valid JSON/]);
});

/** Rewrites the declared uncompressed size of an entry in both its local and central headers. */
function patchSize(zip: Buffer, name: string, size: number): void {
  const n = Buffer.from(name);
  for (let i = 0; i + 46 < zip.length; i++) {
    const sig = zip.readUInt32LE(i);
    if (sig === 0x04034b50 && zip.subarray(i + 30, i + 30 + n.length).equals(n)) zip.writeUInt32LE(size, i + 22);
    if (sig === 0x02014b50 && zip.subarray(i + 46, i + 46 + n.length).equals(n)) zip.writeUInt32LE(size, i + 24);
  }
}

test('a trap inside the HDF5 library, or a call that never returns, ends only the worker thread', async () => {
  const dir = tmpDir('h5worker');
  const good = (await writeModel(path.join(dir, 'good.h5'), { spec: spec() }, 'h5')).path;
  const real = h5Service.script;
  const fake = (body: string) => {
    const f = path.join(dir, `fake-${Math.random().toString(36).slice(2)}.js`);
    fs.writeFileSync(
      f,
      `const { parentPort } = require('worker_threads');\nparentPort.on('message', (req) => { ${body} });\n`,
    );
    return f;
  };
  try {
    await h5Service.stop();
    // What h5Worker does on a wasm abort: report the trap (the client then retires the thread).
    h5Service.script = fake(
      `parentPort.postMessage({ id: req.id, ok: false, trap: true, message: 'RuntimeError: Aborted(memory access out of bounds)' });`,
    );
    await refused(readModel(good), 'bad-input', [good, /the HDF5 library failed opening the file/, /Aborted/]);
    // A thread that dies without a word (a crash) is reported too.
    h5Service.script = fake(`process.exit(3);`);
    await refused(readModel(good), 'bad-input', [good, /stopped \(exit code 3\)/]);
    // A thread stuck in a loop is terminated when its time is up.
    h5Service.baseTimeoutMs = 400;
    h5Service.script = fake(`for (;;) {}`);
    const t0 = Date.now();
    await refused(readModel(good), 'bad-input', [good, /no answer within/]);
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
  } finally {
    h5Service.script = real;
    h5Service.baseTimeoutMs = 20_000;
  }
  // A fresh real thread serves the next read.
  const m = await readModel(good);
  assert.equal(m.spec.nodes.length, 2);
});
