// Shared plumbing for every curvature quantity: input checks, chunking over samples (bounds the
// memory of per-sample factors), per-layer accumulators, and the flat parameter order.
import * as tf from '@tensorflow/tfjs';
import { badInput, throwIfCancelled } from '../errors';
import type { Network } from '../model/network';
import { flattenParams } from '../model/backprop';

export interface ChunkOptions {
  /** Samples per chunk; default from a memory budget (see defaultChunk). */
  chunkSize?: number;
  signal?: AbortSignal;
}

/** Per-layer tensors in the network's layer order (kernel [in, out], bias [out]). */
export interface LayerTensors {
  kernels: tf.Tensor2D[];
  biases: tf.Tensor1D[];
}

export function checkBatch(net: Network, x: tf.Tensor2D, target: tf.Tensor2D, where = 'curvature'): number {
  if (x.rank !== 2 || x.shape[1] !== net.spec.inputSize) {
    throw badInput(`x has shape [${x.shape}]`, { field: `${where}: x`, expected: `[N, ${net.spec.inputSize}]` });
  }
  if (target.rank !== 2 || target.shape[0] !== x.shape[0] || target.shape[1] !== net.outputSize) {
    throw badInput(`target has shape [${target.shape}]`, {
      field: `${where}: target`,
      expected: `[${x.shape[0]}, ${net.outputSize}]`,
    });
  }
  if (x.shape[0] === 0) throw badInput('empty batch', { field: `${where}: x`, expected: 'at least one row' });
  return x.shape[0];
}

/** Chunk size so that roughly `floatsPerSample * chunk` stays under a budget (default 16M floats). */
export function defaultChunk(n: number, floatsPerSample: number, budget = 1 << 24): number {
  return Math.max(1, Math.min(n, Math.floor(budget / Math.max(1, floatsPerSample))));
}

export function resolveChunk(n: number, opts: ChunkOptions | undefined, floatsPerSample: number): number {
  const c = opts?.chunkSize;
  if (c === undefined) return defaultChunk(n, floatsPerSample);
  if (!Number.isInteger(c) || c <= 0)
    throw badInput(`chunkSize ${c}`, { field: 'curvature: chunkSize', expected: 'a positive integer' });
  return Math.min(c, n);
}

/**
 * Runs `step` on consecutive row chunks [start, start + size) of x and target. The chunk tensors
 * are owned here; between chunks the event loop turns so an AbortSignal can fire.
 */
export async function forEachChunk(
  x: tf.Tensor2D,
  target: tf.Tensor2D,
  chunk: number,
  signal: AbortSignal | undefined,
  step: (xc: tf.Tensor2D, tc: tf.Tensor2D) => void,
): Promise<void> {
  const n = x.shape[0];
  for (let start = 0; start < n; start += chunk) {
    throwIfCancelled(signal, 'curvature');
    const size = Math.min(chunk, n - start);
    if (size === n) {
      step(x, target);
    } else {
      const xc = x.slice([start, 0], [size, x.shape[1]]);
      const tc = target.slice([start, 0], [size, target.shape[1]]);
      try {
        step(xc, tc);
      } finally {
        tf.dispose([xc, tc]);
      }
    }
    if (start + chunk < n) await new Promise((r) => setImmediate(r));
  }
  throwIfCancelled(signal, 'curvature');
}

/** Running per-layer sums: add() keeps the new sum and disposes the old one. */
export class LayerSums {
  kernels: (tf.Tensor2D | undefined)[];
  biases: (tf.Tensor1D | undefined)[];
  constructor(layers: number) {
    this.kernels = new Array(layers).fill(undefined);
    this.biases = new Array(layers).fill(undefined);
  }
  add(l: number, k: tf.Tensor2D, b: tf.Tensor1D): void {
    const ok = this.kernels[l];
    const ob = this.biases[l];
    this.kernels[l] = ok ? (tf.keep(tf.add(ok, k)) as tf.Tensor2D) : tf.keep(k);
    this.biases[l] = ob ? (tf.keep(tf.add(ob, b)) as tf.Tensor1D) : tf.keep(b);
    if (ok) {
      ok.dispose();
      k.dispose();
    }
    if (ob) {
      ob.dispose();
      b.dispose();
    }
  }
  /** The sums divided by n, as new tensors; the sums are disposed. */
  mean(n: number): LayerTensors {
    const kernels = this.kernels.map((k) => tf.tidy(() => tf.div(k!, n) as tf.Tensor2D));
    const biases = this.biases.map((b) => tf.tidy(() => tf.div(b!, n) as tf.Tensor1D));
    this.dispose();
    return { kernels, biases };
  }
  dispose(): void {
    tf.dispose([...this.kernels, ...this.biases].filter((t) => t !== undefined) as tf.Tensor[]);
  }
}

/** Download per-layer tensors in the flat order of network.ts and dispose them. */
export function toFlat(net: Network, t: LayerTensors): Float32Array {
  try {
    return flattenParams(net, t.kernels, t.biases);
  } finally {
    tf.dispose([...t.kernels, ...t.biases]);
  }
}

/**
 * As toFlat, for kernels held transposed ([out, in]); the transpose happens during the download
 * (a JS index shuffle), which is cheaper than a backend transpose of the wide input.
 */
export function toFlatTransposed(net: Network, t: LayerTensors): Float32Array {
  const flat = new Float32Array(net.nParams);
  try {
    net.layout.forEach((l, i) => {
      const kt = t.kernels[i].dataSync() as Float32Array;
      const { inSize, outSize, kernelOffset } = l;
      for (let j = 0; j < outSize; j++) {
        const row = j * inSize;
        for (let k = 0; k < inSize; k++) flat[kernelOffset + k * outSize + j] = kt[row + k];
      }
      flat.set(t.biases[i].dataSync() as Float32Array, l.biasOffset);
    });
    return flat;
  } finally {
    tf.dispose([...t.kernels, ...t.biases]);
  }
}

/** Population variance E[g^2] - E[g]^2 per entry, clamped at 0 against float32 round-off; disposes `second`. */
export function varianceFrom(first: LayerTensors, second: LayerTensors): LayerTensors {
  const v = {
    kernels: second.kernels.map((q, l) =>
      tf.tidy(() => tf.relu(tf.sub(q, tf.square(first.kernels[l]))) as tf.Tensor2D),
    ),
    biases: second.biases.map((q, l) => tf.tidy(() => tf.relu(tf.sub(q, tf.square(first.biases[l]))) as tf.Tensor1D)),
  };
  disposeLayers(second);
  return v;
}

export function disposeLayers(t: LayerTensors): void {
  tf.dispose([...t.kernels, ...t.biases]);
}
