// The layer-module contract (see README.md beside this file). One module per Keras layer class holds
// that layer's calculus: forward, the vector-Jacobian products to its inputs and its weights, and the
// few extra terms second-order quantities need. The graph (model/graph.ts) walks the modules; every
// quantity (gradient, per-sample moments, GGN / Hessian / Fisher / MC-GGN diagonals, GGN blocks,
// Kronecker factors, the variational fit) is a short driver over these methods, as in BackPACK.
//
// Shapes exclude the batch. Tensors passed to and returned by a module have the batch first: a
// forward tensor is [n, ...shape]; a backward block is [R, ...shape] with R = n * c rows, sample-major
// (rows n*c .. n*c + c - 1 belong to sample n and share its forward cache). c = 1 for plain
// gradients and per-sample quantities; c > 1 when square-root factors of a curvature matrix are
// propagated (c = classes for the exact GGN).
import type * as tf from '@tensorflow/tfjs';
import type { LayerClass, NodeSpec, Shape } from '../graphSpec';

/** 'train': batch statistics (BatchNormalization) and state updates; 'inference': what analysis uses. */
export type Mode = 'inference' | 'train';

/** How a weight is initialised by default (Keras defaults), for built-in architectures. */
export type Initializer = 'glorot_uniform' | 'zeros' | 'ones';

export interface WeightDecl {
  /** Keras short name: kernel, bias, depthwise_kernel, gamma, beta, moving_mean, moving_variance, ... */
  name: string;
  shape: Shape;
  /** Trainable weights are the parameters (the flat index); the others are state (moving statistics). */
  trainable: boolean;
  init: Initializer;
  /** Axis indexing the layer's output units / channels (removing output unit k slices it); null: none. */
  outputAxis: number | null;
  /** Axis indexing the channels of the layer's (first) input; null: none. */
  inputAxis: number | null;
}

/**
 * How output channels relate to input channels, for channel pruning ([structured]). Channels are the
 * last axis (NHWC) or the units of a rank-1 tensor.
 * - new: the layer makes its own output units (Dense, Conv2D); remove one by slicing outputAxis.
 * - same: output channel c is input channel c, for every input (activations, BN, pooling, Add, padding).
 * - depthwise: output channel c * multiplier + j comes from input channel c.
 * - concat: input i's channel c is output channel offsets[i] + c.
 * - flatten: the input's channel c becomes the outputs p * channels + c for every position p.
 * - opaque: no channel correspondence (Reshape to another layout); pruning stops here.
 */
export type ChannelRule =
  | { kind: 'new' }
  | { kind: 'same' }
  | { kind: 'depthwise'; multiplier: number }
  | { kind: 'concat'; offsets: number[] }
  | { kind: 'flatten'; channels: number; positions: number }
  | { kind: 'opaque' };

/**
 * What forward keeps for the backward. `rows` tensors have the batch first (they are sliced with the
 * batch, e.g. to take one sample's gradient); `shared` tensors do not (batch statistics). The graph
 * owns and disposes every tensor in both. The inputs and the output are NOT part of the cache: the
 * graph keeps them and passes them back in Saved.
 */
export interface LayerCache {
  rows?: Record<string, tf.Tensor>;
  shared?: Record<string, tf.Tensor>;
}

export interface ForwardResult {
  output: tf.Tensor;
  cache: LayerCache;
  /** train mode: new values for the non-trainable weights (aligned with `weights`; undefined = unchanged). */
  updates?: (tf.Tensor | undefined)[];
}

/** One forward's record of a layer, as the backward methods receive it. */
export interface Saved {
  inputs: tf.Tensor[];
  output: tf.Tensor;
  cache: LayerCache;
  mode: Mode;
  /** isGraphInput[i]: inputs[i] is the model's input (data, not an activation): sparse fast paths. */
  isGraphInput: boolean[];
  /**
   * Per-backward memo: a module may store tensors derived from the cache here (e.g. f'(x), W^T)
   * to reuse them across the several blocks of one backward pass. Stored tensors must be tf.keep()-ed
   * (the methods may run inside a tidy); the graph disposes them when the pass ends.
   */
  memo: Map<string, tf.Tensor>;
}

/** Sums over the rows of a backward block of per-row weight gradients and of their squares. */
export interface WeightStatsRequest {
  /** sum_r grad_r (per trainable weight): the gradient, when the rows are per-sample deltas. */
  sum?: boolean;
  /** sum_r sign_r * grad_r^2, elementwise (per trainable weight). */
  squares?: boolean;
  /** [n, c] signs (+1 / -1) of the rows for `squares`; absent = all +1. */
  signs?: tf.Tensor2D;
}

