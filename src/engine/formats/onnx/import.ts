// An ONNX graph (NCHW, as torch.onnx.export writes it) to a GraphSpec (NHWC, Keras layouts).
// Every value is tracked with its layout: 'NCHW' image tensors are the engine's NHWC tensors
// with their weights transposed; 'flat' [batch, F] tensors made by flattening C x H x W carry the
// permutation between the engine's (H, W, C) order and ONNX's (C, H, W) order, which the next
// Gemm/MatMul absorbs into its kernel rows, so the outputs match exactly; 'NHWC' tensors (after a
// Transpose to channels-last) may only be flattened, reshaped or transposed back.
import { PruneScopeError } from '../../errors';
import type { ActivationName, GraphSpec, LayerClass, LayerConfigs, NodeSpec, Pair, WeightSpec } from '../../graphSpec';
import { preview } from '../../util/jsonLimits';
import { checkSoftmaxAtOutput } from '../keras/modelConfig';
import { windowOut } from '../../model/graphShapes';
import { FOLDABLE, fold } from './constFold';
import { AttrType, AttributeMsg, GraphMsg, ModelMsg, NodeMsg } from './schema';
import { Const, TensorContext, decodeTensor, num } from './tensors';

export const SUPPORTED_OPS =
  'Gemm, MatMul (+Add), Conv (group 1 or depthwise), BatchNormalization, Relu, LeakyRelu, Tanh, Sigmoid, Elu, Selu, ' +
  'Softplus, Softsign, Clip (as ReLU6), Softmax, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, Flatten, ' +
  'Reshape (constant shape), Transpose (to and from channels-last around a reshape), Add, Sub, Mul, Div (by constants), ' +
  'Concat, Pad (zeros), Identity, Dropout, Constant, and constant shape arithmetic';

type Layout = 'flat' | 'NCHW' | 'NHWC';
type Fail = (msg: string, expected?: string, code?: 'unsupported' | 'bad-input') => PruneScopeError;

interface Val {
  /** Spec node (or graph input) holding the value. */
  ref: string;
  /** ONNX dims without the batch dimension. */
  dims: number[];
  layout: Layout;
  /** Flat values: engine index i holds ONNX feature perm[i] (undefined: the same order). */
  perm?: Int32Array;
  /** The spec node created for it here (for fusing an activation or a bias into it). */
  node?: NodeSpec;
}

const ACT_OPS: Record<string, ActivationName> = {
  Relu: 'relu',
  Tanh: 'tanh',
  Sigmoid: 'sigmoid',
  Softplus: 'softplus',
  Softsign: 'softsign',
};

export interface Imported {
  spec: GraphSpec;
  opset: number;
  warnings: string[];
}

export function importOnnx(model: ModelMsg, file: string, budget: { left: number }): Imported {
  return new Importer(model, file, budget).run();
}

class Importer {
  private readonly g: GraphMsg;
  private readonly opset: number;
  private readonly consts = new Map<string, Const>();
  private readonly vals = new Map<string, Val>();
  private readonly nodes: NodeSpec[] = [];
  private readonly names = new Set<string>();
  private readonly uses = new Map<string, number>();
  private readonly warnings: string[] = [];
  private inputName = '';

  constructor(
    private readonly model: ModelMsg,
    private readonly file: string,
    private readonly budget: { left: number },
  ) {
    const bad = (field: string, msg: string, expected?: string) =>
      new PruneScopeError('bad-input', msg, { file, field, expected });
    if (!model.graph) throw bad('graph', 'is missing', 'an ONNX model with a graph');
    this.g = model.graph;
    if ((model.trainingInfo?.length ?? 0) > 0 || (model.functions?.length ?? 0) > 0)
      throw new PruneScopeError('unsupported', 'has training info or model-local functions', {
        file,
        field: 'ModelProto',
        expected: 'an inference graph of standard operators',
      });
    const ops = (model.opsetImport ?? []).filter((o) => !o.domain || o.domain === 'ai.onnx');
    if (ops.length !== 1) throw bad('opset_import', `lists ${ops.length} default-domain opsets`, 'exactly one');
    this.opset = num(ops[0].version, () => bad('opset_import', 'has an opset version past 2^53'));
    if (this.opset < 9 || this.opset > 21)
      throw new PruneScopeError('unsupported', `uses opset ${this.opset}`, {
        file,
        field: 'opset_import',
        expected: 'opset 11 to 17 (9 to 21 read, 11 to 17 tested)',
      });
    if (this.opset < 11 || this.opset > 17)
      this.warnings.push(`opset ${this.opset}: PruneScope is tested with opsets 11 to 17`);
  }

  private where(n: NodeMsg, i: number): string {
    return `node ${n.name || `#${i}`} (${n.opType ?? '?'})`;
  }

