// The rank-one eigenproblem of divide and conquer, D + rho z z^T, on both paths (wasm/secular_f64.c and
// the TypeScript rankOne): checked against the matrix itself (residual ||M s_j - lambda_j s_j||,
// orthonormal rows), the interlacing d_j < lambda_j < d_j+1 (lambda_k-1 <= d_k-1 + rho z^T z), the trace
// identity sum lambda = sum d + rho z^T z, and the two paths' agreement. Close poles (gaps of 1e-9) and
// tiny z components are the cases where a careless solver loses orthogonality.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rankOne, rankOneUpdate } from '../../src/engine/linalg/tridiagonalDc';
import { withWasmLinalg } from '../../src/engine/linalg/wasmKernels';
import { Rng } from '../../src/engine/util/random';

const EPS = 2 ** -52;

function problem(k: number, seed: number, close: boolean): { d: Float64Array; z: Float64Array; rho: number } {
  const rng = new Rng(seed);
  const d = Float64Array.from({ length: k }, () => rng.normal()).sort();
  if (close) for (let i = 1; i < k; i += 5) d[i] = d[i - 1] + 1e-9 * (1 + Math.abs(d[i - 1]));
  d.sort();
  const z = Float64Array.from({ length: k }, (_, i) => rng.normal() * (i % 7 === 3 ? 1e-6 : 1));
  const nz = Math.hypot(...z);
  for (let i = 0; i < k; i++) z[i] /= nz;
  return { d, z, rho: rng.uniform(0.5, 1.5) };
}

for (const [k, close] of [
  [17, false],
  [64, true],
  [201, false],
  [200, true],
] as const) {
  test(`rank-one update k=${k}${close ? ' with close poles' : ''}: eigenpairs of D + rho z z^T on both paths`, () => {
    const { d, z, rho } = problem(k, 40 + k, close);
    const runs = [
      withWasmLinalg(true, () => rankOneUpdate(d, z, rho)),
      withWasmLinalg(false, () => rankOneUpdate(d, z, rho)),
      rankOne(d, z, rho),
    ];
    const scale = Math.max(Math.abs(d[0]), Math.abs(d[k - 1])) + rho;
    for (const { lambda, sT } of runs) {
      let zz = 0,
        tr = 0;
      for (let i = 0; i < k; i++) {
        zz += z[i] * z[i];
        tr += d[i];
      }
      let sum = 0;
      for (let j = 0; j < k; j++) {
        sum += lambda[j];
        assert.ok(
          lambda[j] >= d[j] && (j === k - 1 ? lambda[j] <= d[j] + rho * zz * (1 + 4 * EPS) : lambda[j] <= d[j + 1]),
          `interlacing at ${j}`,
        );
        let zs = 0;
        for (let i = 0; i < k; i++) zs += z[i] * sT[j * k + i];
        for (let i = 0; i < k; i++) {
          const r = d[i] * sT[j * k + i] + rho * z[i] * zs - lambda[j] * sT[j * k + i];
          assert.ok(Math.abs(r) < 50 * k * EPS * scale, `residual ${r} at (${i}, ${j})`);
        }
      }
      assert.ok(Math.abs(sum - tr - rho * zz) < 10 * k * EPS * scale, 'trace');
      let orth = 0;
      for (let a = 0; a < k; a++)
        for (let b = a; b < k; b++) {
          let o = 0;
          for (let i = 0; i < k; i++) o += sT[a * k + i] * sT[b * k + i];
          orth = Math.max(orth, Math.abs(o - (a === b ? 1 : 0)));
        }
      assert.ok(orth < 20 * k * EPS, `orthogonality ${orth}`);
    }
    for (let j = 0; j < k; j++)
      assert.ok(Math.abs(runs[0].lambda[j] - runs[2].lambda[j]) < 8 * EPS * scale, `lambda ${j} wasm vs TS`);
  });
}
