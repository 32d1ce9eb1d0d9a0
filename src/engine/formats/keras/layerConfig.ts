// One Keras layer config (as TF.js, Keras 2 or Keras 3 writes it) to the GraphSpec's normalised
// config for its class, given the shapes of its inputs. Everything the engine cannot compute
// exactly is refused here, naming the layer, its class and what is supported.
import { PruneScopeError } from '../../errors';
import { preview } from '../../util/jsonLimits';
import { ACTIVATION_NAMES, ActivationName, LayerClass, LayerConfigs, Pair, Padding, Shape } from '../../graphSpec';
import { shapeText } from '../../model/graphShapes';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Classes that compute the identity at inference (how analysis sees them). */
export const IDENTITY_CLASSES = [
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'SpatialDropout3D',
  'AlphaDropout',
  'GaussianNoise',
  'GaussianDropout',
  'ActivityRegularization',
  'RandomFlip',
  'RandomRotation',
  'RandomZoom',
  'RandomTranslation',
  'RandomContrast',
  'RandomBrightness',
] as const;

export const SUPPORTED_CLASSES =
  'InputLayer, Dense, Conv2D, DepthwiseConv2D, BatchNormalization, MaxPooling2D, AveragePooling2D, ' +
  'GlobalAveragePooling2D, GlobalMaxPooling2D, ZeroPadding2D, Rescaling, Normalization, Flatten, Reshape, ' +
  'Activation, ReLU, LeakyReLU, Softmax, Add, Concatenate and the identity-at-inference classes ' +
  IDENTITY_CLASSES.join(', ');

/** Keras classes that carry Python code or TF ops we would have to execute. */
const CODE_CLASSES = new Set(['Lambda', 'TFOpLambda', 'SlicingOpLambda', 'TFLambda']);

export interface LayerContext {
  file: string;
  /** `layer <name> (<class>)`, the prefix of every field named in errors. */
  field: string;
  inShapes: Shape[];
}

export interface Normalised<C extends LayerClass = LayerClass> {
  className: C;
  config: LayerConfigs[C];
  /** Normalization: shape of mean/variance (trailing-aligned with the input) and any values given in the config. */
  normalization?: { shape: Shape; mean?: number[]; variance?: number[] };
}

export class LayerReader {
  constructor(
    private readonly cls: string,
    private readonly cfg: Json,
    private readonly ctx: LayerContext,
  ) {}

  bad(key: string, msg: string, expected?: string): PruneScopeError {
    return new PruneScopeError('bad-input', msg, { file: this.ctx.file, field: this.f(key), expected });
  }
  unsupported(key: string, msg: string, expected?: string): PruneScopeError {
    return new PruneScopeError('unsupported', msg, { file: this.ctx.file, field: this.f(key), expected });
  }
  private f(key: string): string {
    return key ? `${this.ctx.field}.${key}` : this.ctx.field;
  }

