// Loader for the float64 WebAssembly SIMD kernels (wasm/gemm_f64.c, tridiag_f64.c, secular_f64.c; built by
// scripts/build-wasm.sh). The module bytes are embedded as base64 (wasm/kernels.generated.ts), so the
// tsc build, the webpack bundle and the CLI all instantiate it synchronously with no file lookup.
//
// V8 compiles wasm lazily in two tiers and swaps in the optimised code only for NEW calls (no on-stack
// replacement), so the hot inner loops of the C kernels are kept in separate noinline functions called
// many times per kernel call: they reach the optimising tier during the first call (first eigh at
// n = 1,000 in a fresh process: 1.66 -> 1.10 s CPU; first 1000^3 GEMM 0.70 -> 0.33 s).
//
// Operands are copied into the module's linear memory (a bump region above __heap_base, grown on
// demand) and results copied back: O(n^2) bytes against the O(n^3) flops of the callers (measured in
// bench/linalg.ts). The TypeScript kernels stay the reference and the fallback: when instantiation fails,
// or PRUNESCOPE_NO_WASM_LINALG=1 (read at call time), or setWasmLinalgEnabled(false), callers get
// `undefined` from wasmKernels() and run their TypeScript path.
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
