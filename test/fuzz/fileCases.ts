// Seeded mutations of binary model files for the fuzz suites 'h5', 'keras' and 'onnx': bytes
// (truncation, flips, extreme words, inserted junk) and structure (the Keras config, HDF5
// attributes and datasets, zip entries and headers, ONNX nodes, attributes and tensors), each
// rebuilt into a file that readModel must load (benign mutations) or refuse with a
// PruneScopeError naming the file. Bases are small models PruneScope writes itself, the PyTorch
// ONNX fixtures, and (when ../shared/models is present) real Keras files.
import * as fs from 'fs';
import * as path from 'path';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { Rng } from '../../src/engine/util/random';
import { readModel, writeModel } from '../../src/engine/formats';
import { H5WriteTree, buildHdf5, h5Service, withHdf5 } from '../../src/engine/formats/hdf5/h5Client';
import { ModelProto } from '../../src/engine/formats/onnx/schema';
import type { GraphSpec, NodeSpec } from '../../src/engine/graphSpec';
import { Json, getAt, oddValue, paths, pick, serialise, setAt, truncateBytes } from './mutators';

export type FileSuite = 'h5' | 'keras' | 'onnx';

export interface FileCase {
  mutation: string;
  mustLoad: boolean;
  names: string[];
  run: () => Promise<unknown>;
  cleanup?: () => void;
}

// ---------- bases ----------

interface Base {
  name: string;
  bytes: Buffer;
}
const bases: Record<FileSuite, Base[]> = { h5: [], keras: [], onnx: [] };
/** HDF5 trees of the .h5 bases and of the .keras bases' model.weights.h5, for structural mutations. */
const trees = new Map<string, H5WriteTree>();

function spec(kind: 'mlp' | 'cnn' | 'res', seed: number): GraphSpec {
  const rng = new Rng(seed);
  const w = (name: string, shape: number[], trainable = true) => ({
    name,
    shape,
    trainable,
    values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () =>
      /variance/.test(name) ? 1 + rng.uniform(0, 1) : rng.uniform(-1, 1),
    ),
  });
  const n = (
    name: string,
    className: NodeSpec['className'],
    config: unknown,
    inputs: string[],
    weights: ReturnType<typeof w>[] = [],
  ) => ({ name, className, config, inputs, weights }) as NodeSpec;
  const conv = { strides: [1, 1], padding: 'same', dilationRate: [1, 1], useBias: true };
  if (kind === 'mlp')
    return {
      inputs: [{ name: 'x', shape: [5] }],
      inputLayout: 'NHWC',
      outputs: ['out'],
      nodes: [
        n('h', 'Dense', { units: 4, activation: 'tanh', useBias: true }, ['x'], [w('kernel', [5, 4]), w('bias', [4])]),
        n('drop', 'Identity', { kind: 'Dropout' }, ['h']),
        n(
          'out',
          'Dense',
          { units: 3, activation: 'softmax', useBias: true },
          ['drop'],
          [w('kernel', [4, 3]), w('bias', [3])],
        ),
      ],
    };
  if (kind === 'cnn')
    return {
      inputs: [{ name: 'img', shape: [6, 6, 2] }],
      inputLayout: 'NHWC',
      outputs: ['out'],
      nodes: [
        n(
          'c1',
          'Conv2D',
          { filters: 3, kernelSize: [3, 3], ...conv, strides: [2, 2], activation: 'relu' },
          ['img'],
          [w('kernel', [3, 3, 2, 3]), w('bias', [3])],
        ),
        n(
          'bn',
          'BatchNormalization',
          { epsilon: 0.001, momentum: 0.99, center: true, scale: true },
          ['c1'],
          [w('gamma', [3]), w('beta', [3]), w('moving_mean', [3], false), w('moving_variance', [3], false)],
        ),
        n(
          'dw',
          'DepthwiseConv2D',
          { kernelSize: [3, 3], ...conv, depthMultiplier: 2, activation: 'linear' },
          ['bn'],
          [w('depthwise_kernel', [3, 3, 3, 2]), w('bias', [6])],
        ),
        n('pool', 'MaxPooling2D', { poolSize: [2, 2], strides: [1, 1], padding: 'valid' }, ['dw']),
        n('flat', 'Flatten', {}, ['pool']),
        n(
          'out',
          'Dense',
          { units: 2, activation: 'softmax', useBias: true },
          ['flat'],
          [w('kernel', [24, 2]), w('bias', [2])],
        ),
      ],
    };
  return {
    inputs: [{ name: 'img', shape: [4, 4, 3] }],
    inputLayout: 'NHWC',
    outputs: ['out'],
    nodes: [
      n(
        'a',
        'Conv2D',
        { filters: 3, kernelSize: [3, 3], ...conv, activation: 'relu' },
        ['img'],
        [w('kernel', [3, 3, 3, 3]), w('bias', [3])],
      ),
      n('add', 'Add', {}, ['a', 'img']),
      n('cat', 'Concatenate', { axis: -1 }, ['add', 'a']),
      n('gap', 'GlobalAveragePooling2D', { keepdims: false }, ['cat']),
      n(
        'out',
        'Dense',
        { units: 2, activation: 'linear', useBias: true },
        ['gap'],
        [w('kernel', [6, 2]), w('bias', [2])],
      ),
    ],
  };
}

