// Non-finite (NaN / Infinity) parameters, said WHERE: which layer, which parameter. Checks of
// parameters run on the backend (one all(isFinite) per tensor, one small download of 2L booleans);
// only on failure is the offending layer downloaded to find the first bad entry.
import * as tf from '@tensorflow/tfjs';
import { ErrorContext, PruneScopeError } from '../errors';
import { firstNonFinite } from '../util/finite';
import { locate, type LayerLayout, type Network } from './network';

/** "layer hidden1 kernel[3, 5] (flat 41)" or "layer out bias[2] (flat 55)" for flat index j. */
export function describeParam(layout: LayerLayout[], j: number): string {
  const p = locate(layout, j);
  const name = layout[p.layer].name;
  return p.kind === 'kernel'
    ? `layer ${name} kernel[${p.input}, ${p.unit}] (flat ${j})`
    : `layer ${name} bias[${p.unit}] (flat ${j})`;
}

/**
 * Throws PruneScopeError('numerical') if `values` (flat parameter order) holds a NaN/Infinity:
 * "<what> has NaN at layer hidden1 kernel[3, 5] (flat 41): <hint>".
 */
export function checkFiniteFlat(
  layout: LayerLayout[],
  values: ArrayLike<number>,
  what: string,
  hint: string,
  context: ErrorContext = {},
): void {
  const j = firstNonFinite(values);
  if (j < 0) return;
  throw new PruneScopeError('numerical', `${what} has ${values[j]} at ${describeParam(layout, j)}: ${hint}`, {
    expected: 'finite values',
    ...context,
  });
}

/**
 * Where the network's parameters are non-finite: one entry per bad tensor (layer order, kernel
 * before bias), each naming the first bad parameter. Empty when all are finite. Backend check,
 * downloads 2L booleans (plus the offending tensors, only when something is wrong).
 */
export function nonFiniteParameters(net: Network): string[] {
  const tensors: tf.Tensor[] = net.layout.flatMap((_, i) => [net.kernels[i], net.biases[i]]);
  const ok = tf.tidy(() => tf.stack(tensors.map((t) => tf.all(tf.isFinite(t)))).dataSync());
  const out: string[] = [];
  ok.forEach((v, t) => {
    if (v) return;
    const l = net.layout[t >> 1];
    const data = tensors[t].dataSync();
    const k = firstNonFinite(data);
    const flat = (t & 1 ? l.biasOffset : l.kernelOffset) + k;
    out.push(`${data[k]} at ${describeParam(net.layout, flat)}`);
  });
  return out;
}

/** Throws PruneScopeError('numerical') naming `when` and the first non-finite parameter of each bad layer tensor. */
export function checkNetworkFinite(net: Network, when: string, hint: string, context: ErrorContext = {}): void {
  const bad = nonFiniteParameters(net);
  if (bad.length === 0) return;
  throw new PruneScopeError('numerical', `parameters became non-finite ${when}: ${bad.join('; ')}; ${hint}`, {
    field: 'parameters',
    expected: 'finite values',
    ...context,
  });
}

/** For a non-finite loss: which layers' parameters are non-finite now (or that they all are finite). */
export function parameterDiagnosis(net: Network): string {
  const bad = nonFiniteParameters(net);
  return bad.length
    ? `non-finite parameters: ${bad.join('; ')}`
    : "all parameters finite (the inputs or a layer's activations overflow)";
}
