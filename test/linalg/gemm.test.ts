// gemm against a naive triple loop on odd sizes, every transpose combination, offsets and leading
// dimensions (sub-blocks of a bigger buffer), alpha/beta, and sizes crossing the KC/MC/NC blocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gemm, view } from '../../src/engine/linalg/gemm';
import { Rng } from '../../src/engine/util/random';

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
      for (let p = 0; p < k; p++) {
        const x = ta ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
        const y = tb ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
        s += x * y;
      }
      const ci = cOff + i * ldc + j;
      c[ci] = alpha * s + (beta === 0 ? 0 : beta * c[ci]);
    }
}

const cases: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [13, 9, 1],
  [17, 33, 65],
  [67, 5, 259],
  [70, 130, 301],
  [131, 7, 3],
];
for (const [m, n, k] of cases) {
  for (const ta of [false, true])
    for (const tb of [false, true]) {
      test(`gemm ${m}x${n}x${k} transA=${ta} transB=${tb} matches the triple loop`, () => {
        const rng = new Rng(m * 1000 + n * 10 + k);
        // Sub-blocks: leading dimensions larger than the rows, nonzero offsets.
        const lda = (ta ? m : k) + 3,
          ldb = (tb ? k : n) + 2,
          ldc = n + 5;
        const aRows = ta ? k : m,
          bRows = tb ? n : k;
        const a = Float64Array.from({ length: 4 + aRows * lda }, () => rng.normal());
        const b = Float64Array.from({ length: 7 + bRows * ldb }, () => rng.normal());
        const c0 = Float64Array.from({ length: 2 + m * ldc }, () => rng.normal());
        for (const [alpha, beta] of [
          [1, 0],
          [-0.5, 1],
          [2, -1.5],
        ]) {
          const got = Float64Array.from(c0),
            want = Float64Array.from(c0);
          gemm(ta, tb, m, n, k, alpha, view(a, lda, 4), view(b, ldb, 7), beta, view(got, ldc, 2));
          naive(ta, tb, m, n, k, alpha, a, 4, lda, b, 7, ldb, beta, want, 2, ldc);
          for (let i = 0; i < got.length; i++) {
            // Entries outside the m x n block (padding columns) must be untouched.
            assert.ok(
              Math.abs(got[i] - want[i]) <= 1e-13 * (k + 1) * (1 + Math.abs(want[i])),
              `entry ${i}: ${got[i]} vs ${want[i]} (alpha ${alpha}, beta ${beta})`,
            );
          }
        }
      });
    }
}

test('gemm with beta = 0 ignores NaN in C and with k = 0 only scales C', () => {
  const a = new Float64Array([1, 2]),
    b = new Float64Array([3, 4]);
  const c = new Float64Array([NaN, NaN, NaN, NaN]);
  gemm(false, false, 2, 2, 1, 1, view(a, 1), view(b, 2), 0, view(c, 2));
  assert.deepEqual(Array.from(c), [3, 4, 6, 8]);
  gemm(false, false, 2, 2, 0, 1, view(a, 1), view(b, 2), 0.5, view(c, 2));
  assert.deepEqual(Array.from(c), [1.5, 2, 3, 4]);
});