  get(key: string): unknown {
    return this.cfg[key];
  }
  posInt(key: string, dflt?: number): number {
    const v = this.cfg[key] ?? dflt;
    if (!Number.isSafeInteger(v) || (v as number) <= 0) throw this.bad(key, `is ${preview(v)}`, 'a positive integer');
    return v as number;
  }
  bool(key: string, dflt: boolean): boolean {
    const v = this.cfg[key] ?? dflt;
    if (typeof v !== 'boolean') throw this.bad(key, `is ${preview(v)}`, 'true or false');
    return v;
  }
  num(key: string, dflt: number): number {
    const v = this.cfg[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.bad(key, `is ${preview(v)}`, 'a finite number');
    return v;
  }
  /** An int or a list of two ints (Keras accepts both for sizes and strides). */
  pair(key: string, dflt?: number | number[]): Pair {
    let v = this.cfg[key] ?? dflt;
    if (Number.isSafeInteger(v)) v = [v, v];
    if (Array.isArray(v) && v.length === 1) v = [v[0], v[0]];
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isSafeInteger(x) && x > 0))
      throw this.bad(key, `is ${preview(v)}`, 'a positive integer or a pair of them');
    return [v[0], v[1]];
  }
  padding(): Padding {
    const v = this.cfg.padding ?? 'valid';
    if (typeof v === 'string' && (v.toLowerCase() === 'same' || v.toLowerCase() === 'valid'))
      return v.toLowerCase() as Padding;
    throw this.unsupported('padding', `is ${preview(v)}`, "'same' or 'valid'");
  }
  channelsLast(): void {
    const v = this.cfg.data_format;
    if (v !== undefined && v !== null && v !== 'channels_last')
      throw this.unsupported(
        'data_format',
        `is ${preview(v)}`,
        'channels_last (NHWC); channels_first models are read from ONNX',
      );
  }
  noDilation(): Pair {
    const d = this.pair('dilation_rate', 1);
    if (d[0] !== 1 || d[1] !== 1)
      throw this.unsupported('dilation_rate', `is ${preview(d)}`, 'dilation 1 (no atrous convolution)');
    return d;
  }
  /** Keras 3 LoRA and quantization add weights PruneScope does not model. */
  noExtras(): void {
    for (const k of ['lora_rank', 'quantization_config']) {
      const v = this.cfg[k];
      if (v !== undefined && v !== null)
        throw this.unsupported(k, `is ${preview(v)}`, 'null (no LoRA or quantization)');
    }
  }
  activation(key = 'activation'): ActivationName {
    return activationName(this.cfg[key], (msg, exp) => this.unsupported(key, msg, exp));
  }
  /** The input's rank including the batch dimension, to read Keras axes. */
  lastAxis(key: string, dflt: number): void {
    let v = this.cfg[key] ?? dflt;
    if (Array.isArray(v) && v.length === 1) v = v[0];
    const rank = this.ctx.inShapes[0].length + 1;
    if (v !== -1 && v !== rank - 1)
      throw this.unsupported(
        key,
        `is ${preview(this.cfg[key])} for an input of shape ${shapeText(this.ctx.inShapes[0])}`,
        `the last axis (-1 or ${rank - 1})`,
      );
  }
}

/** A Keras activation (string, null, or a Keras 3 serialised function) to a GraphSpec name. */
export function activationName(v: unknown, refuse: (msg: string, expected: string) => PruneScopeError): ActivationName {
  let name = v;
  // Keras 3 may write {module: 'keras.activations', class_name: 'function', config: 'relu'}.
  if (isObj(v)) name = typeof v.config === 'string' ? v.config : v.class_name;
  if (name === undefined || name === null) return 'linear';
  if (typeof name === 'string' && (ACTIVATION_NAMES as readonly string[]).includes(name)) return name as ActivationName;
  throw refuse(`activation ${preview(name)} is not supported`, ACTIVATION_NAMES.join(', '));
}

/** Refuses classes and configs that hold code: PruneScope never executes anything from a model file. */
export function refuseCode(cls: string, raw: unknown, file: string, field: string): void {
  const refuse = (what: string) =>
    new PruneScopeError('unsupported', `${what}; PruneScope never runs code from a model file`, {
      file,
      field,
      expected: `built-in layers only (${SUPPORTED_CLASSES})`,
    });
  if (CODE_CLASSES.has(cls)) throw refuse(`layer class ${cls} holds serialised Python code or TensorFlow ops`);
  // Keras 3 serialises lambdas as {class_name: '__lambda__', config: {code: ...}}; Keras 2 as
  // function + function_type. Look through the whole config (bounded: configs are small trees).
  const stack: unknown[] = [raw];
  let visited = 0;
  while (stack.length > 0 && visited++ < 100_000) {
    const v = stack.pop();
    if (Array.isArray(v)) stack.push(...v);
    else if (isObj(v)) {
      if (v.class_name === '__lambda__' || 'function_type' in v || 'output_shape_type' in v)
        throw refuse('it holds a serialised Python function');
      for (const k of Object.keys(v)) stack.push(v[k]);
    }
  }
}

