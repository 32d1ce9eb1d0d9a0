// From a pruned network to a physically smaller one that computes the same function:
// - a hidden neuron whose outgoing weights are all pruned has no effect: removed;
// - a hidden neuron whose incoming weights are all pruned outputs the constant act(bias): that
//   constant is folded into the next layer's biases, then the neuron is removed;
// - an input feature whose weights are all pruned is unused: reported, dropped only on request.
// Removing a neuron can leave others dead, so the passes repeat until nothing changes.
import type { Graph } from '../model/graph';
import { NetworkSpec, denseFromFlat, networkSpecOf, requireDense } from '../model/denseChain';
import type { HiddenActivation } from '../layers/activationFunctions';

export interface ShrinkOptions {
  /** Parameters to treat as pruned (1 = pruned); default: the ones that are exactly zero. */
  mask?: Uint8Array;
  dropUnusedInputs?: boolean;
}

export interface ShrinkResult {
  network: Graph;
  widthsBefore: number[];
  widthsAfter: number[];
  paramsBefore: number;
  paramsAfter: number;
  /** For each layer, the original indices of the units kept. */
  keptUnits: number[][];
  /** Original input indices the student reads (all of them unless dropUnusedInputs). */
  keptInputs: number[];
  unusedInputs: number[];
  /** Hidden neurons removed as dead (no outgoing weight) and as constant (no incoming weight). */
  removedDead: number;
  removedConstant: number;
}

/** Scalar activation, for folding act(bias) of a constant neuron (f64, exact enough for float32). */
export function act1(a: HiddenActivation, z: number): number {
  switch (a) {
    case 'linear':
      return z;
    case 'tanh':
      return Math.tanh(z);
    case 'relu':
      return Math.max(0, z);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-z));
    case 'elu':
      return z > 0 ? z : Math.expm1(z);
    case 'selu':
      return 1.0507009873554805 * (z > 0 ? z : 1.6732632423543772 * Math.expm1(z));
    case 'softplus':
      return Math.log1p(Math.exp(-Math.abs(z))) + Math.max(z, 0);
    case 'softsign':
      return z / (1 + Math.abs(z));
  }
}

interface DenseArrays {
  W: Float64Array;
  b: Float64Array;
  inSize: number;
  outSize: number;
}

export function shrinkToStudent(net: Graph, opts: ShrinkOptions = {}): ShrinkResult {
  const layout = requireDense(net, 'the student export (unit removal)');
  const nspec = networkSpecOf(net)!;
  const flat = net.toFlat();
  const pruned = opts.mask ?? Uint8Array.from(flat, (v) => (v === 0 ? 1 : 0));
  const L = layout.length;
  // Working copies in float64 with pruned entries exactly zero; alive flags per unit.
  const layers: DenseArrays[] = layout.map((l) => {
    const W = new Float64Array(l.kernelSize);
    for (let i = 0; i < l.kernelSize; i++) W[i] = pruned[l.kernelOffset + i] ? 0 : flat[l.kernelOffset + i];
    const b = new Float64Array(l.biasSize);
    for (let i = 0; i < l.biasSize; i++) b[i] = pruned[l.biasOffset + i] ? 0 : flat[l.biasOffset + i];
    return { W, b, inSize: l.inSize, outSize: l.outSize };
  });
  const alive: boolean[][] = [Array(nspec.inputSize).fill(true), ...layout.map((l) => Array(l.outSize).fill(true))];
  const nonzero = (l: number, i: number, j: number) => layers[l].W[i * layers[l].outSize + j] !== 0;
  let removedDead = 0;
  let removedConstant = 0;
  for (let changed = true; changed;) {
    changed = false;
    // Hidden units: alive[h] for h = 1..L-1 are the outputs of layer h-1, inputs of layer h.
    for (let h = 1; h < L; h++) {
      const below = layers[h - 1];
      const above = layers[h];
      for (let u = 0; u < alive[h].length; u++) {
        if (!alive[h][u]) continue;
        let hasOut = false;
        for (let j = 0; j < above.outSize && !hasOut; j++) hasOut = alive[h + 1][j] && nonzero(h, u, j);
        if (!hasOut) {
          alive[h][u] = false;
          removedDead++;
          changed = true;
          continue;
        }
        let hasIn = false;
        for (let i = 0; i < below.inSize && !hasIn; i++) hasIn = alive[h - 1][i] && nonzero(h - 1, i, u);
        if (!hasIn) {
          const c = act1(layout[h - 1].activation as HiddenActivation, below.b[u]);
          for (let j = 0; j < above.outSize; j++) {
            above.b[j] += c * above.W[u * above.outSize + j];
            above.W[u * above.outSize + j] = 0;
          }
          alive[h][u] = false;
          removedConstant++;
          changed = true;
        }
      }
    }
  }
  const unusedInputs: number[] = [];
  for (let i = 0; i < nspec.inputSize; i++) {
    let used = false;
    for (let j = 0; j < layers[0].outSize && !used; j++) used = alive[1][j] && nonzero(0, i, j);
    if (!used) unusedInputs.push(i);
  }
  if (opts.dropUnusedInputs) for (const i of unusedInputs) alive[0][i] = false;
  // Keep at least one unit per layer (and one input) so the chain stays valid: a layer whose
  // units all died feeds nothing forward, so its kept unit's outgoing weights are zero.
  const kept = alive.map((a) => {
    const k = a.flatMap((v, i) => (v ? [i] : []));
    return k.length ? k : [0];
  });
  const spec: NetworkSpec = {
    inputSize: kept[0].length,
    layers: nspec.layers.map((l, i) => ({ ...l, units: kept[i + 1].length })),
  };
  const out: number[] = [];
  layers.forEach((d, l) => {
    const rows = kept[l];
    const cols = kept[l + 1];
    for (const i of rows) for (const j of cols) out.push(alive[l][i] && alive[l + 1][j] ? d.W[i * d.outSize + j] : 0);
    for (const j of cols) out.push(alive[l + 1][j] ? d.b[j] : 0);
  });
  const student = denseFromFlat(spec, Float32Array.from(out));
  return {
    network: student,
    widthsBefore: nspec.layers.map((l) => l.units),
    widthsAfter: spec.layers.map((l) => l.units),
    paramsBefore: net.nParams,
    paramsAfter: student.nParams,
    keptUnits: kept.slice(1),
    keptInputs: kept[0],
    unusedInputs,
    removedDead,
    removedConstant,
  };
}
