// Shared by the Belsley tests: a small tanh network with every parameter nonzero, an independent
// Gauss-Jordan inverse, and a relative closeness check.
import assert from 'node:assert/strict';
import { NetworkSpec, denseFromFlat } from '../../src/engine/model/denseChain';
import type { Graph } from '../../src/engine/model/graph';
import { Rng } from '../../src/engine/util/random';
import type { KroneckerFactors } from '../../src/engine/relevance/covariance/kronecker';

export const SPEC: NetworkSpec = {
  inputSize: 3,
  layers: [
    { name: 'h', units: 2, activation: 'tanh' },
    { name: 'out', units: 1, activation: 'linear' },
  ],
};

/** 3-2-1 tanh, 11 parameters, all nonzero (Graph.random would leave the biases at 0 = pruned). */
export function tinyNet(seed = 3): Graph {
  const rng = new Rng(seed);
  return denseFromFlat(
    SPEC,
    Float32Array.from({ length: 11 }, () => rng.uniform(0.2, 1.2) * (rng.next() < 0.5 ? -1 : 1)),
  );
}

/** Gauss-Jordan inverse with partial pivoting (independent of the product's eigh). */
export function invert(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[p * n + c])) p = r;
    for (let k = 0; k < n; k++) {
      [m[c * n + k], m[p * n + k]] = [m[p * n + k], m[c * n + k]];
      [inv[c * n + k], inv[p * n + k]] = [inv[p * n + k], inv[c * n + k]];
    }
    const d = m[c * n + c];
    for (let k = 0; k < n; k++) {
      m[c * n + k] /= d;
      inv[c * n + k] /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c];
      if (f === 0) continue;
      for (let k = 0; k < n; k++) {
        m[r * n + k] -= f * m[c * n + k];
        inv[r * n + k] -= f * inv[c * n + k];
      }
    }
  }
  return inv;
}

export function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

/** The explicit Kronecker product a (x) g, cell (i, j) at i * ng + j. */
export function kron(a: Float64Array, na: number, g: Float64Array, ng: number): Float64Array {
  const n = na * ng;
  const out = new Float64Array(n * n);
  for (let i = 0; i < na; i++)
    for (let j = 0; j < ng; j++)
      for (let k = 0; k < na; k++)
        for (let l = 0; l < ng; l++) out[(i * ng + j) * n + k * ng + l] = a[i * na + k] * g[j * ng + l];
  return out;
}

/** The damped precision N (A + pi d I) (x) (G + d / pi I) over all cells, built here from its definition. */
export function dampedPrecision(f: KroneckerFactors, tau: number, N: number): Float64Array {
  let ta = 0,
    tg = 0;
  for (let i = 0; i < f.nA; i++) ta += f.a[i * f.nA + i];
  for (let j = 0; j < f.nG; j++) tg += f.g[j * f.nG + j];
  const d = Math.sqrt(tau / N);
  const pi = Math.sqrt(ta / f.nA / (tg / f.nG));
  const a = Float64Array.from(f.a);
  const g = Float64Array.from(f.g);
  for (let i = 0; i < f.nA; i++) a[i * f.nA + i] += pi * d;
  for (let j = 0; j < f.nG; j++) g[j * f.nG + j] += d / pi;
  return kron(a, f.nA, g, f.nG).map((v) => v * N);
}