export interface WeightStats {
  sum?: tf.Tensor[];
  squares?: tf.Tensor[];
}

/**
 * Kronecker factors of a weight's curvature block (K-FAC / KFC): block ~ (A / samples) (x) (G / count),
 * with samples = count / positions (Grosse & Martens' KFC normalisation; Dense: positions = 1).
 */
export interface KroneckerFactors {
  /** Which trainable weight (index into the trainable weights) the factors describe. */
  weight: number;
  /**
   * Sum over samples (and positions, for convolutions) of the input's outer products; [a, a], or
   * [groups, a, a] for a block-diagonal weight (depthwise: one block per input channel).
   */
  A: tf.Tensor;
  /** Sum over rows (and positions) of the output gradient's outer products; [g, g] or [groups, g, g]. */
  G: tf.Tensor;
  /** Number of terms summed in A (samples x positions), for normalising. */
  count: number;
  /** Output positions per sample summed into A and G (1 for Dense; H_out * W_out for a convolution). */
  positions?: number;
  /** Block g of A / G covers the kernel entries of group (input channel) g; absent: one block. */
  groups?: number;
  /** Whether the last row/column of A is the bias' constant input 1 (bias folded into the kernel). */
  biasFolded: boolean;
}

/** The variational (mean-field Gaussian) forward of a layer, and its backward. */
export interface VariationalForward {
  output: tf.Tensor;
  cache: LayerCache;
}

export interface VariationalGrads {
  /** dObjective / d input, per input (undefined where not needed). */
  inputs: (tf.Tensor | undefined)[];
  /** dObjective / d mu, per trainable weight (summed over the batch). */
  mean: tf.Tensor[];
  /** dObjective / d sigma^2, per trainable weight (summed over the batch). */
  variance: tf.Tensor[];
}

export interface VariationalOps {
  /**
   * 'lrt': local reparameterisation (output = mean + sqrt(variance) * eps, exact marginals for layers
   * linear in their weights); 'flipout': sign-flip perturbations. Recorded in provenance.
   */
  readonly kind: 'lrt' | 'flipout';
  /**
   * Forward with weights w ~ N(mean, diag variance): `eps` is standard normal noise of the output's
   * shape [n, ...outputShape] (lrt) or of the weights' shapes (flipout, module-defined).
   * `state` are the non-trainable weights (aligned with the non-trainable entries of `weights`).
   */
  forward(
    inputs: tf.Tensor[],
    mean: tf.Tensor[],
    variance: tf.Tensor[],
    state: tf.Tensor[],
    eps: tf.Tensor,
  ): VariationalForward;
  backward(
    g: tf.Tensor,
    inputs: tf.Tensor[],
    mean: tf.Tensor[],
    variance: tf.Tensor[],
    state: tf.Tensor[],
    eps: tf.Tensor,
    s: VariationalForward,
    need: boolean[],
  ): VariationalGrads;
}

/**
 * A layer instance: one node of the graph with its shapes resolved. Weights are passed in to every
 * method (`w`, aligned with `weights`: trainable and non-trainable, in Keras order), so the same
 * instance serves the model, a variational posterior mean, or a perturbed copy.
 *
 * Layers with a fused `activation` (Dense, Conv2D, DepthwiseConv2D) implement the map WITHOUT it:
 * the graph appends an Activation op after them.
 */
export interface Layer {
  readonly name: string;
  readonly className: LayerClass;
  readonly inputShapes: Shape[];
  readonly outputShape: Shape;
  readonly weights: WeightDecl[];
  readonly channels: ChannelRule;

  forward(inputs: tf.Tensor[], w: tf.Tensor[], mode: Mode): ForwardResult;

  /**
   * Vector-Jacobian products to the inputs: g [R, ...outputShape] with R = n * c rows (sample-major)
   * -> [R, ...inputShapes[i]] for every i with need[i] (undefined elsewhere). Linear in g.
   */
  inputGrads(g: tf.Tensor, s: Saved, w: tf.Tensor[], c: number, need: boolean[]): (tf.Tensor | undefined)[];