/** Every group, attribute and numeric dataset of an HDF5 file, as a tree buildHdf5 writes back. */
async function treeOf(bytes: Uint8Array): Promise<H5WriteTree> {
  return withHdf5(bytes, 'base', async (r) => {
    const rel = (p: string) => p.replace(/^\//, '');
    const attrs = (a: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(a).filter(
          ([, v]) =>
            typeof v === 'string' ||
            typeof v === 'number' ||
            (Array.isArray(v) && v.every((x) => typeof x === 'string')),
        ),
      ) as H5WriteTree['attrs'];
    const ds = r.entries.filter(
      (e) => e.kind === 'dataset' && (e.typeClass === 0 || e.typeClass === 1) && !/optimizer/.test(e.path),
    );
    const values = await r.read(
      ds.map((e) => e.path),
      1 << 30,
    );
    return {
      attrs: attrs(r.byPath.get('/')!.attrs),
      groups: r.entries
        .filter((e) => e.kind === 'group' && e.path !== '/' && !/optimizer/.test(e.path))
        .map((e) => ({ path: rel(e.path), attrs: attrs(e.attrs) })),
      datasets: ds.map((e) => ({
        path: rel(e.path),
        shape: e.shape ?? [],
        dtype: '<f' as const,
        data: values.get(e.path)!,
      })),
    };
  });
}

export async function prepareFileBases(suite: FileSuite, root: string): Promise<void> {
  // The files here are a few KB: seconds are ample, and a hang costs the suite only that. Not one:
  // a new HDF5 thread (after each trap) first compiles its wasm, which on a loaded 2-core machine
  // took over 2 s and failed a write of a valid base file.
  h5Service.baseTimeoutMs = 3000;
  const shared = path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'models');
  const onnx = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'onnx');
  const own = async (ext: 'h5' | 'keras') => {
    for (const [k, kind] of (['mlp', 'cnn', 'res'] as const).entries()) {
      const f = path.join(root, `base-${kind}.${ext}`);
      await writeModel(
        f,
        {
          spec: spec(kind, 11 + k),
          metadata: kind === 'mlp' ? { task: 'classification', labelNames: ['a', 'b', 'c'] } : undefined,
        },
        ext,
        { replace: true },
      );
      bases[suite].push({ name: `${kind}.${ext}`, bytes: fs.readFileSync(f) });
    }
  };
  if (suite === 'h5') {
    await own('h5');
    for (const f of ['k2_dw_bn_tinymaix.h5', 'k3_legacyh5_cnn_moonflower.h5'])
      if (fs.existsSync(path.join(shared, f))) bases.h5.push({ name: f, bytes: fs.readFileSync(path.join(shared, f)) });
    for (const b of bases.h5) trees.set(b.name, await treeOf(b.bytes));
  } else if (suite === 'keras') {
    await own('keras');
    if (fs.existsSync(path.join(shared, 'k3_resnet_bn_ibukye.keras')))
      bases.keras.push({
        name: 'k3_resnet_bn_ibukye.keras',
        bytes: fs.readFileSync(path.join(shared, 'k3_resnet_bn_ibukye.keras')),
      });
    for (const b of bases.keras)
      trees.set(b.name, await treeOf(unzipSync(new Uint8Array(b.bytes))['model.weights.h5']));
  } else {
    for (const f of ['mlp-opset13.onnx', 'dwbn-opset17.onnx', 'resnet-opset11.onnx', 'lenet-opset13.onnx'])
      bases.onnx.push({ name: f, bytes: fs.readFileSync(path.join(onnx, f)) });
  }
  // Every base must load as it is, or the suite tests nothing.
  for (const b of bases[suite]) {
    const f = path.join(root, `check-${b.name}`);
    fs.writeFileSync(f, b.bytes);
    await readModel(f);
    fs.rmSync(f);
  }
}

