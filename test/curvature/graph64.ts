// Float64 curvature references for ANY GraphSpec, from the integrator's float64 forward
// (test/reference/forward64.ts) and central finite differences only: the Hessian diagonal of the
// mean loss (second differences), the GGN diagonal (J_n^T H_n J_n with J_n the finite-difference
// Jacobian of the loss's input and H_n the loss Hessian in closed form), per-sample gradients
// (for the Fisher and the variance). Nothing here shares code with the engine.
import type { GraphSpec } from '../../src/engine/graphSpec';
import { Batch64, flatParams64, forward64 } from '../reference/forward64';

export interface Problem64 {
  spec: GraphSpec;
  /** [n, ...inputShape] row-major. */
  x: Batch64;
  /** One-hot [n, K] (classification) or targets [n, K]. */
  y: Float64Array;
  classification: boolean;
}

/** The spec whose output is the loss's input: the logits under a softmax head (head activation linear). */
function topSpec(spec: GraphSpec): GraphSpec {
  const last = spec.nodes[spec.nodes.length - 1];
  const cfg = last.config as { activation?: string };
  if (cfg.activation !== 'softmax') return spec;
  return {
    ...spec,
    nodes: [...spec.nodes.slice(0, -1), { ...last, config: { ...cfg, activation: 'linear' } as never }],
  };
}

function row(b: Batch64, i: number): Float64Array {
  const k = b.data.length / b.n;
  return b.data.subarray(i * k, (i + 1) * k);
}

function softmax(z: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < z.length; i++) m = Math.max(m, z[i]);
  const e = Float64Array.from(z, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Per-sample losses from the top tensor (logits or outputs): CE or MSE (mean over the K outputs). */
export function sampleLosses64(p: Problem64, w: ArrayLike<number>): Float64Array {
  const top = forward64(topSpec(p.spec), p.x, w);
  const K = top.data.length / top.n;
  return Float64Array.from({ length: top.n }, (_, i) => {
    const t = row(top, i);
    const y = p.y.subarray(i * K, (i + 1) * K);
    if (p.classification) {
      const pr = softmax(t);
      let l = 0;
      for (let k = 0; k < K; k++) if (y[k] !== 0) l -= y[k] * Math.log(pr[k]);
      return l;
    }
    let l = 0;
    for (let k = 0; k < K; k++) l += (t[k] - y[k]) ** 2 / K;
    return l;
  });
}

const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;

export function hessianDiag64(p: Problem64, h = 1e-4): Float64Array {
  const w = flatParams64(p.spec);
  const f0 = mean(sampleLosses64(p, w));
  return Float64Array.from(w, (v, j) => {
    w[j] = v + h;
    const fp = mean(sampleLosses64(p, w));
    w[j] = v - h;
    const fm = mean(sampleLosses64(p, w));
    w[j] = v;
    return (fp - 2 * f0 + fm) / (h * h);
  });
}

/** Per-sample gradients [n][P] by central differences. */
export function sampleGrads64(p: Problem64, h = 1e-6): Float64Array[] {
  const w = flatParams64(p.spec);
  const out = Array.from({ length: p.x.n }, () => new Float64Array(w.length));
  for (let j = 0; j < w.length; j++) {
    const v = w[j];
    w[j] = v + h;
    const lp = sampleLosses64(p, w);
    w[j] = v - h;
    const lm = sampleLosses64(p, w);
    w[j] = v;
    for (let i = 0; i < p.x.n; i++) out[i][j] = (lp[i] - lm[i]) / (2 * h);
  }
  return out;
}

/** GGN diagonal of the mean loss: (1/n) sum_n diag(J_n^T H_n J_n), J_n = d top_n / dw by central differences. */
export function ggnDiag64(p: Problem64, h = 1e-6): Float64Array {
  const spec = topSpec(p.spec);
  const w = flatParams64(p.spec);
  const top0 = forward64(spec, p.x, w);
  const K = top0.data.length / top0.n;
  const n = p.x.n;
  const out = new Float64Array(w.length);
  for (let j = 0; j < w.length; j++) {
    const v = w[j];
    w[j] = v + h;
    const tp = forward64(spec, p.x, w);
    w[j] = v - h;
    const tm = forward64(spec, p.x, w);
    w[j] = v;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const J = Float64Array.from({ length: K }, (_, k) => (tp.data[i * K + k] - tm.data[i * K + k]) / (2 * h));
      if (p.classification) {
        const pr = softmax(row(top0, i));
        // J^T (diag(p) - p p^T) J
        let a = 0;
        let b = 0;
        for (let k = 0; k < K; k++) {
          a += pr[k] * J[k] * J[k];
          b += pr[k] * J[k];
        }
        s += a - b * b;
      } else {
        for (let k = 0; k < K; k++) s += (2 / K) * J[k] * J[k];
      }
    }
    out[j] = s / n;
  }
  return out;
}

/** Mean and population variance over samples of per-sample gradients, and the empirical Fisher. */
export function moments64(p: Problem64): { mean: Float64Array; variance: Float64Array; fisher: Float64Array } {
  const g = sampleGrads64(p);
  const n = g.length;
  const P = g[0].length;
  const m = new Float64Array(P);
  const f = new Float64Array(P);
  for (const r of g)
    for (let j = 0; j < P; j++) {
      m[j] += r[j] / n;
      f[j] += (r[j] * r[j]) / n;
    }
  return { mean: m, fisher: f, variance: Float64Array.from(f, (v, j) => v - m[j] * m[j]) };
}
