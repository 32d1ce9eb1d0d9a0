// Belsley on a covariance/correlation matrix: METHODS.md section 6 cases, proportions against an
// independent cyclic-Jacobi eigendecomposition, and the exact/fast orderings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { belsley } from '../../src/engine/relevance/belsley';
import { PruneScopeError } from '../../src/engine/errors';
import { Rng } from '../../src/engine/util/random';
import { jacobiEigen } from '../linalg/reference';

const close = (a: number, b: number, tol = 1e-12) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

test('METHODS 6, 2 x 2: R = [[1, .9], [.9, 1]] gives eta = [19, 1], q = .95 on eta 19 for both, zeta = 0', () => {
  const r = belsley(Float64Array.from([1, 0.9, 0.9, 1]), 2);
  assert.ok(close(r.conditionIndices[0], 19) && close(r.conditionIndices[1], 1));
  assert.ok(close(r.conditionIndicesBKW[0], Math.sqrt(19)));
  for (let i = 0; i < 2; i++) {
    assert.ok(close(r.proportions[i * 2], 0.95), `q[${i}][0] = ${r.proportions[i * 2]}`);
    assert.ok(close(r.proportions[i * 2 + 1], 0.05));
  }
  assert.equal(r.xi, 0);
  assert.equal(r.zeta, 0); // tie: the lower index
  assert.deepEqual(Array.from(r.order), [0, 1]);
});

test('METHODS 6, diagonal: S = diag(4, 1, .25) standardises to I (all eta 1); unstandardised eta [16, 4, 1]', () => {
  const s = Float64Array.from([4, 0, 0, 0, 1, 0, 0, 0, 0.25]);
  const std = belsley(s, 3);
  for (const e of std.conditionIndices) assert.ok(close(e, 1));
  const raw = belsley(s, 3, { standardize: false });
  assert.deepEqual(Array.from(raw.conditionIndices), [16, 4, 1]);
  // Columns are ordered by decreasing eta (lambda .25, 1, 4), so q is the identity read backwards:
  // parameter 2 (variance .25) owns column 0, parameter 0 (variance 4) owns column 2.
  assert.deepEqual(Array.from(raw.proportions), [0, 0, 1, 0, 1, 0, 1, 0, 0]);
  assert.equal(raw.zeta, 2);
});

function randomCovariance(n: number, seed: number): Float64Array {
  // S = B B^T / m + small diagonal with correlated columns: a generic covariance with distinct eigenvalues.
  const rng = new Rng(seed);
  const m = n + 3;
  const b = Array.from({ length: n * m }, () => rng.normal());
  for (let i = 1; i < n; i += 2) for (let c = 0; c < m; c++) b[i * m + c] += 2 * b[(i - 1) * m + c];
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let v = 0;
      for (let c = 0; c < m; c++) v += b[i * m + c] * b[j * m + c];
      s[i * n + j] = (v / m) * (1 + i) * (1 + j); // unequal scales: standardisation matters
    }
  return s;
}

