// Test references for ordering: per-sample gradients from tf autodiff, one sample at a time.
import * as tf from '@tensorflow/tfjs';
import { NetworkSpec, randomDense } from '../../src/engine/model/denseChain';
import { Graph, flatten } from '../../src/engine/model/graph';
import { lossKindOf, meanLoss } from '../../src/engine/model/loss';

export function smallNet(seed = 3, head: 'softmax' | 'linear' = 'softmax'): Graph {
  const spec: NetworkSpec = {
    inputSize: 4,
    layers: [
      { name: 'h', units: 3, activation: 'tanh' },
      { name: 'out', units: 3, activation: head },
    ],
  };
  const net = randomDense(spec, seed);
  net.setFlat(Float32Array.from(net.toFlat(), (v, i) => v + 0.1 * Math.sin(i + 1))); // non-zero biases
  return net;
}

/** Autodiff gradient of the mean loss over rows [from, from + count) of the batch, flat order. */
export function autodiffGrad(net: Graph, x: tf.Tensor2D, y: tf.Tensor2D, from = 0, count = x.shape[0]): Float64Array {
  const xs = x.slice([from, 0], [count, x.shape[1]]);
  const ys = y.slice([from, 0], [count, y.shape[1]]);
  const r = tf.variableGrads(() => meanLoss(lossKindOf(net), net.predict(xs), ys), net.params);
  const flat = flatten(
    net,
    net.params.map((p) => r.grads[p.name]),
  );
  tf.dispose([xs, ys, r.value]);
  return Float64Array.from(flat);
}

/** Every sample's own gradient (a batch of one each), as rows. */
export function perSampleAutodiff(net: Graph, x: tf.Tensor2D, y: tf.Tensor2D): Float64Array[] {
  return Array.from({ length: x.shape[0] }, (_, n) => autodiffGrad(net, x, y, n, 1));
}