  run(): Imported {
    const g = this.g;
    if ((g.sparseInitializer?.length ?? 0) > 0)
      throw new PruneScopeError('unsupported', 'has sparse initializers', {
        file: this.file,
        field: 'graph.sparse_initializer',
        expected: 'dense initializers',
      });
    for (const [k, t] of (g.initializer ?? []).entries()) {
      const name = t.name ?? '';
      const ctx: TensorContext = { file: this.file, field: `initializer ${name || `#${k}`}`, budget: this.budget };
      if (this.consts.has(name))
        throw new PruneScopeError('bad-input', 'appears twice', {
          file: this.file,
          field: ctx.field,
          expected: 'unique initializer names',
        });
      this.consts.set(name, decodeTensor(t, ctx));
    }
    this.readInput();
    for (const n of g.node ?? []) for (const i of n.input ?? []) if (i) this.uses.set(i, (this.uses.get(i) ?? 0) + 1);
    const outs = g.output ?? [];
    if (outs.length !== 1)
      throw new PruneScopeError('unsupported', `has ${outs.length} outputs`, {
        file: this.file,
        field: 'graph.output',
        expected: 'one output',
      });
    const outName = outs[0].name ?? '';
    this.uses.set(outName, (this.uses.get(outName) ?? 0) + 1);
    (g.node ?? []).forEach((n, i) => this.node(n, i));
    const out = this.vals.get(outName);
    const field = `graph output ${outName}`;
    if (!out)
      throw new PruneScopeError(
        this.consts.has(outName) ? 'unsupported' : 'bad-input',
        this.consts.has(outName) ? 'is a constant' : 'is not computed by any node',
        {
          file: this.file,
          field,
          expected: 'the output of the network',
        },
      );
    if (out.layout !== 'flat' || out.perm)
      throw new PruneScopeError(
        'unsupported',
        `is ${out.layout === 'flat' ? 'a flattened image in channel-major order' : `an image (${out.layout})`}`,
        {
          file: this.file,
          field,
          expected: 'a flat output [batch, outputs]',
        },
      );
    if (out.ref === this.inputName)
      throw new PruneScopeError('unsupported', 'is the input itself', {
        file: this.file,
        field,
        expected: 'a network with layers',
      });
    const spec: GraphSpec = {
      inputs: [{ name: this.inputName, shape: this.engineShape(this.vals.get(this.inputName)!) }],
      nodes: this.reachable(out.ref),
      outputs: [out.ref],
      inputLayout: 'NCHW',
    };
    checkSoftmaxAtOutput(spec, this.file);
    return { spec, opset: this.opset, warnings: this.warnings };
  }

  private readInput(): void {
    const real = (this.g.input ?? []).filter((i) => !this.consts.has(i.name ?? ''));
    if (real.length !== 1)
      throw new PruneScopeError('unsupported', `has ${real.length} inputs (besides initializers)`, {
        file: this.file,
        field: 'graph.input',
        expected: 'one input (PruneScope feeds one data matrix)',
      });
    const inp = real[0];
    const field = `graph input ${inp.name}`;
    const t = inp.type?.tensorType;
    if (!t)
      throw new PruneScopeError('unsupported', 'is not a tensor', {
        file: this.file,
        field,
        expected: 'a float tensor input',
      });
    if (t.elemType !== 1)
      throw new PruneScopeError('unsupported', `has element type ${t.elemType}`, {
        file: this.file,
        field,
        expected: 'float32 (element type 1)',
      });
    const dims = (t.shape?.dim ?? []).map((d) =>
      d.dimParam
        ? -1
        : num(d.dimValue, () => new PruneScopeError('bad-input', 'has a huge dimension', { file: this.file, field })),
    );
    const body = dims.slice(1);
    if ((dims.length !== 2 && dims.length !== 4) || !body.every((d) => Number.isSafeInteger(d) && d > 0))
      throw new PruneScopeError('unsupported', `has shape [${dims.map((d) => (d < 0 ? '?' : d)).join(', ')}]`, {
        file: this.file,
        field,
        expected: '[batch, features] or [batch, channels, height, width] with known sizes after the batch',
      });
    this.inputName = this.unique(inp.name || 'input');
    this.vals.set(inp.name ?? '', { ref: this.inputName, dims: body, layout: dims.length === 4 ? 'NCHW' : 'flat' });
  }

  private engineShape(v: Val): number[] {
    if (v.layout === 'NCHW') return [v.dims[1], v.dims[2], v.dims[0]];
    return v.dims.slice();
  }

  private unique(raw: string): string {
    // Layer names become weight paths in Keras and TF.js files: no '/', and unique.
    let base = raw.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[_.]+|_+$/g, '') || 'node';
    if (base.length > 200) base = base.slice(0, 200);
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }

  private add<C extends LayerClass>(
    className: C,
    config: LayerConfigs[C],
    inputs: string[],
    weights: WeightSpec[],
    n: NodeMsg,
    suffix = '',
  ): NodeSpec {
    const node: NodeSpec = {
      name: this.unique(`${n.name || n.opType || 'node'}${suffix}`),
      className,
      config,
      inputs,
      weights,
      source: { onnx: { op: n.opType, name: n.name } },
    };
    this.nodes.push(node);
    return node;
  }

  /** Spec nodes the output depends on, in creation (topological) order. */
  private reachable(out: string): NodeSpec[] {
    const byName = new Map(this.nodes.map((n) => [n.name, n]));
    const keep = new Set<string>();
    const stack = [out];
    while (stack.length) {
      const k = stack.pop()!;
      const n = byName.get(k);
      if (!n || keep.has(k)) continue;
      keep.add(k);
      stack.push(...n.inputs);
    }
    return this.nodes.filter((n) => keep.has(n.name));
  }

