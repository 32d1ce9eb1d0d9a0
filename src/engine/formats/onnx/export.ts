// A GraphSpec (NHWC, Keras layouts) as an ONNX model (NCHW, opset 13), the way PyTorch users
// expect it: image tensors channels-first, weights transposed to ONNX's layouts, TensorFlow's
// 'same' padding written as explicit (possibly asymmetric) pads. A Flatten feeding only Dense
// layers is a plain ONNX Flatten (channel-major) with the Dense kernel rows permuted to match;
// elsewhere the image is transposed to channels-last before flattening, so values agree exactly.
import { PruneScopeError } from '../../errors';
import type { ActivationName, GraphSpec, LayerConfigs, NodeSpec, Shape } from '../../graphSpec';
import type { PruneScopeMetadata } from '../../model/metadata';
import { VERSION } from '../../util/version';
import { inferShapes, nodeField } from '../../model/graphShapes';
import { AttrType, AttributeMsg, ModelMsg, NodeMsg, TensorMsg, ValueInfoMsg } from './schema';
import { floatTensor, int64Tensor } from './tensors';

export const WRITTEN_OPSET = 13;

/** An ONNX value: 'image' is an NCHW tensor (engine rank 3); 'raw' holds the engine's order. */
interface Out {
  name: string;
  kind: 'image' | 'raw';
  /** Flat values from a channel-major Flatten: ONNX feature j is engine feature order[j]. */
  order?: Int32Array;
}

const ACT_OP: Record<Exclude<ActivationName, 'linear' | 'softmax'>, string> = {
  relu: 'Relu',
  tanh: 'Tanh',
  sigmoid: 'Sigmoid',
  elu: 'Elu',
  selu: 'Selu',
  softplus: 'Softplus',
  softsign: 'Softsign',
};

const attrInt = (name: string, i: number): AttributeMsg => ({ name, type: AttrType.INT, i });
const attrInts = (name: string, ints: number[]): AttributeMsg => ({ name, type: AttrType.INTS, ints });
const attrFloat = (name: string, f: number): AttributeMsg => ({ name, type: AttrType.FLOAT, f });

