// Bad ONNX files are refused with a PruneScopeError naming the file, the place (node, attribute,
// initializer) and what was expected; external tensor data is read only from inside the model's
// folder. The files are PyTorch's fixtures with one thing changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { readModel } from '../../src/engine/formats';
import { ModelProto, ModelMsg } from '../../src/engine/formats/onnx/schema';
import { ErrorCode, PruneScopeError } from '../../src/engine/errors';
import { tmpDir } from '../fixtures/models/tfjsFiles';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'onnx');

function load(name: string): ModelMsg {
  return ModelProto.decode(fs.readFileSync(path.join(FIXTURES, name))) as unknown as ModelMsg;
}
function save(dir: string, name: string, m: ModelMsg): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, ModelProto.encode(m as never).finish());
  return f;
}

async function refused(p: Promise<unknown>, code: ErrorCode, parts: (string | RegExp)[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof PruneScopeError, `not a PruneScopeError: ${String((e as Error)?.stack ?? e)}`);
    assert.equal(e.code, code, e.message);
    for (const x of parts)
      if (typeof x === 'string') assert.ok(e.message.includes(x), `"${x}" missing from: ${e.message}`);
      else assert.match(e.message, x);
    return true;
  });
}

test('damaged protobuf: truncated, random bytes, a tensor whose dims exceed its data or any budget', async () => {
  const dir = tmpDir('onnx-bad');
  const bytes = fs.readFileSync(path.join(FIXTURES, 'mlp-opset13.onnx'));
  const cut = path.join(dir, 'cut.onnx');
  fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 300));
  await refused(readModel(cut), 'bad-input', [cut, /not a readable ONNX protobuf/]);
  const junk = path.join(dir, 'junk.onnx');
  fs.writeFileSync(junk, Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919 + 13) & 255)));
  await refused(readModel(junk), 'bad-input', [junk]);

  const m = load('mlp-opset13.onnx');
  const init = (x: ModelMsg) => x.graph!.initializer!.find((t) => t.name === 'net.0.weight')!;
  init(m).dims = [16, 14];
  const lying = save(dir, 'lying.onnx', m);
  await refused(readModel(lying), 'bad-input', [
    lying,
    'initializer net.0.weight',
    /raw_data has 832 bytes for 224 float32 values/,
  ]);
  const m2 = load('mlp-opset13.onnx');
  init(m2).dims = [1 << 20, 1 << 20];
  const huge = save(dir, 'huge.onnx', m2);
  await refused(readModel(huge), 'too-large', [huge, 'initializer net.0.weight', /1048576 x 1048576 float32 values/]);
});

test('unsupported operators, attributes, domains and graph shapes are named with the node', async () => {
  const dir = tmpDir('onnx-unsup');
  const m = load('mlp-opset13.onnx');
  m.graph!.node![1].opType = 'Sin';
  const sin = save(dir, 'sin.onnx', m);
  await refused(readModel(sin), 'unsupported', [
    sin,
    'node /net/net.1/Tanh (Sin)',
    /operator Sin is not supported/,
    /expected Gemm, MatMul/,
  ]);

  const l = load('lenet-opset13.onnx');
  const conv = l.graph!.node!.find((n) => n.opType === 'Conv')!;
  conv.attribute!.find((a) => a.name === 'dilations')!.ints = [2, 2];
  const dil = save(dir, 'dil.onnx', l);
  await refused(readModel(dil), 'unsupported', [
    dil,
    'node /features/features.0/Conv (Conv)',
    /dilations \[2,2\]/,
    /dilation 1/,
  ]);

  const g = load('mlp-opset13.onnx');
  g.graph!.node![0].attribute!.push({ name: 'transA', type: 2, i: 1 });
  const ta = save(dir, 'transa.onnx', g);
  await refused(readModel(ta), 'unsupported', [ta, '(Gemm)', /transA 1/]);

  const d = load('mlp-opset13.onnx');
  d.graph!.node![1].domain = 'com.microsoft';
  const dom = save(dir, 'domain.onnx', d);
  await refused(readModel(dom), 'unsupported', [dom, /operator domain "com.microsoft"/]);

  const two = load('mlp-opset13.onnx');
  two.graph!.input!.push({ ...two.graph!.input![0], name: 'second' });
  const ins = save(dir, 'two.onnx', two);
  await refused(readModel(ins), 'unsupported', [ins, 'graph.input', /has 2 inputs/]);

  const ls = load('mlp-opset13.onnx');
  ls.graph!.node![ls.graph!.node!.length - 1].opType = 'LogSoftmax';
  const logsm = save(dir, 'logsoftmax.onnx', ls);
  await refused(readModel(logsm), 'unsupported', [logsm, /operator LogSoftmax is not supported/]);

  const op = load('mlp-opset13.onnx');
  op.opsetImport = [{ domain: '', version: 7 }];
  const old = save(dir, 'old.onnx', op);
  await refused(readModel(old), 'unsupported', [old, 'opset_import', /opset 7/]);

  // Softmax in the middle of the network.
  const mid = load('mlp-opset13.onnx');
  mid.graph!.node![1].opType = 'Softmax';
  const midsm = save(dir, 'midsoftmax.onnx', mid);
  await refused(readModel(midsm), 'unsupported', [midsm, /applies softmax before the output/]);
});

test('external tensor data is read from inside the model folder and refused outside it', async () => {
  const dir = tmpDir('onnx-ext');
  const m = load('mlp-opset13.onnx');
  const t = m.graph!.initializer!.find((x) => x.name === 'net.0.weight')!;
  const data = Buffer.from(t.rawData!);
  fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.concat([Buffer.alloc(64), data]));
  t.rawData = new Uint8Array(0);
  t.dataLocation = 1;
  t.externalData = [
    { key: 'location', value: 'weights.bin' },
    { key: 'offset', value: '64' },
    { key: 'length', value: String(data.length) },
  ];
  const inside = save(dir, 'inside.onnx', m);
  const a = await readModel(inside);
  const b = await readModel(path.join(FIXTURES, 'mlp-opset13.onnx'));
  assert.deepEqual(Array.from(a.spec.nodes[0].weights[0].values), Array.from(b.spec.nodes[0].weights[0].values));

  const outside = tmpDir('onnx-ext-outside');
  fs.copyFileSync(path.join(dir, 'weights.bin'), path.join(outside, 'w.bin'));
  t.externalData[0].value = path.relative(dir, path.join(outside, 'w.bin'));
  const up = save(dir, 'up.onnx', m);
  await refused(readModel(up), 'bad-input', [
    up,
    'initializer net.0.weight.external_data location',
    /leaves the model folder/,
  ]);
  t.externalData[0].value = path.join(outside, 'w.bin');
  const abs = save(dir, 'abs.onnx', m);
  await refused(readModel(abs), 'bad-input', [abs, /is absolute or a URL/]);
  fs.symlinkSync(path.join(outside, 'w.bin'), path.join(dir, 'link.bin'));
  t.externalData[0].value = 'link.bin';
  const link = save(dir, 'link.onnx', m);
  await refused(readModel(link), 'bad-input', [link, /is a link to .*outside the model folder/]);
  t.externalData[0].value = 'weights.bin';
  t.externalData[1].value = '100';
  const past = save(dir, 'past.onnx', m);
  await refused(readModel(past), 'bad-input', [past, /asks for bytes \[100, \+832\) of weights.bin/]);
});
