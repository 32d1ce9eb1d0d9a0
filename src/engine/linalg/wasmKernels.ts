// Loader for the float64 WebAssembly SIMD kernels (wasm/gemm_f64.c, tridiag_f64.c, secular_f64.c;
// built by scripts/build-wasm.sh, embedded as base64 so every build instantiates them synchronously).
// The TypeScript kernels stay the reference and the fallback: wasmKernels() is undefined when
// instantiation fails or PRUNESCOPE_NO_WASM_LINALG=1 / setWasmLinalgEnabled(false). docs/DESIGN.md.
import { KERNELS_WASM_BASE64 } from './wasm/kernels.generated';
import { WasmMemory, ensureMemory, instantiateEmbedded } from '../util/wasmModule';

interface Exports {
  memory: WasmMemory;
  __heap_base: { value: number };
  gemm(
    transA: number,
    transB: number,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    beta: number,
    c: number,
    ldc: number,
  ): void;
  tridiag(w: number, n: number, d: number, e: number, beta: number, p: number, wv: number): void;
  secularVectors(k: number, d: number, z: number, rho: number, lambda: number, sT: number, zh: number): void;
}

export interface WasmKernels {
  ex: Exports;
  /** Byte offset of the first free byte of linear memory (16-byte aligned). */
  heap: number;
  /** The memory as float64 (re-read after every ensure(): growing detaches the old buffer). */
  f64(): Float64Array;
  /** Make linear memory at least `bytes` beyond the heap base. */
  ensure(bytes: number): void;
}

let state: WasmKernels | null | undefined; // undefined: not tried; null: failed
let enabled = true;

/** Switch the wasm kernels off (false) or back on, e.g. to exercise the TypeScript fallback in tests. */
export function setWasmLinalgEnabled(on: boolean): void {
  enabled = on;
}

/** Run f with the WebAssembly kernels on or off (TypeScript fallback), re-enabling them after. */
export function withWasmLinalg<T>(on: boolean, f: () => T): T {
  setWasmLinalgEnabled(on);
  try {
    return f();
  } finally {
    setWasmLinalgEnabled(true);
  }
}

/** The instantiated kernels, or undefined when disabled or unavailable (callers then use TypeScript). */
export function wasmKernels(): WasmKernels | undefined {
  if (!enabled || process.env.PRUNESCOPE_NO_WASM_LINALG === '1') return undefined;
  if (state === undefined) state = instantiate();
  return state ?? undefined;
}

function instantiate(): WasmKernels | null {
  const ex = instantiateEmbedded<Exports>(KERNELS_WASM_BASE64); // null e.g. without SIMD support
  if (!ex) return null;
  {
    const heap = (Number(ex.__heap_base.value) + 15) & ~15;
    let view = new Float64Array(ex.memory.buffer);
    return {
      ex,
      heap,
      f64() {
        if (view.buffer !== ex.memory.buffer) view = new Float64Array(ex.memory.buffer);
        return view;
      },
      ensure(bytes: number) {
        ensureMemory(ex.memory, heap + bytes);
      },
    };
  }
}
