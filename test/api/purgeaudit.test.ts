// /api/v2.0/system/purgeaudit against a real Berth: sysadmin only; a manual PURGE_AUDIT_LOG run deletes the
// audit rows older than audit_retention_hour and keeps newer ones, include_event_types narrows it, a dry run
// only counts; history, detail and log; schedule round trip; invalid parameters 400, unknown ids 404.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiClient } from '../helpers/api-client.ts';
import { openBerthDatabase } from '../helpers/berth.ts';
import type { Db } from '../../src/db/db.ts';
import { expectApi, useApi } from './fixture.ts';

const f = useApi();
// The deployment's database, opened on first use (after the fixture started Berth).
let opened: Db | null = null;
const database = async (): Promise<Db> =>
  (opened ??= await openBerthDatabase(f.berth));
after(async () => {
  await opened?.close();
});

const HOUR = 3_600_000;

async function seed(rows: { resource: string; ageHours: number; operation?: string; resourceType?: string }[]): Promise<void> {
  const now = Date.now();
  for (const r of rows)
    await (await database()).run(
      'INSERT INTO audit_logs (username, operation, resource_type, resource, project_id, detail, op_time) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ['seed', r.operation ?? 'create', r.resourceType ?? 'project', r.resource, null, null, now - r.ageHours * HOUR],
    );
}

async function seededResources(): Promise<string[]> {
  const rows = await (await database()).all<{ resource: string }>("SELECT resource FROM audit_logs WHERE username = 'seed' ORDER BY resource");
  return rows.map((r) => r.resource);
}

async function runPurge(admin: ApiClient, parameters: Record<string, unknown>): Promise<any> {
  const r = await admin.call('POST', '/system/purgeaudit/schedule', { schedule: { type: 'Manual' }, parameters });
  expectApi(r, 201);
  const loc = r.headers.get('location') ?? '';
  assert.match(loc, /^\/api\/v2\.0\/system\/purgeaudit\/[0-9]+$/);
  const id = Number(loc.split('/').pop());
  for (let i = 0; i < 300; i++) {
    const g = await admin.call('GET', `/system/purgeaudit/${id}`);
    expectApi(g, 200);
    const h = g.json();
    if (!['Pending', 'Running'].includes(h.job_status)) return h;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`purge ${id} did not finish`);
}

test('non-admins and anonymous callers are refused', async () => {
  await f.admin.createUser('pa-dev', 'Passw0rd!x');
  const dev = f.admin.as('pa-dev', 'Passw0rd!x');
  const manual = { schedule: { type: 'Manual' }, parameters: { audit_retention_hour: 1 } };
  for (const [method, path, body] of [
    ['GET', '/system/purgeaudit', undefined],
    ['GET', '/system/purgeaudit/schedule', undefined],
    ['POST', '/system/purgeaudit/schedule', manual],
    ['PUT', '/system/purgeaudit/schedule', { schedule: { type: 'Hourly' }, parameters: { audit_retention_hour: 1 } }],
    ['GET', '/system/purgeaudit/1', undefined],
    ['GET', '/system/purgeaudit/1/log', undefined],
    ['PUT', '/system/purgeaudit/1', undefined],
  ] as const) {
    expectApi(await f.anon.call(method, path, body), 401, 'UNAUTHORIZED');
    expectApi(await dev.call(method, path, body), 403, 'FORBIDDEN');
  }
  const h = await f.admin.call('GET', '/system/purgeaudit');
  expectApi(h, 200);
  assert.deepEqual(h.json(), [], 'refused calls started no purge');
});

