// Shared test setup: the backend the product uses by default (wasm here), initialised once per file.
import * as tf from '@tensorflow/tfjs';
import { initBackend, BackendInfo } from '../src/engine/backend';
import { Rng } from '../src/engine/util/random';

export function backend(): Promise<BackendInfo> {
  return initBackend();
}

/** max |a - b| / max(|b|, floor): relative error with a floor for entries near zero. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-8): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let scale = floor;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / scale);
  return m;
}

/** A seeded batch of n rows: x [n, m] standard normal; y one-hot [n, k] or standard normal [n, k]. */
export function batch(
  seed: number,
  n: number,
  m: number,
  k: number,
  classification: boolean,
): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const rng = new Rng(seed);
  const x = Array.from({ length: n * m }, () => rng.normal());
  const y = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    if (classification) y[i * k + rng.int(k)] = 1;
    else for (let j = 0; j < k; j++) y[i * k + j] = rng.normal();
  }
  return { x: tf.tensor2d(x, [n, m]), y: tf.tensor2d(y, [n, k]) };
}

/**
 * A JSON document a test reads back (a CLI's --json output, a model.json it mutates): its shape is
 * what the test asserts, so it is read without a declared type.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- checked by the assertions that read it
export type JsonDoc = any;
