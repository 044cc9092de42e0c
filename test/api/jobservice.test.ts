// /api/v2.0/jobservice and /api/v2.0/schedules against a real Berth: the worker pool (this process) and its
// workers, pausing the GARBAGE_COLLECTION queue keeps a manual GC pending (count 1) until it is resumed, stopping a
// pending job and a queue's pending jobs, a finished job's log, "all", the schedule list and the scheduler's paused
// status; 401/403 for callers without jobservice-monitor, 404s that name what is missing, 400 for a bad action.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/open.ts';
import { expectApi, useApi } from './fixture.ts';

const f = useApi();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The job (task) id of an execution, read from the deployment's database. */
async function jobIdOf(executionId: number): Promise<string> {
  const db = await openDatabase({
    type: f.berth.database,
    sqlitePath: join(f.berth.dataDir, 'berth.db'),
    postgresUrl: f.berth.pgUrl ?? '',
    postgresMaxConnections: 1,
  });
  try {
    const r = await db.get<{ id: unknown }>('SELECT id FROM tasks WHERE execution_id = ?', [executionId]);
    assert.ok(r, `no task for execution ${executionId}`);
    return String(r.id);
  } finally {
    await db.close();
  }
}

async function manualGc(): Promise<number> {
  const r = await f.admin.call('POST', '/system/gc/schedule', { schedule: { type: 'Manual' }, parameters: { dry_run: true } });
  expectApi(r, 201);
  return Number(r.headers.get('location')!.split('/').pop());
}

async function gcStatus(id: number): Promise<string> {
  const r = await f.admin.call('GET', `/system/gc/${id}`);
  expectApi(r, 200);
  return r.json().job_status;
}

async function waitGc(id: number, done: (s: string) => boolean): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const s = await gcStatus(id);
    if (done(s)) return s;
    await sleep(50);
  }
  throw new Error(`gc ${id} is still ${await gcStatus(id)}`);
}

async function queue(type: string): Promise<{ job_type: string; count: number; latency: number; paused: boolean }> {
  const r = await f.admin.call('GET', '/jobservice/queues');
  expectApi(r, 200);
  const q = r.json().find((x: { job_type: string }) => x.job_type === type);
  assert.ok(q, `no queue ${type} in ${r.text}`);
  return q;
}

const action = (type: string, a: string) => f.admin.call('PUT', `/jobservice/queues/${type}`, { action: a });

test('anonymous callers get 401, users without jobservice-monitor 403; the paused status only needs a login', async () => {
  await f.admin.createUser('js-dev', 'Passw0rd!x');
  const dev = f.admin.as('js-dev', 'Passw0rd!x');
  for (const [method, path, body] of [
    ['GET', '/jobservice/pools', undefined],
    ['GET', '/jobservice/pools/all/workers', undefined],
    ['PUT', '/jobservice/jobs/1', undefined],
    ['GET', '/jobservice/jobs/1/log', undefined],
    ['GET', '/jobservice/queues', undefined],
    ['PUT', '/jobservice/queues/GARBAGE_COLLECTION', { action: 'pause' }],
    ['GET', '/schedules', undefined],
  ] as const) {
    expectApi(await f.anon.call(method, path, body), 401, 'UNAUTHORIZED');
    expectApi(await dev.call(method, path, body), 403, 'FORBIDDEN');
  }
  expectApi(await f.anon.call('GET', '/schedules/all/paused'), 401, 'UNAUTHORIZED');
  const p = await dev.call('GET', '/schedules/all/paused');
  expectApi(p, 200);
  assert.deepEqual(p.json(), { paused: false });
  assert.equal((await queue('GARBAGE_COLLECTION')).paused, false, 'the refused pause changed nothing');
});

test('a system robot granted jobservice-monitor:list may list but not stop; one granted stop may act', async () => {
  const robot = async (name: string, actions: string[]) => {
    const r = await f.admin.call('POST', '/robots', {
      name,
      level: 'system',
      duration: -1,
      permissions: [{ kind: 'system', namespace: '/', access: actions.map((action) => ({ resource: 'jobservice-monitor', action })) }],
    });
    expectApi(r, 201);
    const { name: login, secret } = r.json();
    return f.admin.as(login, secret);
  };
  const lister = await robot('js-lister', ['list']);
  expectApi(await lister.call('GET', '/jobservice/queues'), 200);
  expectApi(await lister.call('GET', '/schedules'), 200);
  expectApi(await lister.call('PUT', '/jobservice/queues/GARBAGE_COLLECTION', { action: 'pause' }), 403, 'FORBIDDEN');
  const stopper = await robot('js-stopper', ['list', 'stop']);
  expectApi(await stopper.call('PUT', '/jobservice/queues/GARBAGE_COLLECTION', { action: 'pause' }), 200);
  expectApi(await stopper.call('PUT', '/jobservice/queues/GARBAGE_COLLECTION', { action: 'resume' }), 200);
});