/** TensorFlow's 'same' pads for one axis: [before, after], the extra pixel after. */
function sameAxis(len: number, k: number, s: number): [number, number] {
  const total = Math.max((Math.ceil(len / s) - 1) * s + k - len, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

export function exportOnnx(
  spec: GraphSpec,
  metadata: PruneScopeMetadata | undefined,
  file: string,
): { model: ModelMsg; warnings: string[] } {
  return new Exporter(spec, file).run(metadata);
}

class Exporter {
  private readonly nodes: NodeMsg[] = [];
  private readonly inits: TensorMsg[] = [];
  private readonly vals = new Map<string, Out>();
  private readonly shapes: Map<string, Shape>;
  private readonly consumers = new Map<string, NodeSpec[]>();
  private readonly warnings: string[] = [];
  private readonly used = new Set<string>();

  constructor(
    private readonly spec: GraphSpec,
    private readonly file: string,
  ) {
    this.shapes = inferShapes(spec, file);
    for (const n of spec.nodes)
      for (const i of n.inputs) {
        const list = this.consumers.get(i);
        if (list) list.push(n);
        else this.consumers.set(i, [n]);
      }
  }

  private refuse(n: NodeSpec, msg: string, expected: string): PruneScopeError {
    return new PruneScopeError('unsupported', msg, { file: this.file, field: nodeField(n), expected });
  }

  private fresh(base: string): string {
    let name = base;
    for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  /** Appends an op; returns its output value name. */
  private op(type: string, inputs: string[], attrs: AttributeMsg[], name: string): string {
    const out = this.fresh(name);
    this.nodes.push({ opType: type, name: out, input: inputs, output: [out], attribute: attrs });
    return out;
  }

  private init(base: string, dims: number[], values: ArrayLike<number>): string {
    const name = this.fresh(base);
    this.inits.push(floatTensor(name, dims, values));
    return name;
  }

  private initInt(base: string, dims: number[], values: number[]): string {
    const name = this.fresh(base);
    this.inits.push(int64Tensor(name, dims, values));
    return name;
  }

  run(metadata: PruneScopeMetadata | undefined): { model: ModelMsg; warnings: string[] } {
    const inp = this.spec.inputs[0];
    if (this.spec.inputs.length !== 1 || (inp.shape.length !== 1 && inp.shape.length !== 3))
      throw new PruneScopeError('unsupported', `has input shape [${inp.shape.join(', ')}]`, {
        file: this.file,
        field: `input ${inp.name}`,
        expected: 'one input of [features] or [height, width, channels]',
      });
    this.used.add(inp.name);
    this.vals.set(inp.name, { name: inp.name, kind: inp.shape.length === 3 ? 'image' : 'raw' });
    const onnxDims = (s: Shape, kind: Out['kind']) => (kind === 'image' ? [s[2], s[0], s[1]] : s);
    const inputInfo = this.valueInfo(inp.name, onnxDims(inp.shape, this.vals.get(inp.name)!.kind));
    for (const n of this.spec.nodes) this.vals.set(n.name, this.node(n));
    const outName = this.spec.outputs[0];
    const out = this.vals.get(outName)!;
    const outShape = this.shapes.get(outName)!;
    if (out.kind === 'image' || out.order || out.name === inp.name)
      throw new PruneScopeError('unsupported', 'is an image, or the input itself', {
        file: this.file,
        field: `output ${outName}`,
        expected: 'a flat output computed by the network',
      });
    const props = [
      { key: 'prunescope_input_layout', value: inp.shape.length === 3 ? 'NCHW' : 'features' },
      ...(metadata ? [{ key: 'prunescope', value: JSON.stringify(metadata) }] : []),
    ];
    const model: ModelMsg = {
      irVersion: 7,
      opsetImport: [{ domain: '', version: WRITTEN_OPSET }],
      producerName: 'PruneScope',
      producerVersion: VERSION,
      graph: {
        name: 'prunescope',
        node: this.nodes,
        initializer: this.inits,
        input: [inputInfo],
        output: [this.valueInfo(out.name, outShape)],
      },
      metadataProps: props,
    };
    return { model, warnings: this.warnings };
  }

  private valueInfo(name: string, dims: number[]): ValueInfoMsg {
    return {
      name,
      type: {
        tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch' }, ...dims.map((d) => ({ dimValue: d }))] } },
      },
    };
  }

  /** The value as a channels-last tensor in the engine's order. */
  private raw(x: Out, base: string): string {
    return x.kind === 'image'
      ? this.op('Transpose', [x.name], [attrInts('perm', [0, 2, 3, 1])], `${base}_nhwc`)
      : x.name;
  }

  /** The activation after a layer's main op (named after the layer, so a reader fuses them back). */
  private activate(x: string, act: ActivationName, kind: Out['kind'], name: string): string {
    if (act === 'linear') return x;
    if (act === 'softmax') return this.op('Softmax', [x], [attrInt('axis', kind === 'image' ? 1 : -1)], name);
    return this.op(ACT_OP[act], [x], [], name);
  }

  private node(n: NodeSpec): Out {
    const x = this.vals.get(n.inputs[0])!;
    const inShape = this.shapes.get(n.inputs[0])!;
    const outShape = this.shapes.get(n.name)!;
    const w = (name: string) => n.weights.find((q) => q.name === name);
    const same = { kind: x.kind } as const;
    switch (n.className) {
      case 'Dense': {
        const c = n.config as LayerConfigs['Dense'];
        if (x.kind === 'image')
          throw this.refuse(n, 'applies a Dense layer to an image', 'a Flatten before the Dense layer (ONNX)');
        const kernel = w('kernel')!.values;
        const inF = inShape[inShape.length - 1];
        const bias = c.useBias ? w('bias')!.values : undefined;
        let y: string;
        if (inShape.length === 1) {
          // Gemm with transB: B[o][j] = kernel[engine row of ONNX feature j][o].
          const B = new Float32Array(c.units * inF);
          for (let j = 0; j < inF; j++) {
            const e = x.order ? x.order[j] : j;
            for (let o = 0; o < c.units; o++) B[o * inF + j] = kernel[e * c.units + o];
          }
          const ins = [x.name, this.init(`${n.name}.weight`, [c.units, inF], B)];
          if (bias) ins.push(this.init(`${n.name}.bias`, [c.units], bias));
          y = this.op('Gemm', ins, [attrFloat('alpha', 1), attrFloat('beta', 1), attrInt('transB', 1)], n.name);
        } else {
          const m = this.op('MatMul', [x.name, this.init(`${n.name}.kernel`, [inF, c.units], kernel)], [], n.name);
          y = bias ? this.op('Add', [m, this.init(`${n.name}.bias`, [c.units], bias)], [], `${n.name}_bias`) : m;
        }
        return { name: this.activate(y, c.activation, 'raw', `${n.name}_${c.activation}`), kind: 'raw' };
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const depthwise = n.className === 'DepthwiseConv2D';
        const c = n.config as LayerConfigs['Conv2D'] & LayerConfigs['DepthwiseConv2D'];
        const [kh, kw] = c.kernelSize;
        const cin = inShape[2];
        const out = outShape[2];
        const k = w(depthwise ? 'depthwise_kernel' : 'kernel')!.values;
        const W = new Float32Array(out * (depthwise ? 1 : cin) * kh * kw);
        if (depthwise) {
          const m = c.depthMultiplier;
          for (let ch = 0; ch < cin; ch++)
            for (let j = 0; j < m; j++)
              for (let y = 0; y < kh; y++)
                for (let xx = 0; xx < kw; xx++)
                  W[(ch * m + j) * kh * kw + y * kw + xx] = k[((y * kw + xx) * cin + ch) * m + j];
        } else {
          for (let o = 0; o < out; o++)
            for (let ch = 0; ch < cin; ch++)
              for (let y = 0; y < kh; y++)
                for (let xx = 0; xx < kw; xx++)
                  W[((o * cin + ch) * kh + y) * kw + xx] = k[((y * kw + xx) * cin + ch) * out + o];
        }
        const ins = [x.name, this.init(`${n.name}.weight`, [out, depthwise ? 1 : cin, kh, kw], W)];
        if (c.useBias) ins.push(this.init(`${n.name}.bias`, [out], w('bias')!.values));
        const y = this.op(
          'Conv',
          ins,
          [
            attrInts('dilations', [1, 1]),
            attrInt('group', depthwise ? cin : 1),
            attrInts('kernel_shape', [kh, kw]),
            attrInts('pads', this.pads(inShape, c.kernelSize, c.strides, c.padding)),
            attrInts('strides', c.strides),
          ],
          n.name,
        );
        return { name: this.activate(y, c.activation, 'image', `${n.name}_${c.activation}`), kind: 'image' };
      }
      case 'BatchNormalization': {
        const c = n.config as LayerConfigs['BatchNormalization'];
        const ch = inShape[inShape.length - 1];
        if (x.kind === 'raw' && inShape.length !== 1)
          throw this.refuse(n, `normalises a rank-${inShape.length} value`, 'an image or a flat value (ONNX)');
        const ones = new Float32Array(ch).fill(1);
        const ins = [
          x.name,
          this.init(`${n.name}.weight`, [ch], c.scale ? w('gamma')!.values : ones),
          this.init(`${n.name}.bias`, [ch], c.center ? w('beta')!.values : new Float32Array(ch)),
          this.init(`${n.name}.running_mean`, [ch], w('moving_mean')!.values),
          this.init(`${n.name}.running_var`, [ch], w('moving_variance')!.values),
        ];
        return {
          name: this.op(
            'BatchNormalization',
            ins,
            [attrFloat('epsilon', c.epsilon), attrFloat('momentum', c.momentum)],
            n.name,
          ),
          ...same,
        };
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const c = n.config as LayerConfigs['MaxPooling2D'];
        const attrs = [
          attrInts('kernel_shape', c.poolSize),
          attrInts('pads', this.pads(inShape, c.poolSize, c.strides, c.padding)),
          attrInts('strides', c.strides),
        ];
        return {
          name: this.op(n.className === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [x.name], attrs, n.name),
          kind: 'image',
        };
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        const c = n.config as LayerConfigs['GlobalMaxPooling2D'];
        const op = n.className === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool';
        if (c.keepdims) return { name: this.op(op, [x.name], [], n.name), kind: 'image' };
        const g = this.op(op, [x.name], [], `${n.name}_pool`);
        return { name: this.op('Flatten', [g], [attrInt('axis', 1)], n.name), kind: 'raw' };
      }
      case 'ZeroPadding2D': {
        const [[t, b], [l, r]] = (n.config as LayerConfigs['ZeroPadding2D']).padding;
        const pads = this.initInt(`${n.name}.pads`, [8], [0, 0, t, l, 0, 0, b, r]);
        return { name: this.op('Pad', [x.name, pads], [], n.name), kind: 'image' };
      }
      case 'Rescaling': {
        const c = n.config as LayerConfigs['Rescaling'];
        const ch = inShape[inShape.length - 1];
        const konst = (base: string, v: number | number[]) =>
          typeof v === 'number' ? this.init(base, [], [v]) : this.init(base, x.kind === 'image' ? [ch, 1, 1] : [ch], v);
        const scaled =
          c.scale === 1
            ? x.name
            : this.op(
                'Mul',
                [x.name, konst(`${n.name}.scale`, c.scale)],
                [],
                c.offset === 0 ? n.name : `${n.name}_scale`,
              );
        if (c.offset === 0)
          return { name: scaled === x.name ? this.op('Identity', [x.name], [], n.name) : scaled, ...same };
        return { name: this.op('Add', [scaled, konst(`${n.name}.offset`, c.offset)], [], n.name), ...same };
      }
      case 'Normalization': {
        const c = n.config as LayerConfigs['Normalization'];
        const mean = w('mean')!;
        const variance = w('variance')!;
        const ch = inShape[inShape.length - 1];
        if (mean.values.length !== 1 && !(mean.shape.length === 1 && mean.values.length === ch))
          throw this.refuse(
            n,
            `normalises with statistics of shape [${mean.shape.join(', ')}]`,
            'one value, or one per channel (ONNX)',
          );
        const dims = mean.values.length === 1 ? [] : x.kind === 'image' ? [ch, 1, 1] : [ch];
        const den = Float64Array.from(variance.values, (v) => Math.max(Math.sqrt(v), c.epsilon));
        const centred = this.op(
          'Sub',
          [x.name, this.init(`${n.name}.mean`, dims, mean.values)],
          [],
          `${n.name}_centre`,
        );
        return { name: this.op('Div', [centred, this.init(`${n.name}.std`, dims, den)], [], n.name), ...same };
      }
      case 'Flatten': {
        if (x.kind === 'raw' && inShape.length === 1) return x;
        const users = this.consumers.get(n.name) ?? [];
        const toDense =
          x.kind === 'image' &&
          users.length > 0 &&
          users.every((u) => u.className === 'Dense') &&
          !this.spec.outputs.includes(n.name);
        if (toDense) {
          // ONNX's Flatten is channel-major; the Dense rows follow (the PyTorch layout).
          const [H, W, C] = inShape;
          const order = new Int32Array(H * W * C);
          for (let h = 0; h < H; h++)
            for (let ww = 0; ww < W; ww++)
              for (let ch = 0; ch < C; ch++) order[(ch * H + h) * W + ww] = (h * W + ww) * C + ch;
          return { name: this.op('Flatten', [x.name], [attrInt('axis', 1)], n.name), kind: 'raw', order };
        }
        return { name: this.op('Flatten', [this.raw(x, n.name)], [attrInt('axis', 1)], n.name), kind: 'raw' };
      }
      case 'Reshape': {
        const dims = outShape;
        const shape = this.initInt(`${n.name}.shape`, [dims.length + 1], [-1, ...dims]);
        if (x.order)
          throw this.refuse(n, 'reshapes a channel-major flattened image', 'a Flatten that feeds Dense layers only');
        if (dims.length === 3) {
          const r = this.op('Reshape', [this.raw(x, n.name), shape], [], `${n.name}_nhwc`);
          return { name: this.op('Transpose', [r], [attrInts('perm', [0, 3, 1, 2])], n.name), kind: 'image' };
        }
        return { name: this.op('Reshape', [this.raw(x, n.name), shape], [], n.name), kind: 'raw' };
      }
      case 'Activation': {
        const act = (n.config as LayerConfigs['Activation']).activation;
        return {
          name:
            act === 'linear' ? this.op('Identity', [x.name], [], n.name) : this.activate(x.name, act, x.kind, n.name),
          ...same,
        };
      }
      case 'Softmax':
        return { name: this.activate(x.name, 'softmax', x.kind, n.name), ...same };
      case 'ReLU': {
        const c = n.config as LayerConfigs['ReLU'];
        if (c.threshold === 0 && c.negativeSlope === 0 && c.maxValue === null)
          return { name: this.op('Relu', [x.name], [], n.name), ...same };
        if (c.threshold === 0 && c.negativeSlope === 0)
          return {
            name: this.op(
              'Clip',
              [x.name, this.init(`${n.name}.min`, [], [0]), this.init(`${n.name}.max`, [], [c.maxValue!])],
              [],
              n.name,
            ),
            ...same,
          };
        if (c.threshold === 0 && c.maxValue === null)
          return { name: this.op('LeakyRelu', [x.name], [attrFloat('alpha', c.negativeSlope)], n.name), ...same };
        throw this.refuse(
          n,
          'has a threshold, or a negative slope and a maximum',
          'a plain, capped or leaky ReLU (ONNX)',
        );
      }
      case 'LeakyReLU':
        return {
          name: this.op(
            'LeakyRelu',
            [x.name],
            [attrFloat('alpha', (n.config as LayerConfigs['LeakyReLU']).alpha)],
            n.name,
          ),
          ...same,
        };
      case 'Add': {
        const ins = n.inputs.map((i) => this.vals.get(i)!);
        if (ins.some((v) => v.order))
          throw this.refuse(n, 'adds channel-major flattened images', 'a Flatten that feeds Dense layers only');
        const first = this.op('Add', [ins[0].name, ins[1].name], [], ins.length === 2 ? n.name : `${n.name}_0`);
        let acc = first;
        for (let k = 2; k < ins.length; k++)
          acc = this.op('Add', [acc, ins[k].name], [], k === ins.length - 1 ? n.name : `${n.name}_${k}`);
        return { name: acc, ...same };
      }
      case 'Concatenate': {
        const ins = n.inputs.map((i) => this.vals.get(i)!);
        if (ins.some((v) => v.order))
          throw this.refuse(n, 'concatenates channel-major flattened images', 'a Flatten that feeds Dense layers only');
        return {
          name: this.op(
            'Concat',
            ins.map((v) => v.name),
            [attrInt('axis', x.kind === 'image' ? 1 : -1)],
            n.name,
          ),
          ...same,
        };
      }
      case 'Identity':
        return x;
      default:
        throw this.refuse(n, `layer class ${String(n.className)} cannot be written as ONNX`, 'a GraphSpec layer class');
    }
  }

  /** ONNX pads [top, left, bottom, right] for TensorFlow's padding of this input. */
  private pads(inShape: Shape, k: [number, number], s: [number, number], padding: 'same' | 'valid'): number[] {
    if (padding === 'valid') return [0, 0, 0, 0];
    const [t, b] = sameAxis(inShape[0], k[0], s[0]);
    const [l, r] = sameAxis(inShape[1], k[1], s[1]);
    return [t, l, b, r];
  }
}
