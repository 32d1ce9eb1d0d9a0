// The WebAssembly SIMD kernels (src/engine/linalg/wasm/*.c) against independent references: the GEMM
// against the naive triple loop and the TypeScript GEMM on odd shapes, transposes, offsets and leading
// dimensions; eigh with and without wasm (reconstruction and orthogonality at the 20 n eps level, the
// ill-conditioned spectrum logspace(0, -14)); the Gram route on both paths; and the fallback switches
// (setWasmLinalgEnabled(false), PRUNESCOPE_NO_WASM_LINALG=1 read at call time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gemmTs, gemmWasm, view } from '../../src/engine/linalg/gemm';
import { eigh } from '../../src/engine/linalg/eigh';
import { gramEig } from '../../src/engine/linalg/gram';
import { wasmKernels, withWasmLinalg } from '../../src/engine/linalg/wasmKernels';
import { Rng } from '../../src/engine/util/random';
import { logspace, maxAbs, randomOrthogonal, randomSymmetric, residuals, withSpectrum } from './reference';

const EPS = 2 ** -52;

test('the wasm kernels instantiate on Node 20 (SIMD128) and can be switched off', () => {
  assert.ok(wasmKernels(), 'module instantiated');
  withWasmLinalg(false, () => assert.equal(wasmKernels(), undefined));
  const prev = process.env.PRUNESCOPE_NO_WASM_LINALG;
  process.env.PRUNESCOPE_NO_WASM_LINALG = '1';
  try {
    assert.equal(wasmKernels(), undefined);
    const c = new Float64Array(4);
    assert.equal(
      gemmWasm(
        false,
        false,
        2,
        2,
        1,
        1,
        view(new Float64Array([1, 2]), 1),
        view(new Float64Array([3, 4]), 2),
        0,
        view(c, 2),
      ),
      false,
    );
    assert.deepEqual(Array.from(c), [0, 0, 0, 0], 'the wasm route did nothing when disabled');
  } finally {
    if (prev === undefined) delete process.env.PRUNESCOPE_NO_WASM_LINALG;
    else process.env.PRUNESCOPE_NO_WASM_LINALG = prev;
  }
  assert.ok(wasmKernels());
});

function naive(
  ta: boolean,
  tb: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float64Array,
  aOff: number,
  lda: number,
  b: Float64Array,
  bOff: number,
  ldb: number,
  beta: number,
  c: Float64Array,
  cOff: number,
  ldc: number,
): void {
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++)
        s +=
          (ta ? a[aOff + p * lda + i] : a[aOff + i * lda + p]) * (tb ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j]);
      const ci = cOff + i * ldc + j;
      c[ci] = alpha * s + (beta === 0 ? 0 : beta * c[ci]);
    }
}

// Sizes cover the 4 x 4 tile edges, KC = 256 and MC = 96 block boundaries, and k = 1.
const cases: [number, number, number][] = [
  [1, 1, 1],
  [2, 3, 5],
  [5, 7, 1],
  [97, 6, 257],
  [13, 101, 40],
  [98, 35, 513],
];
for (const [m, n, k] of cases) {
  for (const ta of [false, true])
    for (const tb of [false, true]) {
      test(`wasm gemm ${m}x${n}x${k} transA=${ta} transB=${tb} matches the triple loop and the TS gemm`, () => {
        const rng = new Rng(m * 7919 + n * 31 + k);
        const lda = (ta ? m : k) + 3,
          ldb = (tb ? k : n) + 1,
          ldc = n + 4;
        const a = Float64Array.from({ length: 5 + (ta ? k : m) * lda }, () => rng.normal());
        const b = Float64Array.from({ length: 3 + (tb ? n : k) * ldb }, () => rng.normal());
        const c0 = Float64Array.from({ length: 6 + m * ldc }, () => rng.normal());
        for (const [alpha, beta] of [
          [1, 0],
          [-0.75, 1],
          [1.5, -2],
        ]) {
          const got = Float64Array.from(c0),
            ts = Float64Array.from(c0),
            want = Float64Array.from(c0);
          assert.equal(
            gemmWasm(ta, tb, m, n, k, alpha, view(a, lda, 5), view(b, ldb, 3), beta, view(got, ldc, 6)),
            true,
          );
          gemmTs(ta, tb, m, n, k, alpha, view(a, lda, 5), view(b, ldb, 3), beta, view(ts, ldc, 6));
          naive(ta, tb, m, n, k, alpha, a, 5, lda, b, 3, ldb, beta, want, 6, ldc);
          for (let i = 0; i < got.length; i++) {
            const tol = 1e-13 * (k + 1) * (1 + Math.abs(want[i]));
            assert.ok(Math.abs(got[i] - want[i]) <= tol, `entry ${i}: ${got[i]} vs loop ${want[i]}`);
            assert.ok(Math.abs(got[i] - ts[i]) <= tol, `entry ${i}: ${got[i]} vs TS ${ts[i]}`);
          }
        }
      });
    }
}