test('the worker pool is this process; its workers are its slots; unknown pools are 404', async () => {
  const r = await f.admin.call('GET', '/jobservice/pools');
  expectApi(r, 200);
  const pools = r.json();
  assert.equal(pools.length, 1, r.text);
  const [p] = pools;
  assert.equal(typeof p.worker_pool_id, 'string');
  assert.equal(p.pid, f.berth.process.pid);
  assert.ok(Number.isInteger(p.concurrency) && p.concurrency >= 1, r.text);
  assert.ok(typeof p.host === 'string' && p.host.length > 0);
  assert.ok(Date.parse(p.start_at) <= Date.parse(p.heartbeat_at) + 1000, r.text);

  for (const id of [encodeURIComponent(p.worker_pool_id), 'all', 'ALL']) {
    const w = await f.admin.call('GET', `/jobservice/pools/${id}/workers`);
    expectApi(w, 200);
    const workers = w.json();
    assert.equal(workers.length, p.concurrency, w.text);
    for (const x of workers) assert.deepEqual(x, { id: x.id, pool_id: p.worker_pool_id }, 'idle workers have only their ids');
    assert.equal(new Set(workers.map((x: { id: string }) => x.id)).size, workers.length);
  }
  const none = await f.admin.call('GET', '/jobservice/pools/no-such-pool/workers');
  expectApi(none, 404, 'NOT_FOUND');
  assert.match(none.json().errors[0].message, /no-such-pool/);
});

test('a paused queue keeps its job pending (count 1) until resumed; then it runs and its log is served', async () => {
  expectApi(await action('GARBAGE_COLLECTION', 'pause'), 200);
  assert.equal((await queue('GARBAGE_COLLECTION')).paused, true);
  const id = await manualGc();
  await sleep(1500); // the job service polls every second
  assert.equal(await gcStatus(id), 'Pending');
  const q = await queue('GARBAGE_COLLECTION');
  assert.deepEqual({ count: q.count, paused: q.paused }, { count: 1, paused: true });
  assert.ok(Number.isInteger(q.latency) && q.latency >= 1, JSON.stringify(q));

  expectApi(await action('GARBAGE_COLLECTION', 'resume'), 200);
  assert.equal(await waitGc(id, (s) => s !== 'Pending' && s !== 'Running'), 'Success');
  const after = await queue('GARBAGE_COLLECTION');
  assert.deepEqual({ count: after.count, paused: after.paused }, { count: 0, paused: false });

  const jobId = await jobIdOf(id);
  const log = await f.admin.call('GET', `/jobservice/jobs/${jobId}/log`);
  expectApi(log, 200);
  assert.match(log.headers.get('content-type') ?? '', /^text\/plain/);
  assert.ok(log.text.length > 0);
  const gcLog = await f.admin.call('GET', `/system/gc/${id}/log`);
  assert.equal(log.text, gcLog.text, 'the job log is the GC run log');
  // stopping a job that already ended changes nothing
  expectApi(await f.admin.call('PUT', `/jobservice/jobs/${jobId}`), 200);
  assert.equal(await gcStatus(id), 'Success');
});

test('stop: one pending job by id, and the pending jobs of a queue', async () => {
  expectApi(await action('GARBAGE_COLLECTION', 'pause'), 200);
  try {
    const a = await manualGc();
    expectApi(await f.admin.call('PUT', `/jobservice/jobs/${await jobIdOf(a)}`), 200);
    assert.equal(await gcStatus(a), 'Stopped');

    const b = await manualGc();
    assert.equal((await queue('GARBAGE_COLLECTION')).count, 1);
    expectApi(await action('garbage_collection', 'STOP'), 200); // Harbor upper-cases the type and lower-cases the action
    assert.equal(await gcStatus(b), 'Stopped');
    assert.equal((await queue('GARBAGE_COLLECTION')).count, 0);
  } finally {
    expectApi(await action('GARBAGE_COLLECTION', 'resume'), 200);
  }
});

