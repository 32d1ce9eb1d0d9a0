// The channel view's pure parts: the groups table, the relevance bars and their data table, the
// first convolution's filters as pixels (checked against the kernel normalised by hand), the
// structured what-if's text, the pages' structured requests, and the host's loading of the view
// and its job parameters with a fake worker that records what it was asked.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  channelBars,
  filterImages,
  filterMosaic,
  groupRows,
  structuredWhatifText,
} from '../../src/protocol/channelView';
import {
  figureTable,
  parseWebviewMessage,
  type FirstConvFilters,
  type GroupSummary,
  type JobKind,
  type JobParams,
  type JobResult,
} from '../../src/protocol';
import { loadStructured, whatifParams, type JobCaller } from '../../src/extension/structuredPanel';

const groups: GroupSummary[] = [
  {
    id: 0,
    producers: ['c1'],
    channels: 3,
    removable: 3,
    fixedBecause: [],
    paramsPerChannel: [13, 13, 13],
    macsPerChannel: [600, 600, 600],
    members: [
      { node: 'c1', weight: 'kernel', axis: 3, role: 'producer' },
      { node: 'bn1', weight: 'gamma', axis: 0, role: 'channel' },
      { node: 'c2', weight: 'kernel', axis: 2, role: 'consumer' },
    ],
  },
  {
    id: 2,
    producers: ['out'],
    channels: 10,
    removable: 0,
    fixedBecause: ['out is a graph output'],
    paramsPerChannel: [],
    macsPerChannel: [],
    members: [{ node: 'out', weight: 'kernel', axis: 1, role: 'producer' }],
  },
];

test('groups table: one row per group of the groups job, members and fixed reasons listed', () => {
  const rows = groupRows(groups);
  assert.deepEqual(
    rows.map((r) => [r.id, r.producers, r.channels, r.removable, r.fixed]),
    [
      [0, 'c1', 3, 3, ''],
      [2, 'out', 10, 0, 'out is a graph output'],
    ],
  );
  assert.equal(rows[0].members, 'c1.kernel (producer), bn1.gamma (channel), c2.kernel (consumer)');
});

test('relevance bars: one bar per removable channel with its score; the data table lists them', () => {
  const fig = channelBars({ group: 0, producers: ['c1'], scores: [0.5, null, 2, 0.125] }, 'obd');
  assert.deepEqual(fig.data[0].x, ['ch 0', 'ch 2', 'ch 3']);
  assert.deepEqual(fig.data[0].y, [0.5, 2, 0.125]);
  assert.equal(fig.data[0].type, 'bar');
  const t = figureTable(fig);
  assert.deepEqual(t.rows, [
    ['obd relevance', 'ch 0', '0.5000'],
    ['obd relevance', 'ch 2', '2'],
    ['obd relevance', 'ch 3', '0.1250'],
  ]);
  assert.match(t.caption, /c1: obd relevance per channel/);
});

// A 2x3 kernel, 2 input channels, 3 filters; value at (i, j, c, o) chosen so every filter differs.
function kernelOf(v: (i: number, j: number, c: number, o: number) => number): FirstConvFilters {
  const kernel: number[] = [];
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 3; j++) for (let c = 0; c < 2; c++) for (let o = 0; o < 3; o++) kernel.push(v(i, j, c, o));
  return { layer: 'c1', kernelSize: [2, 3], inChannels: 2, filters: 3, kernel, relevance: [1.5, null, 0.25] };
}

test('filters: pixels are the kernel of each filter scaled from its min (0) to its max (255)', () => {
  const v = (i: number, j: number, c: number, o: number) =>
    o === 2 ? 0.7 : Math.sin(1 + i * 3 + j + 7 * c + 11 * o) * (c + 1);
  const f = kernelOf(v);
  const norm = (xs: number[]) => {
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    return xs.map((x) => Math.round(((x - lo) / (hi - lo)) * 255));
  };
  for (const [input, value] of [
    [0, (i: number, j: number, o: number) => v(i, j, 0, o)],
    [1, (i: number, j: number, o: number) => v(i, j, 1, o)],
    ['mean', (i: number, j: number, o: number) => (v(i, j, 0, o) + v(i, j, 1, o)) / 2],
  ] as const) {
    const imgs = filterImages(f, input);
    assert.equal(imgs.length, 3);
    for (const o of [0, 1]) {
      const raw = [0, 1].flatMap((i) => [0, 1, 2].map((j) => value(i, j, o)));
      assert.deepEqual(Array.from(imgs[o].pixels), norm(raw), `filter ${o}, input ${input}`);
      assert.deepEqual([imgs[o].width, imgs[o].height], [3, 2]);
    }
    assert.deepEqual(Array.from(imgs[2].pixels), [128, 128, 128, 128, 128, 128], 'a constant filter is mid-grey');
    assert.deepEqual(
      imgs.map((m) => m.relevance),
      [1.5, null, 0.25],
    );
  }
  assert.throws(() => filterImages(f, 2), /input channel 2/);
  assert.throws(() => filterImages({ ...f, kernel: f.kernel.slice(1) }), /kernel has 35 values/);
});

