// The three ways the convolution calculus runs: PruneScope's wasm kernels, and tfjs ops on the wasm
// and on the cpu backend (what tfjs-node and a failed kernel load get). Each test runs on all three.
import * as tf from '@tensorflow/tfjs';
import { backend } from '../../helpers';
import { setConvWasmEnabled } from '../../../src/engine/layers/conv/wasmKernels';

export const PATHS = ['wasm kernels', 'wasm tfjs ops', 'cpu tfjs ops'] as const;
export type Path = (typeof PATHS)[number];

export async function usePath(p: Path): Promise<void> {
  await backend();
  await tf.setBackend(p.startsWith('cpu') ? 'cpu' : 'wasm');
  setConvWasmEnabled(p === 'wasm kernels');
}

/** Back to the default (wasm with the kernels), for the next test file. */
export async function resetPath(): Promise<void> {
  await tf.setBackend('wasm');
  setConvWasmEnabled(true);
}

export function f32(a: ArrayLike<number>): Float32Array {
  return Float32Array.from(a);
}
