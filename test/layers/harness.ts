// Checks ANY layer module (src/engine/layers/) against float64 central finite differences of a
// per-sample float64 reference of the layer, y = reference(x, w) for one sample. Every backward
// method of the contract is compared with what the Jacobians of the reference imply:
//   inputGrads      row r: G_r J_x(n)                     (c rows per sample)
//   weightStats     sum_r G_r J_w(n),  sum_r s_r (G_r J_w(n))^2,  and with c = 1 (per-sample moments)
//   weightRows      G_r J_w(n)
//   residual        diag of the Hessian of g . y(x) in x (which must be diagonal), or that Hessian = 0
//   weightDiagFromDiagonal  sum_o D_o J_w[o, p]^2
//   diagonalThrough J^T diag(D) J (which must be diagonal)
//   squaredJacobianT        sum_o J_x[o, i]^2 D_o
//   kroneckerFactors        one sample, one row: A (x) G = grad grad^T (for layers with one position)
//   variational (lrt)       mean + sqrt(variance) eps with variance_o = sum_p J_w[o, p]^2 s_p, and its
//                           backward against finite differences of that float64 objective
// and the backend forward against the reference. Backend results are float32: each comparison is a
// relative error against the largest reference entry (test/helpers.ts maxRelErr), default 1e-3.
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { Layer, Saved } from '../../src/engine/layers/layer';
import { Rng } from '../../src/engine/util/random';
import { maxRelErr } from '../helpers';
import type { GraphSpec, NodeSpec, Shape } from '../../src/engine/graphSpec';
import { forward64 } from '../reference/forward64';

/** One sample's output from one sample's inputs and ALL the layer's weights (Keras order), in float64. */
export type Reference = (x: Float64Array[], w: Float64Array[]) => Float64Array;

/**
 * A Reference for a single-input node from the integrator's float64 GraphSpec forward
 * (test/reference/forward64.ts), with the node's fused activation removed (the module computes the
 * map without it). `node.weights` supply names and shapes; the values come from the harness.
 */
export function nodeReference(node: NodeSpec, inputShape: Shape): Reference {
  const cfg = { ...(node.config as object) } as Record<string, unknown>;
  if ('activation' in cfg) cfg.activation = 'linear';
  return ([x], w) => {
    const spec: GraphSpec = {
      inputs: [{ name: 'x', shape: inputShape }],
      nodes: [
        {
          ...node,
          config: cfg as never,
          inputs: ['x'],
          // float64 values through the Float32Array-typed field: forward64 copies them into float64.
          weights: node.weights.map((d, i) => ({ ...d, values: w[i] as unknown as Float32Array })),
        },
      ],
      outputs: [node.name],
      inputLayout: 'NHWC',
    };
    return forward64(spec, { n: 1, shape: inputShape, data: x }).data;
  };
}

export interface LayerCase {
  layer: Layer;
  reference: Reference;
  /** Values of every weight in `layer.weights` order; default: seeded normals (variances: |normal| + 0.5). */
  weights?: Float32Array[];
  /** Per-input batch values [n * size]; default: seeded standard normals. */
  inputs?: Float32Array[];
  /** Samples (default 3) and rows per sample of backward blocks (default 2). */
  n?: number;
  c?: number;
  seed?: number;
  /** Relative tolerance of backend vs float64 (default 1e-3). */
  tol?: number;
  /** Finite-difference step (default 1e-5; second differences use 1e2 times it). */
  h?: number;
  /** Skip the K-FAC identity (layers whose gradient sums over several output positions). */
  kfacOneRow?: boolean;
}

export interface HarnessReport {
  /** Largest relative error per check that ran. */
  errors: Record<string, number>;
}

const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);

function f64(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a as ArrayLike<number>);
}

/** Reads a tensor into float64 and disposes it. */
function read(t: tf.Tensor): Float64Array {
  const v = f64(t.dataSync() as Float32Array);
  t.dispose();
  return v;
}

function randn(rng: Rng, k: number): Float32Array {
  return Float32Array.from({ length: k }, () => rng.normal());
}

