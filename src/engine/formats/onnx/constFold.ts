// Evaluates nodes whose inputs are all constants at import time. torch.onnx.export leaves small
// shape computations in the graph (ZeroPad2d's pads are a Constant -> ConstantOfShape -> Concat ->
// Reshape -> Slice -> Transpose -> Reshape -> Cast chain); folding them gives the constant the
// consuming node needs. Only small integer/float tensors are folded.
import { PruneScopeError } from '../../errors';
import type { Const } from './tensors';

export const FOLDABLE = new Set([
  'Identity',
  'Cast',
  'ConstantOfShape',
  'Concat',
  'Reshape',
  'Slice',
  'Transpose',
  'Unsqueeze',
  'Squeeze',
  'Gather',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Neg',
]);

/** Folded tensors are shape bookkeeping: anything larger is not what this is for. */
const MAX_FOLD = 1 << 20;

export interface FoldContext {
  op: string;
  /** Reads an attribute: int, ints, float, tensor. */
  attrInt(name: string, dflt?: number): number | undefined;
  attrInts(name: string): number[] | undefined;
  attrTensor(name: string): Const | undefined;
  fail(msg: string, expected?: string): PruneScopeError;
}

const size = (d: number[]) => d.reduce((a, b) => a * b, 1);
const stridesOf = (d: number[]) => {
  const s = new Array<number>(d.length).fill(1);
  for (let i = d.length - 2; i >= 0; i--) s[i] = s[i + 1] * d[i + 1];
  return s;
};
const make = (kind: Const['kind'], dims: number[], vals: number[]): Const => ({
  dims,
  kind,
  values: kind === 'float' ? Float32Array.from(vals) : vals,
});
const ints = (c: Const, ctx: FoldContext, what: string): number[] => {
  if (c.kind !== 'int') throw ctx.fail(`${what} is not an integer tensor`);
  return Array.from(c.values);
};
const axis = (a: number, rank: number, ctx: FoldContext) => {
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= Math.max(rank, 1)) throw ctx.fail(`axis ${a} is out of range for rank ${rank}`);
  return r;
};

