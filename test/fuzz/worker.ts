// Worker side of the fuzz harness (see harness.ts): builds each seeded case, runs the reader on
// it and classifies the outcome. Loaded by `new Worker(...)`; does nothing when node --test runs
// it as a file of its own.
import { isMainThread, parentPort, workerData } from 'worker_threads';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as v8 from 'v8';
import * as vm from 'vm';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/engine/util/random';
import { PruneScopeError } from '../../src/engine/errors';
import { loadModel } from '../../src/engine/formats/modelFile';
import { readCsv } from '../../src/engine/data/readCsv';
import { loadDataset } from '../../src/engine/data/builtins';
import { parseArgs, num, numList, oneOf, list, FlagSpec } from '../../src/cli/args';
import { initBackend } from '../../src/engine/backend';
import { writeTfjsModel } from '../fixtures/models/tfjsFiles';
import { fileCase, prepareFileBases } from './fileCases';
import { imageCase, npyCase, npzCase } from './dataCases';

/** Pillow-made images (test/fixtures/data/images) the image cases also start from. */
const IMAGE_DIR = path.resolve(__dirname, '../../../test/fixtures/data/images');
const IMAGE_FIXTURES = fs.existsSync(IMAGE_DIR)
  ? fs
      .readdirSync(IMAGE_DIR)
      .filter((f) => /\.(png|jpe?g|bmp)$/.test(f))
      .map((f) => path.join(IMAGE_DIR, f))
  : [];
import { CASE_MS, CaseReport, HEAP_GROWTH_LIMIT_MB, RSS_GROWTH_LIMIT_MB, Suite, caseSeed, normalise } from './harness';
import { Json, invalidUtf8, oddValue, paths, pick, RAW, randomArgv, serialise, setAt, truncateBytes } from './mutators';
import type { JsonDoc as Doc } from '../helpers';

