// Shared test setup: the backend the product uses by default (wasm here), initialised once per file.
import { initBackend, BackendInfo } from '../src/engine/backend';

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
