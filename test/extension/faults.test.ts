// Worker faults, against the real worker entry with fault-simulating jobs (fixtures/faultWorker.ts):
// killed by a signal, out of memory, hung; cancel leaves no partial output and always settles;
// concurrent writers are refused or queued; malformed worker messages are dropped. Each fault
// test measures how long the host took to notice (printed as a test diagnostic).
import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  EngineClient,
  EngineError,
  type EngineClientOptions,
  type WorkerFault,
} from '../../src/extension/engineClient';
import { cleanupAfterWorker } from '../../src/extension/outputCleanup';
import { JobLocks, jobResources } from '../../src/extension/jobQueue';

const workerPath = path.join(__dirname, 'fixtures/faultWorker.js');
const forked: number[] = [];

interface Harness {
  c: EngineClient;
  logs: { t: number; level: string; message: string }[];
  exits: { reason: string; tail: string[]; fault: WorkerFault }[];
  /** Resolves at the first log line matching `re` (with its time). */
  logged(re: RegExp): Promise<number>;
}

function harness(opts: Partial<EngineClientOptions> = {}): Harness {
  const logs: Harness['logs'] = [];
  const waiters: { re: RegExp; resolve(t: number): void }[] = [];
  const exits: Harness['exits'] = [];
  const c = new EngineClient({
    workerPath,
    graceMs: () => 500,
    heartbeatTimeoutMs: () => 1000,
    log: (level, message) => {
      const t = Date.now();
      logs.push({ t, level, message });
      const pid = /engine worker started \(pid (\d+)\)/.exec(message);
      if (pid) forked.push(Number(pid[1]));
      for (const w of [...waiters])
        if (w.re.test(message)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(t);
        }
    },
    onUnexpectedExit: (reason, tail, fault) => exits.push({ reason, tail, fault }),
    ...opts,
  });
  const logged = (re: RegExp) => {
    const hit = logs.find((l) => re.test(l.message));
    return hit ? Promise.resolve(hit.t) : new Promise<number>((resolve) => waiters.push({ re, resolve }));
  };
  return { c, logs, exits, logged };
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail('the job should have failed'),
    (e) => {
      assert.ok(e instanceof EngineError, String(e));
      return e as EngineError;
    },
  );
const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-faults-'));
const leftovers = (parent: string, base: string) =>
  fs.readdirSync(parent).filter((n) => n === base || n.startsWith(`.${base}.`));

async function freshWorkerRuns(h: Harness, oldPid: number | undefined): Promise<void> {
  const r = (await h.c.run('fault-sleep' as never, { ms: 1 } as never).done) as { result: { slept: number } };
  assert.equal(r.result.slept, 1);
  assert.ok(h.c.pid !== undefined && h.c.pid !== oldPid, 'the next job runs on a fresh worker');
}