  private node(n: NodeMsg, i: number): void {
    const field = this.where(n, i);
    const op = n.opType ?? '';
    const fail = (msg: string, expected?: string, code: 'unsupported' | 'bad-input' = 'unsupported') =>
      new PruneScopeError(code, msg, { file: this.file, field, expected });
    if (n.domain && n.domain !== 'ai.onnx')
      throw fail(`is in operator domain ${preview(n.domain)}`, 'standard ONNX operators (the default domain)');
    const attrs = new Map((n.attribute ?? []).map((a) => [a.name ?? '', a]));
    const A = new Attrs(attrs, fail, this.file, field, this.budget);
    const ins = n.input ?? [];
    const outs = n.output ?? [];
    if (outs.length === 0) throw fail('has no outputs', 'one output', 'bad-input');

    if (op === 'Constant') {
      const c = A.constantValue();
      this.consts.set(outs[0], c);
      return;
    }
    if (ins.length === 0 || ins[0] === '') throw fail('has no input', 'the value it operates on', 'bad-input');
    const constIns = ins.map((x) => (x === '' ? undefined : this.consts.get(x)));
    if (FOLDABLE.has(op) && ins.length > 0 && ins.every((x, k) => x === '' || constIns[k])) {
      this.consts.set(
        outs[0],
        fold(constIns, {
          op,
          attrInt: (a, d) => A.int(a, d),
          attrInts: (a) => A.ints(a),
          attrTensor: (a) => A.tensor(a),
          fail,
        }),
      );
      return;
    }
    const val = (k: number): Val => {
      const name = ins[k];
      const v = name !== undefined ? this.vals.get(name) : undefined;
      if (!v) {
        if (name !== undefined && this.consts.has(name))
          throw fail(`takes the constant ${preview(name)} where a network value is expected`);
        throw fail(
          `reads ${preview(name)}, which no earlier node computes`,
          'inputs computed before the node (topological order)',
          'bad-input',
        );
      }
      return v;
    };
    const konst = (k: number, what: string): Const => {
      const c = ins[k] ? this.consts.get(ins[k]) : undefined;
      if (!c)
        throw fail(
          `its ${what} (${preview(ins[k])}) is not a constant`,
          `a constant ${what} (an initializer or Constant)`,
        );
      return c;
    };
    const onlyFirstOutput = () => {
      if (outs.slice(1).some((o) => o && (this.uses.get(o) ?? 0) > 0))
        throw fail(
          'has a second output that is used (training-mode outputs)',
          'inference mode: only the first output used',
        );
    };
    const set = (v: Val): void => {
      this.vals.set(outs[0], v);
    };

    switch (op) {
      case 'Identity':
        return set(val(0));
      case 'Dropout': {
        onlyFirstOutput();
        const training = ins[2] ? this.consts.get(ins[2]) : undefined;
        if (training && training.values[0]) throw fail('runs in training mode', 'training_mode false');
        return set(val(0));
      }
      case 'Relu':
      case 'Tanh':
      case 'Sigmoid':
      case 'Softplus':
      case 'Softsign':
        return set(this.activation(val(0), ACT_OPS[op], n, ins[0]));
      case 'Elu':
        if (A.float('alpha', 1) !== 1) throw fail(`has alpha ${A.float('alpha', 1)}`, 'alpha 1 (Keras elu)');
        return set(this.activation(val(0), 'elu', n, ins[0]));
      case 'Selu': {
        const a = A.float('alpha', 1.6732632423543772);
        const gm = A.float('gamma', 1.0507009873554805);
        if (Math.abs(a - 1.6732632) > 1e-6 || Math.abs(gm - 1.0507009) > 1e-6)
          throw fail('has non-standard alpha/gamma', 'the standard SELU constants');
        return set(this.activation(val(0), 'selu', n, ins[0]));
      }
      case 'LeakyRelu': {
        const v = val(0);
        return set({
          ...v,
          ref: this.add('LeakyReLU', { alpha: A.float('alpha', 0.01) }, [v.ref], [], n).name,
          node: undefined,
        });
      }
      case 'Clip': {
        const v = val(0);
        const lo =
          this.opset >= 11 ? (ins[1] ? Number(konst(1, 'min').values[0]) : -Infinity) : A.float('min', -Infinity);
        const hi =
          this.opset >= 11 ? (ins[2] ? Number(konst(2, 'max').values[0]) : Infinity) : A.float('max', Infinity);
        if (lo !== 0 || !(hi > 0)) throw fail(`clips to [${lo}, ${hi}]`, 'a ReLU with a cap: min 0 and max > 0');
        const cfg = { maxValue: Number.isFinite(hi) ? hi : null, negativeSlope: 0, threshold: 0 };
        return set({ ...v, ref: this.add('ReLU', cfg, [v.ref], [], n).name, node: undefined });
      }
      case 'Softmax':
        return set(this.softmax(val(0), A, n, ins[0], fail));
      case 'Gemm':
        return set(this.gemm(val(0), konst(1, 'weight B'), ins[2] ? konst(2, 'bias C') : undefined, A, n, fail));
      case 'MatMul':
        return set(this.gemm(val(0), konst(1, 'weight'), undefined, undefined, n, fail));
      case 'Conv':
        return set(this.conv(val(0), konst(1, 'weight W'), ins[2] ? konst(2, 'bias B') : undefined, A, n, fail));
      case 'BatchNormalization': {
        onlyFirstOutput();
        if (A.int('training_mode', 0) !== 0) throw fail('runs in training mode', 'training_mode 0');
        return set(
          this.batchNorm(
            val(0),
            [1, 2, 3, 4].map((k) => konst(k, ['scale', 'bias', 'mean', 'variance'][k - 1])),
            A,
            n,
            fail,
          ),
        );
      }
      case 'MaxPool':
      case 'AveragePool':
        onlyFirstOutput();
        return set(this.pool(val(0), op, A, n, fail));
      case 'GlobalAveragePool':
      case 'GlobalMaxPool': {
        const v = this.image(val(0), fail);
        const cls = op === 'GlobalAveragePool' ? 'GlobalAveragePooling2D' : 'GlobalMaxPooling2D';
        const node = this.add(cls, { keepdims: true }, [v.ref], [], n);
        return set({ ref: node.name, dims: [v.dims[0], 1, 1], layout: 'NCHW', node });
      }
      case 'Flatten': {
        const v = val(0);
        const axis = A.int('axis', 1)!;
        if (axis !== 1 && !(axis === -1 && v.layout === 'flat'))
          throw fail(`flattens from axis ${axis}`, 'axis 1 (keep the batch)');
        return set(this.flatten(v, n, ins[0]));
      }
      case 'Reshape':
        return set(this.reshape(val(0), konst(1, 'shape'), A, n, ins[0], fail));
      case 'Transpose':
        return set(this.transpose(val(0), A.ints('perm'), fail));
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div':
        return set(this.arithmetic(op, ins, n, fail));
      case 'Concat': {
        const vs = ins.map((_, k) => val(k));
        const rank = vs[0].layout === 'flat' ? 2 : 4;
        let axis = A.int('axis')!;
        if (axis < 0) axis += rank;
        if (vs.some((v) => v.layout !== vs[0].layout || v.perm || v.layout === 'NHWC') || axis !== 1)
          throw fail(
            `concatenates along axis ${A.int('axis')} of ${vs.map((v) => v.layout).join(', ')} values`,
            'the channel axis (1) of images, or the features of flat values',
          );
        if (vs[0].layout === 'NCHW' && vs.some((v) => v.dims[1] !== vs[0].dims[1] || v.dims[2] !== vs[0].dims[2]))
          throw fail('concatenates images of different sizes', 'equal height and width', 'bad-input');
        const node = this.add(
          'Concatenate',
          { axis: -1 },
          vs.map((v) => v.ref),
          [],
          n,
        );
        const c = vs.reduce((a, v) => a + v.dims[0], 0);
        return set({
          ref: node.name,
          dims: vs[0].layout === 'NCHW' ? [c, vs[0].dims[1], vs[0].dims[2]] : [c],
          layout: vs[0].layout,
          node,
        });
      }
      case 'Pad':
        return set(this.pad(val(0), ins, A, n, fail, konst));
      default:
        throw fail(`operator ${op} is not supported`, SUPPORTED_OPS);
    }
  }

