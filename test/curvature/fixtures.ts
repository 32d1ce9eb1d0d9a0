// Tiny networks and batches shared by the curvature tests, as both backend tensors and float64.
import * as tf from '@tensorflow/tfjs';
import { NetworkSpec, randomDense } from '../../src/engine/model/denseChain';
import { Graph } from '../../src/engine/model/graph';
import { Activation } from '../../src/engine/model/activations';
import { Rng } from '../../src/engine/util/random';
import { Net64, forward } from './reference64';

export interface Case {
  net: Graph;
  ref: Net64;
  w: Float64Array;
  X: number[][];
  Y: number[][];
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  dispose(): void;
}

/** Smallest |z| over hidden pre-activations: finite differences need it well away from kinks. */
function minAbsHidden(ref: Net64, w: Float64Array, X: number[][]): number {
  let m = Infinity;
  for (const x of X) {
    const { z } = forward(ref, w, x);
    for (let l = 0; l < z.length; l++) for (const v of z[l]) m = Math.min(m, Math.abs(v));
  }
  return m;
}

export function makeCase(sizes: number[], hidden: Activation, head: Activation, n = 5, seed = 1): Case {
  for (let s = seed; ; s++) {
    const rng = new Rng(100 + s);
    const spec: NetworkSpec = {
      inputSize: sizes[0],
      layers: sizes
        .slice(1)
        .map((u, i) => ({ name: `d${i}`, units: u, activation: i === sizes.length - 2 ? head : hidden })),
    };
    const net = randomDense(spec, s);
    net.setFlat(Float32Array.from(net.toFlat(), (v, i) => v * 1.5 + 0.2 * Math.sin(3 * i + s)));
    const w = Float64Array.from(net.toFlat());
    const K = sizes[sizes.length - 1];
    const X = Array.from({ length: n }, () => Array.from({ length: sizes[0] }, () => Math.fround(rng.normal())));
    const Y = Array.from({ length: n }, () => {
      if (head === 'softmax') {
        const y = new Array(K).fill(0);
        y[rng.int(K)] = 1;
        return y;
      }
      return Array.from({ length: K }, () => Math.fround(head === 'sigmoid' ? rng.next() : rng.normal()));
    });
    const ref: Net64 = { sizes, acts: spec.layers.map((l) => l.activation as Net64['acts'][number]) };
    if (minAbsHidden(ref, w, X) < 1e-2) {
      net.dispose();
      continue;
    }
    const x = tf.tensor2d(X.flat(), [n, sizes[0]]);
    const y = tf.tensor2d(Y.flat(), [n, K]);
    return {
      net,
      ref,
      w,
      X,
      Y,
      x,
      y,
      dispose: () => {
        net.dispose();
        tf.dispose([x, y]);
      },
    };
  }
}
