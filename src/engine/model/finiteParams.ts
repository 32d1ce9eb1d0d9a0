// Non-finite (NaN / Infinity) parameters, said WHERE: which layer, which parameter. Checks of
// parameters run on the backend (one all(isFinite) per tensor, one small download of booleans);
// only on failure is the offending weight downloaded to find the first bad entry.
import * as tf from '@tensorflow/tfjs';
import { ErrorContext, PruneScopeError } from '../errors';
import { firstNonFinite } from '../util/finite';
import type { Graph } from './graph';

/** "layer hidden1 kernel[3, 5] (flat 41)" or "layer out bias[2] (flat 55)" for flat index j. */
export function describeParam(graph: Graph, j: number): string {
  return graph.describe(j);
}

/**
 * Throws PruneScopeError('numerical') if `values` (flat parameter order) holds a NaN/Infinity:
 * "<what> has NaN at layer hidden1 kernel[3, 5] (flat 41): <hint>".
 */
export function checkFiniteFlat(
  graph: Graph,
  values: ArrayLike<number>,
  what: string,
  hint: string,
  context: ErrorContext = {},
): void {
  const j = firstNonFinite(values);
  if (j < 0) return;
  throw new PruneScopeError('numerical', `${what} has ${values[j]} at ${describeParam(graph, j)}: ${hint}`, {
    expected: 'finite values',
    ...context,
  });
}

/**
 * Where the model's parameters are non-finite: one entry per bad weight (flat order), each naming
 * the first bad parameter. Empty when all are finite.
 */
export function nonFiniteParameters(graph: Graph): string[] {
  const ok = tf.tidy(() => tf.stack(graph.params.map((t) => tf.all(tf.isFinite(t)))).dataSync());
  const out: string[] = [];
  ok.forEach((v, i) => {
    if (v) return;
    const data = graph.params[i].dataSync();
    const k = firstNonFinite(data);
    out.push(`${data[k]} at ${describeParam(graph, graph.weights[i].offset + k)}`);
  });
  return out;
}

/** Throws PruneScopeError('numerical') naming `when` and the first non-finite parameter of each bad weight. */
export function checkNetworkFinite(graph: Graph, when: string, hint: string, context: ErrorContext = {}): void {
  const bad = nonFiniteParameters(graph);
  if (bad.length === 0) return;
  throw new PruneScopeError('numerical', `parameters became non-finite ${when}: ${bad.join('; ')}; ${hint}`, {
    field: 'parameters',
    expected: 'finite values',
    ...context,
  });
}

/** For a non-finite loss: which weights are non-finite now (or that they all are finite). */
export function parameterDiagnosis(graph: Graph): string {
  const bad = nonFiniteParameters(graph);
  return bad.length
    ? `non-finite parameters: ${bad.join('; ')}`
    : "all parameters finite (the inputs or a layer's activations overflow)";
}
