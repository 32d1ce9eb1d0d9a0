// Messages from webviews and the worker are untrusted input: malformed, unexpected and
// over-long messages must be rejected, well-formed ones passed through unchanged.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  parseWebviewMessage,
  parseWorkerMessage,
  parseHostMessage,
  figureProblem,
  figureTable,
} from '../../src/protocol';

test('webview: well-formed messages are accepted as exactly what was sent', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { ok: true, value: { type: 'ready' } });
  assert.deepEqual(parseWebviewMessage({ type: 'requestFigure', requestId: 7, name: 'demo' }), {
    ok: true,
    value: { type: 'requestFigure', requestId: 7, name: 'demo' },
  });
  assert.deepEqual(parseWebviewMessage({ type: 'reportError', message: 'x' }), {
    ok: true,
    value: { type: 'reportError', message: 'x' },
  });
});

test('webview: malformed and unexpected messages are rejected with a reason', () => {
  const bad: unknown[] = [
    null,
    undefined,
    42,
    'ready',
    [],
    [{ type: 'ready' }],
    {},
    { type: 'runJob', kind: 'cell', params: { source: 'process.exit()' } },
    { type: 'ready', extra: 1 },
    { type: 'requestFigure', requestId: -1, name: 'demo' },
    { type: 'requestFigure', requestId: 1.5, name: 'demo' },
    { type: 'requestFigure', requestId: '1', name: 'demo' },
    { type: 'requestFigure', requestId: 1, name: '../../etc/passwd' },
    { type: 'requestFigure', requestId: 1 },
    { type: 'requestFigure', requestId: 1, name: 'demo', modelPath: '/x' },
    { type: 'reportError', message: 'x'.repeat(2001) },
    { type: 'reportError', message: { toString: 'boom' } },
    { type: '__proto__' },
  ];
  for (const m of bad) {
    const r = parseWebviewMessage(m);
    assert.equal(r.ok, false, `accepted ${JSON.stringify(m)}`);
    if (!r.ok) assert.ok(r.reason.length > 0);
  }
});

test('worker -> host: envelopes are checked field by field', () => {
  assert.ok(parseWorkerMessage({ type: 'ready', pid: 1, jobs: ['info'] }));
  assert.ok(parseWorkerMessage({ type: 'progress', id: 3, fraction: 0.5, message: 'half' }));
  assert.ok(parseWorkerMessage({ type: 'result', id: 3, result: { a: 1 }, ms: 2 }));
  assert.ok(parseWorkerMessage({ type: 'error', id: 3, error: { code: 'bad-input', message: 'm' }, ms: 2 }));
  for (const m of [
    { type: 'ready', pid: 1, jobs: [1] },
    { type: 'progress', id: 3, fraction: 1.5 },
    { type: 'progress', id: 3, fraction: Number.NaN },
    { type: 'progress', id: -3 },
    { type: 'result', id: 3 },
    { type: 'error', id: 3, error: 'boom', ms: 1 },
    { type: 'log', level: 'fatal', message: 'x' },
    { type: 'whatever', id: 1 },
  ])
    assert.equal(parseWorkerMessage(m), undefined, JSON.stringify(m));
  assert.deepEqual(parseHostMessage({ type: 'cancel', id: 4 }), { type: 'cancel', id: 4 });
  assert.equal(parseHostMessage({ type: 'cancel', id: 'all' }), undefined);
});

test('figures: only SVG trace types are drawable; tables list every point', () => {
  assert.equal(figureProblem({ data: [{ type: 'bar', x: ['a'], y: [1] }] }), undefined);
  assert.equal(figureProblem({ data: [{ x: [1], y: [1] }] }), undefined, 'plotly default trace type is scatter');
  assert.match(figureProblem({ data: [{ type: 'scatter3d' }] })!, /not an SVG trace type/);
  assert.match(figureProblem({ data: [{ type: 'scattergl' }] })!, /not an SVG trace type/);
  assert.match(figureProblem({ data: {} })!, /array/);
  assert.match(figureProblem({ data: [], layout: [] })!, /layout/);
  const t = figureTable({
    data: [{ type: 'bar', name: 'p', x: ['a', 'b'], y: [1, 0.123456] }],
    layout: { title: { text: 'T' } },
  });
  assert.deepEqual(t, {
    caption: 'T',
    columns: ['series', 'x', 'y'],
    rows: [
      ['p', 'a', '1'],
      ['p', 'b', '0.1235'],
    ],
    truncated: false,
  });
  const h = figureTable(
    {
      data: [
        {
          type: 'heatmap',
          z: [
            [1, 2],
            [3, 4],
          ],
          x: ['c0', 'c1'],
          y: ['r0', 'r1'],
        },
      ],
    },
    3,
  );
  assert.deepEqual(h.rows, [
    ['trace 1', 'c0', 'r0', '1'],
    ['trace 1', 'c1', 'r0', '2'],
    ['trace 1', 'c0', 'r1', '3'],
  ]);
  assert.equal(h.truncated, true);
});

test('webview: what-if, save and export carry only a known method and a share inside (0, 1)', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'whatif', requestId: 3, method: 'obd', share: 0.45 }), {
    ok: true,
    value: { type: 'whatif', requestId: 3, method: 'obd', share: 0.45 },
  });
  assert.deepEqual(parseWebviewMessage({ type: 'savePruned', method: 'belsley', share: 0.9 }), {
    ok: true,
    value: { type: 'savePruned', method: 'belsley', share: 0.9 },
  });
  assert.deepEqual(parseWebviewMessage({ type: 'exportStudent', method: 'random', share: 0.05 }), {
    ok: true,
    value: { type: 'exportStudent', method: 'random', share: 0.05 },
  });
  const bad: unknown[] = [
    { type: 'whatif', requestId: 3, method: 'obd' },
    { type: 'whatif', requestId: 3, method: 'obd', share: 0 },
    { type: 'whatif', requestId: 3, method: 'obd', share: 1 },
    { type: 'whatif', requestId: 3, method: 'obd', share: Number.NaN },
    { type: 'whatif', requestId: 3, method: 'obd', share: '0.5' },
    { type: 'whatif', requestId: -1, method: 'obd', share: 0.5 },
    { type: 'whatif', requestId: 3, method: 'magnitude', share: 0.5 },
    { type: 'whatif', requestId: 3, method: 'toString', share: 0.5 },
    { type: 'whatif', requestId: 3, method: 'obd', share: 0.5, modelPath: '/etc/passwd' },
    { type: 'savePruned', method: 'obd', share: 0.5, out: '/tmp/x' },
    { type: 'savePruned', method: 'obd', share: 1.5 },
    { type: 'savePruned', method: ['obd'], share: 0.5 },
    { type: 'exportStudent', method: 'obd', share: Infinity },
    { type: 'exportStudent', method: 'obd', share: 0.5, widths: [1] },
    { type: 'exportStudent' },
  ];
  for (const m of bad) {
    const r = parseWebviewMessage(m);
    assert.equal(r.ok, false, `accepted ${JSON.stringify(m)}`);
    if (!r.ok) assert.ok(r.reason.length > 0);
  }
});
