// Low-rank plus isotropic diagonal model: against the dense model R = (1 - rho) Z Z^T + rho I
// decomposed by the test's own cyclic Jacobi.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { belsleyLowRank, denseModel } from '../../src/engine/relevance/belsleyLowRank';
import { Rng } from '../../src/engine/util/random';
import { jacobiEigen } from '../linalg/reference';

function snapshots(k: number, n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const s = Float64Array.from({ length: k * n }, () => rng.normal());
  // Make parameters 0 and 1 move together across snapshots.
  for (let a = 0; a < k; a++) s[a * n + 1] = s[a * n] + 0.05 * rng.normal();
  return s;
}

test('low-rank model: components, pooled complement and proportions match the dense model', () => {
  const k = 5,
    n = 14,
    rho = 0.1;
  const snaps = snapshots(k, n, 3);
  const res = belsleyLowRank(snaps, k, n, rho);
  // Reference: centre and standardise by hand, form R densely, Jacobi.
  const z = Float64Array.from(snaps);
  for (let i = 0; i < n; i++) {
    let mean = 0;
    for (let a = 0; a < k; a++) mean += z[a * n + i] / k;
    let ss = 0;
    for (let a = 0; a < k; a++) {
      z[a * n + i] -= mean;
      ss += z[a * n + i] ** 2;
    }
    for (let a = 0; a < k; a++) z[a * n + i] /= Math.sqrt(ss);
  }
  const rDense = denseModel(z, k, n, rho);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(rDense[i * n + i] - 1) < 1e-14, 'unit diagonal');
  const ref = jacobiEigen(rDense, n);
  const r = k - 1; // centring removes one direction
  assert.equal(res.nComponents, r + 1);
  // Column 0 is the pooled complement (smallest eigenvalue rho, multiplicity n - r).
  assert.ok(Math.abs(res.eigenvalues[0] - rho) < 1e-14);
  assert.equal(res.multiplicity[0], n - r);
  const isComp = ref.values.map((v) => Math.abs(v - rho) < 1e-9);
  assert.equal(isComp.filter(Boolean).length, n - r);
  const others = ref.values
    .map((_, j) => j)
    .filter((j) => !isComp[j])
    .sort((a, b) => ref.values[a] - ref.values[b]);
  const lmax = ref.values[others[others.length - 1]];
  others.forEach((j, t) => {
    assert.ok(
      Math.abs(res.eigenvalues[t + 1] - ref.values[j]) < 1e-12,
      `lambda ${res.eigenvalues[t + 1]} vs ${ref.values[j]}`,
    );
    assert.ok(Math.abs(res.conditionIndices[t + 1] - lmax / ref.values[j]) < 1e-10 * (lmax / ref.values[j]));
  });
  assert.ok(Math.abs(res.conditionIndices[0] - lmax / rho) < 1e-10 * (lmax / rho));
  for (let i = 0; i < n; i++) {
    const t = ref.values.map((v, j) => ref.vectors[j][i] ** 2 / v);
    const sum = t.reduce((a, b) => a + b, 0);
    const compWant = ref.values.reduce((a, _, j) => a + (isComp[j] ? t[j] : 0), 0) / sum;
    assert.ok(Math.abs(res.proportions[i * (r + 1)] - compWant) < 1e-9, `complement q[${i}]`);
    others.forEach((j, c) =>
      assert.ok(Math.abs(res.proportions[i * (r + 1) + c + 1] - t[j] / sum) < 1e-9, `q[${i}][${c + 1}]`),
    );
  }
  assert.equal(res.order.length, n);
  assert.deepEqual(
    [...res.order].sort((a, b) => a - b),
    Array.from({ length: n }, (_, i) => i),
  );
});

test('low-rank exact ordering (Gram route per removal) agrees with fast on the first element and is a permutation', () => {
  const k = 6,
    n = 12;
  const snaps = snapshots(k, n, 8);
  const fast = belsleyLowRank(snaps, k, n, 0.2);
  const exact = belsleyLowRank(snaps, k, n, 0.2, { ordering: 'exact' });
  assert.equal(exact.input, 'low-rank');
  assert.equal(fast.order[0], exact.order[0]);
  assert.equal(exact.order[0], exact.zeta);
  assert.deepEqual(
    [...exact.order].sort((a, b) => a - b),
    Array.from({ length: n }, (_, i) => i),
  );
  // With n > K the pooled complement (lambda = rho) is the top-eta column, so zeta is the parameter
  // with the largest complement share 1 - sum_j u_ij^2, i.e. the lowest leverage in the snapshot factor.
  const c = fast.nComponents;
  let best = 0;
  for (let i = 1; i < n; i++) if (fast.proportions[i * c] > fast.proportions[best * c]) best = i;
  assert.equal(exact.order[0], best);
});

test('low-rank refuses rho outside (0, 1] and a constant parameter', () => {
  const snaps = snapshots(4, 6, 1);
  assert.throws(() => belsleyLowRank(snaps, 4, 6, 0), /rho/);
  const c = Float64Array.from(snaps);
  for (let a = 0; a < 4; a++) c[a * 6 + 2] = 1;
  assert.throws(() => belsleyLowRank(c, 4, 6, 0.5), /parameter 2 does not vary/);
});