  private image(v: Val, fail: Fail): Val {
    if (v.layout !== 'NCHW')
      throw fail(
        `gets a ${v.layout === 'flat' ? 'flat' : 'channels-last'} value`,
        'an image [batch, channels, height, width]',
      );
    return v;
  }

  /** An element-wise activation, fused into the Dense/Conv before it when that feeds only it. */
  private activation(v: Val, act: ActivationName, n: NodeMsg, inName: string | undefined): Val {
    const host = v.node;
    if (
      host &&
      ['Dense', 'Conv2D', 'DepthwiseConv2D'].includes(host.className) &&
      (host.config as { activation: string }).activation === 'linear' &&
      inName &&
      (this.uses.get(inName) ?? 0) === 1
    ) {
      (host.config as { activation: ActivationName }).activation = act;
      return { ...v, node: undefined };
    }
    const node = this.add('Activation', { activation: act }, [v.ref], [], n);
    return { ...v, ref: node.name, node: undefined };
  }

  private softmax(v: Val, A: Attrs, n: NodeMsg, inName: string | undefined, fail: Fail): Val {
    const rank = v.layout === 'flat' ? 2 : 4;
    let axis = A.int('axis', this.opset >= 13 ? -1 : 1)!;
    if (axis < 0) axis += rank;
    const lastEngineAxis =
      v.layout === 'flat'
        ? axis === 1
        : v.layout === 'NCHW' && this.opset >= 13
          ? axis === 1
          : v.layout === 'NCHW' && axis === 1 && v.dims[1] === 1 && v.dims[2] === 1;
    if (!lastEngineAxis)
      throw fail(
        `takes the softmax over axis ${A.int('axis')} of a rank-${rank} value (opset ${this.opset})`,
        'the softmax over the classes (the last axis of a flat value)',
      );
    const host = v.node;
    if (
      host &&
      host.className === 'Dense' &&
      (host.config as LayerConfigs['Dense']).activation === 'linear' &&
      inName &&
      (this.uses.get(inName) ?? 0) === 1
    ) {
      (host.config as LayerConfigs['Dense']).activation = 'softmax';
      return { ...v, node: undefined };
    }
    const node = this.add('Softmax', { axis: -1 }, [v.ref], [], n);
    return { ...v, ref: node.name, node: undefined };
  }

  /** Gemm (alpha, beta, transB) or MatMul with a constant weight: a Dense layer. */
  private gemm(v: Val, B: Const, C: Const | undefined, A: Attrs | undefined, n: NodeMsg, fail: Fail): Val {
    if (v.layout !== 'flat')
      throw fail(`multiplies a ${v.layout} value`, 'a flat input [batch, features] (add a Flatten)');
    if (A && A.int('transA', 0) !== 0) throw fail('has transA 1', 'transA 0 (the data as rows)');
    if (B.kind !== 'float' || B.dims.length !== 2)
      throw fail(`has a weight of dims [${B.dims.join(', ')}]`, 'a 2-D float weight');
    const transB = A ? A.int('transB', 0) === 1 : false;
    const [inF, out] = transB ? [B.dims[1], B.dims[0]] : B.dims;
    if (inF !== v.dims[0]) throw fail(`has a weight for ${inF} inputs but gets ${v.dims[0]}`, `${v.dims[0]} inputs`);
    const alpha = A ? A.float('alpha', 1) : 1;
    const beta = A ? A.float('beta', 1) : 1;
    const kernel = new Float32Array(inF * out);
    const W = B.values as Float32Array;
    for (let i = 0; i < inF; i++) {
      const src = v.perm ? v.perm[i] : i;
      for (let o = 0; o < out; o++) kernel[i * out + o] = alpha * (transB ? W[o * inF + src] : W[src * out + o]);
    }
    const weights: WeightSpec[] = [{ name: 'kernel', shape: [inF, out], trainable: true, values: kernel }];
    if (C) {
      if (C.kind !== 'float' || (C.values.length !== out && C.values.length !== 1))
        throw fail(`has a bias of ${C.values.length} values`, `${out} values (or one)`);
      weights.push({
        name: 'bias',
        shape: [out],
        trainable: true,
        values: Float32Array.from({ length: out }, (_, o) => beta * Number(C.values[C.values.length === 1 ? 0 : o])),
      });
    }
    const node = this.add('Dense', { units: out, activation: 'linear', useBias: !!C }, [v.ref], weights, n);
    return { ref: node.name, dims: [out], layout: 'flat', node };
  }

