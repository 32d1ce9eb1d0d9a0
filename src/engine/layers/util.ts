// Small helpers every layer module uses: row blocks (n samples x c rows), shape checks and errors
// that name the layer.
import * as tf from '@tensorflow/tfjs';
import { PruneScopeError } from '../errors';
import type { NodeSpec, Shape } from '../graphSpec';

export function sizeOf(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** A PruneScopeError about a node: names the layer and its class. */
export function layerError(
  node: Pick<NodeSpec, 'name' | 'className'>,
  message: string,
  expected?: string,
): PruneScopeError {
  return new PruneScopeError('unsupported', `layer ${node.name} (${node.className}): ${message}`, {
    field: `layers.${node.name}`,
    expected,
  });
}

export function expectInputs(node: NodeSpec, inputShapes: Shape[], count: number | 'many'): void {
  if (count === 'many' ? inputShapes.length < 2 : inputShapes.length !== count)
    throw layerError(
      node,
      `has ${inputShapes.length} input(s)`,
      count === 'many' ? 'at least two inputs' : `${count} input${count === 1 ? '' : 's'}`,
    );
}

/**
 * Multiplies every row of a block g [n*c, ...shape] by its sample's s [n, ...shape] (or any shape
 * broadcasting against one sample's [...shape]). c = 1 is a plain elementwise product.
 */
export function scaleRows(g: tf.Tensor, s: tf.Tensor, c: number): tf.Tensor {
  if (c === 1) return tf.mul(g, s);
  const [r, ...rest] = g.shape;
  const n = r / c;
  return tf.tidy(() => tf.mul(g.reshape([n, c, ...rest]), s.expandDims(1)).reshape(g.shape));
}

/** Sum over each sample's c rows of sign * g^2: [n*c, ...] -> [n, ...] (signs [n, c] or absent). */
export function rowSquareSum(g: tf.Tensor, c: number, signs?: tf.Tensor2D): tf.Tensor {
  return tf.tidy(() => {
    const sq = tf.square(g);
    if (c === 1 && !signs) return sq;
    const [r, ...rest] = g.shape;
    const n = r / c;
    let b = sq.reshape([n, c, ...rest]);
    if (signs) b = tf.mul(b, signs.reshape([n, c, ...rest.map(() => 1)]));
    return tf.sum(b, 1);
  });
}

/** Repeats each sample's row c times: [n, ...] -> [n*c, ...] (sample-major). */
export function repeatRows(x: tf.Tensor, c: number): tf.Tensor {
  if (c === 1) return x.clone();
  const [n, ...rest] = x.shape;
  return tf.tidy(() => tf.tile(x.expandDims(1), [1, c, ...rest.map(() => 1)]).reshape([n * c, ...rest]));
}

/** A memoised derived tensor of one backward pass (see Saved.memo). */
export function memo(m: Map<string, tf.Tensor>, key: string, make: () => tf.Tensor): tf.Tensor {
  let t = m.get(key);
  if (!t) {
    t = tf.keep(make());
    m.set(key, t);
  }
  return t;
}
