// Tiny GraphSpecs with seeded random weights for the channel-pruning tests, built node by node.
import type {
  ActivationName,
  GraphSpec,
  LayerClass,
  LayerConfigs,
  NodeSpec,
  Padding,
  Shape,
} from '../../src/engine/graphSpec';
import { Rng } from '../../src/engine/util/random';
import { flatLayout } from '../../src/engine/model/graphFlat';
import type { Batch64 } from '../reference/forward64';

export class GraphBuilder {
  readonly spec: GraphSpec;
  private readonly rng: Rng;
  constructor(seed: number, inputShape: Shape, inputName = 'input') {
    this.rng = new Rng(seed);
    this.spec = { inputs: [{ name: inputName, shape: inputShape }], nodes: [], outputs: [], inputLayout: 'NHWC' };
  }

  private rand(shape: Shape, lo = -0.6, hi = 0.6): Float32Array {
    return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => this.rng.uniform(lo, hi));
  }

  private add<C extends LayerClass>(
    name: string,
    className: C,
    config: LayerConfigs[C],
    inputs: string[],
    weights: NodeSpec['weights'] = [],
  ): string {
    this.spec.nodes.push({ name, className, config, inputs, weights } as NodeSpec);
    return name;
  }

  conv(
    name: string,
    input: string,
    inC: number,
    filters: number,
    k: number,
    o: { padding?: Padding; strides?: number; activation?: ActivationName; useBias?: boolean } = {},
  ): string {
    const useBias = o.useBias ?? true;
    return this.add(
      name,
      'Conv2D',
      {
        filters,
        kernelSize: [k, k],
        strides: [o.strides ?? 1, o.strides ?? 1],
        padding: o.padding ?? 'same',
        dilationRate: [1, 1],
        activation: o.activation ?? 'linear',
        useBias,
      },
      [input],
      [
        { name: 'kernel', shape: [k, k, inC, filters], trainable: true, values: this.rand([k, k, inC, filters]) },
        ...(useBias ? [{ name: 'bias', shape: [filters], trainable: true, values: this.rand([filters]) }] : []),
      ],
    );
  }

  depthwise(
    name: string,
    input: string,
    C: number,
    mult: number,
    k: number,
    o: { padding?: Padding; activation?: ActivationName } = {},
  ): string {
    return this.add(
      name,
      'DepthwiseConv2D',
      {
        kernelSize: [k, k],
        strides: [1, 1],
        padding: o.padding ?? 'same',
        depthMultiplier: mult,
        dilationRate: [1, 1],
        activation: o.activation ?? 'linear',
        useBias: true,
      },
      [input],
      [
        { name: 'depthwise_kernel', shape: [k, k, C, mult], trainable: true, values: this.rand([k, k, C, mult]) },
        { name: 'bias', shape: [C * mult], trainable: true, values: this.rand([C * mult]) },
      ],
    );
  }

  bn(name: string, input: string, C: number): string {
    return this.add(
      name,
      'BatchNormalization',
      { epsilon: 1e-3, momentum: 0.99, center: true, scale: true },
      [input],
      [
        { name: 'gamma', shape: [C], trainable: true, values: this.rand([C], 0.5, 1.5) },
        { name: 'beta', shape: [C], trainable: true, values: this.rand([C]) },
        { name: 'moving_mean', shape: [C], trainable: false, values: this.rand([C]) },
        { name: 'moving_variance', shape: [C], trainable: false, values: this.rand([C], 0.3, 2) },
      ],
    );
  }

  dense(
    name: string,
    input: string,
    inSize: number,
    units: number,
    activation: ActivationName = 'linear',
    useBias = true,
  ): string {
    return this.add(
      name,
      'Dense',
      { units, activation, useBias },
      [input],
      [
        { name: 'kernel', shape: [inSize, units], trainable: true, values: this.rand([inSize, units]) },
        ...(useBias ? [{ name: 'bias', shape: [units], trainable: true, values: this.rand([units]) }] : []),
      ],
    );
  }

  act(name: string, input: string, activation: ActivationName): string {
    return this.add(name, 'Activation', { activation }, [input]);
  }

  relu(name: string, input: string): string {
    return this.add(name, 'ReLU', { maxValue: null, negativeSlope: 0, threshold: 0 }, [input]);
  }

  maxPool(name: string, input: string, size = 2, padding: Padding = 'valid'): string {
    return this.add(name, 'MaxPooling2D', { poolSize: [size, size], strides: [size, size], padding }, [input]);
  }

  avgPool(name: string, input: string, size = 2, padding: Padding = 'valid'): string {
    return this.add(name, 'AveragePooling2D', { poolSize: [size, size], strides: [size, size], padding }, [input]);
  }

  gap(name: string, input: string): string {
    return this.add(name, 'GlobalAveragePooling2D', { keepdims: false }, [input]);
  }

  flatten(name: string, input: string): string {
    return this.add(name, 'Flatten', {}, [input]);
  }

  sum(name: string, inputs: string[]): string {
    return this.add(name, 'Add', {}, inputs);
  }

  concat(name: string, inputs: string[]): string {
    return this.add(name, 'Concatenate', { axis: -1 }, inputs);
  }

  zeroPad(name: string, input: string, p: number): string {
    return this.add(
      name,
      'ZeroPadding2D',
      {
        padding: [
          [p, p],
          [p, p],
        ],
      },
      [input],
    );
  }

  output(name: string): GraphSpec {
    this.spec.outputs = [name];
    return this.spec;
  }
}

