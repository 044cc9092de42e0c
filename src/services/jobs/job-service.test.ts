// JobService on the backend chosen by BERTH_TEST_DATABASE (sqlite default, postgres with BERTH_TEST_PG_URL):
// run/logs/progress, retries with backoff, stop, the worker limit, lease-expiry recovery, several instances
// on one database (no task runs twice, one schedule occurrence fires once) and restart survival.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { spawn } from 'node:child_process';
import type { Db } from '../../db/db.ts';
import { SqliteDb } from '../../db/sqlite.ts';
import { PostgresDb } from '../../db/postgres.ts';
import { migrate } from '../../db/migrations.ts';
import { JobRepository } from '../../repositories/job-repository.ts';
import { JobService, PermanentJobError, InvalidScheduleError, LOST_RUNS_ALLOWED, type JobServiceOptions } from './job-service.ts';

const BACKEND = process.env.BERTH_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
const PG_URL = process.env.BERTH_TEST_PG_URL || 'postgres://postgres@127.0.0.1:55432/postgres';
const cleanup: (() => Promise<void>)[] = [];
const services: JobService[] = [];
const dbs: Db[] = [];
after(async () => {
  // Services first (they poll), then their connections, then the databases.
  await Promise.all(services.map((s) => s.close(500)));
  for (const db of dbs) await db.close().catch(() => {});
  await Promise.all(cleanup.map((f) => f().catch(() => {})));
});

