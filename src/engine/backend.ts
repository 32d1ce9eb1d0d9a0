// The one place that chooses the compute backend: tfjs-node when it loads, else wasm, else cpu.
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { installFastTransposedMatMul } from './wasmMatMul';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export interface BackendInfo {
  name: BackendName;
  /** Why this backend was chosen (forced by env, or fallback reasons). */
  reason: string;
}

let chosen: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

/** Directory holding the tfjs-backend-wasm .wasm files: next to a webpack bundle, else in node_modules. */
export function wasmDirectory(): string {
  const besideBundle = path.join(__dirname, 'tfjs-backend-wasm-simd.wasm');
  if (fs.existsSync(besideBundle)) return __dirname + path.sep;
  const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return path.join(path.dirname(pkg), 'dist') + path.sep;
}

function tryTfjsNode(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional, loaded if installed
    require('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

async function useWasm(): Promise<boolean> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(wasmDirectory());
  const ok = await tf.setBackend('wasm');
  if (ok) installFastTransposedMatMul();
  return ok;
}

async function choose(): Promise<BackendInfo> {
  const forced = process.env.PRUNESCOPE_BACKEND as BackendName | undefined;
  if (forced && !['tensorflow', 'wasm', 'cpu'].includes(forced)) {
    throw new Error(`PRUNESCOPE_BACKEND=${forced}: expected one of tensorflow, wasm, cpu`);
  }
  if (forced === 'tensorflow') {
    if (!tryTfjsNode() || !(await tf.setBackend('tensorflow'))) {
      throw new Error(
        'PRUNESCOPE_BACKEND=tensorflow but @tensorflow/tfjs-node did not load (it is an optional dependency)',
      );
    }
    return { name: 'tensorflow', reason: 'forced by PRUNESCOPE_BACKEND' };
  }
  if (forced === 'wasm') {
    if (!(await useWasm())) throw new Error('PRUNESCOPE_BACKEND=wasm but the wasm backend failed to initialise');
    return { name: 'wasm', reason: 'forced by PRUNESCOPE_BACKEND' };
  }
  if (forced === 'cpu') {
    await tf.setBackend('cpu');
    return { name: 'cpu', reason: 'forced by PRUNESCOPE_BACKEND' };
  }
  if (tryTfjsNode() && (await tf.setBackend('tensorflow'))) return { name: 'tensorflow', reason: 'tfjs-node loaded' };
  try {
    if (await useWasm()) return { name: 'wasm', reason: 'tfjs-node not available' };
  } catch (e) {
    await tf.setBackend('cpu');
    return { name: 'cpu', reason: `wasm failed: ${(e as Error).message}` };
  }
  await tf.setBackend('cpu');
  return { name: 'cpu', reason: 'wasm failed to initialise' };
}

/** Initialise once; every later call returns the same answer. */
export function initBackend(): Promise<BackendInfo> {
  if (chosen) return Promise.resolve(chosen);
  if (!pending) {
    pending = choose().then(async (info) => {
      await tf.ready();
      chosen = info;
      return info;
    });
  }
  return pending;
}

/** The backend in use; throws if initBackend() has not completed. */
export function backendInfo(): BackendInfo {
  if (!chosen) throw new Error('internal: initBackend() has not been awaited');
  return chosen;
}