interface CaseSetup {
  mutation: string;
  /** true when every mutation applied is benign: the input must then load. */
  mustLoad: boolean;
  /** Runs the reader; resolves when it accepted the input. `names` are strings the error must contain. */
  run: () => Promise<unknown>;
  names: string[];
  cleanup?: () => void;
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-fuzz-')));

// ---------- model folders ----------

interface Base {
  dir: string;
  files: string[];
}
let bases: Base[] = [];

async function makeBases(): Promise<void> {
  try {
    await initBackend();
  } catch {
    await tf.setBackend('cpu');
  }
  const mk = async (name: string, layers: tf.layers.Layer[], o: Parameters<typeof writeTfjsModel>[2] = {}) => {
    const model = tf.sequential({ layers });
    const dir = path.join(root, `base-${name}`);
    await writeTfjsModel(model, dir, o);
    model.dispose();
    return { dir, files: fs.readdirSync(dir) };
  };
  bases = [
    await mk('plain', [
      tf.layers.dense({ inputShape: [3], units: 4, activation: 'tanh', name: 'h' }),
      tf.layers.dense({ units: 2, activation: 'softmax', name: 'out' }),
    ]),
    await mk(
      'sharded',
      [
        tf.layers.dense({ inputShape: [3], units: 4, activation: 'relu', name: 'h' }),
        tf.layers.dense({ units: 1, name: 'out' }),
      ],
      { groups: 2, shardBytes: 24, prefix: 'sequential/' },
    ),
    await mk(
      'flatten',
      [
        tf.layers.flatten({ inputShape: [2, 3] }),
        tf.layers.dense({ units: 5, name: 'd1' }),
        tf.layers.activation({ activation: 'sigmoid', name: 'act' }),
        tf.layers.dense({ units: 3, activation: 'softmax', name: 'd2' }),
      ],
      { userDefinedMetadata: { prunescope: { task: 'classification', labelNames: ['a', 'b', 'c'] } } },
    ),
  ];
}

interface ModelCtx {
  rng: Rng;
  dir: string;
  json: Doc;
  shards: Map<string, Buffer>;
  text?: Buffer;
  maxBytes?: number;
  pretty: boolean;
}

type Mutation = { benign?: boolean; apply: (c: ModelCtx) => string };

const weightList = (c: ModelCtx): Doc[] =>
  Array.isArray(c.json?.weightsManifest)
    ? c.json.weightsManifest.flatMap((g: Doc) => (Array.isArray(g?.weights) ? g.weights : []))
    : [];
const someWeight = (c: ModelCtx): Doc => {
  const ws = weightList(c);
  return ws.length ? pick(c.rng, ws) : undefined;
};
const shardNames = (c: ModelCtx) => [...c.shards.keys()];
const layersOf = (c: ModelCtx): Doc[] => c.json?.modelTopology?.config?.layers ?? [];

const MODEL_MUTATIONS: Mutation[] = [
  // Benign: the same model written differently.
  {
    benign: true,
    apply: (c) => {
      c.pretty = true;
      return 'pretty-printed';
    },
  },
  {
    benign: true,
    apply: (c) => {
      c.json.extraField = { anything: [1, 'two'] };
      c.json.modelTopology.unknown = null;
      return 'unknown extra fields';
    },
  },
  {
    benign: true,
    apply: (c) => {
      const e = Object.entries(c.json).reverse();
      for (const k of Object.keys(c.json)) delete c.json[k];
      for (const [k, v] of e) c.json[k] = v;
      return 'keys reordered';
    },
  },
  {
    benign: true,
    apply: (c) => {
      delete c.json.generatedBy;
      delete c.json.convertedBy;
      return 'no generatedBy/convertedBy';
    },
  },
  // Structure.
  {
    apply: (c) => {
      const ps = paths(c.json);
      const p = pick(c.rng, ps);
      const o = oddValue(c.rng);
      setAt(c.json, p, o.v);
      return `set ${p.join('.') || '<root>'} = ${o.d}`;
    },
  },
  {
    apply: (c) => {
      const ps = paths(c.json).filter((p) => p.length);
      const p = pick(c.rng, ps);
      setAt(c.json, p, undefined);
      return `deleted ${p.join('.')}`;
    },
  },
  {
    apply: (c) => {
      const t = Buffer.from(serialise(c.json));
      const r = truncateBytes(c.rng, t);
      c.text = r.b;
      return `model.json ${r.d}`;
    },
  },
  {
    apply: (c) => {
      const r = invalidUtf8(c.rng, Buffer.from(serialise(c.json)));
      c.text = r.b;
      return `model.json ${r.d}`;
    },
  },
  {
    apply: (c) => {
      const d = pick(c.rng, [1000, 100_000, 3_000_000]);
      c.text = Buffer.from(`${'['.repeat(d)}${']'.repeat(d)}`);
      return `model.json is an array nested ${d} deep`;
    },
  },
  {
    apply: (c) => {
      const d = pick(c.rng, [500, 5000, 200_000]);
      const w = someWeight(c);
      if (!w) return 'no weight';
      w.shape = RAW(`${'['.repeat(d)}1${']'.repeat(d)}`);
      return `weight ${w.name} shape nested ${d} deep`;
    },
  },
  {
    apply: (c) => {
      const d = pick(c.rng, [200, 20_000]);
      const l = pick(c.rng, layersOf(c).length ? layersOf(c) : [{}]);
      l.inbound_nodes = RAW(`${'['.repeat(d)}${']'.repeat(d)}`);
      c.json.modelTopology.class_name = 'Model';
      return `Model with inbound_nodes nested ${d} deep`;
    },
  },
  // Shapes, dtypes, names.
  {
    apply: (c) => {
      const w = someWeight(c);
      if (!w) return 'no weight';
      const s = pick(c.rng, [
        [2 ** 31, 2 ** 31],
        [2 ** 53, 2 ** 53, 0],
        [1e200, 1e200, 0],
        [1e308, 1e308],
        [-4, 3],
        [-1, -1],
        [3.5],
        [],
        [0, 5],
        [1e9],
        [RAW('1e999')],
        [null],
        ['3'],
      ]);
      w.shape = s;
      return `weight ${w.name} shape ${serialise(s as Json)}`;
    },
  },
  {
    apply: (c) => {
      const w = someWeight(c);
      if (!w) return 'no weight';
      w.dtype = pick(c.rng, [
        'float64',
        'int8',
        'bool',
        'string',
        'complex64',
        'float16',
        'int32',
        'uint8',
        'FLOAT32',
        '',
        'float32\u0000',
      ]);
      if (c.rng.next() < 0.4)
        w.quantization = pick(c.rng, [
          { dtype: 'uint8', scale: 0.1, min: -1 },
          { dtype: 'uint16', scale: RAW('1e999'), min: 0 },
          { dtype: 'float16' },
          { dtype: 'int4' },
          { dtype: 'uint8' },
          { dtype: 'uint8', scale: 1e308, min: 1e308 },
        ]);
      return `weight ${w.name} dtype ${w.dtype} quantization ${JSON.stringify(w.quantization)}`;
    },
  },
  {
    apply: (c) => {
      const g = c.json.weightsManifest?.[0];
      if (!g?.weights?.length) return 'no weight';
      const w: Doc = pick(c.rng, g.weights as Doc[]);
      g.weights.push({ ...w });
      return `weight ${w.name} duplicated`;
    },
  },
  {
    apply: (c) => {
      const ws = weightList(c);
      if (ws.length < 2) return 'no weights';
      ws[1].name = ws[0].name;
      return `weight names: second renamed to ${ws[0].name}`;
    },
  },
  {
    apply: (c) => {
      const w = someWeight(c);
      if (!w) return 'no weight';
      w.name = pick(c.rng, ['', 'h/kernel:0', 'x/'.repeat(50_000) + 'kernel', '__proto__', 'out/bias']);
      return `weight renamed to ${w.name.slice(0, 40)}`;
    },
  },
  // Shards.
  {
    apply: (c) => {
      const n = pick(c.rng, shardNames(c));
      if (n === undefined) return 'no shard left';
      c.shards.delete(n);
      return `shard ${n} missing`;
    },
  },
  {
    apply: (c) => {
      const n = pick(c.rng, shardNames(c));
      if (n === undefined) return 'no shard left';
      const b = c.shards.get(n)!;
      const extra = pick(c.rng, [1, 3, 4, 4096]);
      c.shards.set(n, Buffer.concat([b, Buffer.alloc(extra, 0x41)]));
      return `shard ${n} ${extra} bytes longer`;
    },
  },
  {
    apply: (c) => {
      const n = pick(c.rng, shardNames(c));
      if (n === undefined) return 'no shard left';
      const r = truncateBytes(c.rng, c.shards.get(n)!);
      c.shards.set(n, r.b);
      return `shard ${n} ${r.d}`;
    },
  },
  {
    apply: (c) => {
      const n = pick(c.rng, shardNames(c));
      if (n === undefined) return 'no shard left';
      const b = Buffer.from(c.shards.get(n)!);
      const v = pick(c.rng, [NaN, Infinity, -Infinity, 3.4e38]);
      const at = 4 * c.rng.int(Math.floor(b.length / 4));
      if (b.length >= 4) b.writeFloatLE(v, at);
      c.shards.set(n, b);
      return `shard ${n} float ${v} at byte ${at}`;
    },
  },
  {
    apply: (c) => {
      const g = c.json.weightsManifest?.[0];
      if (!g) return 'no group';
      g.paths = [];
      return 'group 0 has no paths';
    },
  },
  {
    apply: (c) => {
      const g = c.json.weightsManifest?.[0];
      if (!Array.isArray(g?.paths)) return 'no group';
      g.paths = new Array(20_000).fill(g.paths[0]);
      return 'group 0 lists its shard 20000 times';
    },
  },
  {
    apply: (c) => {
      const g = c.json.weightsManifest?.[0];
      if (!Array.isArray(g?.paths)) return 'no group';
      g.paths = [...g.paths, ...g.paths];
      return 'group 0 lists its shards twice';
    },
  },
  // Path escapes.
  {
    apply: (c) => {
      const g = c.json.weightsManifest?.[0];
      if (!Array.isArray(g?.paths)) return 'no group';
      const outside = path.join(root, 'outside.bin');
      const choice = pick(c.rng, [
        '../outside.bin',
        outside,
        'file:///etc/passwd',
        '..\\..\\x.bin',
        'C:\\x.bin',
        '%2e%2e/outside.bin',
        'a\u0000b',
        '.',
        './',
        'sub',
        'link-out',
        'link-dev',
        'link-loop',
        'sub/../../outside.bin',
        '//server/share',
        'http://example.invalid/x',
      ]);
      fs.mkdirSync(path.join(c.dir, 'sub'), { recursive: true });
      if (choice === 'link-out') fs.symlinkSync(outside, path.join(c.dir, choice));
      if (choice === 'link-dev') fs.symlinkSync('/dev/zero', path.join(c.dir, choice));
      if (choice === 'link-loop') fs.symlinkSync(choice, path.join(c.dir, choice));
      g.paths[c.rng.int(g.paths.length)] = choice;
      return `shard path ${JSON.stringify(choice)}`;
    },
  },
  // Budgets.
  {
    apply: (c) => {
      c.maxBytes = pick(c.rng, [0, 1, 50, 103, -1, NaN, Infinity]);
      return `maxBytes ${c.maxBytes}`;
    },
  },
  {
    apply: (c) => {
      // A consistent model (topology and manifest agree) that would need terabytes.
      const ls = layersOf(c);
      const dense = ls.filter((l) => l?.class_name === 'Dense');
      if (!dense.length) return 'no dense';
      const d = dense[dense.length - 1];
      const units = pick(c.rng, [1e6, 1e9, 2 ** 40]);
      d.config.units = units;
      for (const w of weightList(c))
        if (String(w.name).includes(`${d.config.name}/`))
          w.shape = w.shape.length === 2 ? [w.shape[0], units] : [units];
      return `last Dense ${d.config.name} widened to ${units} units (manifest agrees)`;
    },
  },
  // Topology.
  {
    apply: (c) => {
      const l = pick(c.rng, layersOf(c).length ? layersOf(c) : [{ config: {} }]);
      l.config = l.config ?? {};
      const k = pick(c.rng, ['units', 'activation', 'batch_input_shape', 'use_bias', 'name', 'axis', 'data_format']);
      const o = oddValue(c.rng);
      l.config[k] = o.v;
      return `layer ${l.config.name} ${k} = ${o.d}`;
    },
  },
  {
    apply: (c) => {
      const ls = layersOf(c);
      for (let i = ls.length - 1; i > 0; i--) {
        const j = c.rng.int(i + 1);
        [ls[i], ls[j]] = [ls[j], ls[i]];
      }
      return 'layers shuffled';
    },
  },
  {
    apply: (c) => {
      const ls = layersOf(c);
      const n = pick(c.rng, [2000, 20_000]);
      const dense = ls.find((l) => l?.class_name === 'Dense');
      if (!dense) return 'no dense';
      for (let i = 0; i < n; i++) ls.push({ class_name: 'Dropout', config: { name: `drop${i}`, rate: 0.1 } });
      return `${n} Dropout layers appended`;
    },
  },
  {
    apply: (c) => {
      // Many Dense layers with a matching manifest: stresses name matching (quadratic before the fix).
      const n = pick(c.rng, [500, 5000]);
      const ls: Doc[] = [{ class_name: 'Dense', config: { name: 'L0', units: 1, batch_input_shape: [null, 1] } }];
      const ws: Doc[] = [];
      for (let i = 1; i < n; i++)
        ls.push({ class_name: 'Dense', config: { name: `L${i}`, units: 1, use_bias: false } });
      for (let i = 0; i < n; i++) ws.push({ name: `L${i}/kernel`, shape: [1, 1], dtype: 'float32' });
      ws.splice(1, 0, { name: 'L0/bias', shape: [1], dtype: 'float32' });
      c.json.modelTopology = { class_name: 'Sequential', config: { layers: ls } };
      c.json.weightsManifest = [{ paths: ['w.bin'], weights: ws }];
      c.shards.clear();
      c.shards.set('w.bin', Buffer.alloc(4 * (n + 1)));
      return `${n} chained Dense(1) layers`;
    },
  },
  // Metadata.
  {
    apply: (c) => {
      const o = oddValue(c.rng);
      const k = pick(c.rng, ['task', 'featureNames', 'labelNames', 'preprocessing', 'pruneMask', 'standardization']);
      const m: Doc = { [k]: o.v };
      if (k === 'standardization') {
        delete m.standardization;
        m.preprocessing = { standardization: o.v };
      }
      c.json.userDefinedMetadata = { prunescope: m };
      return `metadata ${k} = ${o.d}`;
    },
  },
  {
    apply: (c) => {
      const o = oddValue(c.rng);
      c.json.userDefinedMetadata = {
        prunescope: {
          pruneMask: {
            encoding: pick(c.rng, ['bitmask-base64', 'indices', 'x']),
            nParams: 26,
            bits: o.v,
            pruned: o.v,
            prunedCount: o.v,
          },
        },
      };
      return `pruneMask fields = ${o.d}`;
    },
  },
];

async function modelCase(rng: Rng, i: number): Promise<CaseSetup> {
  const base = pick(rng, bases);
  const dir = path.join(root, `case-${i}`);
  fs.mkdirSync(dir);
  const shards = new Map<string, Buffer>();
  for (const f of base.files) if (f !== 'model.json') shards.set(f, fs.readFileSync(path.join(base.dir, f)));
  const c: ModelCtx = {
    rng,
    dir,
    json: JSON.parse(fs.readFileSync(path.join(base.dir, 'model.json'), 'utf8')),
    shards,
    pretty: false,
  };
  const done: string[] = [];
  let mustLoad = true;
  for (let n = 1 + (rng.next() < 0.3 ? rng.int(3) : 0); n > 0; n--) {
    const m = pick(rng, MODEL_MUTATIONS);
    mustLoad &&= !!m.benign;
    done.push(m.apply(c));
  }
  const file = path.join(dir, 'model.json');
  fs.writeFileSync(file, c.text ?? serialise(c.json, c.pretty));
  for (const [n, b] of c.shards) fs.writeFileSync(path.join(dir, n), b);
  return {
    mutation: `base ${path.basename(base.dir)}: ${done.join('; ')}`,
    mustLoad,
    names: [dir],
    run: async () =>
      (await loadModel(file, c.maxBytes === undefined ? {} : { maxBytes: c.maxBytes })).network.dispose(),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

// ---------- CSV ----------

function baseCsv(rng: Rng): string {
  const rows = ['x1,x2,x3,label'];
  for (let r = 0; r < 20; r++)
    rows.push(
      `${rng.normal().toFixed(3)},${rng.int(100)},${rng.uniform(-1, 1).toExponential(2)},${pick(rng, ['a', 'b', 'c'])}`,
    );
  return rows.join('\n') + '\n';
}

type CsvMut = {
  benign?: boolean;
  apply: (rng: Rng, t: Buffer) => { t: Buffer<ArrayBufferLike>; d: string; target?: string; maxBytes?: number };
};
const s2b = (s: string) => Buffer.from(s, 'utf8');
const CSV_MUTATIONS: CsvMut[] = [
  { benign: true, apply: (_, t) => ({ t: s2b(t.toString().replace(/\n/g, '\r\n')), d: 'CRLF line ends' }) },
  { benign: true, apply: (_, t) => ({ t: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), t]), d: 'UTF-8 BOM' }) },
  { benign: true, apply: (_, t) => ({ t: s2b(t.toString().replace(/\n/g, '\n\n')), d: 'blank lines between rows' }) },
  {
    benign: true,
    apply: (_, t) => ({
      t: s2b(
        t
          .toString()
          .split('\n')
          .map((l, i) => (i ? l.replace(/^([^,]+)/, '"$1"') : l))
          .join('\n'),
      ),
      d: 'first column quoted',
    }),
  },
  { benign: true, apply: (_, t) => ({ t, d: 'target label by name', target: 'label' }) },
  {
    apply: (rng, t) => {
      const r = truncateBytes(rng, t);
      return { t: r.b, d: r.d };
    },
  },
  {
    apply: (rng, t) => {
      const r = invalidUtf8(rng, t);
      return { t: r.b, d: r.d };
    },
  },
  {
    apply: (rng, t) => {
      const s = t.toString();
      const at = rng.int(s.length);
      const ins = pick(rng, [
        '"',
        ',',
        '\n',
        '\r',
        '""',
        '"a""b"',
        '\u0000',
        'NaN',
        'Infinity',
        '-inf',
        '1e999',
        '0x1F',
        ' ',
        '\uFEFF',
        ',,,,',
        '"\n"',
      ]);
      return { t: s2b(s.slice(0, at) + ins + s.slice(at)), d: `inserted ${JSON.stringify(ins)} at ${at}` };
    },
  },
  {
    apply: (rng, t) => {
      const lines = t.toString().split('\n');
      const r = 1 + rng.int(lines.length - 2);
      const cells = lines[r].split(',');
      cells[rng.int(cells.length)] = pick(rng, [
        'NaN',
        'inf',
        '-Infinity',
        '1e999',
        '',
        ' ',
        '1.2.3',
        '--1',
        '1e',
        '٣',
        '0b1',
      ]);
      lines[r] = cells.join(',');
      return { t: s2b(lines.join('\n')), d: `row ${r + 1}: ${lines[r]}` };
    },
  },
  {
    apply: (rng) => {
      const n = pick(rng, [1000, 100_000]);
      return {
        t: s2b(
          Array.from({ length: n }, (_, j) => `c${j}`).join(',') +
            '\n' +
            Array(n).fill('1').join(',') +
            '\n' +
            Array(n).fill('2').join(',') +
            '\n',
        ),
        d: `${n} columns`,
      };
    },
  },
  {
    apply: (rng) => {
      const n = pick(rng, [10_000, 50_000]);
      return {
        t: s2b('a,b\n' + Array.from({ length: n }, (_, j) => `${j},${j % 7 === 0 ? 'x' : j}`).join('\n')),
        d: `${n} rows, ${n} distinct targets`,
      };
    },
  },
  { apply: (rng) => ({ t: s2b('a,b\n"' + 'x'.repeat(pick(rng, [10, 3_000_000]))), d: 'unterminated quote' }) },
  {
    apply: (rng) => ({
      t: s2b(pick(rng, ['', '\n', '\uFEFF', 'a', 'a,b', 'a,b\n1,2', 'a,a\n1,2\n3,4', ',b\n1,2\n3,4', 'a,b\n1,1\n2,1'])),
      d: 'tiny file',
    }),
  },
  {
    apply: (rng, t) => ({
      t,
      d: 'random target option',
      target: pick(rng, ['nope', '', 'x1', 'x3', '__proto__', 'label ', 'c7']),
    }),
  },
  {
    apply: (rng, t) => {
      const mb = pick(rng, [0, 1, 10, -1, NaN]);
      return { t, d: `maxBytes ${mb}`, maxBytes: mb };
    },
  },
  {
    apply: (rng) => ({
      t: s2b('a,b\n' + '"'.repeat(pick(rng, [1, 2, 3, 100_001])) + ',1\n1,2\n'),
      d: 'runs of quotes',
    }),
  },
];