/** Normalises one layer's config; `cls` is the file's class name. */
export function normaliseLayer(cls: string, cfg: Json, ctx: LayerContext): Normalised {
  const r = new LayerReader(cls, cfg, ctx);
  const out = <C extends LayerClass>(className: C, config: LayerConfigs[C]): Normalised => ({ className, config });
  switch (cls) {
    case 'Dense':
      r.noExtras();
      return out('Dense', { units: r.posInt('units'), activation: r.activation(), useBias: r.bool('use_bias', true) });
    case 'Conv2D': {
      r.channelsLast();
      r.noExtras();
      const groups = cfg.groups ?? 1;
      if (groups !== 1)
        throw r.unsupported('groups', `is ${preview(groups)}`, 'groups 1 (use DepthwiseConv2D for depthwise)');
      return out('Conv2D', {
        filters: r.posInt('filters'),
        kernelSize: r.pair('kernel_size'),
        strides: r.pair('strides', 1),
        padding: r.padding(),
        dilationRate: r.noDilation(),
        activation: r.activation(),
        useBias: r.bool('use_bias', true),
      });
    }
    case 'DepthwiseConv2D':
      r.channelsLast();
      r.noExtras();
      return out('DepthwiseConv2D', {
        kernelSize: r.pair('kernel_size'),
        strides: r.pair('strides', 1),
        padding: r.padding(),
        depthMultiplier: r.posInt('depth_multiplier', 1),
        dilationRate: r.noDilation(),
        activation: r.activation(),
        useBias: r.bool('use_bias', true),
      });
    case 'BatchNormalization': {
      r.lastAxis('axis', -1);
      if (cfg.renorm === true)
        throw r.unsupported('renorm', 'is true', 'false (batch renormalisation is not supported)');
      const eps = r.num('epsilon', 1e-3);
      if (!(eps >= 0)) throw r.bad('epsilon', `is ${eps}`, 'a non-negative number');
      return out('BatchNormalization', {
        epsilon: eps,
        momentum: r.num('momentum', 0.99),
        center: r.bool('center', true),
        scale: r.bool('scale', true),
      });
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      r.channelsLast();
      const poolSize = r.pair('pool_size', 2);
      const strides = cfg.strides === null || cfg.strides === undefined ? poolSize : r.pair('strides');
      return out(cls, { poolSize, strides, padding: r.padding() });
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
      r.channelsLast();
      return out(cls, { keepdims: r.bool('keepdims', false) });
    case 'ZeroPadding2D':
      r.channelsLast();
      return out('ZeroPadding2D', { padding: zeroPadding(r) });
    case 'Rescaling':
      return out('Rescaling', { scale: scaleOrList(r, 'scale', 1), offset: scaleOrList(r, 'offset', 0) });
    case 'Normalization':
      return normalization(r, cfg, ctx);
    case 'Flatten':
      if (ctx.inShapes[0].length >= 2) r.channelsLast();
      return out('Flatten', {});
    case 'Reshape': {
      const t = cfg.target_shape;
      if (!Array.isArray(t) || t.length === 0 || !t.every((d) => d === -1 || (Number.isSafeInteger(d) && d > 0)))
        throw r.bad('target_shape', `is ${preview(t)}`, 'a list of positive integers (at most one -1)');
      return out('Reshape', { targetShape: t as number[] });
    }
    case 'Activation':
      return out('Activation', { activation: r.activation() });
    case 'ReLU': {
      const mv = cfg.max_value ?? null;
      if (mv !== null && !(typeof mv === 'number' && mv >= 0))
        throw r.bad('max_value', `is ${preview(mv)}`, 'null or a non-negative number');
      return out('ReLU', {
        maxValue: mv as number | null,
        negativeSlope: r.num('negative_slope', 0),
        threshold: r.num('threshold', 0),
      });
    }
    case 'LeakyReLU':
      // Keras 3 calls it negative_slope, Keras 2 and TF.js alpha.
      return out('LeakyReLU', { alpha: r.num(cfg.negative_slope !== undefined ? 'negative_slope' : 'alpha', 0.3) });
    case 'Softmax':
      r.lastAxis('axis', -1);
      return out('Softmax', { axis: -1 });
    case 'Add':
      return out('Add', {});
    case 'Concatenate':
      r.lastAxis('axis', -1);
      return out('Concatenate', { axis: -1 });
    default:
      if ((IDENTITY_CLASSES as readonly string[]).includes(cls)) return out('Identity', { kind: cls });
      throw r.unsupported('', `layer class ${cls} is not supported`, SUPPORTED_CLASSES);
  }
}

function zeroPadding(r: LayerReader): [Pair, Pair] {
  const v = r.get('padding') ?? 1;
  const ok = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
  if (ok(v))
    return [
      [v, v],
      [v, v],
    ];
  if (Array.isArray(v) && v.length === 2) {
    if (ok(v[0]) && ok(v[1]))
      return [
        [v[0], v[0]],
        [v[1], v[1]],
      ];
    const [a, b] = v;
    if (Array.isArray(a) && Array.isArray(b) && a.length === 2 && b.length === 2 && [...a, ...b].every(ok))
      return [
        [a[0], a[1]],
        [b[0], b[1]],
      ];
  }
  throw r.bad('padding', `is ${preview(v)}`, 'an int, [rows, cols] or [[top, bottom], [left, right]]');
}

function scaleOrList(r: LayerReader, key: string, dflt: number): number | number[] {
  const v = r.get(key) ?? dflt;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    if (v.length === 1) return v[0] as number;
    return v as number[];
  }
  throw r.bad(key, `is ${preview(v)}`, 'a finite number or a list of them (one per channel)');
}