async function adminPg(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A fresh migrated database; `open()` gives another connection (as another process would have) to it. */
async function freshDatabase(): Promise<{ open(): Promise<Db>; where: string }> {
  if (BACKEND === 'postgres') {
    const name = `berth_jobs_${randomBytes(6).toString('hex')}`;
    await adminPg(`CREATE DATABASE ${name}`);
    cleanup.push(() => adminPg(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    const u = new URL(PG_URL);
    u.pathname = '/' + name;
    const first = new PostgresDb(u.toString(), 6);
    await migrate(first);
    await first.close();
    return { open: async () => new PostgresDb(u.toString(), 6), where: u.toString() };
  }
  // SQLite: every "instance" shares one SqliteDb on the file. Two connections to one file from the same
  // event loop would deadlock (a BEGIN IMMEDIATE waits synchronously for a transaction that cannot finish
  // without the loop); separate processes have separate loops and rely on the same write lock.
  const dir = mkdtempSync(join(tmpdir(), 'berth-jobs-'));
  const path = join(dir, 'berth.db');
  const shared = new SqliteDb(path);
  await migrate(shared);
  cleanup.push(async () => {
    await shared.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const view: Db = Object.assign(Object.create(shared) as Db, { close: async () => {} });
  return { open: async () => view, where: path };
}

async function newService(d: { open(): Promise<Db> }, o: Partial<JobServiceOptions> = {}): Promise<JobService> {
  const db = await d.open();
  dbs.push(db);
  const js = new JobService({ repo: new JobRepository(db), maxWorkers: 5, pollMs: 50, leaseMs: 3000, backoffMs: 40, onError: () => {}, ...o });
  services.push(js);
  return js;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor<T>(what: string, f: () => Promise<T | undefined | null | false>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
const finished = (js: JobService, id: number) =>
  waitFor(`execution ${id} to finish`, async () => {
    const e = await js.getExecution(id);
    return e && ['Success', 'Error', 'Stopped'].includes(e.status) ? e : null;
  });

test(`${BACKEND}: submit runs the handler; logs, progress and the result are recorded`, async () => {
  const d = await freshDatabase();
  const js = await newService(d);
  let seenParams: unknown = null;
  js.register('DEMO', async (ctx) => {
    seenParams = ctx.params;
    ctx.log('starting');
    ctx.progress(50);
    await ctx.heartbeat();
    ctx.log('half way');
    return { freed_space: 42 };
  });
  js.start();
  const ex = await js.submit('DEMO', { dry_run: true }, 'manual');
  assert.equal(ex.status, 'Pending');
  assert.equal(ex.trigger, 'manual');
  assert.equal(ex.vendorType, 'DEMO');
  const done = await finished(js, ex.id);
  assert.equal(done.status, 'Success');
  assert.ok(done.endTime! >= done.startTime);
  assert.deepEqual(seenParams, { dry_run: true });
  assert.deepEqual(done.extraAttrs, { freed_space: 42 });
  const [task] = await js.listTasks(ex.id);
  assert.equal(task.status, 'Success');
  assert.equal(task.runCount, 1);
  assert.equal(task.progress, 100);
  assert.equal(task.lockedBy, null);
  assert.deepEqual((await js.getTaskLog(task.id)).map((l) => l.line), ['starting', 'half way']);
  assert.match(await js.getTaskLogText(task.id), /^\d{4}-\d\d-\d\dT[^ ]+ \[INFO\] starting\n.*half way\n$/s);
  assert.equal(await js.getExecutionLogText(ex.id), await js.getTaskLogText(task.id));
  assert.deepEqual((await js.listExecutions({ vendorType: 'DEMO' })).map((e) => e.id), [ex.id]);
  assert.equal(await js.countExecutions({ vendorType: 'DEMO' }), 1);
});

test(`${BACKEND}: a failing task is retried with exponential backoff, then ends in Error`, async () => {
  const d = await freshDatabase();
  const js = await newService(d);
  const runs: number[] = [];
  js.register(
    'FLAKY',
    async (ctx) => {
      runs.push(Date.now());
      ctx.log(`try ${ctx.attempt}`);
      throw new Error(`boom ${ctx.attempt}`);
    },
    { maxAttempts: 3, backoffMs: 100 },
  );
  let permanent = 0;
  js.register('PERMANENT', async () => {
    permanent++;
    throw new PermanentJobError('bad params');
  }, { maxAttempts: 5 });
  let healed = 0;
  js.register('HEALS', async () => {
    if (++healed < 2) throw new Error('transient');
  }, { maxAttempts: 3, backoffMs: 30 });
  js.start();
  const ex = await js.submit('FLAKY');
  const p = await js.submit('PERMANENT');
  const h = await js.submit('HEALS');
  const done = await finished(js, ex.id);
  assert.equal(done.status, 'Error');
  assert.equal(done.statusMessage, 'boom 3');
  assert.equal(runs.length, 3);
  // Delays of about 100 ms then 200 ms (doubling).
  assert.ok(runs[1] - runs[0] >= 95, `first retry after ${runs[1] - runs[0]} ms`);
  assert.ok(runs[2] - runs[1] >= 195, `second retry after ${runs[2] - runs[1]} ms`);
  const [task] = await js.listTasks(ex.id);
  assert.equal(task.status, 'Error');
  assert.equal(task.runCount, 3);
  assert.equal(task.lastError, 'boom 3');
  const log = (await js.getTaskLog(task.id)).map((l) => l.line);
  assert.deepEqual(log.filter((l) => l.startsWith('try ')), ['try 1', 'try 2', 'try 3']);
  assert.ok(log.some((l) => /attempt 1 failed: boom 1; retrying in 100 ms/.test(l)), log.join('\n'));
  assert.ok(log.includes('failed: boom 3'));

  assert.equal((await finished(js, p.id)).status, 'Error');
  assert.equal(permanent, 1, 'a PermanentJobError is not retried');
  assert.equal((await finished(js, h.id)).status, 'Success');
  assert.equal(healed, 2);
});

test(`${BACKEND}: stop aborts a running handler and a queued one; both end Stopped`, async () => {
  const d = await freshDatabase();
  const js = await newService(d, { maxWorkers: 1 });
  let sawAbort = false;
  let started = false;
  js.register('LONG', async (ctx) => {
    started = true;
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
    sawAbort = ctx.signal.aborted;
    throw ctx.signal.reason;
  });
  js.start();
  const a = await js.submit('LONG');
  await waitFor('the handler to start', async () => started);
  const b = await js.submit('LONG'); // queued behind a (one worker)
  assert.equal((await js.getExecution(a.id))!.status, 'Running');
  await js.stop(b.id);
  assert.equal((await js.getExecution(b.id))!.status, 'Stopped');
  await js.stop(a.id);
  const done = await finished(js, a.id);
  assert.equal(done.status, 'Stopped');
  assert.ok(sawAbort);
  const [task] = await js.listTasks(a.id);
  assert.equal(task.status, 'Stopped');
  assert.equal((await js.stop(a.id)).status, 'Stopped', 'stopping a finished execution changes nothing');
  await assert.rejects(js.stop(999_999), /not found/);
});

test(`${BACKEND}: stop reaches a handler running in another instance`, async () => {
  const d = await freshDatabase();
  const worker = await newService(d, { leaseMs: 300 });
  const other = await newService(d);
  let aborted = false;
  worker.register('LONG', async (ctx) => {
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
    aborted = true;
  });
  worker.start();
  const ex = await other.submit('LONG');
  await waitFor('the task to run', async () => (await other.getExecution(ex.id))!.status === 'Running');
  await other.stop(ex.id);
  assert.equal((await finished(other, ex.id)).status, 'Stopped');
  assert.ok(aborted);
});

test(`${BACKEND}: no more than max_job_workers tasks run at once in one instance`, async () => {
  const d = await freshDatabase();
  const js = await newService(d, { maxWorkers: 3 });
  let now = 0;
  let peak = 0;
  let total = 0;
  js.register('SLOW', async () => {
    now++;
    peak = Math.max(peak, now);
    await sleep(60);
    now--;
    total++;
  });
  js.start();
  const exs = [];
  for (let i = 0; i < 10; i++) exs.push(await js.submit('SLOW'));
  for (const e of exs) assert.equal((await finished(js, e.id)).status, 'Success');
  assert.equal(total, 10);
  assert.equal(peak, 3);
});

test(`${BACKEND}: a type with a concurrency of its own runs beside a busy pool, up to that many at once`, async () => {
  const d = await freshDatabase();
  const js = await newService(d, { maxWorkers: 1 });
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  js.register('LONG', () => held);
  let now = 0;
  let peak = 0;
  js.register(
    'LIGHT',
    async () => {
      now++;
      peak = Math.max(peak, now);
      await sleep(30);
      now--;
    },
    { concurrency: 4 },
  );
  js.start();
  const long = await js.submit('LONG');
  await waitFor('the long task to run', async () => (await js.getExecution(long.id))?.status === 'Running', 5000);
  const exs = [];
  for (let i = 0; i < 12; i++) exs.push(await js.submit('LIGHT'));
  // The one pool worker is taken by LONG the whole time; LIGHT does not wait for it.
  for (const e of exs) assert.equal((await finished(js, e.id)).status, 'Success');
  assert.equal((await js.getExecution(long.id))?.status, 'Running');
  assert.ok(peak > 1 && peak <= 4, `peak ${peak}`);
  release();
  assert.equal((await finished(js, long.id)).status, 'Success');
});

test(`${BACKEND}: a task whose worker died (lease expired) is run again by another instance`, async () => {
  const d = await freshDatabase();
  const db = await d.open();
  dbs.push(db);
  const repo = new JobRepository(db);
  const js = await newService(d);
  const ex = await js.submit('WORK', { n: 1 });
  // A worker of another process claims the task with a short lease, then dies: it never renews nor finishes.
  const [claimed] = await repo.claimTasks(['WORK'], 'dead-host:1:x', 1, 150);
  assert.equal(claimed.executionId, ex.id);
  assert.equal(claimed.status, 'Running');
  assert.equal((await js.getExecution(ex.id))!.status, 'Running');
  // While the lease holds, nobody else may claim it.
  assert.deepEqual(await repo.claimTasks(['WORK'], 'other', 1, 150), []);
  const seen: { attempt: number; params: unknown }[] = [];
  js.register('WORK', async (ctx) => {
    seen.push({ attempt: ctx.attempt, params: ctx.params });
  }, { maxAttempts: 3 });
  js.start();
  const done = await finished(js, ex.id);
  assert.equal(done.status, 'Success');
  assert.deepEqual(seen, [{ attempt: 2, params: { n: 1 } }]);
  const [task] = await js.listTasks(ex.id);
  assert.equal(task.runCount, 2);
  assert.equal(task.lockedBy, null);
  // The dead worker's late result is refused: it no longer holds the lock.
  assert.equal(await repo.finishTask(task.id, claimed.lockedBy!, { status: 'Error', message: 'late' }), false);
  assert.equal((await js.getExecution(ex.id))!.status, 'Success');
});

test(`${BACKEND}: a task whose workers keep dying ends in Error after max_attempts + ${LOST_RUNS_ALLOWED} runs`, async () => {
  const d = await freshDatabase();
  const db = await d.open();
  dbs.push(db);
  const repo = new JobRepository(db);
  const js = await newService(d);
  const ex = await js.submit('CRASHY', {});
  for (let i = 0; i < 1 + LOST_RUNS_ALLOWED; i++) {
    assert.equal((await repo.claimTasks(['CRASHY'], `dead-${i}`, 1, 1)).length, 1);
    await sleep(5);
  }
  let ran = 0;
  js.register('CRASHY', async () => void ran++);
  js.start();
  const done = await finished(js, ex.id);
  assert.equal(done.status, 'Error');
  assert.match(done.statusMessage, /gave up after 4 runs/);
  assert.equal(ran, 0);
});

test(`${BACKEND}: two instances on one database never run the same task twice`, async () => {
  const d = await freshDatabase();
  const a = await newService(d, { maxWorkers: 4, workerId: 'A' });
  const b = await newService(d, { maxWorkers: 4, workerId: 'B' });
  const runs = new Map<number, string[]>();
  for (const [name, js] of [['A', a], ['B', b]] as const)
    js.register('ONCE', async (ctx) => {
      const n = ctx.params.n as number;
      runs.set(n, [...(runs.get(n) ?? []), name]);
      await sleep(5 + (n % 7));
    });
  const exs = [];
  for (let n = 0; n < 50; n++) exs.push(await (n % 2 ? a : b).submit('ONCE', { n }));
  a.start();
  b.start();
  for (const e of exs) assert.equal((await finished(a, e.id)).status, 'Success');
  assert.equal(runs.size, 50);
  for (const [n, who] of runs) assert.equal(who.length, 1, `task ${n} ran ${who.length} times`);
  const by = [...runs.values()].flat();
  assert.ok(by.includes('A') && by.includes('B'), 'both instances took work');
});

test(`${BACKEND}: an instance in another process shares the queue; no task runs twice`, async () => {
  const d = await freshDatabase();
  const js = await newService(d, { maxWorkers: 4, workerId: 'P' });
  const runs: string[] = [];
  js.register('ONCE', async (ctx) => {
    runs.push(`${ctx.params.n} P`);
    await sleep(5 + ((ctx.params.n as number) % 7));
  });
  const exs = [];
  for (let n = 0; n < 60; n++) exs.push(await js.submit('ONCE', { n }));
  const child = spawn(process.execPath, [new URL('./job-worker.fixture.ts', import.meta.url).pathname, BACKEND, d.where, 'C'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await waitFor('the child process', async () => out.includes('ready\n'), 10_000);
    js.start();
    for (const e of exs) assert.equal((await finished(js, e.id)).status, 'Success');
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  for (const line of out.split('\n')) if (line.startsWith('ran ')) runs.push(line.slice(4));
  const count = new Map<number, number>();
  for (const r of runs) count.set(Number(r.split(' ')[0]), (count.get(Number(r.split(' ')[0])) ?? 0) + 1);
  assert.equal(count.size, 60);
  for (const [n, c] of count) assert.equal(c, 1, `task ${n} ran ${c} times`);
  assert.ok(runs.some((r) => r.endsWith(' C')), 'the other process took work');
  assert.ok(runs.some((r) => r.endsWith(' P')), 'this process took work');
});

test(`${BACKEND}: a handler running longer than its lease keeps it (renewed) and runs once`, async () => {
  const d = await freshDatabase();
  // Lease 500 ms, renewed about every 170 ms; the handler runs three times as long.
  const a = await newService(d, { leaseMs: 500 });
  const b = await newService(d, { leaseMs: 500 });
  let runs = 0;
  for (const js of [a, b])
    js.register('LONG', async (ctx) => {
      runs++;
      ctx.progress(10);
      await sleep(1500);
    });
  const ex = await a.submit('LONG');
  a.start();
  b.start();
  assert.equal((await finished(a, ex.id)).status, 'Success');
  assert.equal(runs, 1);
  assert.equal((await a.listTasks(ex.id))[0].runCount, 1);
});

test(`${BACKEND}: a schedule fires once per occurrence with two instances polling`, async () => {
  const d = await freshDatabase();
  const a = await newService(d);
  const b = await newService(d);
  const fired: number[] = [];
  for (const js of [a, b]) js.register('TICK', async (ctx) => void fired.push(ctx.executionId));
  // Every second on the second (6-field cron, as Harbor writes them).
  const s = await a.schedule('TICK', '* * * * * *', { k: 'v' });
  assert.equal(s.cron, '* * * * * *');
  assert.ok(s.nextRunAt! > Date.now() - 5 && s.nextRunAt! <= Date.now() + 1000);
  // Saving the same schedule again (every process does at start) keeps the pending occurrence.
  assert.equal((await b.schedule('TICK', '* * * * * *', { k: 'v' })).nextRunAt, s.nextRunAt);
  a.start();
  b.start();
  const t0 = Date.now();
  await sleep(2300);
  await a.unschedule('TICK');
  await sleep(150);
  const exs = await a.listExecutions({ vendorType: 'TICK' });
  const seconds = Math.floor((Date.now() - t0) / 1000);
  // One execution per whole second that passed (2 or 3; fewer only if a poll came over a second late, as
  // a missed occurrence fires once), never two for one occurrence.
  assert.ok(exs.length >= 1 && exs.length <= 3, `${exs.length} executions`);
  const starts = exs.map((e) => Math.floor(e.startTime / 1000));
  assert.equal(new Set(starts).size, starts.length, `one execution per second: ${starts}`);
  assert.ok(seconds >= 2);
  for (const e of exs) {
    assert.equal(e.trigger, 'schedule');
    assert.equal(e.extraAttrs.schedule_id, s.id);
    assert.equal((await finished(a, e.id)).status, 'Success');
    assert.deepEqual((await a.listTasks(e.id))[0].params, { k: 'v' });
  }
  assert.equal(fired.length, exs.length);
  assert.equal(await a.getSchedule('TICK'), null);
  await assert.rejects(a.schedule('TICK', 'not a cron'), InvalidScheduleError);
  await assert.rejects(a.schedule('TICK', '61 * * * *'), InvalidScheduleError);
});

test(`${BACKEND}: an interval schedule and execution retention`, async () => {
  const d = await freshDatabase();
  const js = await newService(d);
  js.register('PURGE', async () => {}, { retainExecutions: 2 });
  await js.schedule('PURGE', '@every 100ms');
  js.start();
  await waitFor('several purges', async () => (await js.listExecutions({ vendorType: 'PURGE' })).some((e) => e.id >= 5), 5000);
  await js.unschedule('PURGE');
  await sleep(200);
  const left = await js.listExecutions({ vendorType: 'PURGE' });
  assert.ok(left.length <= 3, `${left.length} executions kept`);
});

test(`${BACKEND}: tasks queued in the database are run by a new instance after a restart`, async () => {
  const d = await freshDatabase();
  const first = await newService(d);
  const exs = [];
  for (let n = 0; n < 5; n++) exs.push(await first.submit('LATER', { n }));
  await first.close();
  const second = await newService(d);
  const seen: number[] = [];
  second.register('LATER', async (ctx) => void seen.push(ctx.params.n as number));
  second.start();
  for (const e of exs) assert.equal((await finished(second, e.id)).status, 'Success');
  assert.deepEqual(seen.sort(), [0, 1, 2, 3, 4]);
});

test(`${BACKEND}: close() waits for running handlers, then hands unfinished tasks back`, async () => {
  const d = await freshDatabase();
  const js = await newService(d);
  let quickDone = false;
  js.register('QUICK', async () => {
    await sleep(100);
    quickDone = true;
  });
  js.register('STUCK', async (ctx) => {
    await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r()));
  });
  js.start();
  const q = await js.submit('QUICK');
  const s = await js.submit('STUCK');
  await waitFor('both running', async () => js.runningCount === 2);
  await js.close(300);
  assert.ok(quickDone);
  assert.equal((await js.getExecution(q.id))!.status, 'Success');
  const [task] = await js.listTasks(s.id);
  assert.equal(task.status, 'Pending', 'the stuck task went back to the queue');
  assert.equal(task.runCount, 0, 'without counting the interrupted run');
  const next = await newService(d);
  next.register('STUCK', async () => {});
  next.start();
  assert.equal((await finished(next, s.id)).status, 'Success');
});

// ---- the job service monitor ------------------------------------------------------------------------------

test(`${BACKEND}: a queue paused by one instance is honoured by every instance; pools, workers, stop and log of a job`, async () => {
  const d = await freshDatabase();
  const a = await newService(d, { workerId: 'pool-a', maxWorkers: 2 });
  const b = await newService(d, { workerId: 'pool-b', maxWorkers: 3 });
  let runs = 0;
  for (const js of [a, b]) {
    js.register('SLOW', async (ctx) => {
      runs++;
      ctx.log('slow job started');
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
    });
    js.start();
  }
  await a.queueAction('SLOW', 'pause');
  const ex = await b.submit('SLOW');
  await sleep(300);
  assert.equal(runs, 0, 'a paused queue starts nothing');
  assert.equal((await b.getExecution(ex.id))!.status, 'Pending');
  assert.deepEqual(
    (await b.listQueues()).find((q) => q.jobType === 'SLOW'),
    { jobType: 'SLOW', count: 1, latencySeconds: 0, paused: true },
  );
  await assert.rejects(a.queueAction('NOPE', 'pause'), /job queue NOPE not found/);

  await b.queueAction('all', 'resume');
  await waitFor('the job to run', async () => runs === 1);
  const [task] = await a.listTasks(ex.id);
  const pools = await a.listWorkerPools();
  assert.deepEqual(pools.map((p) => [p.id, p.concurrency, p.pid]).sort(), [['pool-a', 2, process.pid], ['pool-b', 3, process.pid]]);
  const workers = await a.listWorkers('all');
  assert.equal(workers.length, 5);
  const busy = workers.filter((w) => w.job);
  assert.equal(busy.length, 1);
  assert.equal(busy[0].job!.id, String(task.id));
  assert.equal(busy[0].job!.name, 'SLOW');
  assert.ok(busy[0].job!.startTime);
  assert.deepEqual((await a.listWorkers(busy[0].poolId)).filter((w) => w.job).length, 1);
  await assert.rejects(a.listWorkers('pool-z'), /worker pool pool-z not found/);

  await a.stopJob(String(task.id)); // wherever it runs
  assert.equal((await finished(a, ex.id)).status, 'Stopped');
  assert.match(await a.getJobLogText(String(task.id)), /slow job started/);
  await assert.rejects(a.stopJob('12345678'), /job 12345678 not found/);
  await assert.rejects(a.getJobLogText('x'), /job x not found/);

  // stop: the pending tasks of a paused queue end Stopped
  await a.queueAction('SLOW', 'pause');
  const p = await a.submit('SLOW');
  await a.queueAction('SLOW', 'stop');
  assert.equal((await a.getExecution(p.id))!.status, 'Stopped');
  await a.queueAction('SLOW', 'resume');

  // a closed instance's pool is gone from the list
  await b.close(100);
  assert.deepEqual((await a.listWorkerPools()).map((x) => x.id), ['pool-a']);
});

test(`${BACKEND}: while the SCHEDULER queue is paused no schedule fires; on resume the due occurrence fires once`, async () => {
  const d = await freshDatabase();
  const js = await newService(d);
  js.register('TICK', async () => {});
  await js.queueAction('SCHEDULER', 'pause');
  assert.equal(await js.schedulerPaused(), true);
  await js.schedule('TICK', '@every 1s');
  js.start();
  await sleep(1600);
  assert.equal(await js.countExecutions({ vendorType: 'TICK' }), 0);
  const q = (await js.listQueues()).find((x) => x.jobType === 'SCHEDULER')!;
  assert.equal(q.paused, true);
  assert.equal(q.count, 1, 'the due occurrence waits');
  await js.queueAction('SCHEDULER', 'resume');
  assert.equal(await js.schedulerPaused(), false);
  await waitFor('the schedule to fire', async () => (await js.countExecutions({ vendorType: 'TICK' })) >= 1);
  assert.ok((await js.countExecutions({ vendorType: 'TICK' })) <= 2, 'the missed occurrence fires once, not per missed second');
  assert.equal((await js.countSchedules()), 1);
  assert.deepEqual((await js.listSchedulesPage(10, 0)).map((s) => s.vendorType), ['TICK']);
});