// ---------- byte mutations ----------

type ByteMut = (rng: Rng, b: Buffer) => { b: Buffer; d: string };
const BYTE_MUTATIONS: ByteMut[] = [
  (rng, b) => truncateBytes(rng, b),
  (rng, b) => {
    const out = Buffer.from(b);
    const at: number[] = [];
    for (let k = 1 + rng.int(20); k > 0; k--) {
      const i = rng.int(out.length);
      out[i] = rng.int(256);
      at.push(i);
    }
    return { b: out, d: `${at.length} random bytes at ${at.slice(0, 5).join(',')}` };
  },
  (rng, b) => {
    const out = Buffer.from(b);
    const i = rng.int(Math.min(out.length, 1024));
    out[i] ^= 1 << rng.int(8);
    return { b: out, d: `bit flip in the header at ${i}` };
  },
  (rng, b) => {
    const out = Buffer.from(b);
    const v = pick(rng, [0xffffffff, 0x7fffffff, 0x80000000, 0, 0xfffffffe, 0x10000]);
    const i = rng.int(Math.max(1, out.length - 8));
    out.writeUInt32LE(v >>> 0, i);
    if (rng.next() < 0.5) out.writeUInt32LE(v >>> 0, i + 4);
    return { b: out, d: `word 0x${v.toString(16)} at ${i}` };
  },
  (rng, b) => {
    const i = rng.int(b.length);
    const junk = Buffer.alloc(pick(rng, [1, 7, 100, 4096]), pick(rng, [0, 0xff, 0x41]));
    return {
      b: Buffer.concat([b.subarray(0, i), junk, b.subarray(i)]),
      d: `${junk.length} junk bytes inserted at ${i}`,
    };
  },
  (rng, b) => {
    const out = Buffer.from(b);
    const i = rng.int(out.length);
    const n = Math.min(out.length - i, pick(rng, [8, 64, 512]));
    out.fill(0, i, i + n);
    return { b: out, d: `${n} bytes zeroed at ${i}` };
  },
  (rng, b) => {
    const i = rng.int(b.length);
    const n = Math.min(b.length - i, pick(rng, [16, 256]));
    return {
      b: Buffer.concat([b.subarray(0, i + n), b.subarray(i, i + n), b.subarray(i + n)]),
      d: `${n} bytes duplicated at ${i}`,
    };
  },
];

function byteMutation(rng: Rng, b: Buffer): { b: Buffer; d: string } {
  return pick(rng, BYTE_MUTATIONS)(rng, b);
}

// ---------- JSON config mutations ----------