function csvCase(rng: Rng, i: number): CaseSetup {
  let t: Buffer = s2b(baseCsv(rng));
  let target: string | undefined;
  let maxBytes: number | undefined;
  const done: string[] = [];
  let mustLoad = true;
  for (let n = 1 + (rng.next() < 0.3 ? rng.int(3) : 0); n > 0; n--) {
    const m = pick(rng, CSV_MUTATIONS);
    mustLoad &&= !!m.benign;
    const r = m.apply(rng, t);
    t = r.t;
    done.push(r.d);
    target = r.target ?? target;
    maxBytes = r.maxBytes ?? maxBytes;
  }
  const file = path.join(root, `case-${i}.csv`);
  fs.writeFileSync(file, t);
  // Half the cases go through loadDataset, the entry point the CLI uses.
  const viaLoad = rng.next() < 0.5;
  return {
    mutation: done.join('; ') + (viaLoad ? ' (loadDataset)' : ''),
    mustLoad,
    names: [file],
    run: async () => (viaLoad ? loadDataset(file, { target, maxBytes }) : readCsv(file, { target, maxBytes })),
    cleanup: () => fs.rmSync(file, { force: true }),
  };
}

// ---------- argv ----------

const SPECS: FlagSpec[] = [
  { name: 'data', value: true, help: '' },
  { name: 'seed', value: true, help: '' },
  { name: 'fractions', value: true, help: '' },
  { name: 'kind', value: true, help: '' },
  { name: 'json', value: false, help: '' },
  { name: 'out', value: true, help: '' },
];