test('dry run deletes nothing; a run deletes rows older than the retention and keeps newer ones', async () => {
  await seed([
    { resource: 'old-1', ageHours: 200 },
    { resource: 'old-2', ageHours: 49 },
    { resource: 'old-3', ageHours: 48.5, operation: 'delete', resourceType: 'user' },
    { resource: 'new-1', ageHours: 47 },
    { resource: 'new-2', ageHours: 0 },
  ]);
  const total = async () => Number((await (await database()).get<{ n: unknown }>('SELECT COUNT(*) AS n FROM audit_logs'))!.n);
  const before = await total();

  const dry = await runPurge(f.admin, { audit_retention_hour: 48, dry_run: true });
  assert.equal(dry.job_status, 'Success', JSON.stringify(dry));
  const dp = JSON.parse(dry.job_parameters);
  assert.equal(dp.dry_run, true);
  assert.equal(dp.purged, 3, dry.job_parameters);
  assert.equal(await total(), before, 'the dry run deleted nothing');
  assert.deepEqual(await seededResources(), ['new-1', 'new-2', 'old-1', 'old-2', 'old-3']);
  const dryLog = await f.admin.call('GET', `/system/purgeaudit/${dry.id}/log`);
  expectApi(dryLog, 200);
  assert.match(dryLog.text, /\[DRY RUN\] would purge 3 audit log rows/);

  const h = await runPurge(f.admin, { audit_retention_hour: 48, dry_run: false });
  assert.equal(h.job_status, 'Success', JSON.stringify(h));
  assert.equal(h.job_name, 'PURGE_AUDIT_LOG');
  assert.equal(h.job_kind, 'MANUAL');
  const p = JSON.parse(h.job_parameters);
  assert.equal(p.purged, 3, h.job_parameters);
  assert.equal(p.audit_retention_hour, 48);
  assert.deepEqual(await seededResources(), ['new-1', 'new-2'], 'rows older than 48 h are gone, newer ones kept');
  assert.equal(await total(), before - 3, 'only the old rows were deleted');

  const log = await f.admin.call('GET', `/system/purgeaudit/${h.id}/log`);
  expectApi(log, 200);
  assert.match(log.headers.get('content-type') ?? '', /^text\/plain/);
  assert.match(log.text, /purged 3 audit log rows/);

  const hist = await f.admin.call('GET', '/system/purgeaudit');
  expectApi(hist, 200);
  assert.deepEqual(
    hist.json().map((x: any) => x.id).sort((a: number, b: number) => a - b),
    [dry.id, h.id].sort((a, b) => a - b),
  );
  // The purge does not show up in GC's history and vice versa.
  expectApi(await f.admin.call('GET', `/system/gc/${h.id}`), 404, 'NOT_FOUND');
});

test('include_event_types purges only the listed events', async () => {
  await seed([
    { resource: 'ev-create', ageHours: 100, operation: 'create', resourceType: 'project' },
    { resource: 'ev-delete-user', ageHours: 100, operation: 'delete', resourceType: 'user' },
    { resource: 'ev-login', ageHours: 100, operation: 'login', resourceType: 'user' },
  ]);
  const h = await runPurge(f.admin, { audit_retention_hour: 10, include_event_types: 'delete_user,login', dry_run: false });
  assert.equal(h.job_status, 'Success', JSON.stringify(h));
  assert.equal(JSON.parse(h.job_parameters).purged, 2, h.job_parameters);
  const left = await seededResources();
  assert.ok(left.includes('ev-create') && !left.includes('ev-delete-user') && !left.includes('ev-login'), left.join(','));
});

test('schedule round trip, invalid parameters, unknown ids', async () => {
  expectApi(
    await f.admin.call('POST', '/system/purgeaudit/schedule', { schedule: { type: 'Daily' }, parameters: { audit_retention_hour: 720, dry_run: false } }),
    201,
  );
  const s = (await f.admin.call('GET', '/system/purgeaudit/schedule')).json();
  assert.equal(s.schedule.type, 'Daily');
  assert.deepEqual(JSON.parse(s.job_parameters), { audit_retention_hour: 720, include_event_types: '', dry_run: false });
  assert.deepEqual((await f.admin.call('GET', '/system/gc/schedule')).json(), {}, 'the GC schedule is separate');

  for (const parameters of [{}, { audit_retention_hour: 0 }, { audit_retention_hour: 1.5 }, { audit_retention_hour: '24' }, { audit_retention_hour: 1, dry_run: 'yes' }, { audit_retention_hour: 1, include_event_types: 'drop table;' }])
    expectApi(await f.admin.call('POST', '/system/purgeaudit/schedule', { schedule: { type: 'Manual' }, parameters }), 400, 'BAD_REQUEST');
  // Issue #12: a truly invalid type is a 400 naming the value; Manual (tested in runPurge) is accepted.
  const bogus = await f.admin.call('POST', '/system/purgeaudit/schedule', { schedule: { type: 'manual' }, parameters: { audit_retention_hour: 1 } });
  expectApi(bogus, 400, 'BAD_REQUEST');
  assert.match(bogus.json().errors[0].message, /schedule\/type must be equal to one of the allowed values/);
  assert.equal((await f.admin.call('GET', '/system/purgeaudit/schedule')).json().schedule.type, 'Daily', 'refused updates changed nothing');

  expectApi(await f.admin.call('PUT', '/system/purgeaudit/schedule', { schedule: { type: 'None' } }), 200);
  assert.deepEqual((await f.admin.call('GET', '/system/purgeaudit/schedule')).json(), {});

  expectApi(await f.admin.call('GET', '/system/purgeaudit/999999'), 404, 'NOT_FOUND');
  expectApi(await f.admin.call('GET', '/system/purgeaudit/999999/log'), 404, 'NOT_FOUND');
  expectApi(await f.admin.call('PUT', '/system/purgeaudit/999999'), 404, 'NOT_FOUND');
  expectApi(await f.admin.call('GET', '/system/purgeaudit/abc'), 400, 'BAD_REQUEST');
});
