// PruneScope's convolution kernels (wasm/*.c) instantiated on the tfjs wasm backend's own memory, as
// ordering/squares.ts does: a tensor's data is used where it lies (its heap offset), outputs are
// made by the backend and handed to the engine as ordinary tensors, scratch comes from the
// backend's malloc. Off the wasm backend (or when disabled for tests) convWasm() is undefined and
// the callers use tfjs ops instead.
import * as tf from '@tensorflow/tfjs';
import { CONV_WASM_BASE64 } from './wasm/conv.generated';
import { instantiateEmbedded, WasmMemory } from '../../util/wasmModule';
import { packGeometry, WindowGeometry } from './geometry';
import { PruneScopeError } from '../../errors';

type Ptr = number;

/**
 * Per-row products (conv_f32.c conv_row_stats, depthwise_f32.c dw_row_stats): geometry, x, rows, c,
 * signs, then the outputs sum, sq, bsum, bsq, out (0 = not wanted), withBias, scratch.
 */
type RowStatsKernel = (
  g: Ptr,
  x: Ptr,
  rows: Ptr,
  c: number,
  signs: Ptr,
  sum: Ptr,
  sq: Ptr,
  bsum: Ptr,
  bsq: Ptr,
  out: Ptr,
  withBias: number,
  scratch: Ptr,
) => void;

/** The module's exports (wasm/conv_f32.c, depthwise_f32.c, pool_f32.c). Pointers are heap offsets. */
export interface ConvExports {
  conv_scratch(g: Ptr): number;
  conv_rows_scratch(g: Ptr, c: number): number;
  conv_filter_grad(g: Ptr, x: Ptr, dy: Ptr, dw: Ptr, db: Ptr, scratch: Ptr): void;
  conv_input_grad(g: Ptr, dy: Ptr, w: Ptr, dx: Ptr, scratch: Ptr): void;
  conv_row_stats: RowStatsKernel;
  conv_kfc_input(g: Ptr, x: Ptr, a: Ptr, withBias: number, scratch: Ptr): void;
  gram(m: Ptr, rows: number, cols: number, out: Ptr, scratch: Ptr): void;
  gemm_scratch(): number;
  gemm(
    m: number,
    n: number,
    k: number,
    a: Ptr,
    ars: number,
    acs: number,
    b: Ptr,
    brs: number,
    bcs: number,
    c: Ptr,
    ldc: number,
    scratch: Ptr,
  ): void;
  dw_scratch(g: Ptr): number;
  dw_filter_grad(g: Ptr, x: Ptr, dy: Ptr, dw: Ptr, db: Ptr, scratch: Ptr): void;
  dw_input_grad(g: Ptr, dy: Ptr, w: Ptr, dx: Ptr, scratch: Ptr): void;
  dw_row_stats: RowStatsKernel;
  maxpool_forward(g: Ptr, x: Ptr, y: Ptr, idx: Ptr): void;
  maxpool_backward(g: Ptr, rows: Ptr, idx: Ptr, c: number, dx: Ptr): void;
  avgpool_backward(g: Ptr, dy: Ptr, dx: Ptr): void;
}

// The pieces of tfjs-backend-wasm's BackendWasm used here (as its own kernels use them).
interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}
interface WasmBackend {
  wasm: { asm: { memory: WasmMemory }; _malloc(bytes: number): number; _free(ptr: number): void };
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): TensorInfo;
}

export interface ConvWasm {
  readonly ex: ConvExports;
  /** Heap offset of a tensor's data (the tensor must live on the wasm backend). */
  ptr(t: tf.Tensor): Ptr;
  /** A new tensor made by the backend (contents undefined until a kernel writes them). */
  output(shape: number[], dtype?: 'float32' | 'int32'): tf.Tensor;
  /**
   * Calls fn with the geometry packed into the heap and `scratch(gp)` floats of scratch (the size
   * function reads the packed geometry); frees both afterwards.
   */
  run<T>(g: WindowGeometry, scratch: (gp: Ptr) => number, fn: (gp: Ptr, sp: Ptr) => T): T;
}

function outOfMemory(floats: number): PruneScopeError {
  return new PruneScopeError(
    'too-large',
    `the wasm backend could not allocate ${floats} floats (${Math.round((4 * floats) / 2 ** 20)} MB)`,
    {
      expected: 'a smaller batch or chunk size',
    },
  );
}

/** Kernels read float32 data: other dtypes are cast first. */
export function float32(t: tf.Tensor): tf.Tensor {
  return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
}

let enabled = true;
let loaded: { backend: WasmBackend; ex: ConvExports } | null | undefined; // undefined: not tried

/** Tests switch the kernels off to exercise (and compare with) the tfjs-op path. */
export function setConvWasmEnabled(on: boolean): void {
  enabled = on;
}

function load(): { backend: WasmBackend; ex: ConvExports } | undefined {
  if (loaded === undefined) {
    loaded = null;
    const backend = tf.backend() as unknown as WasmBackend;
    const memory = backend.wasm?.asm?.memory;
    const ex = memory ? instantiateEmbedded<ConvExports>(CONV_WASM_BASE64, { env: { memory } }) : null;
    if (ex) loaded = { backend, ex };
  }
  return loaded ?? undefined;
}

/** The kernels on the current backend, or undefined (not wasm, not loadable, or disabled). */
export function convWasm(): ConvWasm | undefined {
  if (!enabled || tf.getBackend() !== 'wasm') return undefined;
  const k = load();
  if (!k) return undefined;
  const { backend, ex } = k;
  return {
    ex,
    ptr(t: tf.Tensor): Ptr {
      const d = backend.dataIdMap.get(t.dataId);
      if (!d) throw new Error('conv kernels: tensor is not on the wasm backend');
      return d.memoryOffset;
    },
    output(shape: number[], dtype: 'float32' | 'int32' = 'float32'): tf.Tensor {
      const info = backend.makeOutput(shape, dtype);
      const t = tf.engine().makeTensorFromTensorInfo(info as tf.TensorInfo);
      // A failed allocation comes back as offset 0: writing there would corrupt the backend's heap.
      if (shape.some((d) => d > 0) && !backend.dataIdMap.get(info.dataId)?.memoryOffset) {
        t.dispose();
        throw outOfMemory(shape.reduce((a, b) => a * b, 1));
      }
      return t;
    },
    run<T>(g: WindowGeometry, scratch: (gp: Ptr) => number, fn: (gp: Ptr, sp: Ptr) => T): T {
      const packed = packGeometry(g);
      const gp = backend.wasm._malloc(packed.byteLength);
      new Int32Array(backend.wasm.asm.memory.buffer, gp, packed.length).set(packed);
      let sp = 0;
      try {
        const floats = scratch(gp);
        // 16 bytes of slack: the kernels align their scratch sub-buffers to 4 floats.
        sp = floats > 0 ? backend.wasm._malloc(4 * floats + 16) : 0;
        if (floats > 0 && !sp) throw outOfMemory(floats);
        return fn(gp, sp);
      } finally {
        if (sp) backend.wasm._free(sp);
        backend.wasm._free(gp);
      }
    },
  };
}
