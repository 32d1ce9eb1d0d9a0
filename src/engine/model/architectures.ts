// Built-in convolutional architectures as GraphSpec builders (mlp: model/mlpSpec.ts):
// lenet5 (LeCun et al. 1998 with max pooling: Conv 6 5x5 same, pool, Conv 16 5x5 valid, pool, Dense
// 120, 84, classes) and resnet8 (a stem convolution, three residual stages of one block each with
// batch normalisation and Add skips, 16/32/64 channels, global average pooling, a Dense head; sized
// for 28x28 inputs). The specs carry declared (zero) weights: Graph.random draws the initial values.
import { badInput } from '../errors';
import type { ActivationName, GraphSpec, NodeSpec, Shape, LayerClass, LayerConfigs } from '../graphSpec';
import { withDeclaredWeights } from './graphPlan';

export type Head = 'classification' | 'regression';

function node<C extends LayerClass>(name: string, className: C, config: LayerConfigs[C], inputs: string[]): NodeSpec {
  return { name, className, config, inputs, weights: [] };
}

function spec(inputShape: Shape, nodes: NodeSpec[]): GraphSpec {
  return withDeclaredWeights({
    inputs: [{ name: 'input', shape: inputShape }],
    nodes,
    outputs: [nodes[nodes.length - 1].name],
    inputLayout: 'NHWC',
  });
}

const headActivation = (task: Head): ActivationName => (task === 'classification' ? 'softmax' : 'linear');

function conv(
  name: string,
  input: string,
  filters: number,
  k: number,
  stride: number,
  padding: 'same' | 'valid',
  activation: ActivationName,
  useBias = true,
): NodeSpec {
  return node(
    name,
    'Conv2D',
    {
      filters,
      kernelSize: [k, k],
      strides: [stride, stride],
      padding,
      dilationRate: [1, 1],
      activation,
      useBias,
    },
    [input],
  );
}

function checkImage(inputShape: Shape, arch: string, min: number): void {
  if (inputShape.length !== 3 || inputShape[0] < min || inputShape[1] < min)
    throw badInput(`input shape [${inputShape.join(', ')}]`, {
      field: 'arch',
      expected: `${arch} needs images [H, W, C] of at least ${min}x${min} (e.g. mnist, 28x28x1)`,
    });
}

/** LeNet-5 on [H, W, C] images (H, W >= 12). */
export function lenet5Spec(inputShape: Shape, outputs: number, activation: 'tanh' | 'relu', task: Head): GraphSpec {
  checkImage(inputShape, 'lenet5', 12);
  const pool = (name: string, input: string) =>
    node(name, 'MaxPooling2D', { poolSize: [2, 2], strides: [2, 2], padding: 'valid' }, [input]);
  return spec(inputShape, [
    conv('conv1', 'input', 6, 5, 1, 'same', activation),
    pool('pool1', 'conv1'),
    conv('conv2', 'pool1', 16, 5, 1, 'valid', activation),
    pool('pool2', 'conv2'),
    node('flatten', 'Flatten', {}, ['pool2']),
    node('fc1', 'Dense', { units: 120, activation, useBias: true }, ['flatten']),
    node('fc2', 'Dense', { units: 84, activation, useBias: true }, ['fc1']),
    node('output', 'Dense', { units: outputs, activation: headActivation(task), useBias: true }, ['fc2']),
  ]);
}

/** resnet8 on [H, W, C] images (H, W >= 8; sized for 28x28). */
export function resnet8Spec(inputShape: Shape, outputs: number, task: Head): GraphSpec {
  checkImage(inputShape, 'resnet8', 8);
  const bn = (name: string, input: string) =>
    node(name, 'BatchNormalization', { epsilon: 1e-3, momentum: 0.99, center: true, scale: true }, [input]);
  const relu = (name: string, input: string) => node(name, 'Activation', { activation: 'relu' }, [input]);
  const nodes: NodeSpec[] = [
    conv('stem', 'input', 16, 3, 1, 'same', 'linear', false),
    bn('stem_bn', 'stem'),
    relu('stem_relu', 'stem_bn'),
  ];
  let x = 'stem_relu';
  let width = 16;
  [16, 32, 64].forEach((filters, i) => {
    const s = `stage${i + 1}`;
    const stride = filters === width ? 1 : 2;
    nodes.push(
      conv(`${s}_conv1`, x, filters, 3, stride, 'same', 'linear', false),
      bn(`${s}_bn1`, `${s}_conv1`),
      relu(`${s}_relu1`, `${s}_bn1`),
      conv(`${s}_conv2`, `${s}_relu1`, filters, 3, 1, 'same', 'linear', false),
      bn(`${s}_bn2`, `${s}_conv2`),
    );
    let skip = x;
    if (stride !== 1 || filters !== width) {
      nodes.push(conv(`${s}_proj`, x, filters, 1, stride, 'same', 'linear', false), bn(`${s}_proj_bn`, `${s}_proj`));
      skip = `${s}_proj_bn`;
    }
    nodes.push(node(`${s}_add`, 'Add', {}, [`${s}_bn2`, skip]), relu(`${s}_out`, `${s}_add`));
    x = `${s}_out`;
    width = filters;
  });
  nodes.push(
    node('pool', 'GlobalAveragePooling2D', { keepdims: false }, [x]),
    node('output', 'Dense', { units: outputs, activation: headActivation(task), useBias: true }, ['pool']),
  );
  return spec(inputShape, nodes);
}