  private conv(v: Val, W: Const, B: Const | undefined, A: Attrs, n: NodeMsg, fail: Fail): Val {
    this.image(v, fail);
    const [cin, h, w] = v.dims;
    if (W.kind !== 'float' || W.dims.length !== 4)
      throw fail(`has a weight of dims [${W.dims.join(', ')}]`, 'a 4-D float weight [out, in/groups, kh, kw]');
    const [out, perGroup, kh, kw] = W.dims;
    const ks = A.ints('kernel_shape');
    if (ks && (ks[0] !== kh || ks[1] !== kw))
      throw fail(`has kernel_shape ${preview(ks)} for a ${kh}x${kw} weight`, 'matching sizes');
    const dil = A.ints('dilations') ?? [1, 1];
    if (dil.some((d) => d !== 1)) throw fail(`has dilations ${preview(dil)}`, 'dilation 1');
    const group = A.int('group', 1)!;
    const strides = (A.ints('strides') ?? [1, 1]) as Pair;
    if (group !== 1 && !(group === cin && perGroup === 1 && out % cin === 0))
      throw fail(
        `has group ${group} for ${cin} input channels`,
        'group 1, or a depthwise convolution (group = input channels)',
      );
    if (group === 1 && perGroup !== cin)
      throw fail(`has a weight for ${perGroup} input channels but gets ${cin}`, `${cin} input channels`);
    if (B && (B.kind !== 'float' || B.values.length !== out))
      throw fail(`has a bias of ${B.values.length} values`, `${out} values`);
    const { ref, padding, dims } = this.padFor(v, [kh, kw], strides, A, n, fail, 'conv');
    const Wv = W.values as Float32Array;
    let node: NodeSpec;
    if (group === 1) {
      const k = new Float32Array(kh * kw * cin * out);
      for (let o = 0; o < out; o++)
        for (let c = 0; c < cin; c++)
          for (let y = 0; y < kh; y++)
            for (let x = 0; x < kw; x++) k[((y * kw + x) * cin + c) * out + o] = Wv[((o * cin + c) * kh + y) * kw + x];
      const weights: WeightSpec[] = [{ name: 'kernel', shape: [kh, kw, cin, out], trainable: true, values: k }];
      if (B) weights.push({ name: 'bias', shape: [out], trainable: true, values: Float32Array.from(B.values) });
      node = this.add(
        'Conv2D',
        {
          filters: out,
          kernelSize: [kh, kw],
          strides,
          padding,
          dilationRate: [1, 1],
          activation: 'linear',
          useBias: !!B,
        },
        [ref],
        weights,
        n,
      );
    } else {
      const m = out / cin;
      const k = new Float32Array(kh * kw * cin * m);
      for (let c = 0; c < cin; c++)
        for (let j = 0; j < m; j++)
          for (let y = 0; y < kh; y++)
            for (let x = 0; x < kw; x++) k[((y * kw + x) * cin + c) * m + j] = Wv[(c * m + j) * kh * kw + y * kw + x];
      const weights: WeightSpec[] = [{ name: 'depthwise_kernel', shape: [kh, kw, cin, m], trainable: true, values: k }];
      if (B) weights.push({ name: 'bias', shape: [out], trainable: true, values: Float32Array.from(B.values) });
      node = this.add(
        'DepthwiseConv2D',
        {
          kernelSize: [kh, kw],
          strides,
          padding,
          depthMultiplier: m,
          dilationRate: [1, 1],
          activation: 'linear',
          useBias: !!B,
        },
        [ref],
        weights,
        n,
      );
    }
    const ho = windowOut(dims[0], kh, strides[0], padding);
    const wo = windowOut(dims[1], kw, strides[1], padding);
    if (ho < 1 || wo < 1)
      throw fail(`a ${kh}x${kw} window does not fit its ${h}x${w} input`, 'an input at least as large as the window');
    return { ref: node.name, dims: [out, ho, wo], layout: 'NCHW', node };
  }