function jsonMutation(rng: Rng, text: string): { text: string; d: string } {
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch {
    return { text, d: 'config not JSON' };
  }
  const k = rng.int(7);
  if (k === 0 || k === 1) {
    const ps = paths(json);
    const p = pick(rng, ps);
    const o = oddValue(rng);
    setAt(json, p, o.v);
    return { text: serialise(json), d: `config ${p.join('.')} = ${o.d}` };
  }
  if (k === 2) {
    const ps = paths(json).filter((p) => p.length);
    const p = pick(rng, ps);
    setAt(json, p, undefined);
    return { text: serialise(json), d: `config deleted ${p.join('.')}` };
  }
  const layers = (getAt(json, ['config', 'layers']) ?? getAt(json, ['config'])) as Json[];
  if (!Array.isArray(layers) || layers.length < 2) return { text, d: 'no layers' };
  const i = 1 + rng.int(layers.length - 1);
  const l = layers[i] as { [k: string]: Json };
  if (k === 3) {
    l.class_name = pick(rng, [
      'Lambda',
      'TFOpLambda',
      'Conv1D',
      'Sequential',
      'MyLayer',
      '',
      'Dense',
      'Add',
      'InputLayer',
    ]);
    if (l.class_name === 'Lambda') (l.config as { [k: string]: Json }).function = ['4wEA', null, null];
    return { text: serialise(json), d: `layer ${i} class ${l.class_name}` };
  }
  if (k === 4) {
    const cfg = (l.config ?? {}) as { [k: string]: Json };
    const key = pick(rng, [
      'units',
      'filters',
      'kernel_size',
      'strides',
      'padding',
      'activation',
      'axis',
      'depth_multiplier',
      'data_format',
      'dilation_rate',
      'groups',
      'epsilon',
      'name',
      'target_shape',
      'pool_size',
    ]);
    cfg[key] = pick(rng, [
      0,
      -1,
      1e9,
      2 ** 40,
      'same',
      'causal',
      'channels_first',
      [2, 2],
      [0, 0],
      null,
      'gelu',
      1.5,
      [[1, 1], [1]],
    ] as Json[]);
    return { text: serialise(json), d: `layer ${i} ${key} = ${JSON.stringify(cfg[key])}` };
  }
  if (k === 5) {
    layers.splice(i, 1);
    return { text: serialise(json), d: `layer ${i} removed` };
  }
  l.inbound_nodes = pick(rng, [
    [],
    [[['nope', 0, 0, {}]]],
    [[['x', 0, 3, {}]]],
    [{ args: [], kwargs: {} }],
    'x',
    [[[]]],
  ] as Json[]);
  return { text: serialise(json), d: `layer ${i} inbound_nodes = ${JSON.stringify(l.inbound_nodes)}` };
}

// ---------- HDF5 tree mutations ----------

function treeMutation(rng: Rng, t: H5WriteTree, configAttr: boolean): string {
  const k = rng.int(configAttr ? 7 : 4);
  const d = t.datasets.length ? pick(rng, t.datasets) : undefined;
  switch (k) {
    case 0: {
      if (!d) return 'no dataset';
      t.datasets.splice(t.datasets.indexOf(d), 1);
      return `dataset ${d.path} dropped`;
    }
    case 1: {
      if (!d) return 'no dataset';
      const n = d.data.length;
      const shape = pick(rng, [[n], [1, n], [n, 1], n > 1 ? [n - 1] : [2], [n + 1]]);
      d.shape = shape;
      if (shape.reduce((a, b) => a * b, 1) !== n) d.data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      return `dataset ${d.path} shape [${shape}]`;
    }
    case 2: {
      if (!d || !(d.data instanceof Float32Array) || d.data.length === 0) return 'no dataset';
      d.data = Float32Array.from(d.data);
      d.data[rng.int(d.data.length)] = pick(rng, [NaN, Infinity, -Infinity, 3.4e38]);
      return `dataset ${d.path} gets a non-finite value`;
    }
    case 3: {
      const g = t.groups.filter((x) => x.attrs?.weight_names !== undefined);
      if (!g.length) return 'no weight_names';
      const x = pick(rng, g);
      x.attrs!.weight_names = pick(rng, [[], ['kernel'], ['a/b/c:0', 'bias:0'], 'kernel:0', 7, ['x'.repeat(3000)]] as (
        string | number | string[]
      )[]);
      return `${x.path} weight_names = ${JSON.stringify(x.attrs!.weight_names).slice(0, 60)}`;
    }
    case 4: {
      const m = jsonMutation(rng, String(t.attrs?.model_config ?? '{}'));
      t.attrs = { ...t.attrs, model_config: m.text };
      return m.d;
    }
    case 5: {
      const g = t.groups.find((x) => x.path === 'model_weights');
      if (!g) return 'no model_weights';
      g.attrs = { ...g.attrs, layer_names: pick(rng, [[], ['nope'], 'x'] as (string | string[])[]) };
      return `layer_names = ${JSON.stringify(g.attrs.layer_names)}`;
    }
    default: {
      const o = pick(rng, [
        '{"pruneMask": {"encoding": "indices", "pruned": [1e9], "nParams": 3}}',
        '{"featureNames": 7}',
        'not json',
        '{"task": "regression"}',
      ]);
      t.attrs = { ...t.attrs, prunescope: o };
      return `prunescope attribute ${o}`;
    }
  }
}