export function checkLayer(c: LayerCase): HarnessReport {
  const tensorsBefore = tf.memory().numTensors;
  const L = c.layer;
  const n = c.n ?? 3;
  const C = c.c ?? 2;
  const tol = c.tol ?? 1e-3;
  const h = c.h ?? 1e-5;
  const rng = new Rng(c.seed ?? 1);
  const errors: Record<string, number> = {};
  const inSizes = L.inputShapes.map(sizeOf);
  const outSize = sizeOf(L.outputShape);
  const w32 = c.weights ?? L.weights.map((d) => randn(rng, sizeOf(d.shape)));
  const x32 = c.inputs ?? inSizes.map((s) => randn(rng, n * s));
  const trainIdx = L.weights.map((d, i) => (d.trainable ? i : -1)).filter((i) => i >= 0);
  const P = trainIdx.reduce((a, i) => a + w32[i].length, 0);
  const w64 = w32.map(f64);
  const sample = (k: number) => x32.map((x, i) => f64(x.subarray(k * inSizes[i], (k + 1) * inSizes[i])));
  const check = (name: string, got: ArrayLike<number>, want: ArrayLike<number>, t = tol) => {
    assert.equal(got.length, want.length, `${L.name} ${name}: length`);
    const e = maxRelErr(got, want, 1e-6);
    errors[name] = Math.max(errors[name] ?? 0, e);
    assert.ok(e <= t, `${L.name} ${name}: relative error ${e.toExponential(2)} > ${t}`);
  };

  // float64 Jacobians per sample: jx[k][i] is [out, in_i], jw[k] is [out, P] (trainable weights, flat order).
  const y64 = Array.from({ length: n }, (_, k) => c.reference(sample(k), w64));
  const jx: Float64Array[][] = [];
  const jw: Float64Array[] = [];
  for (let k = 0; k < n; k++) {
    const xs = sample(k);
    jx.push(
      xs.map((x, i) => {
        const J = new Float64Array(outSize * inSizes[i]);
        for (let j = 0; j < inSizes[i]; j++) {
          const v = x[j];
          x[j] = v + h;
          const yp = c.reference(xs, w64);
          x[j] = v - h;
          const ym = c.reference(xs, w64);
          x[j] = v;
          for (let o = 0; o < outSize; o++) J[o * inSizes[i] + j] = (yp[o] - ym[o]) / (2 * h);
        }
        return J;
      }),
    );
    const J = new Float64Array(outSize * P);
    let col = 0;
    for (const wi of trainIdx) {
      const wv = w64[wi];
      for (let j = 0; j < wv.length; j++, col++) {
        const v = wv[j];
        wv[j] = v + h;
        const yp = c.reference(xs, w64);
        wv[j] = v - h;
        const ym = c.reference(xs, w64);
        wv[j] = v;
        for (let o = 0; o < outSize; o++) J[o * P + col] = (yp[o] - ym[o]) / (2 * h);
      }
    }
    jw.push(J);
  }

  const xT = x32.map((x, i) => tf.tensor(x, [n, ...L.inputShapes[i]]));
  const wT = w32.map((w, i) => tf.tensor(w, L.weights[i].shape));
  const fwd = L.forward(xT, wT, 'inference');
  const saved: Saved = {
    inputs: xT,
    output: fwd.output,
    cache: fwd.cache,
    mode: 'inference',
    isGraphInput: xT.map(() => false),
    memo: new Map(),
  };
  try {
    check('forward', read(fwd.output.clone()), concat(y64));

    // A random block of C rows per sample, and its signs.
    const G = randn(rng, n * C * outSize);
    const g = tf.tensor(G, [n * C, ...L.outputShape]);
    const signs = Float32Array.from({ length: n * C }, () => (rng.next() < 0.5 ? -1 : 1));
    const sg = tf.tensor2d(signs, [n, C]);
    const rowTimes = (J: Float64Array, cols: number, r: number, Gv: ArrayLike<number>) => {
      const out = new Float64Array(cols);
      for (let o = 0; o < outSize; o++) {
        const go = Gv[r * outSize + o];
        if (go !== 0) for (let j = 0; j < cols; j++) out[j] += go * J[o * cols + j];
      }
      return out;
    };

    // Input VJPs.
    const need = L.inputShapes.map(() => true);
    const ig = L.inputGrads(g, saved, wT, C, need);
    ig.forEach((t, i) => {
      const want = new Float64Array(n * C * inSizes[i]);
      for (let r = 0; r < n * C; r++) want.set(rowTimes(jx[Math.floor(r / C)][i], inSizes[i], r, G), r * inSizes[i]);
      assert.deepEqual(t!.shape, [n * C, ...L.inputShapes[i]], `${L.name} inputGrads[${i}] shape`);
      check(`inputGrads[${i}]`, read(t!), want);
    });

    if (P > 0) {
      assert.ok(L.weightStats && L.weightRows, `${L.name}: a layer with weights needs weightStats and weightRows`);
      // Per-row weight gradients in float64.
      const rows = (Gv: ArrayLike<number>, cc: number) =>
        Array.from({ length: n * cc }, (_, r) => rowTimes(jw[Math.floor(r / cc)], P, r, Gv));
      const flatStats = (ts: tf.Tensor[] | undefined) => concat(ts!.map(read));
      for (const [cc, Gv, gt, sgn] of [
        [C, G, g, sg],
        [1, G.subarray(0, n * outSize), undefined, undefined],
      ] as const) {
        const gg = gt ?? tf.tensor(Gv, [n, ...L.outputShape]);
        const R = rows(Gv, cc);
        const sum = new Float64Array(P);
        const sq = new Float64Array(P);
        R.forEach((row, r) => {
          const s = sgn ? signs[r] : 1;
          for (let j = 0; j < P; j++) {
            sum[j] += row[j];
            sq[j] += s * row[j] * row[j];
          }
        });
        const st = L.weightStats!(gg, saved, wT, cc, { sum: true, squares: true, signs: sgn });
        const tag = cc === 1 ? 'per-sample' : `c=${cc}`;
        check(`weightStats.sum ${tag}`, flatStats(st.sum), sum);
        check(`weightStats.squares ${tag}${sgn ? ' signed' : ''}`, flatStats(st.squares), sq);
        const wr: tf.Tensor = L.weightRows!(gg, saved, wT, cc);
        assert.deepEqual(wr.shape, [n * cc, P], `${L.name} weightRows shape`);
        check(`weightRows ${tag}`, read(wr), concat(R));
        if (!gt) gg.dispose();
      }
    }

    // Diagonal terms.
    const Dv = randn(rng, n * outSize);
    const D = tf.tensor(Dv, [n, ...L.outputShape]);
    if (L.weightDiagFromDiagonal && P > 0) {
      const want = new Float64Array(P);
      for (let k = 0; k < n; k++)
        for (let o = 0; o < outSize; o++)
          for (let j = 0; j < P; j++) want[j] += Dv[k * outSize + o] * jw[k][o * P + j] ** 2;
      check('weightDiagFromDiagonal', concat(L.weightDiagFromDiagonal(D, saved, wT).map(read)), want);
    }
    if (L.squaredJacobianT) {
      const want = new Float64Array(n * inSizes[0]);
      for (let k = 0; k < n; k++)
        for (let o = 0; o < outSize; o++)
          for (let j = 0; j < inSizes[0]; j++)
            want[k * inSizes[0] + j] += Dv[k * outSize + o] * jx[k][0][o * inSizes[0] + j] ** 2;
      check('squaredJacobianT', read(L.squaredJacobianT(D, saved, wT)), want);
    }
    if (L.diagonalThrough) {
      const m = inSizes[0];
      const want = new Float64Array(n * m);
      let off = 0;
      for (let k = 0; k < n; k++) {
        const J = jx[k][0];
        for (let a = 0; a < m; a++)
          for (let b = 0; b < m; b++) {
            let s = 0;
            for (let o = 0; o < outSize; o++) s += J[o * m + a] * Dv[k * outSize + o] * J[o * m + b];
            if (a === b) want[k * m + a] = s;
            else off = Math.max(off, Math.abs(s));
          }
      }
      assert.ok(
        off <= 1e-6 * Math.max(1, ...Array.from(want, Math.abs)),
        `${L.name}: diagonalThrough on a non-diagonal Jacobian`,
      );
      check('diagonalThrough', read(L.diagonalThrough(D, saved, wT)), want);
    }

    // The Hessian of g . y(x) in x (input 0): the residual term.
    {
      const gv = G.subarray(0, n * outSize);
      const m = inSizes[0];
      const H2 = 100 * h;
      const gt = tf.tensor(gv, [n, ...L.outputShape]);
      const res = L.residual?.(gt, saved, wT);
      gt.dispose();
      const want = new Float64Array(n * m);
      let off = 0;
      let scale = 0;
      for (let k = 0; k < n; k++) {
        const xs = sample(k);
        const dot = (y: Float64Array) => y.reduce((a, v, o) => a + v * gv[k * outSize + o], 0);
        const f0 = dot(c.reference(xs, w64));
        const x = xs[0];
        for (let a = 0; a < m; a++) {
          for (let b = a; b < Math.min(m, a + (res ? m : 1)); b++) {
            // Mixed second difference (a == b: the plain one).
            const va = x[a];
            let v: number;
            if (a === b) {
              x[a] = va + H2;
              const fp = dot(c.reference(xs, w64));
              x[a] = va - H2;
              const fm = dot(c.reference(xs, w64));
              x[a] = va;
              v = (fp - 2 * f0 + fm) / (H2 * H2);
              want[k * m + a] = v;
            } else {
              const vb = x[b];
              const at = (da: number, db: number) => {
                x[a] = va + da;
                x[b] = vb + db;
                const r = dot(c.reference(xs, w64));
                x[a] = va;
                x[b] = vb;
                return r;
              };
              v = (at(H2, H2) - at(H2, -H2) - at(-H2, H2) + at(-H2, -H2)) / (4 * H2 * H2);
              off = Math.max(off, Math.abs(v));
            }
            scale = Math.max(scale, Math.abs(v));
          }
        }
      }
      if (res) {
        assert.ok(off <= 1e-4 * Math.max(1, scale), `${L.name}: residual given but the input Hessian is not diagonal`);
        check('residual', read(res), want, Math.max(tol, 1e-4));
      } else {
        const big = Math.max(...Array.from(want, Math.abs));
        assert.ok(big <= 1e-4, `${L.name}: no residual, yet d2(g.y)/dx2 reaches ${big}`);
        errors['residual (absent)'] = big;
      }
    }

    // K-FAC: with one sample and one row, A (x) G is the outer product of that row's gradient.
    if (L.kroneckerFactors && c.kfacOneRow !== false && P > 0) {
      const x1 = x32.map((x, i) => tf.tensor(x.subarray(0, inSizes[i]), [1, ...L.inputShapes[i]]));
      const f1 = L.forward(x1, wT, 'inference');
      const s1: Saved = {
        inputs: x1,
        output: f1.output,
        cache: f1.cache,
        mode: 'inference',
        isGraphInput: [false],
        memo: new Map(),
      };
      const g1v = G.subarray(0, outSize);
      const g1 = tf.tensor(g1v, [1, ...L.outputShape]);
      const row = rowTimes(jw[0], P, 0, g1v);
      for (const kf of L.kroneckerFactors(g1, s1, wT, 1).filter((k) => !k.groups)) {
        const A = read(kf.A);
        const Gm = read(kf.G);
        const a = Math.round(Math.sqrt(A.length));
        const q = Math.round(Math.sqrt(Gm.length));
        // The factors' flat order is (A index, G index) row-major = the weight's (then the bias') flat order.
        const offset = trainIdx.slice(0, kf.weight).reduce((s, i) => s + w32[i].length, 0);
        const grad = row.subarray(offset, offset + a * q);
        const got = new Float64Array(a * q * a * q);
        const want = new Float64Array(a * q * a * q);
        for (let i = 0; i < a * q; i++)
          for (let j = 0; j < a * q; j++) {
            got[i * a * q + j] = A[Math.floor(i / q) * a + Math.floor(j / q)] * Gm[(i % q) * q + (j % q)];
            want[i * a * q + j] = grad[i] * grad[j];
          }
        check(`kroneckerFactors[${kf.weight}]`, got, want);
      }
      tf.dispose([...x1, f1.output, g1, ...cacheTensors(f1.cache)]);
    }

    // Variational (local reparameterisation): forward and backward against float64.
    if (L.variational?.kind === 'lrt' && P > 0) checkLrt(c, L, x32, w32, trainIdx, jw, n, rng, check);

    tf.dispose([g, sg, D]);
  } finally {
    tf.dispose([...xT, ...wT, fwd.output, ...cacheTensors(fwd.cache), ...saved.memo.values()]);
  }
  const leaked = tf.memory().numTensors - tensorsBefore;
  assert.equal(leaked, 0, `${L.name}: ${leaked} tensor(s) left allocated by the layer's methods`);
  return { errors };
}

