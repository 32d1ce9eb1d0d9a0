// Worker thread owning h5wasm (HDF5 compiled to WebAssembly). It lists and reads files handed to
// it as bytes and builds new files; if the C library traps (a wasm abort leaves the module
// unusable) the thread reports it and exits, and the client starts a fresh one. The library's
// diagnostics go to a buffer here, never to the user's terminal.
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { isMainThread, parentPort } from 'worker_threads';
import type { H5Entry, H5Limits, H5Request, H5Response, H5Result, H5WriteTree } from './protocol';

// The subset of h5wasm used here (its types come with an ES module this CommonJS build cannot import statically).
interface H5Attr {
  metadata: { size: number; total_size: number; vlen: boolean };
  json_value: unknown;
}
interface H5Obj {
  type: string;
  attrs: Record<string, H5Attr>;
  keys?(): string[];
  get?(name: string): H5Obj | null;
  metadata?: { size: number; total_size: number; type: number; shape: number[] | null };
  dtype?: unknown;
  shape?: number[] | null;
  value?: unknown;
  create_group?(name: string): H5Obj;
  create_attribute?(name: string, data: unknown, shape?: number[] | null, dtype?: string | null): void;
  create_dataset?(args: { name: string; data: unknown; shape: number[]; dtype: string }): H5Obj;
}
interface H5File extends H5Obj {
  close(): unknown;
}
interface H5Module {
  ready: Promise<unknown>;
  File: new (name: string, mode: string) => H5File;
  FS: { writeFile(p: string, d: Uint8Array): void; readFile(p: string): Uint8Array; unlink(p: string): void };
}

const diag: string[] = [];
const keep = (...a: unknown[]) => {
  diag.push(a.map(String).join(' '));
  if (diag.length > 400) diag.splice(0, diag.length - 400);
};

/**
 * The innermost entry of the first HDF5 error stack ("#006: ... in H5F__super_read(): truncated
 * file: ..."): the cause; later stacks come from h5wasm cleaning up after it.
 */
function diagSummary(): string | undefined {
  let last: string | undefined;
  for (const l of diag.join('\n').split('\n')) {
    if (last && /HDF5-DIAG/.test(l)) break;
    const m = /#\d+: .* in (\w+)\(\): (.*)$/.exec(l);
    if (m) last = `${m[2]} (${m[1]})`;
  }
  return last;
}

// The compiled library prints its error stacks with console.error, bound when it loads.
if (!isMainThread) {
  console.error = keep;
  console.warn = keep;
}

/** The ES module build of h5wasm: bundled (webpack resolves 'h5wasm' to it) or found in node_modules. */
async function loadH5(): Promise<H5Module> {
  let mod: H5Module;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require('h5wasm') as H5Module;
  } catch {
    let file: string | undefined;
    for (let d = __dirname, i = 0; i < 8 && !file; i++, d = path.dirname(d)) {
      const f = path.join(d, 'node_modules', 'h5wasm', 'dist', 'esm', 'hdf5_hl.js');
      if (fs.existsSync(f)) file = f;
    }
    if (!file) throw new Error('h5wasm is not installed (node_modules/h5wasm/dist/esm/hdf5_hl.js not found)');
    // A real dynamic import: the package is an ES module only, and tsc would turn import() into require.
    const importEsm = new Function('u', 'return import(u)') as (u: string) => Promise<H5Module>;
    mod = await importEsm(pathToFileURL(file).href);
  }
  await mod.ready;
  return mod;
}

let h5: H5Module | undefined;
const open = new Map<number, { file: H5File; name: string }>();
let nextHandle = 1;

class Refusal extends Error {
  constructor(
    message: string,
    readonly kind: 'too-large' | 'unsupported' | 'bad-input',
    readonly where?: string,
  ) {
    super(message);
  }
}

function readAttrs(obj: H5Obj, where: string, limits: H5Limits): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const attrs = obj.attrs;
  for (const name of Object.keys(attrs)) {
    const a = attrs[name];
    const bytes = a.metadata.size * a.metadata.total_size;
    if (bytes > limits.maxAttrBytes)
      throw new Refusal(`attribute ${name} declares ${bytes} bytes`, 'too-large', `${where} attribute ${name}`);
    out[name] = a.json_value;
  }
  return out;
}

function list(file: H5File, limits: H5Limits): H5Entry[] {
  const entries: H5Entry[] = [{ path: '/', kind: 'group', attrs: readAttrs(file, '/', limits) }];
  const walk = (g: H5Obj, prefix: string, depth: number) => {
    if (depth > limits.maxDepth)
      throw new Refusal(`groups nest more than ${limits.maxDepth} deep`, 'too-large', prefix);
    for (const key of g.keys!()) {
      if (entries.length >= limits.maxEntries)
        throw new Refusal(`holds more than ${limits.maxEntries} groups and datasets`, 'too-large', prefix);
      const p = `${prefix}${key}`;
      const c = g.get!(key);
      if (!c) {
        entries.push({ path: p, kind: 'other', attrs: {} });
        continue;
      }
      if (c.type === 'Group') {
        entries.push({ path: p, kind: 'group', attrs: readAttrs(c, p, limits) });
        walk(c, `${p}/`, depth + 1);
      } else if (c.type === 'Dataset') {
        const m = c.metadata!;
        entries.push({
          path: p,
          kind: 'dataset',
          attrs: readAttrs(c, p, limits),
          shape: m.shape,
          dtype: typeof c.dtype === 'string' ? c.dtype : JSON.stringify(c.dtype),
          elementBytes: m.size,
          typeClass: m.type,
        });
      } else entries.push({ path: p, kind: 'other', attrs: {} });
    }
  };
  walk(file, '/', 0);
  return entries;
}

