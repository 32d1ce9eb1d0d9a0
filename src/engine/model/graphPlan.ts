// From a GraphSpec to the engine's plan of it, without any tensor: every node's layer module
// instance (shapes resolved and checked), the op list the graph runs (a node with a fused
// non-linear activation becomes two ops, its map and an Activation op; a softmax head becomes no
// op: the loss takes the logits), and the flat parameter index every method shares (nodes in order,
// trainable weights in order, each row-major).
import { PruneScopeError } from '../errors';
import type { ActivationName, GraphSpec, NodeSpec, Shape } from '../graphSpec';
import type { Layer } from '../layers/layer';
import { layerModule, supportedLayers } from '../layers/registry';
import { ElementwiseLayer, activationFor } from '../layers/activation';
import { sameShape, sizeOf } from '../layers/util';

/** One trainable weight in the flat index. */
export interface WeightInfo {
  /** `<layer>/<weight>`, e.g. `conv1/kernel` (the TF.js manifest name). */
  name: string;
  /** The node (layer) name. */
  layer: string;
  /** Keras short name: kernel, bias, depthwise_kernel, gamma, beta. */
  weight: string;
  offset: number;
  shape: Shape;
  size: number;
  /** Index of the node in spec.nodes and of the weight in node.weights. */
  node: number;
  index: number;
  /**
   * A multiplicative weight (kernel, depthwise_kernel): pruned and L2-penalised by default; biases, gamma, beta
   * are not.
   */
  isKernel: boolean;
}

export interface PlannedOp {
  index: number;
  /** The node this op computes (for an appended activation op, the node whose activation it is). */
  node: NodeSpec;
  nodeIndex: number;
  role: 'layer' | 'activation';
  layer: Layer;
  /** Tensor ids of the inputs; tensor 0 is the model input, op i's output is tensor i + 1. */
  inputs: number[];
  output: number;
  /** Flat offset and count of the op's trainable parameters (0 for parameterless ops). */
  paramOffset: number;
  paramCount: number;
  /** Index in GraphPlan.weights of the op's first trainable weight, and the trainable entries of layer.weights. */
  weightIndex: number;
  trainable: number[];
}

export type Head = 'softmax' | 'linear';

export interface GraphPlan {
  spec: GraphSpec;
  inputShape: Shape;
  ops: PlannedOp[];
  /** Output shape of every node, by name (after its fused activation). */
  shapes: Map<string, Shape>;
  /** The tensor the loss reads: logits under a softmax head, else the model output. */
  top: number;
  head: Head;
  outputShape: Shape;
  weights: WeightInfo[];
  nParams: number;
}

function refuse(message: string, field: string, expected: string): PruneScopeError {
  return new PruneScopeError('unsupported', message, { field, expected });
}

/** The activation a node applies after its map, or undefined. */
function fusedActivation(node: NodeSpec): ActivationName | undefined {
  const a = (node.config as { activation?: ActivationName }).activation;
  return node.className === 'Activation' ? undefined : a;
}