for (const n of [4, 9, 16]) {
  test(`proportions and indices match a cyclic-Jacobi reference on a random ${n} x ${n} covariance`, () => {
    const s = randomCovariance(n, n);
    const res = belsley(s, n, { ordering: 'fast' });
    const r = Array.from(s, (v, k) => v / Math.sqrt(s[Math.floor(k / n) * (n + 1)] * s[(k % n) * (n + 1)]));
    const ref = jacobiEigen(r, n);
    const cols = ref.values.map((_, j) => j).sort((a, b) => Math.abs(ref.values[a]) - Math.abs(ref.values[b]));
    const lmax = Math.max(...ref.values.map(Math.abs));
    cols.forEach((j, jj) => {
      const eta = lmax / Math.abs(ref.values[j]);
      assert.ok(close(res.conditionIndices[jj], eta, 1e-9), `eta[${jj}] ${res.conditionIndices[jj]} vs ${eta}`);
      assert.ok(close(res.conditionIndicesBKW[jj], Math.sqrt(eta), 1e-9));
    });
    for (let i = 0; i < n; i++) {
      const t = cols.map((j) => ref.vectors[j][i] ** 2 / Math.abs(ref.values[j]));
      const sum = t.reduce((a, b) => a + b, 0);
      let rowSum = 0;
      for (let jj = 0; jj < n; jj++) {
        const got = res.proportions[i * n + jj];
        rowSum += got;
        assert.ok(Math.abs(got - t[jj] / sum) < 1e-9, `q[${i}][${jj}] = ${got} vs ${t[jj] / sum}`);
      }
      assert.ok(Math.abs(rowSum - 1) < 1e-12);
    }
    // zeta = argmax of column xi = 0 in the reference too.
    let best = 0;
    for (let i = 1; i < n; i++) {
      const v = (k: number) =>
        ref.vectors[cols[0]][k] ** 2 /
        Math.abs(ref.values[cols[0]]) /
        cols.reduce((a, j) => a + ref.vectors[j][k] ** 2 / Math.abs(ref.values[j]), 0);
      if (v(i) > v(best)) best = i;
    }
    assert.equal(res.zeta, best);
  });
}

test('exact and fast orderings are permutations and agree on their first element', () => {
  for (const n of [5, 12, 30]) {
    const s = randomCovariance(n, 40 + n);
    const exact = belsley(s, n, { ordering: 'exact' });
    const fast = belsley(s, n, { ordering: 'fast' });
    assert.equal(exact.order[0], fast.order[0]);
    assert.equal(exact.order[0], exact.zeta);
    for (const o of [exact.order, fast.order])
      assert.deepEqual(
        [...o].sort((a, b) => a - b),
        Array.from({ length: n }, (_, i) => i),
      );
  }
});

test('exact ordering removes the collinear pair first: x3 = x0 + x1 + tiny noise', () => {
  // Parameters 0, 1, 3 form a near-dependency; 2 and 4 are independent. After one of {0, 1, 3}
  // is removed the dependency is gone, so the next removals carry no information about it - but
  // the first must come from the dependency.
  const rng = new Rng(11);
  const m = 400,
    n = 5;
  const x = Array.from({ length: m }, () => {
    const a = rng.normal(),
      b = rng.normal();
    return [a, b, rng.normal(), a + b + 1e-3 * rng.normal(), rng.normal()];
  });
  const s = new Float64Array(n * n);
  for (const row of x) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] += (row[i] * row[j]) / m;
  const r = belsley(s, n, { ordering: 'exact' });
  assert.ok([0, 1, 3].includes(r.order[0]), `first removed ${r.order[0]}`);
  assert.ok(r.conditionIndices[0] > 1e5, `eta max ${r.conditionIndices[0]}`);
});

test('bad input: asymmetric, non-positive variance, non-unit correlation diagonal, exact above the limit', () => {
  const isBad = (re: RegExp) => (e: unknown) => e instanceof PruneScopeError && re.test(e.message);
  assert.throws(
    () => belsley(Float64Array.from([1, 0.5, 0.4, 1]), 2, { source: 'S.csv' }),
    isBad(/S\.csv: matrix: not symmetric at \(row 0, column 1\)/),
  );
  assert.throws(() => belsley(Float64Array.from([1, 0, 0, 0]), 2), isBad(/diagonal entry \(row 1, column 1\)/));
  assert.throws(
    () => belsley(Float64Array.from([2, 0, 0, 1]), 2, { input: 'correlation' }),
    isBad(/1 on the diagonal/),
  );
  assert.throws(
    () =>
      belsley(
        new Float64Array(9).fill(0).map((_, i) => (i % 4 === 0 ? 1 : 0)),
        3,
        { ordering: 'exact', exactLimit: 2 },
      ),
    (e: unknown) => e instanceof PruneScopeError && e.code === 'too-large' && /--ordering fast/.test(e.message),
  );
});
