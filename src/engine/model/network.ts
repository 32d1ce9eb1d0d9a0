// A chain of dense layers whose parameters live on the tensor backend, and the one flat parameter
// index that every method shares: layers in order; within a layer the kernel [in, out] row-major
// (as TF.js stores it), then the bias.
import * as tf from '@tensorflow/tfjs';
import { Activation, apply, isActivation } from './activations';
import { Rng } from '../util/random';

export interface DenseLayerSpec {
  name: string;
  units: number;
  activation: Activation;
}

export interface NetworkSpec {
  inputSize: number;
  layers: DenseLayerSpec[];
}

export interface LayerLayout {
  index: number;
  name: string;
  inSize: number;
  outSize: number;
  activation: Activation;
  kernelOffset: number;
  kernelSize: number;
  biasOffset: number;
  biasSize: number;
}

export interface ParamLocation {
  layer: number;
  kind: 'kernel' | 'bias';
  /** Input index for a kernel entry; -1 for a bias. */
  input: number;
  unit: number;
}

export function validateSpec(spec: NetworkSpec, where = 'network'): void {
  if (!Number.isInteger(spec.inputSize) || spec.inputSize <= 0) {
    throw new Error(`${where}: inputSize must be a positive integer, got ${spec.inputSize}`);
  }
  if (spec.layers.length === 0) throw new Error(`${where}: needs at least one dense layer`);
  spec.layers.forEach((l, i) => {
    if (!Number.isInteger(l.units) || l.units <= 0) {
      throw new Error(`${where}: layer ${i} (${l.name}) units must be a positive integer, got ${l.units}`);
    }
    if (!isActivation(l.activation))
      throw new Error(`${where}: layer ${i} (${l.name}) has unknown activation ${String(l.activation)}`);
    if (l.activation === 'softmax' && i !== spec.layers.length - 1) {
      throw new Error(`${where}: softmax is supported only on the last layer, found on layer ${i} (${l.name})`);
    }
  });
}

export function computeLayout(spec: NetworkSpec): LayerLayout[] {
  const out: LayerLayout[] = [];
  let offset = 0;
  let inSize = spec.inputSize;
  spec.layers.forEach((l, index) => {
    const kernelSize = inSize * l.units;
    out.push({
      index,
      name: l.name,
      inSize,
      outSize: l.units,
      activation: l.activation,
      kernelOffset: offset,
      kernelSize,
      biasOffset: offset + kernelSize,
      biasSize: l.units,
    });
    offset += kernelSize + l.units;
    inSize = l.units;
  });
  return out;
}

export function parameterCount(spec: NetworkSpec): number {
  const l = computeLayout(spec);
  const last = l[l.length - 1];
  return last.biasOffset + last.biasSize;
}

export function locate(layout: LayerLayout[], j: number): ParamLocation {
  for (const l of layout) {
    if (j >= l.kernelOffset && j < l.biasOffset) {
      const k = j - l.kernelOffset;
      return { layer: l.index, kind: 'kernel', input: Math.floor(k / l.outSize), unit: k % l.outSize };
    }
    if (j >= l.biasOffset && j < l.biasOffset + l.biasSize) {
      return { layer: l.index, kind: 'bias', input: -1, unit: j - l.biasOffset };
    }
  }
  throw new RangeError(`flat parameter index ${j} is outside the network`);
}

export function flatIndex(layout: LayerLayout[], loc: ParamLocation): number {
  const l = layout[loc.layer];
  if (!l) throw new RangeError(`layer ${loc.layer} does not exist`);
  if (loc.unit < 0 || loc.unit >= l.outSize) throw new RangeError(`unit ${loc.unit} outside layer ${l.name}`);
  if (loc.kind === 'bias') return l.biasOffset + loc.unit;
  if (loc.input < 0 || loc.input >= l.inSize) throw new RangeError(`input ${loc.input} outside layer ${l.name}`);
  return l.kernelOffset + loc.input * l.outSize + loc.unit;
}

/** Boolean mask over the flat index: true where the parameter is a kernel weight (not a bias). */
export function weightMask(layout: LayerLayout[]): Uint8Array {
  const last = layout[layout.length - 1];
  const m = new Uint8Array(last.biasOffset + last.biasSize);
  for (const l of layout) m.fill(1, l.kernelOffset, l.kernelOffset + l.kernelSize);
  return m;
}

