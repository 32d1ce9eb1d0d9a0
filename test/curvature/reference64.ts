// Float64 reference for the curvature tests: a plain-array dense network (forward, loss), central
// finite differences of it, and an explicit full-matrix form of the Hessian recursion
// H_l = J^T H_{l+1} J + diag(f''(z_l) dl/da_l), independent of the backend's factor code.
export type Act = 'linear' | 'tanh' | 'relu' | 'sigmoid' | 'elu' | 'selu' | 'softplus' | 'softsign' | 'softmax';

export interface Net64 {
  sizes: number[]; // [m, d_1, ..., d_L]
  acts: Act[];
}

const SA = 1.6732632423543772;
const SS = 1.0507009873554805;

/** [f, f', f''] of an elementwise activation. */
export function act64(a: Act, z: number): [number, number, number] {
  switch (a) {
    case 'linear':
      return [z, 1, 0];
    case 'tanh': {
      const t = Math.tanh(z);
      return [t, 1 - t * t, -2 * t * (1 - t * t)];
    }
    case 'relu':
      return z > 0 ? [z, 1, 0] : [0, 0, 0];
    case 'sigmoid': {
      const s = 1 / (1 + Math.exp(-z));
      return [s, s * (1 - s), s * (1 - s) * (1 - 2 * s)];
    }
    case 'elu':
      return z > 0 ? [z, 1, 0] : [Math.exp(z) - 1, Math.exp(z), Math.exp(z)];
    case 'selu':
      return z > 0 ? [SS * z, SS, 0] : [SS * SA * (Math.exp(z) - 1), SS * SA * Math.exp(z), SS * SA * Math.exp(z)];
    case 'softplus': {
      const s = 1 / (1 + Math.exp(-z));
      return [Math.log1p(Math.exp(z)), s, s * (1 - s)];
    }
    case 'softsign': {
      const d = 1 + Math.abs(z);
      return [z / d, 1 / (d * d), (-2 * Math.sign(z)) / (d * d * d)];
    }
    case 'softmax':
      throw new Error('softmax is not elementwise');
  }
}

export function nParams(net: Net64): number {
  let p = 0;
  for (let l = 1; l < net.sizes.length; l++) p += net.sizes[l - 1] * net.sizes[l] + net.sizes[l];
  return p;
}

/** Offsets of kernel and bias of each layer in the flat order (kernel [in, out] row-major, bias). */
export function offsets(net: Net64): { k: number; b: number }[] {
  const o: { k: number; b: number }[] = [];
  let p = 0;
  for (let l = 1; l < net.sizes.length; l++) {
    o.push({ k: p, b: p + net.sizes[l - 1] * net.sizes[l] });
    p += net.sizes[l - 1] * net.sizes[l] + net.sizes[l];
  }
  return o;
}

export interface Fwd {
  z: number[][];
  a: number[][];
} // a[0] = x; a[l+1] = f(z[l])

export function forward(net: Net64, w: ArrayLike<number>, x: number[]): Fwd {
  const off = offsets(net);
  const a: number[][] = [x];
  const z: number[][] = [];
  for (let l = 0; l < net.acts.length; l++) {
    const din = net.sizes[l],
      dout = net.sizes[l + 1];
    const zl = new Array(dout).fill(0);
    for (let j = 0; j < dout; j++) {
      let s = w[off[l].b + j];
      for (let i = 0; i < din; i++) s += a[l][i] * w[off[l].k + i * dout + j];
      zl[j] = s;
    }
    z.push(zl);
    if (net.acts[l] === 'softmax') {
      const mx = Math.max(...zl);
      const e = zl.map((v) => Math.exp(v - mx));
      const s = e.reduce((p, q) => p + q, 0);
      a.push(e.map((v) => v / s));
    } else a.push(zl.map((v) => act64(net.acts[l], v)[0]));
  }
  return { z, a };
}

export function sampleLoss(net: Net64, w: ArrayLike<number>, x: number[], y: number[]): number {
  const { z, a } = forward(net, w, x);
  const out = a[a.length - 1];
  if (net.acts[net.acts.length - 1] === 'softmax') {
    // log-softmax directly, for finite-difference accuracy.
    const zl = z[z.length - 1];
    const mx = Math.max(...zl);
    const lse = mx + Math.log(zl.reduce((s, v) => s + Math.exp(v - mx), 0));
    return -y.reduce((s, yk, k) => s + yk * (zl[k] - lse), 0);
  }
  return out.reduce((s, v, k) => s + (v - y[k]) ** 2, 0) / out.length;
}

export function meanLoss(net: Net64, w: ArrayLike<number>, X: number[][], Y: number[][]): number {
  return X.reduce((s, x, n) => s + sampleLoss(net, w, x, Y[n]), 0) / X.length;
}

/** Hessian diagonal of the mean loss by central second differences. */
export function fdHessianDiag(net: Net64, w: Float64Array, X: number[][], Y: number[][], h = 1e-4): Float64Array {
  const out = new Float64Array(w.length);
  const l0 = meanLoss(net, w, X, Y);
  const v = Float64Array.from(w);
  for (let j = 0; j < w.length; j++) {
    v[j] = w[j] + h;
    const lp = meanLoss(net, v, X, Y);
    v[j] = w[j] - h;
    const lm = meanLoss(net, v, X, Y);
    v[j] = w[j];
    out[j] = (lp - 2 * l0 + lm) / (h * h);
  }
  return out;
}

