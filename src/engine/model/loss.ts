// Losses: cross-entropy for a softmax head, mean squared error otherwise (per sample, the mean over
// output units, as Keras defines it). The training objective is the mean over samples.
import * as tf from '@tensorflow/tfjs';

export type LossKind = 'crossentropy' | 'mse';

export function lossKindOf(net: { task: 'classification' | 'regression' }): LossKind {
  return net.task === 'classification' ? 'crossentropy' : 'mse';
}

const EPS = 1e-7;

/** Per-sample losses l_n, shape [N], from the network output (probabilities or values). */
export function sampleLosses(kind: LossKind, output: tf.Tensor2D, target: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy((): tf.Tensor1D => {
    if (kind === 'crossentropy')
      return tf.neg(tf.sum(tf.mul(target, tf.log(tf.clipByValue(output, EPS, 1))), 1)) as tf.Tensor1D;
    return tf.mean(tf.square(tf.sub(output, target)), 1);
  });
}

export function meanLoss(kind: LossKind, output: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(sampleLosses(kind, output, target)));
}

/**
 * dl_n/d top for every sample (rows), where top is what the loss reads: the logits under a softmax
 * head (cross-entropy: p - y), the output otherwise (MSE, mean over the K outputs: (2/K)(out - y)).
 */
export function topDelta(kind: LossKind, output: tf.Tensor2D, target: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() =>
    kind === 'crossentropy'
      ? (tf.sub(output, target) as tf.Tensor2D)
      : (tf.mul(tf.sub(output, target), 2 / output.shape[1]) as tf.Tensor2D),
  );
}

/**
 * A square root S of each sample's loss Hessian w.r.t. top (S S^T = d2 l_n / d top^2), as K rows per
 * sample [n*K, K] (sample-major). Softmax-CE: diag(p) - p p^T, row c = sqrt(p_c) (e_c - p); MSE: sqrt(2/K) I.
 */
export function lossHessianRoot(kind: LossKind, output: tf.Tensor2D): tf.Tensor2D {
  const [n, K] = output.shape;
  return tf.tidy(() => {
    const eye = tf.eye(K).expandDims(0);
    if (kind === 'crossentropy')
      return tf
        .mul(tf.sqrt(output).expandDims(2), tf.sub(eye, output.expandDims(1)))
        .reshape([n * K, K]) as tf.Tensor2D;
    return tf.tile(tf.mul(eye, Math.sqrt(2 / K)), [n, 1, 1]).reshape([n * K, K]) as tf.Tensor2D;
  });
}

/**
 * One Monte-Carlo column per sample whose outer product has the loss Hessian as its expectation
 * (BackPACK's DiagGGN-MC): softmax-CE: p - e_yhat with yhat ~ Categorical(p) (E = diag(p) - p p^T);
 * MSE: sqrt(2/K) eps with eps ~ N(0, I). Draws from the seeded `uniform` / `normal` sources.
 */
export function sampledHessianRoot(
  kind: LossKind,
  output: tf.Tensor2D,
  draw: { next(): number; normal(): number },
): tf.Tensor2D {
  const [n, K] = output.shape;
  if (kind === 'crossentropy') {
    const p = output.dataSync() as Float32Array;
    const onehot = new Float32Array(n * K);
    for (let i = 0; i < n; i++) {
      const u = draw.next();
      let acc = 0;
      let k = 0;
      for (; k < K - 1; k++) {
        acc += p[i * K + k];
        if (u < acc) break;
      }
      onehot[i * K + k] = 1;
    }
    return tf.tidy(() => tf.sub(output, tf.tensor2d(onehot, [n, K])) as tf.Tensor2D);
  }
  const e = Float32Array.from({ length: n * K }, () => draw.normal() * Math.sqrt(2 / K));
  return tf.tensor2d(e, [n, K]);
}