  /**
   * The Keras padding for a windowed op: 'valid' when ONNX pads nothing, 'same' when its pads are
   * TensorFlow's for this input size, else an explicit ZeroPadding2D (convolutions, and average
   * pooling that counts the padding) followed by 'valid'.
   */
  private padFor(
    v: Val,
    k: Pair,
    s: Pair,
    A: Attrs,
    n: NodeMsg,
    fail: Fail,
    kind: 'conv' | 'max' | 'avg',
  ): { ref: string; padding: 'same' | 'valid'; dims: [number, number] } {
    const [, h, w] = v.dims;
    const tfSame = (len: number, kk: number, ss: number) => {
      const total = Math.max((Math.ceil(len / ss) - 1) * ss + kk - len, 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    };
    const [st, sb] = tfSame(h, k[0], s[0]);
    const [sl, sr] = tfSame(w, k[1], s[1]);
    const auto = A.string('auto_pad', 'NOTSET');
    let pads: number[];
    if (auto === 'VALID') pads = [0, 0, 0, 0];
    else if (auto === 'SAME_UPPER') pads = [st, sl, sb, sr];
    else if (auto === 'SAME_LOWER') pads = [sb, sr, st, sl];
    else if (auto === 'NOTSET') pads = A.ints('pads') ?? [0, 0, 0, 0];
    else throw fail(`has auto_pad ${preview(auto)}`, 'NOTSET, VALID, SAME_UPPER or SAME_LOWER');
    if (pads.length !== 4 || pads.some((p) => p < 0))
      throw fail(`has pads ${preview(pads)}`, '[top, left, bottom, right] >= 0');
    if (kind !== 'conv' && A.int('ceil_mode', 0) !== 0) {
      // ceil_mode only matters when a window would start in the padding.
      const floorH = Math.floor((h + pads[0] + pads[2] - k[0]) / s[0]) + 1;
      const ceilH = Math.ceil((h + pads[0] + pads[2] - k[0]) / s[0]) + 1;
      const floorW = Math.floor((w + pads[1] + pads[3] - k[1]) / s[1]) + 1;
      const ceilW = Math.ceil((w + pads[1] + pads[3] - k[1]) / s[1]) + 1;
      if (floorH !== ceilH || floorW !== ceilW)
        throw fail('has ceil_mode 1, which changes the output size here', 'ceil_mode 0');
    }
    if (pads.every((p) => p === 0)) return { ref: v.ref, padding: 'valid', dims: [h, w] };
    const same = pads[0] === st && pads[1] === sl && pads[2] === sb && pads[3] === sr;
    const countsPad = kind === 'avg' && A.int('count_include_pad', 0) === 1;
    if (same && !countsPad) return { ref: v.ref, padding: 'same', dims: [h, w] };
    if (kind === 'max')
      throw fail(`pads ${preview(pads)}, not TensorFlow's 'same' padding`, "no padding, or 'same' padding");
    if (kind === 'avg' && !countsPad)
      throw fail(`pads ${preview(pads)} without counting the padding`, "'same' padding, or count_include_pad 1");
    const pad = this.add(
      'ZeroPadding2D',
      {
        padding: [
          [pads[0], pads[2]],
          [pads[1], pads[3]],
        ],
      },
      [v.ref],
      [],
      n,
      '_pad',
    );
    return { ref: pad.name, padding: 'valid', dims: [h + pads[0] + pads[2], w + pads[1] + pads[3]] };
  }

  private pool(v: Val, op: string, A: Attrs, n: NodeMsg, fail: Fail): Val {
    this.image(v, fail);
    const k = A.ints('kernel_shape');
    if (!k || k.length !== 2) throw fail(`has kernel_shape ${preview(k)}`, 'two window sizes');
    if ((A.ints('dilations') ?? [1, 1]).some((d) => d !== 1)) throw fail('has dilations', 'dilation 1');
    if (A.int('storage_order', 0) !== 0) throw fail('has storage_order 1', 'storage_order 0');
    const strides = (A.ints('strides') ?? [1, 1]) as Pair;
    const { ref, padding, dims } = this.padFor(v, k as Pair, strides, A, n, fail, op === 'MaxPool' ? 'max' : 'avg');
    const cls = op === 'MaxPool' ? 'MaxPooling2D' : 'AveragePooling2D';
    const node = this.add(cls, { poolSize: k as Pair, strides, padding }, [ref], [], n);
    const ho = windowOut(dims[0], k[0], strides[0], padding);
    const wo = windowOut(dims[1], k[1], strides[1], padding);
    if (ho < 1 || wo < 1)
      throw fail(`a ${k[0]}x${k[1]} window does not fit its input`, 'an input at least as large as the window');
    return { ref: node.name, dims: [v.dims[0], ho, wo], layout: 'NCHW', node };
  }

  private batchNorm(v: Val, [scale, bias, mean, variance]: Const[], A: Attrs, n: NodeMsg, fail: Fail): Val {
    if (v.layout === 'NHWC') throw fail('normalises a channels-last value', 'an image or flat value');
    const c = v.dims[0];
    const vec = (t: Const, what: string) => {
      if (t.kind !== 'float' || t.values.length !== c)
        throw fail(`has a ${what} of ${t.values.length} values`, `${c} values, one per channel`);
      // A flattened image carries its features permuted: follow the permutation.
      return Float32Array.from({ length: c }, (_, i) => Number(t.values[v.perm ? v.perm[i] : i]));
    };
    const weights: WeightSpec[] = [
      { name: 'gamma', shape: [c], trainable: true, values: vec(scale, 'scale') },
      { name: 'beta', shape: [c], trainable: true, values: vec(bias, 'bias') },
      { name: 'moving_mean', shape: [c], trainable: false, values: vec(mean, 'mean') },
      { name: 'moving_variance', shape: [c], trainable: false, values: vec(variance, 'variance') },
    ];
    if (weights[3].values.some((x) => x < 0)) throw fail('has a negative variance', 'variances >= 0');
    const cfg = { epsilon: A.float('epsilon', 1e-5), momentum: A.float('momentum', 0.9), center: true, scale: true };
    const node = this.add('BatchNormalization', cfg, [v.ref], weights, n);
    return { ...v, ref: node.name, node };
  }

  private flatten(v: Val, n: NodeMsg, inName: string | undefined): Val {
    if (v.layout === 'flat') return v;
    const size = v.dims.reduce((a, b) => a * b, 1);
    // Global pooling followed by a flatten is pooling without the unit axes.
    const host = v.node;
    if (
      host &&
      (host.className === 'GlobalAveragePooling2D' || host.className === 'GlobalMaxPooling2D') &&
      inName &&
      (this.uses.get(inName) ?? 0) === 1
    ) {
      (host.config as { keepdims: boolean }).keepdims = false;
      return { ref: v.ref, dims: [size], layout: 'flat', node: undefined };
    }
    const node = this.add('Flatten', {}, [v.ref], [], n);
    let perm: Int32Array | undefined;
    if (v.layout === 'NCHW' && v.dims[0] > 1 && v.dims[1] * v.dims[2] > 1) {
      const [C, H, W] = v.dims;
      perm = new Int32Array(size);
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) perm[(h * W + w) * C + c] = (c * H + h) * W + w;
    }
    return { ref: node.name, dims: [size], layout: 'flat', perm };
  }