// ---------- zip mutations (.keras) ----------

function patchEntries(zip: Buffer, f: (at: number, central: boolean) => void): void {
  for (let i = 0; i + 46 < zip.length; i++) {
    const sig = zip.readUInt32LE(i);
    if (sig === 0x04034b50) f(i, false);
    else if (sig === 0x02014b50) f(i, true);
  }
}

async function kerasCase(rng: Rng, base: Base, file: string): Promise<{ bytes: Buffer; d: string; benign: boolean }> {
  const parts = unzipSync(new Uint8Array(base.bytes));
  const k = rng.int(10);
  const zipOf = (p: Record<string, Uint8Array>, level = 0) =>
    Buffer.from(zipSync(Object.fromEntries(Object.entries(p).map(([n, v]) => [n, [v, { level: level as 0 }]]))));
  switch (k) {
    case 0:
      return { bytes: zipOf(parts, 6), d: 're-zipped with deflate', benign: true };
    case 1: {
      const which = pick(rng, ['config.json', 'metadata.json']);
      const m = jsonMutation(rng, Buffer.from(parts[which] ?? new Uint8Array()).toString('utf8'));
      return { bytes: zipOf({ ...parts, [which]: strToU8(m.text) }), d: `${which}: ${m.d}`, benign: false };
    }
    case 2: {
      const m = byteMutation(rng, Buffer.from(parts['model.weights.h5']));
      return { bytes: zipOf({ ...parts, 'model.weights.h5': m.b }), d: `model.weights.h5 ${m.d}`, benign: false };
    }
    case 3: {
      const t = structuredClone(trees.get(base.name)!);
      const d = treeMutation(rng, t, false);
      return {
        bytes: zipOf({ ...parts, 'model.weights.h5': await buildHdf5(t, file) }),
        d: `model.weights.h5 ${d}`,
        benign: d === 'no dataset' || d === 'no weight_names',
      };
    }
    case 4: {
      const drop = pick(rng, Object.keys(parts));
      const rest = { ...parts };
      delete rest[drop];
      return { bytes: zipOf(rest), d: `entry ${drop} removed`, benign: false };
    }
    case 5: {
      const name = pick(rng, ['../evil.txt', '/abs.txt', 'a/../../b', 'C:\\x', 'assets/ok.txt', 'x\\..\\y']);
      return {
        bytes: zipOf({ ...parts, [name]: strToU8('x') }),
        d: `extra entry ${name}`,
        benign: name === 'assets/ok.txt',
      };
    }
    case 6: {
      const z = zipOf(parts);
      const v = pick(rng, [0xffffffff, 0x7fffffff, 1 << 30, 0, 5]);
      const field = pick(rng, [
        ['usize', 22, 24],
        ['csize', 18, 20],
        ['crc', 14, 16],
        ['offset', -1, 42],
      ] as [string, number, number][]);
      patchEntries(z, (at, central) => {
        if (rng.next() < 0.5) return;
        const off = central ? field[2] : field[1];
        if (off >= 0) z.writeUInt32LE(v >>> 0, at + off);
      });
      return { bytes: z, d: `zip headers: ${field[0]} = 0x${v.toString(16)}`, benign: false };
    }
    case 7: {
      const z = zipOf(parts);
      const what = pick(rng, ['encrypted', 'method 12', 'method 99']);
      patchEntries(z, (at, central) => {
        if (what === 'encrypted') z.writeUInt16LE(1, at + (central ? 8 : 6));
        else z.writeUInt16LE(what === 'method 12' ? 12 : 99, at + (central ? 10 : 8));
      });
      return { bytes: z, d: `zip entries ${what}`, benign: false };
    }
    case 8: {
      // Two central entries with one name: the second copy of config.json.
      const z = zipOf({ ...parts, 'config.jsoN': parts['config.json'] });
      const at = z.lastIndexOf(Buffer.from('config.jsoN'));
      if (at >= 0) z.write('config.json', at);
      const at2 = z.indexOf(Buffer.from('config.jsoN'));
      if (at2 >= 0) z.write('config.json', at2);
      return { bytes: z, d: 'duplicate entry config.json', benign: false };
    }
    default: {
      const m = byteMutation(rng, Buffer.from(base.bytes));
      return { bytes: m.b, d: `archive ${m.d}`, benign: false };
    }
  }
}

