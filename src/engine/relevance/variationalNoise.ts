// The Gaussian noise variance of the variational regression fit, by its closed-form update: the
// ELBO's only term in s^2 is E_q[log N(y | f(w), s^2)], maximised at
//   s^2 = E_q[ sum_n sum_k (y_nk - f_k(w, x_n))^2 ] / (N K).
// The expectation is taken over the whole training set at a given q, with each weighted layer's
// variational forward (the local reparameterisation: one weight draw per row, as the fit does). When
// the model's output is itself the output of such a layer (a linear head), its Gaussian output
// z ~ N(m, v) is integrated exactly, E[(y - z)^2] = (y - m)^2 + v; a model whose only weighted layer
// is that head (linear regression) is then exact in one pass, any other averages `samples` passes.
import * as tf from '@tensorflow/tfjs';
import type { Graph } from '../model/graph';
import type { Rng } from '../util/random';
import { fillNormal } from './variationalPosterior';

/**
 * mean[k], variance[k]: the posterior mean and variance of trainable weight k (graph.weights order).
 * x: [N, inputSize]; y: [N, K]. Call inside tf.tidy (tensors made here are released per pass).
 */
export function closedFormNoiseVariance(
  graph: Graph,
  mean: tf.Tensor[],
  variance: tf.Tensor[],
  x: tf.Tensor,
  y: tf.Tensor2D,
  rng: Rng,
  samples = 8,
): number {
  const N = x.shape[0];
  const K = y.shape[1];
  const topOp = graph.plan.top - 1;
  const weighted = graph.ops.filter((op) => op.paramCount > 0);
  const lrtTop = topOp >= 0 && graph.ops[topOp].paramCount > 0 && graph.ops[topOp].layer.variational?.kind === 'lrt';
  const passes = lrtTop && weighted.length === 1 ? 1 : samples;
  let total = 0;
  for (let s = 0; s < passes; s++) {
    total += tf.tidy(() => {
      const tensors: tf.Tensor[] = [tf.reshape(x, [N, ...graph.inputShape])];
      for (const op of graph.ops) {
        const inputs = op.inputs.map((t) => tensors[t]);
        if (op.paramCount === 0) {
          tensors.push(op.layer.forward(inputs, graph.vars[op.index], 'inference').output);
          continue;
        }
        const ws = op.trainable.map((_, k) => op.weightIndex + k);
        const state = op.layer.weights.flatMap((d, k) => (d.trainable ? [] : [graph.vars[op.index][k]]));
        const shape = [N, ...op.layer.outputShape];
        const size = shape.reduce((a, b) => a * b, 1);
        const exact = lrtTop && op.index === topOp;
        const eps = exact ? tf.zeros(shape) : tf.tensor(fillNormal(rng, new Float32Array(size)), shape);
        const r = op.layer.variational!.forward(
          inputs,
          ws.map((k) => mean[k]),
          ws.map((k) => variance[k]),
          state,
          eps,
        );
        if (exact) {
          // eps = 0: the output is the mean m; the cache holds sd = sqrt(v).
          const m = tf.reshape(r.output, [N, K]);
          const v = tf.reshape(tf.square(r.cache.rows!.sd), [N, K]);
          return tf.sum(tf.add(tf.square(tf.sub(y, m)), v)).dataSync()[0];
        }
        tensors.push(r.output);
      }
      const top = tf.reshape(tensors[graph.plan.top], [N, K]);
      return tf.sum(tf.square(tf.sub(y, top))).dataSync()[0];
    });
  }
  return total / (passes * N * K);
}