/** Checks the spec and resolves every node; see the file comment. Throws PruneScopeError naming the layer. */
export function planGraph(spec: GraphSpec, opts: { declareWeights?: boolean } = {}): GraphPlan {
  if (spec.inputs.length !== 1)
    throw refuse(`the model has ${spec.inputs.length} inputs`, 'inputs', 'a model with one input');
  if (spec.outputs.length !== 1)
    throw refuse(`the model has ${spec.outputs.length} outputs`, 'outputs', 'a model with one output');
  if (spec.nodes.length === 0) throw refuse('the model has no layers', 'nodes', 'at least one layer');
  const input = spec.inputs[0];
  if (input.shape.length === 0 || input.shape.some((d) => !Number.isInteger(d) || d <= 0))
    throw new PruneScopeError('bad-input', `input ${input.name} has shape [${input.shape.join(', ')}]`, {
      field: 'inputs',
      expected: 'positive sizes (without the batch dimension)',
    });
  const outputName = spec.outputs[0];
  // The head: a final Softmax layer / Activation('softmax') / fused softmax is left to the loss.
  const lastIndex = spec.nodes.findIndex((n) => n.name === outputName);
  if (lastIndex < 0) throw refuse(`output ${outputName} is not a layer of the model`, 'outputs', 'a layer name');
  const last = spec.nodes[lastIndex];
  const softmaxNode =
    last.className === 'Softmax' ||
    (last.className === 'Activation' && (last.config as { activation: string }).activation === 'softmax');
  const head: Head = softmaxNode || fusedActivation(last) === 'softmax' ? 'softmax' : 'linear';

  const tensorOf = new Map<string, number>([[input.name, 0]]);
  const shapes = new Map<string, Shape>([[input.name, input.shape.slice()]]);
  const users = new Map<string, number>();
  const ops: PlannedOp[] = [];
  const weights: WeightInfo[] = [];
  let offset = 0;
  let top = -1;
  spec.nodes.forEach((specNode, nodeIndex) => {
    let node = specNode;
    const where = `layer ${node.name} (${node.className})`;
    if (tensorOf.has(node.name))
      throw refuse(
        `${where}: the name ${node.name} is used more than once`,
        `layers.${node.name}`,
        'each layer called once (shared layers, i.e. one layer applied to several inputs, are not supported)',
      );
    const module = layerModule(node.className);
    if (!module)
      throw refuse(
        `${where}: class ${node.className} is not supported`,
        `layers.${node.name}`,
        supportedLayers().join(', '),
      );
    if (node.inputs.length === 0)
      throw refuse(`${where} has no inputs`, `layers.${node.name}.inputs`, 'the names of earlier layers or the input');
    const ins = node.inputs.map((name) => {
      const t = tensorOf.get(name);
      if (t === undefined)
        throw refuse(
          `${where} reads ${name}, which is not the input or an earlier layer`,
          `layers.${node.name}.inputs`,
          'layers listed in topological order',
        );
      users.set(name, (users.get(name) ?? 0) + 1);
      return t;
    });
    const inShapes = node.inputs.map((name) => shapes.get(name)!);
    const isHead = nodeIndex === lastIndex && head === 'softmax';
    if (isHead && softmaxNode) {
      // The Softmax node computes nothing the loss does not: its input is the logits.
      if (node.inputs.length !== 1 || inShapes[0].length !== 1)
        throw refuse(
          `${where}: the softmax head reads [${inShapes[0].join(', ')}]`,
          `layers.${node.name}`,
          'a softmax over a rank-1 output',
        );
      top = ins[0];
      shapes.set(node.name, inShapes[0].slice());
      return;
    }
    if (node.className === 'Softmax')
      throw refuse(
        `${where}: softmax inside the network`,
        `layers.${node.name}`,
        'softmax only as the last layer (the classification head)',
      );
    const layer = module.create(node, inShapes);
    if (opts.declareWeights)
      node = spec.nodes[nodeIndex] = {
        ...node,
        weights: layer.weights.map((d) => ({
          name: d.name,
          shape: d.shape.slice(),
          trainable: d.trainable,
          values: new Float32Array(sizeOf(d.shape)).fill(d.init === 'ones' ? 1 : 0),
        })),
      };
    // Weights: every declared weight present by name with the declared shape.
    for (const d of layer.weights) {
      const w = node.weights.find((x) => x.name === d.name);
      if (!w)
        throw new PruneScopeError('bad-input', `${where} has no weight ${d.name}`, {
          field: `layers.${node.name}.weights`,
          expected: `${layer.weights.map((x) => `${x.name} [${x.shape.join(', ')}]`).join(', ')}`,
        });
      if (!sameShape(w.shape, d.shape) || w.values.length !== sizeOf(d.shape))
        throw new PruneScopeError('bad-input', `${where}: weight ${d.name} has shape [${w.shape.join(', ')}]`, {
          field: `layers.${node.name}.weights.${d.name}`,
          expected: `[${d.shape.join(', ')}]`,
        });
    }
    const extra = node.weights.filter((w) => !layer.weights.some((d) => d.name === w.name));
    if (extra.length)
      throw new PruneScopeError(
        'bad-input',
        `${where} has unexpected weight(s) ${extra.map((w) => w.name).join(', ')}`,
        {
          field: `layers.${node.name}.weights`,
          expected: layer.weights.map((x) => x.name).join(', ') || 'no weights',
        },
      );
    const start = offset;
    const weightIndex = weights.length;
    layer.weights.forEach((d) => {
      if (!d.trainable) return;
      const size = sizeOf(d.shape);
      weights.push({
        name: `${node.name}/${d.name}`,
        layer: node.name,
        weight: d.name,
        offset,
        shape: d.shape.slice(),
        size,
        node: nodeIndex,
        index: node.weights.findIndex((w) => w.name === d.name),
        isKernel: /kernel$/.test(d.name),
      });
      offset += size;
    });
    const op: PlannedOp = {
      index: ops.length,
      node,
      nodeIndex,
      role: 'layer',
      layer,
      inputs: ins,
      output: ops.length + 1,
      paramOffset: start,
      paramCount: offset - start,
      weightIndex,
      trainable: layer.weights.flatMap((d, i) => (d.trainable ? [i] : [])),
    };
    ops.push(op);
    let out = op.output;
    const act = fusedActivation(node);
    if (isHead) top = out;
    else if (act !== undefined && act !== 'linear') {
      const fn = activationFor(node, act);
      const a = new ElementwiseLayer(`${node.name}/activation`, 'Activation', [layer.outputShape], fn);
      ops.push({
        index: ops.length,
        node,
        nodeIndex,
        role: 'activation',
        layer: a,
        inputs: [out],
        output: ops.length + 1,
        paramOffset: offset,
        paramCount: 0,
        weightIndex: weights.length,
        trainable: [],
      });
      out = ops.length;
    }
    tensorOf.set(node.name, out);
    shapes.set(node.name, layer.outputShape.slice());
  });
  if (head === 'linear') top = tensorOf.get(outputName)!;
  // A softmax head must be the last op's consumer: nothing else may read the probabilities.
  if (head === 'softmax' && (users.get(outputName) ?? 0) > 0)
    throw refuse(
      `the softmax output ${outputName} feeds other layers`,
      `layers.${outputName}`,
      'softmax only as the last layer',
    );
  const outputShape = shapes.get(outputName)!;
  if (outputShape.length !== 1)
    throw refuse(
      `the model's output has shape [${outputShape.join(', ')}]`,
      'outputs',
      'a rank-1 output per sample (classes or regression targets)',
    );
  // Every op must feed the output: a dangling branch has no loss gradient and no meaning here.
  const live = new Set<number>([top]);
  for (let i = ops.length - 1; i >= 0; i--) if (live.has(ops[i].output)) for (const t of ops[i].inputs) live.add(t);
  const dead = ops.find((o) => !live.has(o.output));
  if (dead)
    throw refuse(
      `layer ${dead.node.name} (${dead.node.className}) does not reach the output`,
      `layers.${dead.node.name}`,
      'every layer on a path to the output',
    );
  return { spec, inputShape: input.shape.slice(), ops, shapes, top, head, outputShape, weights, nParams: offset };
}

/**
 * The spec with every node's weights as its layer module declares them (zeros; ones where Keras
 * initialises to one), for built-in architectures: Graph.random then draws the initial values.
 */
export function withDeclaredWeights(spec: GraphSpec): GraphSpec {
  const copy: GraphSpec = { ...spec, nodes: spec.nodes.slice() };
  planGraph(copy, { declareWeights: true });
  return copy;
}

/** Every node's output shape (after its fused activation), by name, in topological order. */
export function graphShapes(spec: GraphSpec): Map<string, Shape> {
  return planGraph(spec).shapes;
}

/** The flat parameter index of a spec: offset, shape and names of each trainable weight. */
export function flatLayout(spec: GraphSpec): { weights: WeightInfo[]; nParams: number } {
  const p = planGraph(spec);
  return { weights: p.weights, nParams: p.nParams };
}