function readValues(file: H5File, paths: string[], maxBytes: number): { path: string; data: Float32Array }[] {
  let budget = maxBytes;
  return paths.map((p) => {
    const ds = file.get!(p);
    if (!ds || ds.type !== 'Dataset') throw new Refusal('is not a dataset', 'bad-input', p);
    const m = ds.metadata!;
    const count = m.shape ? m.shape.reduce((a, b) => a * b, 1) : 0;
    const bytes = count * m.size;
    if (!(m.type === 1 && (m.size === 4 || m.size === 8)) && !(m.type === 0 && [1, 2, 4, 8].includes(m.size)))
      throw new Refusal(`has HDF5 type class ${m.type} with ${m.size}-byte elements`, 'unsupported', p);
    if (!Number.isSafeInteger(bytes) || bytes > budget)
      throw new Refusal(`declares ${bytes} bytes, over the ${budget} bytes left of the budget`, 'too-large', p);
    budget -= bytes;
    const v = ds.value;
    let data: Float32Array;
    if (typeof v === 'number' || typeof v === 'bigint') data = Float32Array.of(Number(v));
    else if (v instanceof BigInt64Array || v instanceof BigUint64Array) data = Float32Array.from(v, (x) => Number(x));
    else if (ArrayBuffer.isView(v)) data = Float32Array.from(v as unknown as ArrayLike<number>);
    else throw new Refusal('did not read as numbers', 'bad-input', p);
    if (data.length !== count) throw new Refusal(`read ${data.length} values for ${count} declared`, 'bad-input', p);
    return { path: p, data };
  });
}

function build(tree: H5WriteTree): Uint8Array {
  const name = `/out-${nextHandle++}.h5`;
  const f = new h5!.File(name, 'w');
  try {
    const attr = (o: H5Obj, attrs: H5WriteTree['attrs']) => {
      for (const [k, v] of Object.entries(attrs ?? {})) {
        // h5py writes an empty list of names as a zero-length fixed-size string array.
        if (Array.isArray(v) && v.length === 0) o.create_attribute!(k, [], [0], 'S1');
        else o.create_attribute!(k, v);
      }
    };
    attr(f, tree.attrs);
    const groups = new Map<string, H5Obj>([['', f]]);
    const group = (p: string): H5Obj => {
      const g = groups.get(p);
      if (g) return g;
      const i = p.lastIndexOf('/');
      const made = group(i < 0 ? '' : p.slice(0, i)).create_group!(i < 0 ? p : p.slice(i + 1));
      groups.set(p, made);
      return made;
    };
    for (const g of tree.groups) attr(group(g.path), g.attrs);
    for (const d of tree.datasets) {
      const i = d.path.lastIndexOf('/');
      group(i < 0 ? '' : d.path.slice(0, i)).create_dataset!({
        name: i < 0 ? d.path : d.path.slice(i + 1),
        data: d.data,
        shape: d.shape,
        dtype: d.dtype,
      });
    }
  } finally {
    f.close();
  }
  const bytes = h5!.FS.readFile(name);
  h5!.FS.unlink(name);
  return bytes;
}

async function handle(req: H5Request): Promise<H5Result> {
  h5 ??= await loadH5();
  switch (req.op) {
    case 'open': {
      const id = nextHandle++;
      const name = `/in-${id}.h5`;
      h5.FS.writeFile(name, req.bytes);
      let file: H5File;
      try {
        file = new h5.File(name, 'r');
      } catch (e) {
        h5.FS.unlink(name);
        throw e;
      }
      open.set(id, { file, name });
      try {
        return { handle: id, entries: list(file, req.limits) };
      } catch (e) {
        close(id);
        throw e;
      }
    }
    case 'read': {
      const o = open.get(req.handle);
      if (!o) throw new Refusal('the file is no longer open', 'bad-input');
      return { values: readValues(o.file, req.paths, req.maxBytes) };
    }
    case 'close':
      close(req.handle);
      return {};
    case 'write':
      return { bytes: build(req.tree) };
  }
}

function close(id: number): void {
  const o = open.get(id);
  if (!o) return;
  open.delete(id);
  try {
    o.file.close();
  } finally {
    h5!.FS.unlink(o.name);
  }
}

const isTrap = (e: unknown) =>
  (e as Error)?.name === 'RuntimeError' ||
  /Aborted\(|unreachable|memory access out of bounds/.test(String((e as Error)?.message));

if (!isMainThread && parentPort) {
  const port = parentPort;
  let dead = false;
  port.on('message', (req: H5Request) => {
    diag.length = 0;
    (dead ? Promise.reject(new Error('Aborted(earlier trap)')) : handle(req)).then(
      (result) => {
        const transfer =
          'bytes' in result
            ? [result.bytes.buffer as ArrayBuffer]
            : 'values' in result
              ? result.values.map((v) => v.data.buffer as ArrayBuffer)
              : [];
        port.postMessage({ id: req.id, ok: true, result } satisfies H5Response, transfer);
      },
      (e: unknown) => {
        const trap = isTrap(e);
        const r = e instanceof Refusal ? e : undefined;
        port.postMessage({
          id: req.id,
          ok: false,
          message: String((e as Error)?.message ?? e).slice(0, 500),
          trap,
          diag: diagSummary(),
          where: r?.where,
          kind: r?.kind,
        } satisfies H5Response);
        // After an abort the module's state is undefined: the client retires this thread.
        if (trap) dead = true;
      },
    );
  });
}