function argsCase(rng: Rng): CaseSetup {
  const { argv, d } = randomArgv(rng, [...SPECS.map((s) => s.name), 'bogus', 'Data', 'seed ', '']);
  const parsed = { ok: false };
  return {
    mutation: d,
    mustLoad: false,
    // Parse errors name the command; value errors name the flag (checked in classify via names).
    names: [],
    run: async () => {
      let a;
      try {
        a = parseArgs(argv, SPECS, 'fuzzcmd');
      } catch (e) {
        if (e instanceof PruneScopeError && !e.message.includes('fuzzcmd'))
          throw new Error(`parse error without the command: ${e.message}`, { cause: e });
        throw e;
      }
      parsed.ok = true;
      const check = (flag: string, f: () => unknown) => {
        try {
          f();
        } catch (e) {
          if (e instanceof PruneScopeError && !e.message.includes(`--${flag}`))
            throw new Error(`value error without --${flag}: ${e.message}`, { cause: e });
          throw e;
        }
      };
      check('seed', () => num(a, 'seed', 0, { integer: true, min: 0 }));
      check('fractions', () => numList(a, 'fractions'));
      check('kind', () => oneOf(a, 'kind', ['hessian', 'ggn'] as const, 'ggn'));
      list(a, 'data');
    },
  };
}

