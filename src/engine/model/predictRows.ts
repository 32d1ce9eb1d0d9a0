// The model's outputs (after its final activation) for rows of inputs, in order: what
// `prunescope predict` prints. Batched so that large data sets stay within backend memory.
import * as tf from '@tensorflow/tfjs';
import { badInput, throwIfCancelled } from '../errors';
import type { Graph } from './graph';

export interface PredictRowsOptions {
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Outputs of `rows` rows of `x` (row-major, net.inputSize values each): [rows * outputSize]. */
export function predictRows(net: Graph, x: Float32Array, rows: number, o: PredictRowsOptions = {}): Float32Array {
  const f = net.inputSize;
  if (x.length !== rows * f)
    throw badInput(`${x.length} input values for ${rows} rows`, {
      field: 'x',
      expected: `${rows} x ${f} values (the model's input has ${f} elements)`,
    });
  const batch = Math.max(1, Math.floor(o.batchSize ?? 256));
  const k = net.outputSize;
  const out = new Float32Array(rows * k);
  for (let start = 0; start < rows; start += batch) {
    throwIfCancelled(o.signal, 'predict');
    const end = Math.min(rows, start + batch);
    const y = tf.tidy(() => net.predict(tf.tensor2d(x.subarray(start * f, end * f), [end - start, f])));
    out.set(y.dataSync() as Float32Array, start * k);
    y.dispose();
    o.onProgress?.(end, rows);
  }
  return out;
}