  private reshape(v: Val, shapeC: Const, A: Attrs, n: NodeMsg, inName: string | undefined, fail: Fail): Val {
    if (shapeC.kind !== 'int' || shapeC.dims.length !== 1)
      throw fail('has a shape that is not a 1-D integer constant', 'a constant int64 shape');
    const allowZero = A.int('allowzero', 0) === 1;
    const full = [0, ...v.dims];
    const size = v.dims.reduce((a, b) => a * b, 1);
    let target = (shapeC.values as number[]).map((d, i) => (d === 0 && !allowZero ? (full[i] ?? d) : d));
    // The first axis is the batch: -1, 0 (copied), or the exported batch size (often 1).
    if (target.length < 2) throw fail(`reshapes to [${target.join(', ')}]`, 'a shape that keeps the batch axis first');
    target = target.slice(1);
    const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    if (target.filter((d) => d === -1).length > 1 || target.some((d) => d === 0 || d < -1))
      throw fail(`reshapes to ${preview(shapeC.values)}`, 'positive sizes and at most one -1', 'bad-input');
    const dims = target.map((d) => (d === -1 ? size / known : d));
    if (dims.reduce((a, b) => a * b, 1) !== size || !dims.every(Number.isInteger))
      throw fail(
        `cannot reshape ${size} values per row to ${preview(shapeC.values)}`,
        `a shape of ${size} values per row`,
        'bad-input',
      );
    if (dims.length === 1) {
      if (v.layout === 'flat') return v;
      return this.flatten(v, n, inName);
    }
    if (dims.length === 3) {
      // Flat or channels-last data reshaped into an image: rows in (H, W, C) order, to be transposed to NCHW.
      if (v.layout === 'NCHW') {
        if (dims.every((d, i) => d === v.dims[i])) return v;
        throw fail('reshapes an image into another image', 'reshapes that keep channels-first images as they are');
      }
      if (v.perm)
        throw fail('reshapes a channel-major flattened image', 'a flat value in the order the next layer reads');
      const node = this.add('Reshape', { targetShape: dims }, [v.ref], [], n);
      return { ref: node.name, dims, layout: 'NHWC', node };
    }
    throw fail(
      `reshapes to rank ${dims.length + 1}`,
      'rank 2 ([batch, features]) or rank 4 followed by a transpose to NCHW',
    );
  }

  private transpose(v: Val, perm: number[] | undefined, fail: Fail): Val {
    const p = (perm ?? []).join(',');
    if (v.layout === 'NCHW' && p === '0,2,3,1')
      return { ...v, dims: [v.dims[1], v.dims[2], v.dims[0]], layout: 'NHWC', node: undefined };
    if (v.layout === 'NHWC' && p === '0,3,1,2')
      return { ...v, dims: [v.dims[2], v.dims[0], v.dims[1]], layout: 'NCHW', node: undefined };
    throw fail(
      `transposes a ${v.layout} value by ${preview(perm)}`,
      'NCHW -> NHWC (0,2,3,1) before a flatten, or NHWC -> NCHW (0,3,1,2) after a reshape',
    );
  }

  /** Add of two network values (a residual skip), or arithmetic with a constant (bias, scale). */
  private arithmetic(op: string, ins: string[], n: NodeMsg, fail: Fail): Val {
    const a = this.vals.get(ins[0]);
    const b = this.vals.get(ins[1]);
    if (a && b) {
      if (op !== 'Add') throw fail(`${op} of two network values`, 'Add (a residual connection)');
      if (a.layout !== b.layout || a.layout === 'NHWC' || a.dims.join() !== b.dims.join())
        throw fail(
          `adds values of shapes [${a.dims}] (${a.layout}) and [${b.dims}] (${b.layout})`,
          'values of one shape and layout',
        );
      if ((a.perm || b.perm) && (a.perm?.join() ?? '') !== (b.perm?.join() ?? ''))
        throw fail('adds flattened values of different feature orders', 'values in one order');
      const node = this.add('Add', {}, [a.ref, b.ref], [], n);
      return { ...a, ref: node.name, node };
    }
    const v = a ?? b;
    const cName = a ? ins[1] : ins[0];
    const c = this.consts.get(cName);
    if (!v || !c)
      throw fail(
        `reads ${preview(ins)}, not a network value and a constant`,
        'a network value and a constant, or two network values',
        'bad-input',
      );
    if (c.kind !== 'float') throw fail('uses an integer constant', 'a float constant');
    if (!a && (op === 'Sub' || op === 'Div'))
      throw fail(`computes constant ${op === 'Sub' ? '-' : '/'} value`, 'value - constant or value / constant');
    const ch = v.layout === 'NCHW' ? v.dims[0] : v.layout === 'flat' ? v.dims[0] : -1;
    // Per channel: a scalar, or one value per channel broadcast over the rest ([C], [C,1,1], [1,C,1,1]).
    const vals = Array.from(c.values as Float32Array);
    const perChannel = (() => {
      if (vals.length === 1) return vals[0];
      const nonUnit = c.dims.filter((d) => d !== 1);
      const chAxis = v.layout === 'NCHW' ? c.dims.length - 3 : c.dims.length - 1;
      if (vals.length === ch && nonUnit.length === 1 && c.dims[chAxis] === ch)
        return vals.map((_, i) => vals[v.perm ? v.perm[i] : i]);
      throw fail(`uses a constant of dims [${c.dims.join(', ')}]`, 'a scalar or one value per channel');
    })();
    const host = v.node;
    if (
      op === 'Add' &&
      host &&
      (host.className === 'Dense' || host.className === 'Conv2D' || host.className === 'DepthwiseConv2D') &&
      !(host.config as { useBias: boolean }).useBias &&
      (host.config as { activation: string }).activation === 'linear' &&
      (this.uses.get(a ? ins[0] : ins[1]) ?? 0) === 1
    ) {
      // MatMul + Add, Conv + Add: the constant is the layer's bias.
      const units = host.className === 'Dense' ? (host.config as LayerConfigs['Dense']).units : ch;
      (host.config as { useBias: boolean }).useBias = true;
      host.weights.push({
        name: 'bias',
        shape: [units],
        trainable: true,
        values: Float32Array.from({ length: units }, (_, i) =>
          typeof perChannel === 'number' ? perChannel : perChannel[i],
        ),
      });
      return { ...v, node: host };
    }
    const scale =
      op === 'Mul'
        ? perChannel
        : op === 'Div'
          ? typeof perChannel === 'number'
            ? 1 / perChannel
            : perChannel.map((x) => 1 / x)
          : 1;
    const offset =
      op === 'Add'
        ? perChannel
        : op === 'Sub'
          ? typeof perChannel === 'number'
            ? -perChannel
            : perChannel.map((x) => -x)
          : 0;
    const node = this.add('Rescaling', { scale, offset }, [v.ref], [], n);
    return { ...v, ref: node.name, node: undefined };
  }

