// The engine client against the real worker (tsc build): results, errors with engine codes,
// cooperative cancel, kill after the grace period, and a fresh worker after a crash.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { EngineClient, EngineError } from '../../src/extension/engineClient';
import { JOB_KINDS } from '../../src/protocol';

const workerPath = path.join(__dirname, '../../src/worker/worker.js');

function client(graceMs = 300) {
  const exits: string[] = [];
  const c = new EngineClient({
    workerPath,
    graceMs: () => graceMs,
    log: () => {},
    onUnexpectedExit: (reason, tail) => exits.push(`${reason}|${tail.join('\n')}`),
  });
  return { c, exits };
}

const code = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: EngineError) => e.code,
  );

test('runs jobs, streams progress, reports engine error codes', async () => {
  const { c } = client();
  try {
    // The worker announces exactly the live job kinds of the protocol's table.
    assert.deepEqual((await c.jobs()).sort(), [...JOB_KINDS].sort());
    const fractions: number[] = [];
    const r = await c.run('long-demo', { steps: 4, stepMs: 1 }, (f) => {
      if (f !== undefined) fractions.push(f);
    }).done;
    assert.equal(r.result.completed, 4);
    assert.deepEqual(fractions, [0, 0.25, 0.5, 0.75, 1]);
    const e = await c.run('info', { modelPath: '/no/such/model.json' }).done.catch((x) => x);
    assert.ok(e instanceof EngineError);
    assert.equal(e.code, 'not-found');
    assert.equal(await code(c.run('info', {} as never).done), 'bad-input');
    assert.equal(await code(c.run('no-such-job' as never, {} as never).done), 'unknown-job');
  } finally {
    c.dispose();
  }
});

test('cancel is a message first: a cooperative job stops and the worker survives', async () => {
  const { c } = client(5000);
  try {
    await c.jobs();
    const pid = c.pid;
    const h = c.run('long-demo', { steps: 1000, stepMs: 10 });
    setTimeout(() => c.cancel(h.id), 50);
    const t = Date.now();
    assert.equal(await code(h.done), 'cancelled');
    assert.ok(Date.now() - t < 2000, 'cancel took the grace path');
    assert.equal(c.pid, pid);
  } finally {
    c.dispose();
  }
});

test('a job that ignores cancel is killed after the grace period; the next job gets a fresh worker', async () => {
  const { c, exits } = client(300);
  try {
    await c.jobs();
    const pid = c.pid;
    const h = c.run('cell', { source: 'while (true) {}', notebook: 't', cellIndex: 0 });
    setTimeout(() => c.cancel(h.id), 100);
    assert.equal(await code(h.done), 'cancelled');
    assert.equal(c.pid, undefined);
    const r = await c.run('demo-figure', { seed: 1, n: 2 }).done;
    assert.equal(r.result.figure.data[0].y!.length, 2);
    assert.notEqual(c.pid, pid);
    assert.deepEqual(exits, [], 'a kill we asked for is not reported as a crash');
  } finally {
    c.dispose();
  }
});

test('a crash fails the running job with the reason and log tail, and is reported once', async () => {
  const { c, exits } = client();
  try {
    const e = await c
      .run('cell', {
        source: 'process.stderr.write("about to die\\n"); await new Promise(r => setTimeout(r, 50)); process.exit(3)',
        notebook: 't',
        cellIndex: 0,
      })
      .done.catch((x) => x);
    assert.ok(e instanceof EngineError);
    assert.equal(e.code, 'worker-exit');
    assert.match(e.message, /exited with code 3/);
    assert.deepEqual(e.logTail, ['about to die']);
    assert.equal(exits.length, 1);
    assert.match(exits[0], /^exited with code 3\|about to die/);
    assert.equal((await c.run('demo-figure', { seed: 1, n: 1 }).done).result.figure.data.length, 1);
  } finally {
    c.dispose();
  }
});

test('relevance job: a score per parameter, order least relevant first, errors name the field', async () => {
  const { c } = client();
  const modelPath = path.join(__dirname, '../../../test/e2e/fixtures/model.json'); // 4 -> 8 -> 3, fits iris
  try {
    const r = (await c.run('relevance', { modelPath, data: 'iris', method: 'obd', seed: 0 }).done).result;
    assert.equal(r.scores.length, 67);
    assert.deepEqual(
      [...r.order].sort((a, b) => a - b),
      Array.from({ length: 67 }, (_, i) => i),
    );
    for (let i = 1; i < r.order.length; i++)
      assert.ok(r.scores[r.order[i - 1]] <= r.scores[r.order[i]], 'order is ascending in score');
    const z = r.figure.data[0].z as number[][];
    assert.equal(z.length, 8); // units of the first layer
    assert.equal(z[0].length, 4); // its inputs
    const e = await c.run('relevance', { modelPath, data: 'iris', method: 'magic', seed: 0 }).done.catch((x) => x);
    assert.equal(e.code, 'bad-input');
    assert.equal(e.info.field, 'method');
  } finally {
    c.dispose();
  }
});