export function randomBatch(seed: number, n: number, shape: Shape): Batch64 {
  const rng = new Rng(seed);
  const data = new Float64Array(n * shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-1, 1);
  return { n, shape, data };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** LeNet-5 as issue #12 defines it: Conv 6 5x5 same, pool, Conv 16 5x5 valid, pool, Dense 120, 84, classes. */
export function lenet5(seed: number, classes = 10, activation: ActivationName = 'relu'): GraphSpec {
  const b = new GraphBuilder(seed, [28, 28, 1]);
  b.conv('conv1', 'input', 1, 6, 5, { padding: 'same', activation });
  b.maxPool('pool1', 'conv1');
  b.conv('conv2', 'pool1', 6, 16, 5, { padding: 'valid', activation });
  b.maxPool('pool2', 'conv2');
  b.flatten('flatten', 'pool2');
  b.dense('fc1', 'flatten', 400, 120, activation);
  b.dense('fc2', 'fc1', 120, 84, activation);
  b.dense('out', 'fc2', 84, classes, 'softmax');
  return b.output('out');
}

/**
 * A small conv network with BatchNormalization for the 8x8x1 digits: conv 8 (no bias) -> BN -> relu
 * -> max pool -> conv 12 valid relu -> flatten -> dense 10 softmax.
 */
export function digitsBnConv(seed = 3): GraphSpec {
  const b = new GraphBuilder(seed, [8, 8, 1]);
  b.conv('c1', 'input', 1, 8, 3, { useBias: false });
  b.bn('bn1', 'c1', 8);
  b.relu('r1', 'bn1');
  b.maxPool('p1', 'r1');
  b.conv('c2', 'p1', 8, 12, 3, { padding: 'valid', activation: 'relu' });
  b.flatten('f', 'c2');
  b.dense('out', 'f', 48, 10, 'softmax');
  return b.output('out');
}

/** Flat indices of `node`'s `weight` whose coordinates satisfy `pick` (row-major decoding). */
export function entries(spec: GraphSpec, node: string, weight: string, pick: (c: number[]) => boolean): number[] {
  const L = flatLayout(spec);
  const w = L.weights.find((x) => x.node === node && x.weight === weight)!;
  const out: number[] = [];
  for (let i = 0; i < w.size; i++) {
    const c: number[] = [];
    let r = i;
    for (let a = w.shape.length - 1; a >= 0; a--) {
      c.unshift(r % w.shape[a]);
      r = Math.floor(r / w.shape[a]);
    }
    if (pick(c)) out.push(w.offset + i);
  }
  return out;
}
