// sigma = softplus(rho) and sigmoid(rho) = dsigma/drho, needed every step for every parameter. On
// wasm one SIMD kernel (wasm/softplus_f32.c) computes both from one e^-|rho|, faster than tfjs's
// libm-based Softplus and within ~2 float32 ulps (bench/NOTES.md); other backends, or a failed
// instantiation, use tf.softplus / tf.sigmoid.
import * as tf from '@tensorflow/tfjs';
import { SOFTPLUS_WASM_BASE64 } from './wasm/softplus.generated';
import { WasmMemory, ensureMemory, instantiateEmbedded } from '../util/wasmModule';
interface Exports {
  memory: WasmMemory;
  __heap_base: { value: number };
  softplus_sigmoid(rho: number, sigma: number, slope: number, n: number): void;
}

let kernel: Exports | null | undefined; // undefined: not tried; null: unavailable

export interface SoftplusParts<T extends tf.Tensor> {
  /** softplus(rho) = log(1 + e^rho). */
  sigma: T;
  /** sigmoid(rho) = 1 / (1 + e^-rho) = dsigma/drho. */
  slope: T;
}

/**
 * Run the kernel on rho and hand its outputs to `use` as views into the kernel's memory (valid
 * only during the call: copy or upload them there). undefined when the kernel is unavailable.
 */
export function withSoftplusSigmoid<R>(
  rho: Float32Array,
  use: (sigma: Float32Array, slope: Float32Array) => R,
): R | undefined {
  if (kernel === undefined) kernel = instantiateEmbedded<Exports>(SOFTPLUS_WASM_BASE64);
  if (!kernel) return undefined;
  const n = rho.length;
  const n4 = (n + 3) & ~3; // the kernel works in groups of 4; the padding is computed and dropped
  const base = (kernel.__heap_base.value + 15) & ~15;
  const need = base + 3 * 4 * n4;
  ensureMemory(kernel.memory, need);
  const f = new Float32Array(kernel.memory.buffer);
  const [r, s, g] = [base / 4, base / 4 + n4, base / 4 + 2 * n4];
  f.set(rho, r);
  f.fill(0, r + n, r + n4);
  kernel.softplus_sigmoid(4 * r, 4 * s, 4 * g, n4);
  return use(f.subarray(s, s + n), f.subarray(g, g + n));
}

/** softplus(rho) and sigmoid(rho) as new tensors (call inside tf.tidy, or dispose both). */
export function softplusParts<T extends tf.Tensor>(rho: T): SoftplusParts<T> {
  if (tf.getBackend() === 'wasm' && rho.dtype === 'float32') {
    // The wasm backend copies a new tensor's values into its own heap at once, so the views can go
    // straight in (other backends keep the array: they never get here).
    const parts = withSoftplusSigmoid(rho.dataSync() as Float32Array, (sigma, slope) => ({
      sigma: tf.tensor(sigma, rho.shape) as T,
      slope: tf.tensor(slope, rho.shape) as T,
    }));
    if (parts) return parts;
  }
  return { sigma: tf.softplus(rho), slope: tf.sigmoid(rho) };
}

/** softplus(rho) alone, by the same evaluation as the fit's steps (so reported sigmas match them). */
export function sigmaOf<T extends tf.Tensor>(rho: T): T {
  const { sigma, slope } = softplusParts(rho);
  slope.dispose();
  return sigma;
}
