// Neuron-level selection: score each hidden neuron by the summed relevance of its incoming and
// outgoing weights (any method's scores), keep the most relevant ones to reach target widths (or a
// share of neurons), and return the weight mask that removes the rest. shrinkToStudent() then
// turns that mask into real, narrower layers.
import { badInput } from '../errors';
import type { Graph } from '../model/graph';
import { requireDense } from '../model/denseChain';
import { orderByScore } from '../util/order';

export interface NeuronSelection {
  /** 1 = pruned, over the flat parameter index (incoming and outgoing weights of removed neurons). */
  mask: Uint8Array;
  /** Per hidden layer: original indices of the neurons kept. */
  kept: number[][];
  /** Per hidden layer: the neuron scores used. */
  neuronScores: number[][];
}

export function neuronScores(net: Graph, scores: ArrayLike<number>): number[][] {
  const L = requireDense(net, 'neuron selection');
  return L.slice(0, -1).map((l, h) => {
    const next = L[h + 1];
    return Array.from({ length: l.outSize }, (_, u) => {
      let s = 0;
      for (let i = 0; i < l.inSize; i++) s += scores[l.kernelOffset + i * l.outSize + u];
      for (let j = 0; j < next.outSize; j++) s += scores[next.kernelOffset + u * next.outSize + j];
      return s;
    });
  });
}

/** Target widths per hidden layer, or a share of each hidden layer's neurons to remove. */
export function selectNeurons(
  net: Graph,
  scores: ArrayLike<number>,
  target: { widths: number[] } | { share: number },
): NeuronSelection {
  const L = requireDense(net, 'neuron selection');
  const hidden = L.length - 1;
  let widths: number[];
  if ('widths' in target) {
    if (target.widths.length !== hidden)
      throw badInput(`got ${target.widths.length} widths for ${hidden} hidden layers`, {
        field: 'widths',
        expected: `${hidden} comma-separated widths`,
      });
    target.widths.forEach((w, h) => {
      if (!Number.isInteger(w) || w < 1 || w > L[h].outSize)
        throw badInput(`width ${w} for layer ${L[h].name}`, {
          field: 'widths',
          expected: `an integer in [1, ${L[h].outSize}]`,
        });
    });
    widths = target.widths;
  } else {
    if (!(target.share >= 0 && target.share < 1))
      throw badInput(`share ${target.share}`, { field: 'fraction', expected: 'a number in [0, 1)' });
    widths = L.slice(0, -1).map((l) => Math.max(1, l.outSize - Math.round(target.share * l.outSize)));
  }
  const ns = neuronScores(net, scores);
  const mask = new Uint8Array(net.nParams);
  const kept = ns.map((s, h) => {
    const order = orderByScore(s); // least relevant first
    const drop = order.subarray(0, s.length - widths[h]);
    const l = L[h];
    const next = L[h + 1];
    for (const u of drop) {
      for (let i = 0; i < l.inSize; i++) mask[l.kernelOffset + i * l.outSize + u] = 1;
      mask[l.biasOffset + u] = 1;
      for (let j = 0; j < next.outSize; j++) mask[next.kernelOffset + u * next.outSize + j] = 1;
    }
    const dropped = new Set(drop);
    return s.map((_, u) => u).filter((u) => !dropped.has(u));
  });
  return { mask, kept, neuronScores: ns };
}
