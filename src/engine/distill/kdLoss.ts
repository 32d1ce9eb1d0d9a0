// Knowledge distillation (Hinton, Vinyals, Dean 2015), per sample:
//   classification: a T^2 KL(softmax(z_t/T) || softmax(z_s/T)) + (1 - a) CE(y, softmax(z_s))
//   regression:     a MSE(f_s, f_t) + (1 - a) MSE(f_s, y)
// The T^2 factor keeps the soft term's gradient magnitude independent of T: its gradient with
// respect to the student's logits is a T (softmax(z_s/T) - softmax(z_t/T)).
// The teacher is given by its outputs: probabilities for a softmax head (logits are recovered as
// log p up to a per-row constant, to which softmax is invariant), values for regression.
import * as tf from '@tensorflow/tfjs';
import type { Graph } from '../model/graph';

export interface KdOptions {
  /** Temperature T > 0 (classification only). */
  temperature: number;
  /** Weight a in [0, 1] of the teacher term. */
  alpha: number;
}

const TINY = 1e-30;

/** Teacher logits up to a per-row constant, from its probabilities. */
export function teacherLogits(teacherProbs: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.log(tf.maximum(teacherProbs, TINY)) as tf.Tensor2D);
}

/** Per-sample KD losses, shape [N]. zs: the student's top tensor (logits under a softmax head); out: its outputs. */
export function kdSampleLosses(
  net: Graph,
  zs: tf.Tensor2D,
  out: tf.Tensor2D,
  teacher: tf.Tensor2D,
  y: tf.Tensor2D,
  o: KdOptions,
): tf.Tensor1D {
  return tf.tidy(() => {
    if (net.task === 'classification') {
      const T = o.temperature;
      const pt = tf.softmax(tf.div(teacherLogits(teacher), T));
      const logPs = tf.logSoftmax(tf.div(zs, T));
      const kl = tf.sum(tf.mul(pt, tf.sub(tf.log(tf.maximum(pt, TINY)), logPs)), 1);
      const ce = tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(zs)), 1));
      return tf.add(tf.mul(o.alpha * T * T, kl), tf.mul(1 - o.alpha, ce)) as tf.Tensor1D;
    }
    const toTeacher = tf.mean(tf.square(tf.sub(out, teacher)), 1);
    const toLabels = tf.mean(tf.square(tf.sub(out, y)), 1);
    return tf.add(tf.mul(o.alpha, toTeacher), tf.mul(1 - o.alpha, toLabels)) as tf.Tensor1D;
  });
}

/** dl_n/d top for every sample (logits under a softmax head, else the outputs): what the backward pass propagates. */
export function kdOutputDelta(
  net: Graph,
  zs: tf.Tensor2D,
  out: tf.Tensor2D,
  teacher: tf.Tensor2D,
  y: tf.Tensor2D,
  o: KdOptions,
): tf.Tensor2D {
  return tf.tidy(() => {
    if (net.task === 'classification') {
      const T = o.temperature;
      const soft = tf.sub(tf.softmax(tf.div(zs, T)), tf.softmax(tf.div(teacherLogits(teacher), T)));
      const hard = tf.sub(out, y); // out = softmax(zs)
      return tf.add(tf.mul(o.alpha * T, soft), tf.mul(1 - o.alpha, hard)) as tf.Tensor2D;
    }
    return tf.mul(
      2 / out.shape[1],
      tf.add(tf.mul(o.alpha, tf.sub(out, teacher)), tf.mul(1 - o.alpha, tf.sub(out, y))),
    ) as tf.Tensor2D;
  });
}