function cacheTensors(c: { rows?: Record<string, tf.Tensor>; shared?: Record<string, tf.Tensor> }): tf.Tensor[] {
  return [...Object.values(c.rows ?? {}), ...Object.values(c.shared ?? {})];
}

function concat(parts: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p as ArrayLike<number>, o);
    o += p.length;
  }
  return out;
}

function checkLrt(
  c: LayerCase,
  L: Layer,
  x32: Float32Array[],
  w32: Float32Array[],
  trainIdx: number[],
  jw: Float64Array[],
  n: number,
  rng: Rng,
  check: (name: string, got: ArrayLike<number>, want: ArrayLike<number>, t?: number) => void,
): void {
  const ops = L.variational!;
  const inSize = sizeOf(L.inputShapes[0]);
  const outSize = sizeOf(L.outputShape);
  const P = jw[0].length / outSize;
  const stateIdx = L.weights.map((d, i) => (d.trainable ? -1 : i)).filter((i) => i >= 0);
  const mean = trainIdx.map((i) => w32[i]);
  const vars = trainIdx.map((i) => Float32Array.from(w32[i], () => Math.abs(rng.normal()) * 0.3 + 0.05));
  const eps = Float32Array.from({ length: n * outSize }, () => rng.normal());
  const G = Float32Array.from({ length: n * outSize }, () => rng.normal());
  const h = c.h ?? 1e-5;
  // The float64 objective sum G . (m + sqrt(v) eps) of one sample, from flat mean and variance.
  const all = (meanFlat: Float64Array) => {
    const ws = w32.map(f64);
    let o = 0;
    for (const i of trainIdx) {
      ws[i] = meanFlat.slice(o, o + w32[i].length);
      o += w32[i].length;
    }
    return ws;
  };
  const meanFlat = concat(mean.map(f64));
  const varFlat = concat(vars.map(f64));
  const objective = (k: number, x: Float64Array, mu: Float64Array, v: Float64Array) => {
    const ws = all(mu);
    const m = c.reference([x], ws);
    // J_w at (x, mu) by central differences (exact for layers affine in their weights).
    const variance = new Float64Array(outSize);
    for (let j = 0; j < P; j++) {
      const mp = mu.slice();
      mp[j] += 1e-3;
      const mm = mu.slice();
      mm[j] -= 1e-3;
      const yp = c.reference([x], all(mp));
      const ym = c.reference([x], all(mm));
      for (let o = 0; o < outSize; o++) variance[o] += ((yp[o] - ym[o]) / 2e-3) ** 2 * v[j];
    }
    let s = 0;
    const out = new Float64Array(outSize);
    for (let o = 0; o < outSize; o++) {
      out[o] = m[o] + Math.sqrt(variance[o]) * eps[k * outSize + o];
      s += G[k * outSize + o] * out[o];
    }
    return { s, out };
  };
  const xs = (k: number) => f64(x32[0].subarray(k * inSize, (k + 1) * inSize));
  const wantOut = concat(Array.from({ length: n }, (_, k) => objective(k, xs(k), meanFlat, varFlat).out));
  const fd = (f: (d: number) => number) => (f(h) - f(-h)) / (2 * h);
  const dx = new Float64Array(n * inSize);
  const dmu = new Float64Array(P);
  const dv = new Float64Array(P);
  for (let k = 0; k < n; k++) {
    const x = xs(k);
    for (let j = 0; j < inSize; j++)
      dx[k * inSize + j] = fd((d) => {
        const xp = x.slice();
        xp[j] += d;
        return objective(k, xp, meanFlat, varFlat).s;
      });
    for (let j = 0; j < P; j++) {
      dmu[j] += fd((d) => {
        const mp = meanFlat.slice();
        mp[j] += d;
        return objective(k, x, mp, varFlat).s;
      });
      dv[j] += fd((d) => {
        const vp = varFlat.slice();
        vp[j] += d;
        return objective(k, x, meanFlat, vp).s;
      });
    }
  }
  const xT = [tf.tensor(x32[0], [n, ...L.inputShapes[0]])];
  const muT = mean.map((m, i) => tf.tensor(m, L.weights[trainIdx[i]].shape));
  const vT = vars.map((v, i) => tf.tensor(v, L.weights[trainIdx[i]].shape));
  const stT = stateIdx.map((i) => tf.tensor(w32[i], L.weights[i].shape));
  const eT = tf.tensor(eps, [n, ...L.outputShape]);
  const gT = tf.tensor(G, [n, ...L.outputShape]);
  const f = ops.forward(xT, muT, vT, stT, eT);
  try {
    check('variational forward', read(f.output.clone()), wantOut);
    const b = ops.backward(gT, xT, muT, vT, stT, eT, f, [true]);
    check('variational d input', read(b.inputs[0]!), dx);
    check('variational d mean', concat(b.mean.map(read)), dmu);
    check('variational d variance', concat(b.variance.map(read)), dv);
  } finally {
    tf.dispose([...xT, ...muT, ...vT, ...stT, eT, gT, f.output, ...cacheTensors(f.cache)]);
  }
}