  /**
   * Row sums of per-row weight gradients (and of their squares, optionally signed), one tensor per
   * TRAINABLE weight in `weights` order, each of that weight's shape. Row r's gradient is the VJP of
   * row r to the weights, with sample n = floor(r / c)'s cache; for a convolution it sums over output
   * positions BEFORE squaring. Required for (and only called on) layers with trainable weights.
   */
  weightStats?(g: tf.Tensor, s: Saved, w: tf.Tensor[], c: number, want: WeightStatsRequest): WeightStats;

  /**
   * Per-row weight gradients materialised: [R, P], P = the layer's trainable parameter count, columns
   * in the flat order (trainable weights in order, each row-major). For small blocks (GGN blocks).
   * Required for layers with trainable weights.
   */
  weightRows?(g: tf.Tensor, s: Saved, w: tf.Tensor[], c: number): tf.Tensor2D;

  /**
   * Given a diagonal term diag(D) of the loss Hessian w.r.t. the output (D [n, ...outputShape]), the
   * weight-diagonal it contributes: sum_n sum_o D_no (d y_no / d w)^2 per trainable weight. Layers
   * whose outputs are each a single product of one input and one weight (Dense, Conv2D, depthwise,
   * BN) compute it as their weight gradient with squared inputs. Absent: the graph expands D into a
   * factor instead (exact, more costly).
   */
  weightDiagFromDiagonal?(D: tf.Tensor, s: Saved, w: tf.Tensor[]): tf.Tensor[];

  /**
   * True when the weight diagonal of the curvature needs only the DIAGONAL of the output's Hessian
   * (each weight touches one output element per sample: Dense). Enables an exact shortcut for the
   * Hessian's residual terms in dense chains.
   */
  readonly diagonalSuffices?: boolean;

  /**
   * The Hessian's extra diagonal term at input 0 where the layer is element-wise non-linear:
   * f''(x) * g with g = dL/dy [n, ...outputShape] (per sample). ABSENT where f'' vanishes (linear
   * maps, relu, max pooling, reshapes): its presence tells the graph the layer is curved (a ReLU
   * network's Hessian is then its GGN, with no residual pass).
   */
  residual?(g: tf.Tensor, s: Saved, w: tf.Tensor[]): tf.Tensor | undefined;

  /**
   * For single-input layers whose Jacobian is diagonal or a permutation (element-wise maps, Flatten,
   * Reshape, Identity): diag(D) at the output as diag(D') at the input, exactly ([n, ...in]).
   */
  diagonalThrough?(D: tf.Tensor, s: Saved, w: tf.Tensor[]): tf.Tensor;

  /**
   * For single-input layers: the exact DIAGONAL of J^T diag(D) J at the input, sum_o J_oi^2 D_o
   * ([n, ...in]); its off-diagonal part is not represented. Used with diagonalSuffices (Dense: D (W^2)^T).
   */
  squaredJacobianT?(D: tf.Tensor, s: Saved, w: tf.Tensor[]): tf.Tensor;

  /**
   * Fast path of the per-sample variance step of gradient-variance ordering (c = 1 rows): IN PLACE
   * in the caller's variables, sums[k] += (1/n) sum_n grad_n^2 - mean[k]^2 per trainable weight.
   * Returns false where no fast path applies (the caller then uses weightStats).
   */
  accumulateVariance?(g: tf.Tensor, s: Saved, w: tf.Tensor[], mean: tf.Tensor[], sums: tf.Variable[]): boolean;

  /** K-FAC factors for each weight matrix (c rows per sample in g). */
  kroneckerFactors?(g: tf.Tensor, s: Saved, w: tf.Tensor[], c: number): KroneckerFactors[];

  /** Mean-field Gaussian forward/backward, for layers with trainable weights. */
  readonly variational?: VariationalOps;
}

/** A layer module: one per Keras class; registry.ts maps class names to modules. */
export interface LayerModule {
  readonly className: LayerClass;
  /**
   * Checks the node's config against its input shapes and builds the instance. Throws a
   * PruneScopeError naming the node, its class and what was expected.
   */
  create(node: NodeSpec, inputShapes: Shape[]): Layer;
}

/** The trainable weights' declarations (the flat index's part of a layer). */
export function trainableDecls(l: Layer): WeightDecl[] {
  return l.weights.filter((d) => d.trainable);
}

/** Number of trainable parameters of a layer. */
export function parameterCount(l: Layer): number {
  return trainableDecls(l).reduce((a, d) => a + d.shape.reduce((p, s) => p * s, 1), 0);
}