// ---------- ONNX mutations ----------

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- decoded protobuf messages, mutated at any depth
type Msg = Record<string, any>;
const ONNX_OPS = [
  'Sin',
  'Loop',
  'If',
  '',
  'Conv',
  'Gemm',
  'Relu',
  'Softmax',
  'Reshape',
  'Add',
  'Concat',
  'MaxPool',
  'Pad',
  'Flatten',
  'BatchNormalization',
  'Identity',
  'Constant',
  'Transpose',
];

function onnxMutation(rng: Rng, m: Msg, dir: string): { d: string; benign: boolean } {
  const g = m.graph as Msg;
  const nodes = (g.node ?? []) as Msg[];
  const inits = (g.initializer ?? []) as Msg[];
  const k = rng.int(13);
  const node = nodes.length ? pick(rng, nodes) : undefined;
  const init = inits.length ? pick(rng, inits) : undefined;
  switch (k) {
    case 0:
      m.docString = 'fuzz';
      g.docString = 'fuzz';
      m.metadataProps = [...(m.metadataProps ?? []), { key: 'note', value: 'x' }];
      return { d: 'doc strings and an extra metadata prop', benign: true };
    case 1:
      if (!node) return { d: 'no node', benign: true };
      node.opType = pick(rng, ONNX_OPS);
      return { d: `node ${node.name} op ${node.opType}`, benign: false };
    case 2: {
      if (!node?.attribute?.length) return { d: 'no attribute', benign: true };
      const a = pick(rng, node.attribute as Msg[]);
      const v = pick(rng, [0, -1, 2 ** 40, 1e9, 3]);
      if (a.ints?.length) a.ints = pick(rng, [a.ints.map(() => v), [], new Array(200).fill(1), [v]]);
      else if (a.i !== undefined) a.i = v;
      else if (a.f !== undefined) a.f = pick(rng, [NaN, Infinity, -1, 0]);
      if (rng.next() < 0.2) a.type = pick(rng, [0, 1, 2, 3, 7, 99]);
      return { d: `node ${node.name} attribute ${a.name} mutated`, benign: false };
    }
    case 3:
      if (!init) return { d: 'no initializer', benign: true };
      init.dims = pick(rng, [
        [],
        [0],
        [-1, 3],
        [2 ** 31, 2 ** 31],
        [1e15],
        [...(init.dims ?? []), 2],
        [3, 3, 3, 3, 3, 3, 3],
      ]);
      return { d: `initializer ${init.name} dims ${JSON.stringify(init.dims)}`, benign: false };
    case 4:
      if (!init) return { d: 'no initializer', benign: true };
      init.dataType = pick(rng, [0, 8, 14, 16, 11, 10, 7, 2, 99]);
      return { d: `initializer ${init.name} data type ${init.dataType}`, benign: false };
    case 5: {
      if (!init?.rawData?.length) return { d: 'no raw data', benign: true };
      const r = init.rawData as Uint8Array;
      init.rawData = pick(rng, [
        r.subarray(0, r.length - 1),
        Buffer.concat([Buffer.from(r), Buffer.alloc(4)]),
        new Uint8Array(0),
      ]);
      return { d: `initializer ${init.name} raw data ${init.rawData.length} bytes`, benign: false };
    }
    case 6: {
      const inp = (g.input ?? [])[0] as Msg;
      const dims = inp?.type?.tensorType?.shape?.dim as Msg[] | undefined;
      if (!dims?.length) return { d: 'no input dims', benign: true };
      const dim = pick(rng, dims.slice(1).length ? dims.slice(1) : dims);
      if (rng.next() < 0.5) dim.dimValue = pick(rng, [0, -3, 2 ** 40, 1]);
      else {
        delete dim.dimValue;
        dim.dimParam = 'N';
      }
      if (rng.next() < 0.2) inp.type.tensorType.elemType = pick(rng, [7, 11, 0]);
      return { d: `input dims ${JSON.stringify(dims.map((x) => x.dimParam ?? x.dimValue))}`, benign: false };
    }
    case 7: {
      if (!node?.input?.length) return { d: 'no node inputs', benign: true };
      const j = rng.int(node.input.length);
      const later = nodes[nodes.length - 1]?.output?.[0];
      node.input[j] = pick(rng, ['nope', '', later ?? 'x', node.output?.[0] ?? 'y']);
      return { d: `node ${node.name} input ${j} = ${node.input[j]}`, benign: false };
    }
    case 8:
      m.opsetImport = [
        { domain: '', version: pick(rng, [1, 8, 11, 13, 17, 22, 2 ** 40]) },
        ...(rng.next() < 0.3 ? [{ domain: '', version: 13 }] : []),
      ];
      return { d: `opset ${JSON.stringify(m.opsetImport.map((o: Msg) => o.version))}`, benign: false };
    case 9: {
      if (!init) return { d: 'no initializer', benign: true };
      const loc = pick(rng, [
        '../outside.bin',
        '/etc/passwd',
        'file:///etc/passwd',
        'missing.bin',
        'link-out',
        'w.bin',
        'a\u0000b',
      ]);
      if (loc === 'link-out') fs.symlinkSync(path.join(dir, '..', 'outside.bin'), path.join(dir, 'link-out'));
      if (loc === 'w.bin') fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.alloc(16));
      init.rawData = new Uint8Array(0);
      init.dataLocation = 1;
      init.externalData = [
        { key: 'location', value: loc },
        ...(rng.next() < 0.5 ? [{ key: 'offset', value: pick(rng, ['-1', '1e30', '8', 'x']) }] : []),
      ];
      return { d: `initializer ${init.name} external data at ${JSON.stringify(loc)}`, benign: false };
    }
    case 10:
      m.metadataProps = [
        {
          key: 'prunescope',
          value: pick(rng, [
            '{',
            '{"task": 3}',
            '{"pruneMask": {"encoding": "indices", "pruned": [-1], "nParams": 1}}',
            '{"featureNames": ["a"]}',
            '[]',
          ]),
        },
      ];
      return { d: `prunescope metadata ${m.metadataProps[0].value}`, benign: false };
    case 11:
      if (rng.next() < 0.5) g.output = [];
      else g.output = [...(g.output ?? []), ...(g.output ?? [])];
      return { d: `${g.output.length} graph outputs`, benign: false };
    default:
      if (inits.length < 2) return { d: 'few initializers', benign: true };
      inits[1].name = inits[0].name;
      return { d: `initializer ${inits[0].name} twice`, benign: false };
  }
}

