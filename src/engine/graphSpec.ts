// The engine's description of a model, independent of the file it came from: a directed acyclic
// graph of layers named by their Keras class, with normalised configs and the layer's own weights.
// Every reader (TF.js LayersModel, Keras .keras / .h5, ONNX) produces a GraphSpec; every writer
// consumes one; the engine's layer graph is built from one. Tensors are NHWC, shapes exclude the
// batch dimension, weights keep the Keras layout (Conv2D kernel [kh, kw, in, out]).
//
// The flat parameter index every method shares: nodes in `nodes` order; within a node its
// trainable weights in `weights` order; each weight row-major as stored. Non-trainable weights
// (moving statistics, Normalization's mean and variance) are not in the flat index.

export type Shape = number[];

/** Element-wise activations a layer may apply after its affine map (Keras names). */
export const ACTIVATION_NAMES = [
  'linear',
  'relu',
  'tanh',
  'sigmoid',
  'elu',
  'selu',
  'softplus',
  'softsign',
  'softmax',
] as const;
export type ActivationName = (typeof ACTIVATION_NAMES)[number];

export type Padding = 'same' | 'valid';
export type Pair = [number, number];

/** Normalised layer configs, one per supported Keras class name. */
export interface LayerConfigs {
  Dense: { units: number; activation: ActivationName; useBias: boolean };
  Conv2D: {
    filters: number;
    kernelSize: Pair;
    strides: Pair;
    padding: Padding;
    dilationRate: Pair;
    activation: ActivationName;
    useBias: boolean;
  };
  DepthwiseConv2D: {
    kernelSize: Pair;
    strides: Pair;
    padding: Padding;
    depthMultiplier: number;
    dilationRate: Pair;
    activation: ActivationName;
    useBias: boolean;
  };
  /** Inference uses the moving statistics; `axis` is always the channel (last) axis. */
  BatchNormalization: { epsilon: number; momentum: number; center: boolean; scale: boolean };
  MaxPooling2D: { poolSize: Pair; strides: Pair; padding: Padding };
  AveragePooling2D: { poolSize: Pair; strides: Pair; padding: Padding };
  GlobalAveragePooling2D: { keepdims: boolean };
  GlobalMaxPooling2D: { keepdims: boolean };
  /** [[top, bottom], [left, right]]. */
  ZeroPadding2D: { padding: [Pair, Pair] };
  /** y = x * scale + offset (scale and offset scalars or one value per channel). */
  Rescaling: { scale: number | number[]; offset: number | number[] };
  /**
   * y = (x - mean) / max(sqrt(variance), epsilon), as Keras computes it (epsilon = 1e-7, Keras's
   * backend epsilon); mean and variance are (non-trainable) weights of the node, shaped to
   * broadcast against the input from the right (e.g. [channels], or [] for one scalar pair).
   */
  Normalization: { epsilon: number };
  /** Row-major (NHWC) flattening, as Keras does. */
  Flatten: Record<string, never>;
  Reshape: { targetShape: Shape };
  Activation: { activation: ActivationName };
  ReLU: { maxValue: number | null; negativeSlope: number; threshold: number };
  LeakyReLU: { alpha: number };
  Softmax: { axis: number };
  Add: Record<string, never>;
  /** Concatenation along the channel (last) axis. */
  Concatenate: { axis: number };
  /**
   * The identity at inference, which is how analysis sees them: Dropout, SpatialDropout2D,
   * GaussianNoise, GaussianDropout, RandomFlip, RandomRotation, RandomZoom, RandomTranslation,
   * RandomContrast. `kind` is the original class name; its original config stays in `source`.
   */
  Identity: { kind: string };
}

export type LayerClass = keyof LayerConfigs;

/** One weight array of a node, in the order Keras lists the layer's weights. */
export interface WeightSpec {
  /** Keras short name: kernel, bias, depthwise_kernel, gamma, beta, moving_mean, moving_variance, mean, variance. */
  name: string;
  shape: Shape;
  trainable: boolean;
  values: Float32Array;
}

export interface NodeSpec<C extends LayerClass = LayerClass> {
  /** Unique within the graph (the Keras layer name). */
  name: string;
  className: C;
  config: LayerConfigs[C];
  /** Names of the nodes (or graph inputs) feeding this node, in order. */
  inputs: string[];
  weights: WeightSpec[];
  /**
   * The layer's config as the file wrote it (Keras JSON, ONNX node summary), kept so that a writer
   * of the same format can reproduce what it does not model (e.g. a RandomRotation's factor).
   */
  source?: unknown;
}

export interface GraphInputSpec {
  name: string;
  /** Without the batch dimension, in the engine's layout (NHWC for images). */
  shape: Shape;
}

export interface GraphSpec {
  inputs: GraphInputSpec[];
  /** Topologically ordered: every node's inputs come before it. */
  nodes: NodeSpec[];
  /** Names of the nodes whose outputs are the model's outputs. */
  outputs: string[];
  /**
   * How the model's own framework lays out its input: 'NCHW' for an ONNX model from PyTorch.
   * Data rows for such a model are read in C, H, W order and transposed to the engine's NHWC.
   */
  inputLayout: 'NHWC' | 'NCHW';
}
