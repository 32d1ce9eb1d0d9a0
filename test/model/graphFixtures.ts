// Small graphs shared by the graph tests: a residual Add and a Concatenate over dense layers.
import type { GraphSpec, NodeSpec } from '../../src/engine/graphSpec';
import { withDeclaredWeights } from '../../src/engine/model/graphPlan';

function dense(name: string, units: number, activation: string, inputs: string[]): NodeSpec {
  return {
    name,
    className: 'Dense',
    config: { units, activation: activation as never, useBias: true },
    inputs,
    weights: [],
  };
}

/** input[6] -> a (tanh) -> b (relu); add = a + b; cat = [add, a]; out: 3 softmax (or 2 sigmoid). */
export function residualSpec(classification: boolean): GraphSpec {
  return withDeclaredWeights({
    inputs: [{ name: 'x', shape: [6] }],
    nodes: [
      dense('a', 5, 'tanh', ['x']),
      dense('b', 5, 'relu', ['a']),
      { name: 'add', className: 'Add', config: {}, inputs: ['a', 'b'], weights: [] },
      { name: 'cat', className: 'Concatenate', config: { axis: -1 }, inputs: ['add', 'a'], weights: [] },
      dense('out', classification ? 3 : 2, classification ? 'softmax' : 'sigmoid', ['cat']),
    ],
    outputs: ['out'],
    inputLayout: 'NHWC',
  });
}