export class Network {
  readonly layout: LayerLayout[];
  readonly nParams: number;
  readonly kernels: tf.Variable<tf.Rank.R2>[];
  readonly biases: tf.Variable<tf.Rank.R1>[];

  private constructor(
    readonly spec: NetworkSpec,
    flat: Float32Array,
  ) {
    validateSpec(spec);
    this.layout = computeLayout(spec);
    this.nParams = parameterCount(spec);
    if (flat.length !== this.nParams) {
      throw new Error(`network: expected ${this.nParams} parameters, got ${flat.length}`);
    }
    // tidy() disposes the temporary tensors and keeps the variables.
    this.kernels = tf.tidy(() =>
      this.layout.map((l) =>
        tf.variable(
          tf.tensor2d(flat.subarray(l.kernelOffset, l.kernelOffset + l.kernelSize), [l.inSize, l.outSize]),
          true,
          undefined,
          'float32',
        ),
      ),
    );
    this.biases = tf.tidy(() =>
      this.layout.map((l) =>
        tf.variable(tf.tensor1d(flat.subarray(l.biasOffset, l.biasOffset + l.biasSize)), true, undefined, 'float32'),
      ),
    );
  }

  /** Glorot-uniform kernels and zero biases, from a seeded RNG (same seed, same network). */
  static random(spec: NetworkSpec, seed: number): Network {
    validateSpec(spec);
    const rng = new Rng(seed);
    const flat = new Float32Array(parameterCount(spec));
    for (const l of computeLayout(spec)) {
      const lim = Math.sqrt(6 / (l.inSize + l.outSize));
      for (let i = 0; i < l.kernelSize; i++) flat[l.kernelOffset + i] = rng.uniform(-lim, lim);
    }
    return new Network(spec, flat);
  }

  static fromFlat(spec: NetworkSpec, flat: Float32Array): Network {
    return new Network(spec, flat);
  }

  get task(): 'classification' | 'regression' {
    return this.spec.layers[this.spec.layers.length - 1].activation === 'softmax' ? 'classification' : 'regression';
  }

  get outputSize(): number {
    return this.spec.layers[this.spec.layers.length - 1].units;
  }

  /** All parameters in the flat order (downloads from the backend). */
  toFlat(): Float32Array {
    return flattenParams(this, this.kernels, this.biases);
  }

  setFlat(flat: ArrayLike<number>): void {
    if (flat.length !== this.nParams)
      throw new Error(`network: expected ${this.nParams} parameters, got ${flat.length}`);
    const f = flat instanceof Float32Array ? flat : Float32Array.from(flat);
    tf.tidy(() =>
      this.layout.forEach((l, i) => {
        this.kernels[i].assign(
          tf.tensor2d(f.subarray(l.kernelOffset, l.kernelOffset + l.kernelSize), [l.inSize, l.outSize]),
        );
        this.biases[i].assign(tf.tensor1d(f.subarray(l.biasOffset, l.biasOffset + l.biasSize)));
      }),
    );
  }

  /** Network output: probabilities for a softmax head, raw values otherwise. */
  predict(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let a = x;
      this.layout.forEach((l, i) => {
        a = apply(l.activation, tf.add(tf.matMul(a, this.kernels[i]), this.biases[i]) as tf.Tensor2D);
      });
      return a;
    });
  }

  clone(): Network {
    return new Network(structuredClone(this.spec), this.toFlat());
  }

  dispose(): void {
    for (const v of [...this.kernels, ...this.biases]) v.dispose();
  }
}

/** Per-layer tensors (parameters, gradients, moments) downloaded into the flat parameter order. */
export function flattenParams(net: Network, kernels: tf.Tensor[], biases: tf.Tensor[]): Float32Array {
  const flat = new Float32Array(net.nParams);
  net.layout.forEach((l, i) => {
    flat.set(kernels[i].dataSync() as Float32Array, l.kernelOffset);
    flat.set(biases[i].dataSync() as Float32Array, l.biasOffset);
  });
  return flat;
}