/** Flattens a nested list of numbers (Keras writes Normalization's mean as nested lists). */
function flatNumbers(v: unknown, out: number[] = [], depth = 0): number[] | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
  else if (Array.isArray(v) && depth < 8) {
    for (const x of v) if (!flatNumbers(x, out, depth + 1)) return undefined;
  } else return undefined;
  return out;
}

function normalization(r: LayerReader, cfg: Json, ctx: LayerContext): Normalised {
  if (cfg.invert === true) throw r.unsupported('invert', 'is true', 'false (a de-normalising layer is not supported)');
  const inp = ctx.inShapes[0];
  const rank = inp.length + 1;
  let axis = cfg.axis === undefined ? [-1] : cfg.axis === null ? [] : Array.isArray(cfg.axis) ? cfg.axis : [cfg.axis];
  if (
    !axis.every(
      (a) => Number.isSafeInteger(a) && (a as number) >= -rank && (a as number) < rank && a !== 0 && a !== -rank,
    )
  )
    throw r.bad('axis', `is ${preview(cfg.axis)}`, `axes of the input (not the batch axis) for rank ${rank}`);
  axis = axis.map((a) => ((a as number) < 0 ? (a as number) + rank : a)) as number[];
  // Broadcast shape over the non-batch axes, leading 1s dropped so it aligns from the right.
  const full = inp.map((d, i) => ((axis as number[]).includes(i + 1) ? d : 1));
  const first = full.findIndex((d) => d !== 1);
  const shape = first < 0 ? [] : full.slice(first);
  const n = shape.reduce((a, b) => a * b, 1);
  const given = (key: 'mean' | 'variance') => {
    const v = cfg[key];
    if (v === undefined || v === null) return undefined;
    const xs = flatNumbers(v);
    if (!xs || (xs.length !== 1 && xs.length !== n))
      throw r.bad(key, `is ${preview(v)}`, `a number or ${n} numbers (one per normalised position)`);
    return xs.length === 1 ? new Array<number>(n).fill(xs[0]) : xs;
  };
  const mean = given('mean');
  const variance = given('variance');
  if ((mean === undefined) !== (variance === undefined))
    throw r.bad(mean ? 'variance' : 'mean', 'is missing', 'both mean and variance, or neither (then they are weights)');
  if (variance && variance.some((v) => v < 0)) throw r.bad('variance', 'has a negative entry', 'variances >= 0');
  return {
    className: 'Normalization',
    config: { epsilon: 1e-7 },
    normalization: { shape, mean, variance },
  };
}