  private pad(v: Val, ins: string[], A: Attrs, n: NodeMsg, fail: Fail, konst: (k: number, w: string) => Const): Val {
    const mode = A.string('mode', 'constant');
    if (mode !== 'constant') throw fail(`pads in mode ${preview(mode)}`, 'constant (zero) padding');
    let pads = this.opset >= 11 ? (konst(1, 'pads').values as number[]).map(Number) : (A.ints('pads') ?? []);
    const value =
      this.opset >= 11 ? (ins[2] ? Number(konst(2, 'constant value').values[0] ?? 0) : 0) : A.float('value', 0);
    if (value !== 0) throw fail(`pads with ${value}`, 'zero padding');
    const rank = v.layout === 'flat' ? 2 : 4;
    if (ins[3]) {
      // Opset 18: pads for the listed axes only.
      const axes = (konst(3, 'axes').values as number[]).map((x) => (x < 0 ? x + rank : x));
      const full = new Array<number>(2 * rank).fill(0);
      axes.forEach((ax, k) => {
        full[ax] = pads[k];
        full[ax + rank] = pads[k + axes.length];
      });
      pads = full;
    }
    if (pads.length !== 2 * rank) throw fail(`has ${pads.length} pads for a rank-${rank} value`, `${2 * rank} pads`);
    if (pads.every((p) => p === 0)) return v;
    if (v.layout !== 'NCHW' || pads[0] || pads[1] || pads[4] || pads[5] || pads.some((p) => p < 0))
      throw fail(`pads ${preview(pads)}`, 'zero padding of the height and width of an image');
    const node = this.add(
      'ZeroPadding2D',
      {
        padding: [
          [pads[2], pads[6]],
          [pads[3], pads[7]],
        ],
      },
      [v.ref],
      [],
      n,
    );
    return {
      ref: node.name,
      dims: [v.dims[0], v.dims[1] + pads[2] + pads[6], v.dims[2] + pads[3] + pads[7]],
      layout: 'NCHW',
      node,
    };
  }
}

/** Typed access to a node's attributes, failing with the node named. */
class Attrs {
  constructor(
    private readonly m: Map<string, AttributeMsg>,
    private readonly fail: (msg: string, expected?: string) => PruneScopeError,
    private readonly file: string,
    private readonly field: string,
    private readonly budget: { left: number },
  ) {}
  private get(name: string, type: number): AttributeMsg | undefined {
    const a = this.m.get(name);
    if (!a) return undefined;
    if (a.refAttrName) throw this.fail(`attribute ${name} refers to a function attribute`, 'a plain value');
    if (a.type !== undefined && a.type !== 0 && a.type !== type)
      throw this.fail(`attribute ${name} has type ${a.type}`, `type ${type}`);
    return a;
  }
  int(name: string, dflt?: number): number | undefined {
    const a = this.get(name, AttrType.INT);
    return a ? num(a.i, () => this.fail(`attribute ${name} is past 2^53`)) : dflt;
  }
  float(name: string, dflt: number): number {
    const a = this.get(name, AttrType.FLOAT);
    const v = a ? (a.f ?? 0) : dflt;
    if (!Number.isFinite(v)) throw this.fail(`attribute ${name} is ${v}`, 'a finite number');
    return v;
  }
  ints(name: string): number[] | undefined {
    const a = this.get(name, AttrType.INTS);
    if (!a) return undefined;
    if ((a.ints?.length ?? 0) > 64) throw this.fail(`attribute ${name} lists ${a.ints?.length} values`, 'a few values');
    return (a.ints ?? []).map((x) => num(x, () => this.fail(`attribute ${name} has a value past 2^53`)));
  }
  string(name: string, dflt: string): string {
    const a = this.get(name, AttrType.STRING);
    return a ? Buffer.from(a.s ?? new Uint8Array()).toString('utf8') : dflt;
  }
  tensor(name: string): Const | undefined {
    const a = this.get(name, AttrType.TENSOR);
    return a?.t
      ? decodeTensor(a.t, { file: this.file, field: `${this.field} attribute ${name}`, budget: this.budget })
      : undefined;
  }
  /** A Constant node's value, in any of its attribute forms. */
  constantValue(): Const {
    const t = this.tensor('value');
    if (t) return t;
    const f = this.m.get('value_float');
    if (f) return { dims: [], kind: 'float', values: Float32Array.of(f.f ?? 0) };
    const fs = this.m.get('value_floats');
    if (fs) return { dims: [fs.floats?.length ?? 0], kind: 'float', values: Float32Array.from(fs.floats ?? []) };
    const i = this.m.get('value_int');
    if (i) return { dims: [], kind: 'int', values: [this.int('value_int')!] };
    const is = this.m.get('value_ints');
    if (is) return { dims: [is.ints?.length ?? 0], kind: 'int', values: this.ints('value_ints')! };
    throw this.fail(
      'has no value, value_float(s) or value_int(s) attribute',
      'a numeric constant (sparse and string constants are not supported)',
    );
  }
}