test('"all" pauses and resumes every queue, the scheduler with them', async () => {
  expectApi(await action('all', 'pause'), 200);
  let r = await f.admin.call('GET', '/jobservice/queues');
  const queues = r.json();
  assert.ok(queues.length >= 3 && queues.every((q: { paused: boolean }) => q.paused), r.text);
  assert.ok(queues.some((q: { job_type: string }) => q.job_type === 'SCHEDULER'), r.text);
  assert.deepEqual((await f.admin.call('GET', '/schedules/all/paused')).json(), { paused: true });
  expectApi(await action('ALL', 'resume'), 200);
  r = await f.admin.call('GET', '/jobservice/queues');
  assert.ok(r.json().every((q: { paused: boolean }) => !q.paused), r.text);
  assert.deepEqual((await f.admin.call('GET', '/schedules/all/paused')).json(), { paused: false });
  // the scheduler alone
  expectApi(await action('SCHEDULER', 'pause'), 200);
  assert.deepEqual((await f.admin.call('GET', '/schedules/all/paused')).json(), { paused: true });
  expectApi(await action('SCHEDULER', 'resume'), 200);
  assert.deepEqual((await f.admin.call('GET', '/schedules/all/paused')).json(), { paused: false });
});

test('bad requests: unsupported action 400, unknown queue and job 404 naming them, paused of a single type 400', async () => {
  for (const body of [{ action: 'restart' }, {}, { action: '' }]) {
    const r = await f.admin.call('PUT', '/jobservice/queues/GARBAGE_COLLECTION', body);
    expectApi(r, 400, 'BAD_REQUEST');
    assert.equal(r.json().errors[0].message, 'the action is not supported');
  }
  expectApi(await f.admin.call('PUT', '/jobservice/queues/GARBAGE_COLLECTION', { action: 7 }), 400, 'BAD_REQUEST'); // the body schema
  assert.equal((await queue('GARBAGE_COLLECTION')).paused, false);
  const q = await action('NO_SUCH_TYPE', 'pause');
  expectApi(q, 404, 'NOT_FOUND');
  assert.match(q.json().errors[0].message, /NO_SUCH_TYPE/);
  for (const id of ['987654321', 'absent-job-id']) {
    const s = await f.admin.call('PUT', `/jobservice/jobs/${id}`);
    expectApi(s, 404, 'NOT_FOUND');
    assert.match(s.json().errors[0].message, new RegExp(`job ${id}`));
    const l = await f.admin.call('GET', `/jobservice/jobs/${id}/log`);
    expectApi(l, 404, 'NOT_FOUND');
    assert.match(l.json().errors[0].message, new RegExp(`job ${id}`));
  }
  const p = await f.admin.call('GET', '/schedules/GARBAGE_COLLECTION/paused');
  expectApi(p, 400, 'BAD_REQUEST');
  assert.match(p.json().errors[0].message, /all/);
});

test('schedules: the GC and purge schedules are listed, paginated with X-Total-Count and Link', async () => {
  expectApi(await f.admin.call('PUT', '/system/gc/schedule', { schedule: { type: 'Custom', cron: '0 0 3 * * *' }, parameters: { dry_run: true } }), 200);
  expectApi(await f.admin.call('PUT', '/system/purgeaudit/schedule', { schedule: { type: 'Daily' }, parameters: { audit_retention_hour: 24 } }), 200);
  const r = await f.admin.call('GET', '/schedules?page=1&page_size=50');
  expectApi(r, 200);
  const list = r.json();
  const total = Number(r.headers.get('x-total-count'));
  assert.equal(total, list.length);
  const gc = list.find((s: { vendor_type: string }) => s.vendor_type === 'GARBAGE_COLLECTION');
  assert.ok(gc, r.text);
  assert.deepEqual(Object.keys(gc).sort(), ['cron', 'id', 'update_time', 'vendor_id', 'vendor_type']);
  assert.equal(gc.cron, '0 0 3 * * *');
  assert.equal(gc.vendor_id, -1);
  assert.ok(list.some((s: { vendor_type: string }) => s.vendor_type === 'PURGE_AUDIT_LOG'), r.text);

  const p1 = await f.admin.call('GET', '/schedules?page=1&page_size=1');
  expectApi(p1, 200);
  assert.equal(p1.json().length, 1);
  assert.equal(Number(p1.headers.get('x-total-count')), total);
  assert.match(p1.headers.get('link') ?? '', /rel="next"/);
  const p2 = await f.admin.call('GET', '/schedules?page=2&page_size=1');
  assert.notEqual(p2.json()[0].id, p1.json()[0].id);
});