// ---------- driver ----------

function classify(err: unknown, setup: CaseSetup): { outcome: CaseReport['outcome']; key?: string; reason?: string } {
  if (err === undefined) {
    return { outcome: 'loaded' };
  }
  if (err instanceof PruneScopeError) {
    if (!err.message.trim()) return { outcome: 'failed', reason: `PruneScopeError ${err.code} with an empty message` };
    if (err.code === 'internal') return { outcome: 'failed', reason: `internal error reached a user: ${err.message}` };
    const missing = setup.names.find((n) => !err.message.includes(n));
    if (missing) return { outcome: 'failed', reason: `message does not name ${missing}: ${err.message.slice(0, 300)}` };
    if (err.message.length > 4000)
      return {
        outcome: 'failed',
        reason: `message is ${err.message.length} chars long: ${err.message.slice(0, 200)}...`,
      };
    return { outcome: 'refused', key: normalise(err.code, err.message.split(root).join('')) };
  }
  const e = err as Error;
  return {
    outcome: 'failed',
    reason: `${e?.name ?? typeof e}: ${String(e?.message).slice(0, 300)}\n      ${String(e?.stack).split('\n').slice(1, 4).join('\n      ')}`,
  };
}

async function main(): Promise<void> {
  const { suite, seed, cases, only } = workerData as { suite: Suite; seed: number; cases: number; only?: number };
  const out = parentPort!;
  fs.writeFileSync(path.join(root, 'outside.bin'), Buffer.alloc(104));
  if (suite === 'model') await makeBases();
  const fileSuite = suite === 'h5' || suite === 'keras' || suite === 'onnx';
  if (fileSuite) await prepareFileBases(suite, root);
  // Baseline after warm-up (backend, fixtures) so growth measures the cases, not the setup.
  const base0 = process.memoryUsage();
  for (let i = 0; i < cases; i++) {
    if (only !== undefined && i !== only) continue;
    const rng = new Rng(caseSeed(seed, i));
    out.postMessage({ type: 'start', i, mutation: '(building the case)' });
    const setup = fileSuite
      ? await fileCase(suite, rng, i, root)
      : suite === 'model'
        ? await modelCase(rng, i)
        : suite === 'csv'
          ? csvCase(rng, i)
          : suite === 'npy'
            ? npyCase(rng, i, root)
            : suite === 'npz'
              ? npzCase(rng, i, root)
              : suite === 'image'
                ? imageCase(rng, i, root, IMAGE_FIXTURES)
                : argsCase(rng);
    out.postMessage({ type: 'start', i, mutation: setup.mutation });
    const t0 = performance.now();
    let err: unknown;
    try {
      await setup.run();
    } catch (e) {
      err = e;
    }
    const ms = performance.now() - t0;
    let r = classify(err, setup);
    if (r.outcome === 'refused' && setup.mustLoad)
      r = { outcome: 'failed', reason: `benign mutation was refused: ${(err as Error).message}` };
    if (r.outcome !== 'failed' && ms > CASE_MS)
      r = { outcome: 'failed', reason: `took ${ms.toFixed(0)} ms (limit ${CASE_MS} ms)` };
    let mem = process.memoryUsage();
    // Garbage is not growth: collect before judging a case that looks over the limit.
    if (
      mem.heapUsed - base0.heapUsed > HEAP_GROWTH_LIMIT_MB * 2 ** 20 ||
      mem.rss - base0.rss > RSS_GROWTH_LIMIT_MB * 2 ** 20
    ) {
      gc();
      mem = process.memoryUsage();
    }
    const heapGrowthMb = (mem.heapUsed - base0.heapUsed) / 2 ** 20;
    const rssGrowthMb = (mem.rss - base0.rss) / 2 ** 20;
    if (r.outcome !== 'failed' && (heapGrowthMb > HEAP_GROWTH_LIMIT_MB || rssGrowthMb > RSS_GROWTH_LIMIT_MB)) {
      r = {
        outcome: 'failed',
        reason: `memory grew by heap ${heapGrowthMb.toFixed(0)} MB, rss ${rssGrowthMb.toFixed(0)} MB`,
      };
    }
    setup.cleanup?.();
    out.postMessage({ type: 'case', i, mutation: setup.mutation, ms, ...r, rssMb: mem.rss / 2 ** 20, heapGrowthMb });
  }
}

if (!isMainThread && parentPort) {
  main()
    .catch((e) => {
      throw e;
    })
    .finally(() => fs.rmSync(root, { recursive: true, force: true }));
} else {
  fs.rmSync(root, { recursive: true, force: true });
}