test('worker killed by SIGKILL mid-job: the job fails with the signal and the log tail; next job gets a fresh worker', async (t) => {
  const h = harness();
  try {
    const job = h.c.run('fault-sleep' as never, { ms: 60_000 } as never);
    await h.logged(/#\d+ sleeping/);
    const pid = h.c.pid!;
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    const e = await failure(job.done);
    const noticedMs = Date.now() - t0;
    t.diagnostic(`SIGKILL noticed in ${noticedMs} ms`);
    assert.equal(e.code, 'worker-exit');
    assert.deepEqual(e.fault, { kind: 'signal', signal: 'SIGKILL' });
    assert.match(e.message, /^the engine worker was killed by SIGKILL/);
    assert.ok(
      e.logTail.some((l) => /^#\d+ sleeping$/.test(l)),
      `log tail: ${e.logTail.join(' | ')}`,
    );
    assert.ok(noticedMs < 2000, `noticed in ${noticedMs} ms`);
    assert.equal(h.exits.length, 1);
    assert.equal(h.exits[0].fault.kind, 'signal');
    await freshWorkerRuns(h, pid);
  } finally {
    h.c.dispose();
  }
});

test('worker out of memory (bounded heap): the job fails as out of memory with the heap limit and the log tail', async (t) => {
  const h = harness({ maxMemoryMb: () => 128, heartbeatTimeoutMs: () => 30_000 });
  try {
    const job = h.c.run('fault-oom' as never, {} as never);
    const tAlloc = await h.logged(/#\d+ allocating/);
    const pid = h.c.pid;
    const e = await failure(job.done);
    const tDone = Date.now();
    const tFatal = await h.logged(/heap out of memory|Reached heap limit/);
    t.diagnostic(
      `OOM (${JSON.stringify(e.fault)}): allocation ran ${tFatal - tAlloc} ms to the fatal error; noticed ${tDone - tFatal} ms after V8's fatal message`,
    );
    assert.equal(e.code, 'worker-exit');
    assert.equal(e.fault?.kind, 'oom');
    assert.equal((e.fault as { heapLimitMb?: number }).heapLimitMb! >= 128, true);
    assert.match(
      e.message,
      /^the engine worker ran out of memory \(JavaScript heap limit \d+ MB; raise prunescope\.worker\.maxMemoryMb/,
    );
    assert.ok(
      e.logTail.some((l) => /heap out of memory/.test(l)),
      `log tail: ${e.logTail.join(' | ')}`,
    );
    assert.ok(
      e.logTail.some((l) => /^#\d+ allocating/.test(l)),
      "the job's own last log line is in the tail",
    );
    assert.ok(!e.logTail.some((l) => /^\s*\d+: 0x/.test(l)), 'native stack frames are not in the user-facing tail');
    assert.ok(tDone - tFatal < 2000, `noticed ${tDone - tFatal} ms after the fatal message`);
    assert.equal(h.exits.length, 1);
    await freshWorkerRuns(h, pid);
  } finally {
    h.c.dispose();
  }
});

test('hung worker (event loop blocked): noticed by the heartbeat within the timeout, killed, reported; next job fresh', async (t) => {
  const h = harness({ heartbeatTimeoutMs: () => 1000 });
  try {
    const job = h.c.run('fault-hang' as never, {} as never);
    const tBlock = await h.logged(/#\d+ blocking the event loop/);
    const pid = h.c.pid!;
    const e = await failure(job.done);
    const noticedMs = Date.now() - tBlock;
    t.diagnostic(`hang noticed ${noticedMs} ms after the loop blocked (timeout 1000 ms, ping every 250 ms)`);
    assert.equal(e.code, 'worker-exit');
    assert.deepEqual(e.fault, { kind: 'hung', seconds: 1 });
    assert.match(e.message, /^the engine worker stopped responding for 1 s while a job was running/);
    assert.ok(e.logTail.some((l) => /^#\d+ blocking the event loop$/.test(l)));
    assert.ok(noticedMs >= 900 && noticedMs < 2000, `noticed in ${noticedMs} ms`);
    assert.throws(() => process.kill(pid, 0), 'the hung worker is gone');
    assert.equal(h.exits.length, 1);
    assert.equal(h.exits[0].fault.kind, 'hung');
    await freshWorkerRuns(h, pid);
  } finally {
    h.c.dispose();
  }
});

test('a job that blocks the loop for less than the heartbeat timeout is not mistaken for a hang', async () => {
  const h = harness({ heartbeatTimeoutMs: () => 1000 });
  try {
    await h.c.jobs();
    const pid = h.c.pid;
    const r = (await h.c.run('fault-block' as never, { ms: 700 } as never).done) as { result: { blocked: number } };
    assert.equal(r.result.blocked, 700);
    assert.equal(h.c.pid, pid);
    assert.equal(h.exits.length, 0);
  } finally {
    h.c.dispose();
  }
});

test('cancel during the cooperative phase of a writing job: cancelled quickly, nothing written, worker kept', async (t) => {
  const h = harness({ graceMs: () => 3000 });
  const dir = tmpDir();
  const out = path.join(dir, 'pruned');
  try {
    await h.c.jobs();
    const pid = h.c.pid;
    let steps = 0;
    const job = h.c.run(
      'prune' as never,
      { modelPath: path.join(dir, 'model.json'), out, steps: 100, stepMs: 20, files: 5, writeMs: 0, tag: 'A' } as never,
      () => {
        steps++;
      },
    );
    while (steps < 3) await new Promise((r) => setTimeout(r, 10));
    const t0 = Date.now();
    h.c.cancel(job.id);
    const e = await failure(job.done);
    t.diagnostic(`cooperative cancel settled in ${Date.now() - t0} ms`);
    assert.equal(e.code, 'cancelled');
    assert.ok(Date.now() - t0 < 1000);
    assert.deepEqual(leftovers(dir, 'pruned'), []);
    assert.equal(h.c.pid, pid, 'a cooperative cancel keeps the worker');
  } finally {
    h.c.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('cancel during a slow atomic write that ignores the cancel: killed after the grace period, no output, no temp folder', async (t) => {
  const grace = 500;
  const h = harness({ graceMs: () => grace, heartbeatTimeoutMs: () => 30_000 });
  const dir = tmpDir();
  const out = path.join(dir, 'pruned');
  try {
    const job = h.c.run(
      'prune' as never,
      { modelPath: path.join(dir, 'model.json'), out, steps: 0, stepMs: 0, files: 50, writeMs: 100, tag: 'A' } as never,
    );
    await h.logged(/#\d+ writing/);
    await new Promise((r) => setTimeout(r, 350));
    const partial = leftovers(dir, 'pruned');
    assert.equal(partial.length, 1, 'a temporary folder is being written');
    assert.match(partial[0], /^\.pruned\.\d+\.[0-9a-f]{8}\.tmp$/);
    assert.ok(fs.readdirSync(path.join(dir, partial[0])).length >= 2, 'with some files in it');
    const pid = h.c.pid;
    const t0 = Date.now();
    h.c.cancel(job.id);
    const e = await failure(job.done);
    const settledMs = Date.now() - t0;
    t.diagnostic(`cancel ignored by the worker: settled ${settledMs} ms after cancel (grace ${grace} ms)`);
    assert.equal(e.code, 'cancelled');
    assert.ok(settledMs >= grace - 20 && settledMs < grace + 500, `settled in ${settledMs} ms`);
    assert.deepEqual(leftovers(dir, 'pruned'), [], 'neither the output folder nor its temporary is left');
    assert.ok(h.logs.some((l) => /removed the partial output .*\.pruned\.\d+\.[0-9a-f]{8}\.tmp/.test(l.message)));
    assert.equal(h.exits.length, 0, 'a kill we asked for is not reported as a crash');
    await freshWorkerRuns(h, pid);
  } finally {
    h.c.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("cleanup after a killed writer: only that pid's temporaries; a folder moved aside for a replace is put back", () => {
  const dir = tmpDir();
  try {
    const out = path.join(dir, 'out');
    fs.mkdirSync(path.join(dir, '.out.4242.0badcafe.tmp'));
    fs.writeFileSync(path.join(dir, '.out.4242.0badcafe.tmp', 'model.json'), '{');
    fs.mkdirSync(path.join(dir, '.out.4242.deadbeef.tmp.old'));
    fs.writeFileSync(path.join(dir, '.out.4242.deadbeef.tmp.old', 'model.json'), "the user's previous model");
    fs.mkdirSync(path.join(dir, '.out.777.0badcafe.tmp')); // another process's write in progress
    fs.mkdirSync(path.join(dir, '.other.4242.0badcafe.tmp')); // another output
    const r = cleanupAfterWorker([out], 4242);
    assert.deepEqual(r.restored, [out]);
    assert.equal(fs.readFileSync(path.join(out, 'model.json'), 'utf8'), "the user's previous model");
    assert.deepEqual(fs.readdirSync(dir).sort(), ['.other.4242.0badcafe.tmp', '.out.777.0badcafe.tmp', 'out']);
    // With the new folder already in place, the aside copy is the stale one and goes.
    fs.mkdirSync(path.join(dir, '.out.4242.feedf00d.tmp.old'));
    fs.writeFileSync(path.join(out, '.model.json.4242.12345678.tmp'), 'partial file');
    cleanupAfterWorker([out], 4242);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['.other.4242.0badcafe.tmp', '.out.777.0badcafe.tmp', 'out']);
    assert.deepEqual(fs.readdirSync(out), ['model.json']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const journalOf = (file: string) =>
  fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' '))
    : [];

test('two writers to the same output folder: the second is refused at once, naming the first; only one ever writes', async () => {
  const h = harness();
  const dir = tmpDir();
  const out = path.join(dir, 'pruned');
  const journal = path.join(dir, 'journal');
  try {
    const a = h.c.run(
      'prune' as never,
      {
        modelPath: path.join(dir, 'm1.json'),
        out,
        steps: 5,
        stepMs: 20,
        files: 3,
        writeMs: 20,
        tag: 'A',
        journal,
      } as never,
    );
    // Same folder spelled differently, from another model: still the same output.
    const b = h.c.run(
      'prune' as never,
      {
        modelPath: path.join(dir, 'm2.json'),
        out: path.join(dir, 'x', '..', 'pruned'),
        steps: 1,
        stepMs: 1,
        files: 3,
        writeMs: 0,
        tag: 'B',
        journal,
      } as never,
    );
    const e = await failure(b.done);
    assert.equal(e.code, 'busy');
    assert.equal(
      e.message,
      `${out} is already being written by job #${a.id} (prune); wait for it to finish or choose another output folder`,
    );
    // A folder inside the one being written is refused too.
    assert.equal(
      (
        await failure(
          h.c.run(
            'prune' as never,
            {
              modelPath: 'm3.json',
              out: path.join(out, 'sub'),
              steps: 1,
              stepMs: 1,
              files: 1,
              writeMs: 0,
              tag: 'C',
              journal,
            } as never,
          ).done,
        )
      ).code,
      'busy',
    );
    await a.done;
    assert.deepEqual(
      journalOf(journal).map((l) => l.slice(0, 2).join(' ')),
      ['A start', 'A write-begin', 'A write-end'],
    );
    assert.equal(fs.readFileSync(path.join(out, 'shard0.bin'), 'utf8').split('\n')[0], 'A 0');
    // Once the first is done the folder is free again (the engine then refuses a non-empty folder itself).
    const again = await failure(
      h.c.run(
        'prune' as never,
        { modelPath: 'm1.json', out, steps: 0, stepMs: 0, files: 1, writeMs: 0, tag: 'D' } as never,
      ).done,
    );
    assert.equal(again.code, 'internal');
    assert.match(again.message, /output folder exists and is not empty/);
  } finally {
    h.c.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('two writers from the same model: queued, one after the other; read-only jobs do not wait; a queued job cancels at once', async () => {
  const h = harness();
  const dir = tmpDir();
  const model = path.join(dir, 'model.json');
  const journal = path.join(dir, 'journal');
  try {
    const a = h.c.run(
      'prune' as never,
      {
        modelPath: model,
        out: path.join(dir, 'a'),
        steps: 10,
        stepMs: 30,
        files: 3,
        writeMs: 30,
        tag: 'A',
        journal,
      } as never,
    );
    const waits: (string | undefined)[] = [];
    const b = h.c.run(
      'prune' as never,
      {
        modelPath: model,
        out: path.join(dir, 'b'),
        steps: 2,
        stepMs: 10,
        files: 3,
        writeMs: 10,
        tag: 'B',
        journal,
      } as never,
      (_f, m) => waits.push(m),
    );
    const c = h.c.run(
      'prune' as never,
      {
        modelPath: model,
        out: path.join(dir, 'c'),
        steps: 2,
        stepMs: 10,
        files: 3,
        writeMs: 10,
        tag: 'C',
        journal,
      } as never,
    );
    assert.deepEqual(waits, [`waiting for job #${a.id} (prune) on the same model to finish`]);
    const aDone = a.done.then(() => Date.now());
    const readOnly = await h.c.run('fault-sleep' as never, { ms: 10 } as never).done.then(() => Date.now());
    h.c.cancel(c.id);
    assert.equal((await failure(c.done)).code, 'cancelled');
    await Promise.all([aDone, b.done]);
    assert.ok(readOnly < (await aDone), 'the read-only job finished while the writer was still running');
    const j = journalOf(journal);
    assert.deepEqual(
      j.map((l) => l.slice(0, 2).join(' ')),
      ['A start', 'A write-begin', 'A write-end', 'B start', 'B write-begin', 'B write-end'],
    );
    assert.ok(Number(j[3][2]) >= Number(j[2][2]), 'B started after A finished writing');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['a', 'b', 'journal']);
  } finally {
    h.c.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('job resources: writers by kind; other kinds and bad params write nothing', () => {
  assert.deepEqual(jobResources('prune', { modelPath: 'm.json', out: 'o' }), {
    writes: path.resolve('o'),
    model: path.resolve('m.json'),
  });
  assert.deepEqual(jobResources('distill', { teacherPath: 't.json', out: 'o' }), {
    writes: path.resolve('o'),
    model: path.resolve('t.json'),
  });
  assert.deepEqual(jobResources('relevance', { modelPath: 'm.json', out: 'o' }), {});
  assert.deepEqual(jobResources('prune', null), {});
  assert.deepEqual(jobResources('prune', { out: 3 }), { writes: undefined, model: undefined });
  const l = new JobLocks();
  assert.deepEqual(l.admit(1, 'prune', { writes: '/o1', model: '/m' }), { run: true });
  assert.ok('waitFor' in l.admit(2, 'prune', { writes: '/o2', model: '/m' }));
  assert.ok('waitFor' in l.admit(3, 'prune', { writes: '/o3', model: '/m' }));
  assert.deepEqual(l.admit(4, 'export-student', { writes: '/o4', model: '/n' }), { run: true });
  assert.deepEqual(l.release(3), [], 'a queued job leaving starts nothing');
  assert.deepEqual(l.release(1), [2]);
  assert.equal(l.isQueued(2), false);
});

test('malformed and forged messages from the worker are dropped; the host and the job survive', async () => {
  const h = harness({ heartbeatTimeoutMs: () => 30_000 });
  const dir = tmpDir();
  const model = path.join(dir, 'model.json');
  try {
    // A writer holds the model; a second one is queued on the host (never sent to the worker).
    const w1 = h.c.run(
      'prune' as never,
      { modelPath: model, out: path.join(dir, 'a'), steps: 1000, stepMs: 10, files: 1, writeMs: 0, tag: 'A' } as never,
    );
    const w2 = h.c.run(
      'prune' as never,
      { modelPath: model, out: path.join(dir, 'b'), steps: 1, stepMs: 1, files: 1, writeMs: 0, tag: 'B' } as never,
    );
    let w2Settled = false;
    void w2.done.then(
      () => {
        w2Settled = true;
      },
      () => {
        w2Settled = true;
      },
    );
    const progress: (number | undefined)[] = [];
    const r = (await h.c.run('fault-junk' as never, { victim: w2.id } as never, (f) => progress.push(f)).done) as {
      result: { ok: boolean };
    };
    assert.deepEqual(r.result, { ok: true });
    assert.deepEqual(progress, [0, 0.5], 'only the well-formed progress reached the listener');
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(w2Settled, false, 'a forged result cannot settle a job the worker was never given');
    assert.ok(h.logs.some((l) => /sent a malformed message: ignored/.test(l.message)));
    assert.ok(
      h.logs.filter((l) => /malformed/.test(l.message)).length <= 6,
      'malformed-message warnings are rate limited',
    );
    assert.ok(
      h.logs.every((l) => l.message.length < 4200),
      'worker text is clipped',
    );
    // A worker cannot claim host-only error codes.
    const e = await failure(h.c.run('fault-junk' as never, { forgeCode: 'worker-exit' } as never).done);
    assert.equal(e.code, 'internal');
    assert.equal(e.message, 'forged');
    assert.equal(e.info.file, undefined);
    assert.equal(h.exits.length, 0);
    h.c.cancel(w1.id);
    h.c.cancel(w2.id);
    assert.equal((await failure(w1.done)).code, 'cancelled');
    assert.equal((await failure(w2.done)).code, 'cancelled');
  } finally {
    h.c.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

after(async () => {
  // Every worker these tests forked is gone (dispose kills; give the kernel a moment to reap).
  await new Promise((r) => setTimeout(r, 300));
  const alive = forked.filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
  assert.deepEqual(alive, [], `workers left running: ${alive.join(', ')}`);
});