/** Per-sample gradients [N][P] by central first differences. */
export function fdSampleGrads(net: Net64, w: Float64Array, X: number[][], Y: number[][], h = 1e-6): number[][] {
  const v = Float64Array.from(w);
  return X.map((x, n) => {
    const g = new Array(w.length).fill(0);
    for (let j = 0; j < w.length; j++) {
      v[j] = w[j] + h;
      const lp = sampleLoss(net, v, x, Y[n]);
      v[j] = w[j] - h;
      const lm = sampleLoss(net, v, x, Y[n]);
      v[j] = w[j];
      g[j] = (lp - lm) / (2 * h);
    }
    return g;
  });
}

/**
 * Per-sample GGN = J^T H_out J with J the finite-difference Jacobian of the model output w.r.t.
 * the parameters (output = z_L for softmax-CE, whose loss Hessian in z is diag(p) - p p^T;
 * output = a_L for MSE, whose loss Hessian in a is (2/K) I). Returns the mean over samples, [P][P].
 */
export function explicitGgn(net: Net64, w: Float64Array, X: number[][], h = 1e-6): number[][] {
  const P = w.length;
  const L = net.acts.length;
  const K = net.sizes[L];
  const softmax = net.acts[L - 1] === 'softmax';
  const G = Array.from({ length: P }, () => new Array(P).fill(0));
  const v = Float64Array.from(w);
  const outOf = (f: Fwd) => (softmax ? f.z[L - 1] : f.a[L]);
  for (const x of X) {
    const J: number[][] = []; // [P][K]
    for (let j = 0; j < P; j++) {
      v[j] = w[j] + h;
      const op = outOf(forward(net, v, x));
      v[j] = w[j] - h;
      const om = outOf(forward(net, v, x));
      v[j] = w[j];
      J.push(op.map((o, k) => (o - om[k]) / (2 * h)));
    }
    const p = forward(net, w, x).a[L];
    const Hout = (k: number, q: number) => (softmax ? (k === q ? p[k] : 0) - p[k] * p[q] : k === q ? 2 / K : 0);
    for (let i = 0; i < P; i++)
      for (let j = 0; j < P; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) for (let q = 0; q < K; q++) s += J[i][k] * Hout(k, q) * J[j][q];
        G[i][j] += s / X.length;
      }
  }
  return G;
}

/**
 * The backward Hessian recursion with full per-sample matrices in float64 (exact = false drops
 * the f'' terms: the GGN). Returns the diagonal over all parameters of the mean loss.
 */
export function recursionDiag(net: Net64, w: Float64Array, X: number[][], Y: number[][], exact: boolean): Float64Array {
  const off = offsets(net);
  const L = net.acts.length;
  const K = net.sizes[L];
  const out = new Float64Array(w.length);
  X.forEach((x, n) => {
    const { z, a } = forward(net, w, x);
    const y = Y[n];
    // dl/dz_L and the loss Hessian w.r.t. z_L
    let H: number[][];
    let delta: number[];
    if (net.acts[L - 1] === 'softmax') {
      const p = a[L];
      H = p.map((pi, i) => p.map((pj, j) => (i === j ? pi : 0) - pi * pj));
      delta = p.map((pi, i) => pi - y[i]);
    } else {
      const d = z[L - 1].map((v) => act64(net.acts[L - 1], v));
      H = d.map((_, i) =>
        d.map((dj, j) => (i === j ? (2 / K) * (dj[1] * dj[1] + (exact ? (a[L][j] - y[j]) * dj[2] : 0)) : 0)),
      );
      delta = d.map((dj, j) => (2 / K) * (a[L][j] - y[j]) * dj[1]);
    }
    for (let l = L - 1; l >= 0; l--) {
      const din = net.sizes[l],
        dout = net.sizes[l + 1];
      for (let j = 0; j < dout; j++) {
        out[off[l].b + j] += H[j][j] / X.length;
        for (let i = 0; i < din; i++) out[off[l].k + i * dout + j] += (a[l][i] ** 2 * H[j][j]) / X.length;
      }
      if (l === 0) break;
      // down to z_{l-1}: J[j][i] = W_l[i, j] f'(z_{l-1, i})
      const Wl = (i: number, j: number) => w[off[l].k + i * dout + j];
      const d = z[l - 1].map((v) => act64(net.acts[l - 1], v));
      const gA = Array.from({ length: din }, (_, i) => delta.reduce((s, dj, j) => s + dj * Wl(i, j), 0));
      const Hn = Array.from({ length: din }, (_, i) =>
        Array.from({ length: din }, (_, k) => {
          let s = 0;
          for (let j = 0; j < dout; j++) for (let q = 0; q < dout; q++) s += Wl(i, j) * H[j][q] * Wl(k, q);
          return s * d[i][1] * d[k][1] + (i === k && exact ? d[i][2] * gA[i] : 0);
        }),
      );
      H = Hn;
      delta = gA.map((g, i) => g * d[i][1]);
    }
  });
  return out;
}
