// The per-sample estimator's diag step as one wasm kernel (wasm/squares.c) on the tfjs wasm backend,
// fused and sparse-aware against each column's background, exact for any data, updating the
// tracker's sums in place (docs/DESIGN.md, bench/NOTES.md). Off wasm the tfjs-op path runs.
import * as tf from '@tensorflow/tfjs';
import { SQUARES_WASM_BASE64 } from './wasm/squares.generated';
import { instantiateEmbedded } from '../util/wasmModule';

/**
 * Share of entries off their column background above which the backend's dense matmul is used: the
 * sparse route costs about density x (dense cost), and more than dense near density 1 (bench/NOTES.md).
 */
export const SPARSE_MAX_DENSITY = 0.5;

interface Exports {
  background(x: number, n: number, f: number, bg: number): number;
  compress(x: number, n: number, f: number, o: number, bg: number, ptr: number, rows: number, w: number): void;
  squares(
    d: number,
    n: number,
    o: number,
    scale: number,
    d2: number,
    dsum: number,
    sumB: number,
    gb: number,
    outB: number,
  ): void;
  accumulate_sparse(
    f: number,
    o: number,
    ptr: number,
    rows: number,
    w: number,
    bg: number,
    d2: number,
    dsum: number,
    sumK: number,
    g: number,
    outK: number,
  ): void;
  accumulate_dense(len: number, e: number, sumK: number, g: number, outK: number): void;
  square_transpose(a: number, n: number, f: number, at2: number): void;
}

// The pieces of tfjs-backend-wasm's BackendWasm its own kernels use.
interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}
interface WasmBackend {
  wasm: { asm: { memory: object }; _malloc(bytes: number): number; _free(ptr: number): void };
  dataIdMap: { get(id: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  disposeData(id: object): boolean;
}

interface Kernels {
  ex: Exports;
  backend: WasmBackend;
  matMul: (args: unknown) => TensorInfo;
}
let kernels: Kernels | null | undefined; // undefined: not tried; null: unavailable

/** The module instantiated on the wasm backend's memory; undefined elsewhere (callers use tfjs ops). */
function load(): Kernels | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  if (kernels === undefined) {
    kernels = null;
    const backend = tf.backend() as unknown as WasmBackend;
    const matMul = tf.getKernel('BatchMatMul', 'wasm');
    const ex =
      backend.wasm?.asm?.memory && matMul
        ? instantiateEmbedded<Exports>(SQUARES_WASM_BASE64, { env: { memory: backend.wasm.asm.memory } })
        : null;
    if (ex) kernels = { ex, backend, matMul: matMul!.kernelFunc as never };
  }
  return kernels ?? undefined;
}

/**
 * sumK += mean over samples of (a_n^T d_n)^2 - gK^2 and sumB += mean of d_n^2 - gB^2, written into
 * the variables' own buffers: they are the tracker's private state, nothing else holds them, and
 * updating in place saves an output the size of the kernel, its allocation and two assigns per step.
 * a [N, in], d [N, out] (per-sample deltas, not divided by N). Returns false (and does nothing) off
 * the wasm backend.
 */
export function accumulateSquares(
  sumK: tf.Variable,
  sumB: tf.Variable,
  a: tf.Tensor2D,
  d: tf.Tensor2D,
  gK: tf.Tensor2D,
  gB: tf.Tensor1D,
  maxDensity = SPARSE_MAX_DENSITY,
): boolean {
  const k = load();
  if (!k) return false;
  const { ex, backend } = k;
  const [n, f] = a.shape;
  const o = d.shape[1];
  const at = (t: TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
  const d2 = backend.makeOutput([1, n, o], 'float32');
  // Scratch: bg [f], ptr [f + 1], dsum [o]; rows and w [nnz + 1] only on the sparse route.
  const small = backend.wasm._malloc(4 * (2 * f + 1 + o));
  const bg = small,
    ptr = small + 4 * f,
    dsum = small + 4 * (2 * f + 1);
  try {
    ex.squares(at(d), n, o, 1 / n, at(d2), dsum, at(sumB), at(gB), at(sumB));
    const nnz = ex.background(at(a), n, f, bg);
    if (nnz <= maxDensity * n * f) {
      const big = backend.wasm._malloc(8 * (nnz + 1));
      try {
        ex.compress(at(a), n, f, o, bg, ptr, big, big + 4 * (nnz + 1));
        ex.accumulate_sparse(f, o, ptr, big, big + 4 * (nnz + 1), bg, at(d2), dsum, at(sumK), at(gK), at(sumK));
      } finally {
        backend.wasm._free(big);
      }
    } else {
      const at2 = backend.makeOutput([1, f, n], 'float32');
      ex.square_transpose(at(a), n, f, at(at2));
      const e = k.matMul({ inputs: { a: at2, b: d2 }, backend, attrs: { transposeA: false, transposeB: false } });
      ex.accumulate_dense(f * o, at(e), at(sumK), at(gK), at(sumK));
      backend.disposeData(at2.dataId);
      backend.disposeData(e.dataId);
    }
  } finally {
    backend.wasm._free(small);
    backend.disposeData(d2.dataId);
  }
  return true;
}