test('filter mosaic (the notebook drawing): each filter pixels in its own columns, nulls between', () => {
  const f = kernelOf((i, j, c, o) => i * 10 + j + c * 0.5 + o * 100 * (j % 2));
  const fig = filterMosaic(f, 0);
  const z = fig.data[0].z as (number | null)[][];
  const imgs = filterImages(f, 0);
  assert.equal(z.length, 2);
  assert.equal(z[0].length, 3 * 4 - 1);
  for (const img of imgs)
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++)
        assert.equal(z[i][img.filter * 4 + j], img.pixels[i * 3 + j], `${img.filter} ${i} ${j}`);
  assert.deepEqual([z[0][3], z[1][7]], [null, null]);
  const xaxis = fig.layout!.xaxis as { tickvals: number[]; ticktext: string[] };
  assert.deepEqual(xaxis.tickvals, [1, 5, 9]);
  assert.deepEqual(xaxis.ticktext, ['#0: 1.50', '#1: fixed', '#2: 0.250']);
  assert.equal(fig.data[0].type, 'heatmap');
});

test('structured what-if text: channels removed, the metric, parameters and FLOPs left', () => {
  const s = structuredWhatifText({
    method: 'obd',
    metric: 'accuracy',
    value: 0.9123,
    baseline: 0.95,
    structured: {
      unit: 'channels',
      removedChannels: 5,
      removableChannels: 10,
      paramsLeft: 250,
      paramsTotal: 1000,
      macsLeft: 3000,
      macsTotal: 12000,
    },
  });
  assert.equal(
    s,
    'obd: 5 of 10 channels removed; test accuracy 91.2% (baseline 95.0%); parameters left 250 of 1000 (25.0%); FLOPs left 3000 of 12000 multiply-adds (25.0%)',
  );
});

test('pages: what-if, save and export may ask for whole channels, and nothing else', () => {
  const w = { type: 'whatif', requestId: 4, method: 'belsley', share: 0.3, structured: 'channels' };
  assert.deepEqual(parseWebviewMessage(w), { ok: true, value: w });
  for (const type of ['savePruned', 'exportStudent']) {
    const m = { type, method: 'obd', share: 0.5, structured: 'channels' };
    assert.deepEqual(parseWebviewMessage(m), { ok: true, value: m });
  }
  for (const structured of ['units', 'none', 1, null])
    assert.equal(parseWebviewMessage({ ...w, structured }).ok, false, String(structured));
});

test('host: the channel slider asks the whatif job for structured channels at its share', () => {
  const focus = { modelPath: '/m/model.json', data: 'digits' };
  assert.deepEqual(
    whatifParams(focus, { type: 'whatif', requestId: 1, method: 'obd', share: 0.35, structured: 'channels' }),
    { modelPath: '/m/model.json', data: 'digits', seed: 0, method: 'obd', share: 0.35, structured: 'channels' },
  );
  const plain = whatifParams(focus, { type: 'whatif', requestId: 2, method: 'random', share: 0.5 });
  assert.equal('structured' in plain, false, 'the weight slider stays weight-level');
});

/** A fake worker: answers from `results` and records every request. */
function fakeWorker(firstConv: FirstConvFilters | undefined) {
  const calls: { kind: JobKind; params: unknown }[] = [];
  const call: JobCaller = async <K extends JobKind>(kind: K, params: JobParams<K>) => {
    calls.push({ kind, params });
    const p = params as { method?: string };
    const results: Partial<{ [k in JobKind]: JobResult<k> }> = {
      groups: { groups, removableChannels: 3 },
      'channel-relevance': {
        method: p.method ?? '',
        aggregate: 'sum',
        groups: [{ group: 0, producers: ['c1'], scores: [p.method === 'obd' ? 1 : 2, 3, 4] }],
        ...(firstConv ? { firstConv } : {}),
      },
    };
    return results[kind] as JobResult<K>;
  };
  return { calls, call };
}

test('host: a conv model gets the groups job groups and every method channel relevance', async () => {
  const f = kernelOf(() => 0);
  const w = fakeWorker(f);
  const s = await loadStructured(w.call, '/m/model.json', 'digits', ['obd', 'random']);
  assert.ok(s);
  assert.deepEqual(s.groups, groups);
  assert.equal(s.removableChannels, 3);
  assert.deepEqual(Object.keys(s.relevance), ['obd', 'random']);
  assert.deepEqual(s.relevance.obd.groups[0].scores, [1, 3, 4]);
  assert.deepEqual(s.relevance.random.groups[0].scores, [2, 3, 4]);
  assert.equal(s.relevance.obd.firstConv, f);
  assert.deepEqual(
    w.calls.map((c) => c.kind),
    ['channel-relevance', 'channel-relevance', 'groups'],
  );
  assert.deepEqual(w.calls[0].params, { modelPath: '/m/model.json', data: 'digits', seed: 0, method: 'obd' });
});

test('host: a model without a convolution has no channel view (no groups asked)', async () => {
  const w = fakeWorker(undefined);
  assert.equal(await loadStructured(w.call, '/m/mlp.json', 'wine', ['obd', 'random']), undefined);
  assert.deepEqual(
    w.calls.map((c) => c.kind),
    ['channel-relevance'],
  );
});
