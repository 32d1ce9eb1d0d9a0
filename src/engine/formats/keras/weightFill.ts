// Shared by the HDF5-based readers (.h5, .keras): the model file's bytes read within a budget,
// each node's weights located in the HDF5 tree and checked against the shapes its config
// implies before any value is read, then read and put into the GraphSpec.
import * as fs from 'fs';
import { PruneScopeError } from '../../errors';
import type { WeightSpec } from '../../graphSpec';
import type { H5Entry, H5Reader } from '../hdf5/h5Client';
import { nodeField, shapeText, sizeOf } from '../../model/graphShapes';
import type { KerasGraph } from './modelConfig';

/** The whole file, refused before reading when it is larger than the budget allows. */
export function readFileBounded(file: string, maxBytes: number, expected: string): Uint8Array {
  let size: number;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new PruneScopeError('bad-input', 'is not a file', { file, expected });
    size = st.size;
  } catch (e) {
    if (e instanceof PruneScopeError) throw e;
    throw new PruneScopeError('not-found', 'model file does not exist', { file, expected });
  }
  // Config, attributes and HDF5 bookkeeping come on top of the weights.
  const limit = maxBytes + 64 * 1024 ** 2;
  if (size > limit)
    throw new PruneScopeError('too-large', `is ${size} bytes, over the limit of ${limit} bytes`, {
      file,
      expected: `a model of at most ${maxBytes} bytes of weights (raise maxBytes to read it)`,
    });
  return new Uint8Array(fs.readFileSync(file));
}

/** h5wasm dtype strings to the names the rest of PruneScope reports. */
export function dtypeName(e: H5Entry): string {
  const d = e.dtype ?? '';
  const map: Record<string, string> = {
    '<f': 'float32',
    '<d': 'float64',
    '<e': 'float16',
    '<i': 'int32',
    '<q': 'int64',
  };
  return map[d] ?? d;
}

export interface Located {
  node: number;
  slot: WeightSpec;
  /** Dataset path, or undefined when the config gives the values (Normalization). */
  path?: string;
  given?: number[];
}

/**
 * Checks a dataset against the weight a node needs: it exists, is numeric and has the shape the
 * config implies (Normalization statistics may keep broadcast axes of size 1).
 */
export function checkDataset(
  r: H5Reader,
  path: string,
  want: number[],
  node: { name: string; className: string; config?: unknown },
  weight: string,
  file: string,
): H5Entry {
  const e = r.byPath.get(path);
  const field = `${nodeField(node)} weight ${weight}`;
  if (!e || e.kind !== 'dataset')
    throw new PruneScopeError('bad-input', `has no dataset ${path}`, {
      file,
      field,
      expected: `the ${weight} weight at ${path}`,
    });
  const shape = e.shape ?? [];
  const same = shape.length === want.length && shape.every((d, i) => d === want[i]);
  if (!same && !(node.className === 'Normalization' && sizeOf(shape) === sizeOf(want)))
    throw new PruneScopeError('bad-input', `dataset ${path} has shape ${shapeText(shape)}`, {
      file,
      field,
      expected: shapeText(want),
    });
  return e;
}

/** Reads the located datasets and puts every weight into the graph's nodes, in slot order. */
export async function fillWeights(graph: KerasGraph, located: Located[], r: H5Reader, maxBytes: number): Promise<void> {
  const paths = located.filter((l) => l.path).map((l) => l.path!);
  const values = paths.length ? await r.read(paths, maxBytes) : new Map<string, Float32Array>();
  for (const l of located) {
    const v = l.path ? values.get(l.path)! : Float32Array.from(l.given!);
    l.slot.values = v;
    graph.spec.nodes[l.node].weights.push(l.slot);
  }
}

/** The non-finite check every reader applies: NaN weights would poison every method downstream. */
export function checkFiniteWeights(graph: KerasGraph, file: string): void {
  for (const n of graph.spec.nodes)
    for (const w of n.weights) {
      const bad = w.values.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0)
        throw new PruneScopeError(
          'numerical',
          `weight ${w.name} has a non-finite value (${w.values[bad]}) at entry ${bad}`,
          {
            file,
            field: `${nodeField(n)} weight ${w.name}`,
            expected: 'finite numbers',
          },
        );
    }
}

/** An empty weight of a slot, to be filled. */
export const slotWeight = (s: { name: string; shape: number[]; trainable: boolean }): WeightSpec => ({
  name: s.name,
  shape: s.shape,
  trainable: s.trainable,
  values: new Float32Array(0),
});
