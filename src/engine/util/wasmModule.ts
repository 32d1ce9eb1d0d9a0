// Instantiating PruneScope's own WebAssembly kernels (linalg, variational softplus, ordering
// squares). Each module's bytes are embedded as base64 by scripts/build-wasm.sh, so the tsc build,
// the webpack bundle and the CLI instantiate them synchronously with no file lookup. Every caller
// keeps a TypeScript/tfjs path for when this returns null.

// The project's tsconfig has no DOM lib, so the few WebAssembly shapes used here are declared here.
export interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** The module's exports, or null when WebAssembly is missing or the module does not instantiate. */
export function instantiateEmbedded<E>(base64: string, imports: object = {}): E | null {
  try {
    const wa = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (!wa) return null;
    return new wa.Instance(new wa.Module(Buffer.from(base64, 'base64')), imports).exports as E;
  } catch {
    return null;
  }
}

/** Grows `memory` so that it holds at least `bytes` bytes (64 KiB pages). */
export function ensureMemory(memory: WasmMemory, bytes: number): void {
  const have = memory.buffer.byteLength;
  if (bytes > have) memory.grow(Math.ceil((bytes - have) / 65536));
}
