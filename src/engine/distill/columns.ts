// A student that reads only some of the teacher's input columns (privileged information, Lopez-Paz
// et al. 2016): the teacher's first layer restricted to those columns.
import { checkColumns } from '../data/columns';
import type { Graph } from '../model/graph';
import { denseFromFlat, networkSpecOf, requireDense } from '../model/denseChain';

/** A copy of `net` reading only inputs `cols` (rows of the first kernel kept in that order); the rest is unchanged. */
export function withInputs(net: Graph, cols: number[]): Graph {
  const layout = requireDense(net, 'choosing student input columns');
  const nspec = networkSpecOf(net)!;
  checkColumns(cols, nspec.inputSize, 'studentFeatures');
  const flat = net.toFlat();
  const l0 = layout[0];
  const out: number[] = [];
  for (const c of cols) for (let u = 0; u < l0.outSize; u++) out.push(flat[l0.kernelOffset + c * l0.outSize + u]);
  const rest = flat.subarray(l0.biasOffset);
  return denseFromFlat(
    { inputSize: cols.length, layers: structuredClone(nspec.layers) },
    Float32Array.from([...out, ...rest]),
  );
}
