// The Distill into Student prompts' parsing (args.ts, no VS Code): what Enter on each default gives,
// what is refused and why, and settings.json values out of range falling back to the defaults.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { DISTILL_DEFAULTS, DISTILL_RULES, parseNumberInput, readDistillSettings } from '../../src/extension/args';

const ok = (text: string, k: keyof typeof DISTILL_RULES) => {
  const r = parseNumberInput(text, DISTILL_RULES[k]);
  assert.ok(r.ok, `${k} ${JSON.stringify(text)}: ${r.ok ? '' : r.reason}`);
  return r.value;
};
const reason = (text: string, k: keyof typeof DISTILL_RULES) => {
  const r = parseNumberInput(text, DISTILL_RULES[k]);
  assert.ok(!r.ok, `${k} accepted ${JSON.stringify(text)}`);
  return r.reason;
};

test("Enter on each prompt (the default as its value) gives the engine's defaults: temperature 4, alpha 0.7, epochs 100", () => {
  const d = readDistillSettings(() => undefined);
  assert.deepEqual(d, { temperature: 4, alpha: 0.7, epochs: 100 });
  assert.deepEqual(d, DISTILL_DEFAULTS);
  for (const k of ['temperature', 'alpha', 'epochs'] as const) assert.equal(ok(String(d[k]), k), d[k]);
});

test('valid entries parse to their numbers', () => {
  assert.equal(ok(' 2.5 ', 'temperature'), 2.5);
  assert.equal(ok('.5', 'temperature'), 0.5);
  assert.equal(ok('1e2', 'temperature'), 100);
  assert.equal(ok('1000', 'temperature'), 1000);
  assert.equal(ok('0', 'alpha'), 0);
  assert.equal(ok('1', 'alpha'), 1);
  assert.equal(ok('0.75', 'alpha'), 0.75);
  assert.equal(ok('1', 'epochs'), 1);
  assert.equal(ok('250', 'epochs'), 250);
  assert.equal(ok('1e3', 'epochs'), 1000);
});

test('invalid entries are refused with a message naming the setting and its range', () => {
  for (const t of ['', 'abc', '4x', '1,5', 'NaN', 'Infinity', '--1', '0x10'])
    assert.match(
      reason(t, 'temperature'),
      /^Enter a number: the temperature must be a number greater than 0 and at most 1000$/,
    );
  assert.match(reason('0', 'temperature'), /temperature must be a number greater than 0 and at most 1000 \(got 0\)/);
  assert.match(reason('-1', 'temperature'), /greater than 0.*\(got -1\)/);
  assert.match(reason('1001', 'temperature'), /at most 1000/);
  assert.match(
    reason('1.5', 'alpha'),
    /^Alpha \(the weight of the soft-target loss\) must be a number from 0 to 1 \(got 1\.5\)$/,
  );
  assert.match(reason('-0.1', 'alpha'), /from 0 to 1/);
  assert.match(reason('2.5', 'epochs'), /^Epochs must be a whole number from 1 to 100000 \(got 2\.5\)$/);
  assert.match(reason('0', 'epochs'), /whole number from 1 to 100000/);
  assert.match(reason('100001', 'epochs'), /whole number from 1 to 100000/);
});

test('settings provide the defaults; out-of-range or mistyped values fall back to the built-in ones', () => {
  const from = (o: Record<string, unknown>) => readDistillSettings((k) => o[k]);
  assert.deepEqual(from({ 'distill.temperature': 2, 'distill.alpha': 0.9, 'distill.epochs': 30 }), {
    temperature: 2,
    alpha: 0.9,
    epochs: 30,
  });
  assert.deepEqual(from({ 'distill.temperature': 0, 'distill.alpha': 1.5, 'distill.epochs': 2.5 }), DISTILL_DEFAULTS);
  assert.deepEqual(from({ 'distill.temperature': '3', 'distill.alpha': null, 'distill.epochs': -1 }), DISTILL_DEFAULTS);
});