for (const n of [17, 64, 257]) {
  test(`eigh ${n} x ${n} with and without wasm: both reconstruct A with orthonormal vectors, same values`, () => {
    const a = randomSymmetric(n, 500 + n);
    const tol = 20 * n * EPS;
    const runs = [true, false].map((on) => withWasmLinalg(on, () => eigh(a, n)));
    for (const { values, vectors } of runs) {
      const { rec, orth } = residuals(a, values, vectors!, n);
      assert.ok(rec / maxAbs(a) < tol, `reconstruction ${rec / maxAbs(a)}`);
      assert.ok(orth < tol, `orthogonality ${orth}`);
    }
    for (let j = 0; j < n; j++)
      assert.ok(Math.abs(runs[0].values[j] - runs[1].values[j]) < tol * maxAbs(runs[1].values));
  });
}

for (const n of [50, 200]) {
  test(`eigh with wasm recovers logspace(0, -14) of an ill-conditioned ${n} x ${n} matrix`, () => {
    const lambda = logspace(0, -14, n);
    const a = withSpectrum(randomOrthogonal(n, 70 + n), lambda, n);
    const { values, vectors } = eigh(a, n);
    const want = [...lambda].sort((x, y) => x - y);
    let err = 0;
    for (let j = 0; j < n; j++) err = Math.max(err, Math.abs(values[j] - want[j]));
    assert.ok(err < 20 * n * EPS, `max eigenvalue error ${err}`);
    assert.ok(residuals(a, values, vectors!, n).orth < 20 * n * EPS);
  });
}

test('gramEig gives the same eigenpairs with and without wasm, and they satisfy Y Y^T u = s u', () => {
  const k = 9,
    n = 1500;
  const rng = new Rng(11);
  const snaps = Float64Array.from({ length: k * n }, () => rng.normal());
  const [w, t] = [true, false].map((on) => withWasmLinalg(on, () => gramEig(snaps, k, n)));
  assert.equal(w.r, k);
  assert.equal(t.r, k);
  for (let j = 0; j < k; j++) {
    assert.ok(Math.abs(w.values[j] - t.values[j]) < 1e-12 * w.values[0]);
    // Y Y^T u = sum_a snaps[a] (snaps[a] . u), compared with s u.
    const u = w.vectorsT.subarray(j * n, j * n + n);
    const yu = new Float64Array(n);
    for (let a = 0; a < k; a++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += snaps[a * n + i] * u[i];
      for (let i = 0; i < n; i++) yu[i] += dot * snaps[a * n + i];
    }
    let err = 0,
      sign = 0;
    for (let i = 0; i < n; i++) {
      err = Math.max(err, Math.abs(yu[i] - w.values[j] * u[i]));
      sign += u[i] * t.vectorsT[j * n + i];
    }
    assert.ok(err < 1e-10 * w.values[0], `residual ${err}`);
    assert.ok(Math.abs(Math.abs(sign) - 1) < 1e-10, `|u_wasm . u_ts| = ${Math.abs(sign)}`);
  }
});
