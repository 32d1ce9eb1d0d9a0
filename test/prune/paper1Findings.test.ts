// paper1's stated findings against hand-made curves whose answers are known: ties with random are
// ties, the best method is named per range of shares, Wine's one-sample tolerance and seed ranges,
// the MSE's missing 1/2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paper1Findings } from '../../src/engine/experiments/paper1Findings';
import type { Paper1Result } from '../../src/engine/experiments/paper1';
import { summarise, type Curve } from '../../src/engine/prune/curves';

const SHARES = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/** A result from per-seed curves (runs[seed][method] = values on SHARES) and per-seed baselines. */
function result(
  metric: 'accuracy' | 'mse',
  data: string,
  perSeed: Record<string, number[]>[],
  baselines: number[],
  testRows: number,
): Paper1Result {
  const methods = Object.keys(perSeed[0]);
  const curves: Record<string, Curve> = {};
  for (const m of methods) curves[m] = summarise(perSeed.map((s) => s[m]));
  const mean = baselines.reduce((a, b) => a + b, 0) / baselines.length;
  return {
    data,
    metric,
    shares: SHARES,
    curves,
    baseline: { mean, sd: 0 },
    setup: { description: data } as Paper1Result['setup'],
    provenance: {} as Paper1Result['provenance'],
    runs: perSeed.map((s, i) => ({
      seed: i,
      curves: {
        metric,
        shares: SHARES,
        baseline: baselines[i],
        curves: Object.fromEntries(methods.map((m) => [m, summarise([s[m]])])),
      },
      split: { test: { rows: testRows } },
    })) as unknown as Paper1Result['runs'],
  };
}

test('regression: a tie at 0 % with random is a tie, not a loss; no method beyond 0-20 %; best per range; the MSE has no 1/2', () => {
  const seed = {
    random: [10, 30, 50, 70, 90, 100, 120, 140, 160, 180, 300],
    obd: [10, 10.2, 10.4, 12, 14, 20, 30, 60, 90, 120, 300],
    variational: [10, 11, 13, 20, 30, 40, 50, 60, 50, 40, 300],
    belsley: [10, 20, 40, 60, 80, 100, 110, 120, 130, 140, 300],
  };
  const r = result('mse', 'boston', [seed, seed], [10, 10], 102);
  const lines = paper1Findings(r);
  const all = lines.join('\n');
  assert.match(
    all,
    /random 0 % \(0 %-0 %\), obd 20 % \(20 %-20 %\), variational 0 % \(0 %-0 %\), belsley 0 % \(0 %-0 %\)/,
  );
  assert.match(
    all,
    /At 5 % against random removal \(0 %\): obd keeps quality longer than random removal; variational, belsley tie with it\./,
  );
  assert.doesNotMatch(all, /do not|does not beat/);
  assert.match(all, /No method keeps boston's test mse within 5 % beyond 0-20 % of the weights removed\./);
  // Ranges (100 % left out): 0-20 % obd (10, 10.2, 10.4); 30-40 % obd (12, 14); 50-60 % obd (20, 30);
  // 70-80 % variational (60, 50) = 55 against obd 75; 90 % variational 40.
  assert.match(
    all,
    /Lowest mean test MSE by range of shares removed: 0-20 %: obd \(10\.2\); 30-40 %: obd \(13\.0\); 50-60 %: obd \(25\.0\); 70-80 %: variational \(55\.0\); 90 %: variational \(40\.0\)\./,
  );
  assert.match(all, /without a factor 1\/2.*2\/N times.*order is unchanged/);
});

test("classification: Wine's one test sample (2.8 points) stated beside the 1-point figure, its own shares with seed ranges, ties named", () => {
  const a = {
    random: [0.97, 0.97, 0.97, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.4, 0.4],
    obd: [0.97, 0.97, 0.97, 0.97, 0.95, 0.95, 0.9, 0.8, 0.6, 0.5, 0.4],
  };
  const b = {
    random: [0.94, 0.94, 0.94, 0.92, 0.8, 0.7, 0.6, 0.5, 0.4, 0.4, 0.4],
    obd: [0.94, 0.94, 0.94, 0.94, 0.94, 0.94, 0.92, 0.8, 0.6, 0.5, 0.4],
  };
  const r = result('accuracy', 'wine', [a, b], [0.97, 0.94], 36);
  const all = paper1Findings(r).join('\n');
  assert.match(all, /the test part has 36 rows: one sample is 2\.8 points/);
  // Means (baseline 0.955): random [0.955, 0.955, 0.955, 0.91, ...]; obd [0.955 x 4, 0.945, 0.945, 0.91, ...].
  // 1 point (>= 0.945): random to 20 %, obd to 50 %; per seed (a: >= 0.96, b: >= 0.93) random 20/20, obd 30/50.
  assert.match(all, /within 1 accuracy point .*: random 20 % \(20 %-20 %\), obd 50 % \(30 %-50 %\)/);
  // One sample (>= 0.955 - 1/36): random to 20 %, obd to 50 %; per seed random 20/30, obd 50/60.
  assert.match(all, /within one test sample \(2\.8 points\).*: random 20 % \(20 %-30 %\), obd 50 % \(50 %-60 %\)/);
  // 0-20 %: random and obd tie at 0.955; 30-40 %: obd (0.955 + 0.945) / 2.
  assert.match(
    all,
    /Highest mean test accuracy by range of shares removed: 0-20 %: random = obd \(0\.955\); 30-40 %: obd \(0\.950\);/,
  );
  assert.doesNotMatch(all, /1\/2/);
});
