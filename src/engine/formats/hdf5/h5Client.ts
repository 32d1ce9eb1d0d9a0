// The engine's side of HDF5: one worker thread (h5Worker.ts) owns h5wasm, calls go to it one at a
// time, and every failure comes back as a PruneScopeError naming the file. A trap inside the C
// library ends only that thread; a call that does not answer in time (a corrupt file sending the
// library into a loop) terminates it. The next call starts a fresh thread either way.
import * as path from 'path';
import { Worker } from 'worker_threads';
import { PruneScopeError } from '../../errors';
import type { H5Entry, H5Limits, H5Request, H5Response, H5Result, H5WriteTree } from './protocol';

export type { H5Entry, H5WriteTree } from './protocol';

export const DEFAULT_LIMITS: H5Limits = { maxEntries: 200_000, maxDepth: 32, maxAttrBytes: 64 * 1024 ** 2 };

/** A request before the service numbers it. */
type Unnumbered<T> = T extends unknown ? Omit<T, 'id'> : never;

type Pending = { resolve: (r: H5Response) => void; timer: NodeJS.Timeout; worker: Worker };

class H5Service {
  private worker?: Worker;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private chain: Promise<unknown> = Promise.resolve();
  /** Worker script (test hook: a script that misbehaves on purpose). */
  script = path.join(__dirname, 'h5Worker.js');
  /** Base time a call may take, plus 1 s per 8 MB of file: the library works on memory, never slowly. */
  baseTimeoutMs = 20_000;

  timeoutFor(bytes: number): number {
    return this.baseTimeoutMs + Math.ceil(bytes / (8 * 1024 ** 2)) * 1000;
  }

  private start(): Worker {
    const w = new Worker(this.script);
    w.on('message', (r: H5Response) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      clearTimeout(p.timer);
      // After a wasm abort the library's state is undefined: retire the thread.
      if (!r.ok && r.trap && this.worker === w) {
        this.worker = undefined;
        void w.terminate();
      }
      p.resolve(r);
    });
    const fail = (message: string) => {
      if (this.worker === w) this.worker = undefined;
      // Only this thread's calls: an old thread's exit must not fail a new thread's work.
      for (const [id, p] of this.pending) {
        if (p.worker !== w) continue;
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.resolve({ id, ok: false, message, trap: true });
      }
    };
    w.on('error', (e) => fail(`the HDF5 thread failed: ${e.message}`));
    w.on('exit', (code) => fail(`the HDF5 thread stopped (exit code ${code})`));
    // An idle HDF5 thread must not keep the CLI alive (unref after the listeners, which ref it).
    w.unref();
    return w;
  }

  /** Runs one request; calls are serialised so that a file handle is never used by two callers at once. */
  call(req: Unnumbered<H5Request>, timeoutMs: number, transfer: ArrayBuffer[] = []): Promise<H5Response> {
    const run = () =>
      new Promise<H5Response>((resolve) => {
        const w = (this.worker ??= this.start());
        const id = this.nextId++;
        const timer = setTimeout(() => {
          this.pending.delete(id);
          if (this.worker === w) this.worker = undefined;
          void w.terminate();
          resolve({
            id,
            ok: false,
            message: `no answer within ${Math.round(timeoutMs / 1000)} s`,
            trap: true,
            kind: 'bad-input',
          });
        }, timeoutMs);
        this.pending.set(id, { resolve, timer, worker: w });
        w.postMessage({ ...req, id } as H5Request, transfer);
      });
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Ends the thread (tests; the CLI relies on unref instead). */
  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}

export const h5Service = new H5Service();

/** A failure reported by the worker as a PruneScopeError about `file`. */
function refusal(r: Extract<H5Response, { ok: false }>, file: string, doing: string): PruneScopeError {
  // h5wasm's own message for a failed call is a generic "error - name not defined!": the HDF5
  // error stack's innermost entry says what is wrong.
  const generic = /name not defined/.test(r.message);
  const cause = r.diag ? (generic ? r.diag : `${r.message}: ${r.diag}`) : r.message;
  const code = r.kind === 'too-large' ? 'too-large' : r.kind === 'unsupported' ? 'unsupported' : 'bad-input';
  const what = r.trap ? `the HDF5 library failed ${doing} (${cause})` : r.where ? cause : `${doing} failed: ${cause}`;
  return new PruneScopeError(code, what, {
    file,
    field: r.where,
    expected: r.kind === 'too-large' ? 'a model within the size limits' : 'an intact HDF5 file as Keras writes it',
  });
}

async function expect<T extends H5Result>(p: Promise<H5Response>, file: string, doing: string): Promise<T> {
  const r = await p;
  if (!r.ok) throw refusal(r, file, doing);
  return r.result as T;
}

export interface H5Reader {
  entries: H5Entry[];
  /** Entries by path ('/a/b'). */
  byPath: Map<string, H5Entry>;
  /** Reads numeric datasets as float32 (ints and doubles converted), within `maxBytes` in all. */
  read(paths: string[], maxBytes: number): Promise<Map<string, Float32Array>>;
}

/** Opens HDF5 bytes (read-only, in memory), runs `fn` on the listing, and closes the file. */
export async function withHdf5<T>(
  bytes: Uint8Array,
  file: string,
  fn: (r: H5Reader) => Promise<T>,
  limits: H5Limits = DEFAULT_LIMITS,
): Promise<T> {
  const timeout = h5Service.timeoutFor(bytes.byteLength);
  // A copy of its own to hand over: Buffer.slice is a view, and transferring a view's buffer would
  // detach the caller's bytes (or Node's whole Buffer pool).
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const opened = await expect<{ handle: number; entries: H5Entry[] }>(
    h5Service.call({ op: 'open', bytes: copy, limits }, timeout, [copy.buffer as ArrayBuffer]),
    file,
    'opening the file',
  );
  const reader: H5Reader = {
    entries: opened.entries,
    byPath: new Map(opened.entries.map((e) => [e.path, e])),
    read: async (paths, maxBytes) => {
      const r = await expect<{ values: { path: string; data: Float32Array }[] }>(
        h5Service.call({ op: 'read', handle: opened.handle, paths, maxBytes }, timeout),
        file,
        'reading weights',
      );
      return new Map(r.values.map((v) => [v.path, v.data]));
    },
  };
  try {
    return await fn(reader);
  } finally {
    // A dead thread took the file with it; closing is then a no-op on a fresh one.
    await h5Service.call({ op: 'close', handle: opened.handle }, timeout);
  }
}

/** Builds an HDF5 file in memory from a tree of groups, attributes and datasets. */
export async function buildHdf5(tree: H5WriteTree, file: string): Promise<Uint8Array> {
  const bytes = tree.datasets.reduce((a, d) => a + d.data.byteLength, 0);
  const r = await expect<{ bytes: Uint8Array }>(
    h5Service.call({ op: 'write', tree }, h5Service.timeoutFor(bytes) * 2),
    file,
    'writing the HDF5 file',
  );
  return r.bytes;
}