/** Every index tuple of `dims`, row-major. */
function* indices(dims: number[]): Generator<number[]> {
  const n = size(dims);
  const idx = new Array<number>(dims.length).fill(0);
  for (let k = 0; k < n; k++) {
    yield idx.slice();
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
}

/** Evaluates one node on constant inputs; the result is its first output. */
export function fold(ins: (Const | undefined)[], ctx: FoldContext): Const {
  const x = ins[0];
  if (x && x.values.length > MAX_FOLD)
    throw ctx.fail(`folds a constant of ${x.values.length} values`, `at most ${MAX_FOLD}`);
  const need = (c: Const | undefined, what: string): Const => {
    if (!c) throw ctx.fail(`has no ${what}`);
    return c;
  };
  switch (ctx.op) {
    case 'Identity':
      return need(x, 'input');
    case 'Cast': {
      const to = ctx.attrInt('to');
      const a = need(x, 'input');
      const toFloat = to === 1 || to === 10 || to === 11;
      return make(
        toFloat ? 'float' : 'int',
        a.dims,
        Array.from(a.values, (v) => (toFloat ? v : Math.trunc(v))),
      );
    }
    case 'ConstantOfShape': {
      const dims = ints(need(x, 'shape'), ctx, 'shape');
      if (dims.some((d) => d < 0) || size(dims) > MAX_FOLD) throw ctx.fail(`asks for shape [${dims.join(', ')}]`);
      const v = ctx.attrTensor('value') ?? { dims: [1], kind: 'float', values: new Float32Array(1) };
      return make(v.kind, dims, new Array<number>(size(dims)).fill(Number(v.values[0] ?? 0)));
    }
    case 'Concat': {
      const parts = ins.map((c) => need(c, 'input'));
      const rank = parts[0].dims.length;
      if (rank !== 1) throw ctx.fail('concatenates constants of rank above 1');
      return make(
        parts[0].kind,
        [parts.reduce((a, p) => a + p.values.length, 0)],
        parts.flatMap((p) => Array.from(p.values)),
      );
    }
    case 'Reshape': {
      const a = need(x, 'data');
      const shape = ints(need(ins[1], 'shape'), ctx, 'shape').map((d, i) => (d === 0 ? a.dims[i] : d));
      const known = size(shape.filter((d) => d !== -1));
      const dims = shape.map((d) => (d === -1 ? a.values.length / known : d));
      if (size(dims) !== a.values.length || !dims.every((d) => Number.isInteger(d) && d >= 0))
        throw ctx.fail(`cannot reshape [${a.dims.join(', ')}] to [${shape.join(', ')}]`);
      return { ...a, dims };
    }
    case 'Unsqueeze':
    case 'Squeeze': {
      const a = need(x, 'data');
      const axes = ins[1] ? ints(ins[1], ctx, 'axes') : (ctx.attrInts('axes') ?? []);
      let dims = a.dims.slice();
      if (ctx.op === 'Unsqueeze') {
        const rank = dims.length + axes.length;
        for (const ax of axes.map((v) => axis(v, rank, ctx)).sort((p, q) => p - q)) dims.splice(ax, 0, 1);
      } else {
        const drop = new Set(
          (axes.length ? axes : dims.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((v) =>
            axis(v, dims.length, ctx),
          ),
        );
        dims = dims.filter((_, i) => !drop.has(i));
      }
      return { ...a, dims };
    }
    case 'Transpose': {
      const a = need(x, 'data');
      const perm = ctx.attrInts('perm') ?? a.dims.map((_, i) => a.dims.length - 1 - i);
      const dims = perm.map((p) => a.dims[p]);
      const src = stridesOf(a.dims);
      const out: number[] = [];
      for (const idx of indices(dims)) out.push(Number(a.values[idx.reduce((s, v, d) => s + v * src[perm[d]], 0)]));
      return make(a.kind, dims, out);
    }
    case 'Slice': {
      const a = need(x, 'data');
      const rank = a.dims.length;
      const starts = ints(need(ins[1], 'starts'), ctx, 'starts');
      const ends = ints(need(ins[2], 'ends'), ctx, 'ends');
      const axes = ins[3] ? ints(ins[3], ctx, 'axes').map((v) => axis(v, rank, ctx)) : starts.map((_, i) => i);
      const steps = ins[4] ? ints(ins[4], ctx, 'steps') : starts.map(() => 1);
      const lo = a.dims.map(() => 0);
      const st = a.dims.map(() => 1);
      const cnt = a.dims.slice();
      axes.forEach((ax, i) => {
        const n = a.dims[ax];
        const step = steps[i];
        if (step === 0) throw ctx.fail('has a step of 0');
        // ONNX: negative indices count from the end; then clamp to [0, n] stepping forward, and
        // stepping backward the start to [0, n - 1] and the end to [-1, n - 1].
        const clampIdx = (v: number, forStart: boolean) => {
          const r = v < 0 ? v + n : v;
          if (step > 0) return Math.min(Math.max(r, 0), n);
          return forStart ? Math.min(Math.max(r, 0), n - 1) : Math.min(Math.max(r, -1), n - 1);
        };
        const s = clampIdx(starts[i], true);
        const e = clampIdx(ends[i], false);
        lo[ax] = s;
        st[ax] = step;
        cnt[ax] = Math.max(0, Math.ceil((e - s) / step));
      });
      const src = stridesOf(a.dims);
      const out: number[] = [];
      for (const idx of indices(cnt))
        out.push(Number(a.values[idx.reduce((s, v, d) => s + (lo[d] + v * st[d]) * src[d], 0)]));
      return make(a.kind, cnt, out);
    }
    case 'Gather': {
      const a = need(x, 'data');
      const idx = ints(need(ins[1], 'indices'), ctx, 'indices');
      const ax = axis(ctx.attrInt('axis', 0)!, a.dims.length, ctx);
      if (a.dims.length !== 1 || ax !== 0) throw ctx.fail('gathers from a constant of rank above 1');
      const n = a.dims[0];
      const vals = idx.map((i) => {
        const j = i < 0 ? i + n : i;
        if (j < 0 || j >= n) throw ctx.fail(`index ${i} is out of range for ${n} values`);
        return Number(a.values[j]);
      });
      return make(a.kind, ins[1]!.dims, vals);
    }
    case 'Neg': {
      const a = need(x, 'input');
      return make(
        a.kind,
        a.dims,
        Array.from(a.values, (v) => -v),
      );
    }
    default: {
      // Elementwise arithmetic: same shape, or one side a single value.
      const a = need(x, 'A');
      const b = need(ins[1], 'B');
      const n = Math.max(a.values.length, b.values.length);
      if (a.values.length !== n && a.values.length !== 1) throw ctx.fail('combines constants of different shapes');
      if (b.values.length !== n && b.values.length !== 1) throw ctx.fail('combines constants of different shapes');
      const kind = a.kind === 'float' || b.kind === 'float' ? 'float' : 'int';
      const f = {
        Add: (p: number, q: number) => p + q,
        Sub: (p: number, q: number) => p - q,
        Mul: (p: number, q: number) => p * q,
        Div: (p: number, q: number) => (kind === 'int' ? Math.trunc(p / q) : p / q),
      }[ctx.op as 'Add'];
      const out = Array.from({ length: n }, (_, i) =>
        f(Number(a.values[a.values.length === 1 ? 0 : i]), Number(b.values[b.values.length === 1 ? 0 : i])),
      );
      return make(kind, a.values.length === n ? a.dims : b.dims, out);
    }
  }
}