// ---------- cases ----------

export async function fileCase(suite: FileSuite, rng: Rng, i: number, root: string): Promise<FileCase> {
  const base = pick(rng, bases[suite]);
  const dir = path.join(root, `case-${i}`);
  fs.mkdirSync(dir);
  const file = path.join(dir, `model.${suite === 'h5' ? 'h5' : suite}`);
  let bytes: Buffer;
  let d: string;
  let benign = false;
  const structural = rng.next() < 0.6;
  if (!structural) {
    const m = byteMutation(rng, Buffer.from(base.bytes));
    bytes = m.b;
    d = `bytes: ${m.d}`;
  } else if (suite === 'h5') {
    const t = structuredClone(trees.get(base.name)!);
    if (rng.next() < 0.1) {
      d = 'rebuilt unchanged';
      benign = true;
    } else {
      d = treeMutation(rng, t, true);
      benign = /^no /.test(d);
    }
    bytes = Buffer.from(await buildHdf5(t, file));
  } else if (suite === 'keras') {
    const r = await kerasCase(rng, base, file);
    bytes = r.bytes;
    d = r.d;
    benign = r.benign;
  } else {
    const m = ModelProto.toObject(ModelProto.decode(base.bytes), { defaults: false }) as Msg;
    const r = onnxMutation(rng, m, dir);
    d = r.d;
    benign = r.benign;
    bytes = Buffer.from(ModelProto.encode(ModelProto.fromObject(m)).finish());
  }
  fs.writeFileSync(file, bytes);
  const maxBytes = rng.next() < 0.1 ? pick(rng, [0, 100, 4096]) : 64 * 1024 ** 2;
  return {
    mutation: `base ${base.name}: ${d}${maxBytes < 1e6 ? ` (maxBytes ${maxBytes})` : ''}`,
    mustLoad: benign && maxBytes > 1e6,
    names: [file],
    run: () => readModel(file, { maxBytes }),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
