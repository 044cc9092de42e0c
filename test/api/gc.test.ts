// /api/v2.0/system/gc against a real Berth (grace 0): sysadmin only, a manual run frees the blobs of a deleted
// image (files gone from storage, history Success, a log with lines), a dry run frees nothing, the schedule
// round trip (Hourly ↔ cron, None removes it), invalid schedules and parameters → 400, unknown ids → 404.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryClient } from '../helpers/registry-client.ts';
import type { ApiClient } from '../helpers/api-client.ts';
import { expectApi, useApi } from './fixture.ts';

const f = useApi({ env: { BERTH_REGISTRY_GC_GRACE: '0' } });

const blobFile = (digest: string) => {
  const [alg, hex] = digest.split(':');
  return join(f.berth.dataDir, 'storage', 'blobs', alg, hex.slice(0, 2), hex, 'data');
};

async function runGc(admin: ApiClient, parameters: Record<string, unknown>): Promise<any> {
  const r = await admin.call('POST', '/system/gc/schedule', { schedule: { type: 'Manual' }, parameters });
  expectApi(r, 201);
  const loc = r.headers.get('location') ?? '';
  assert.match(loc, /^\/api\/v2\.0\/system\/gc\/[0-9]+$/);
  const id = Number(loc.split('/').pop());
  for (let i = 0; i < 300; i++) {
    const g = await admin.call('GET', `/system/gc/${id}`);
    expectApi(g, 200);
    const h = g.json();
    if (!['Pending', 'Running'].includes(h.job_status)) return h;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`gc ${id} did not finish`);
}

test('non-admins and anonymous callers are refused', async () => {
  await f.admin.createUser('gc-dev', 'Passw0rd!x');
  const dev = f.admin.as('gc-dev', 'Passw0rd!x');
  for (const [method, path, body] of [
    ['GET', '/system/gc', undefined],
    ['GET', '/system/gc/schedule', undefined],
    ['POST', '/system/gc/schedule', { schedule: { type: 'Manual' } }],
    ['PUT', '/system/gc/schedule', { schedule: { type: 'Hourly' } }],
    ['GET', '/system/gc/1', undefined],
    ['GET', '/system/gc/1/log', undefined],
    ['PUT', '/system/gc/1', undefined],
  ] as const) {
    expectApi(await f.anon.call(method, path, body), 401, 'UNAUTHORIZED');
    expectApi(await dev.call(method, path, body), 403, 'FORBIDDEN');
  }
  const h = await f.admin.call('GET', '/system/gc');
  expectApi(h, 200);
  assert.deepEqual(h.json(), [], 'refused calls started no GC');
});

test('dry run frees nothing, a manual run deletes the blobs of a deleted image', async () => {
  const reg = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
  const img = await reg.pushImage('library/gc-api', 'v1', { layers: 2, layerSize: 4096 });
  const kept = await reg.pushImage('library/gc-api-kept', 'v1', { layers: 1 });
  const del = await reg.request('DELETE', `/v2/library/gc-api/manifests/${img.digest}`);
  assert.equal(del.status, 202, String(del));
  const files = [img.config.digest, ...img.layers.map((l) => l.digest)].map(blobFile);
  for (const p of files) assert.ok(existsSync(p), `${p} exists before GC`);

  const dry = await runGc(f.admin, { dry_run: true, delete_untagged: false, workers: 1 });
  assert.equal(dry.job_status, 'Success', JSON.stringify(dry));
  const dp = JSON.parse(dry.job_parameters);
  assert.equal(dp.dry_run, true);
  assert.ok(dp.freed_space >= 2 * 4096, `dry run reports what it would free: ${dry.job_parameters}`);
  for (const p of files) assert.ok(existsSync(p), `${p} survives the dry run`);

  const h = await runGc(f.admin, { dry_run: false, delete_untagged: true, workers: 3 });
  assert.equal(h.job_status, 'Success', JSON.stringify(h));
  assert.equal(h.job_name, 'GARBAGE_COLLECTION');
  assert.equal(h.job_kind, 'MANUAL');
  assert.equal(h.deleted, false);
  assert.ok(!Number.isNaN(Date.parse(h.creation_time)) && !Number.isNaN(Date.parse(h.update_time)));
  const p = JSON.parse(h.job_parameters);
  assert.equal(p.workers, 3);
  assert.equal(p.delete_untagged, true);
  assert.equal(p.purged_blobs, 3, h.job_parameters);
  assert.ok(p.freed_space >= 2 * 4096, h.job_parameters);
  for (const file of files) assert.ok(!existsSync(file), `${file} removed by GC`);
  for (const d of [kept.config.digest, ...kept.layers.map((l) => l.digest)]) assert.ok(existsSync(blobFile(d)), 'referenced blob kept');
  assert.equal((await reg.getManifest('library/gc-api-kept', 'v1')).status, 200);

  const log = await f.admin.call('GET', `/system/gc/${h.id}/log`);
  expectApi(log, 200);
  assert.match(log.headers.get('content-type') ?? '', /^text\/plain/);
  const lines = log.text.trim().split('\n');
  assert.ok(lines.length >= 3, log.text);
  assert.match(log.text, /freed [0-9]+ bytes/);

  const list = await f.admin.call('GET', '/system/gc?page=1&page_size=1');
  expectApi(list, 200);
  assert.equal(list.headers.get('x-total-count'), '2');
  assert.match(list.headers.get('link') ?? '', /rel="next"/);
  assert.deepEqual(
    list.json().map((x: any) => x.id),
    [h.id],
    'newest first',
  );
  // A finished run: stop is a no-op that still answers 200.
  expectApi(await f.admin.call('PUT', `/system/gc/${h.id}`), 200);
  assert.equal((await f.admin.call('GET', `/system/gc/${h.id}`)).json().job_status, 'Success');
});

test('schedule round trip, invalid schedules and parameters, unknown ids', async () => {
  expectApi(await f.admin.call('GET', '/system/gc/schedule'), 200);
  const put = await f.admin.call('POST', '/system/gc/schedule', { schedule: { type: 'Hourly' }, parameters: { delete_untagged: true, workers: 2 } });
  expectApi(put, 201);
  let s = (await f.admin.call('GET', '/system/gc/schedule')).json();
  assert.equal(s.schedule.type, 'Hourly');
  assert.equal(s.schedule.cron, '0 0 * * * *');
  assert.ok(Date.parse(s.schedule.next_scheduled_time) > Date.now());
  assert.deepEqual(JSON.parse(s.job_parameters), { delete_untagged: true, dry_run: false, workers: 2 });

  expectApi(await f.admin.call('PUT', '/system/gc/schedule', { schedule: { type: 'Custom', cron: '0 30 2 * * 1' } }), 200);
  s = (await f.admin.call('GET', '/system/gc/schedule')).json();
  assert.equal(s.schedule.type, 'Custom');
  assert.equal(s.schedule.cron, '0 30 2 * * 1');

  expectApi(await f.admin.call('PUT', '/system/gc/schedule', { schedule: { type: 'Custom', cron: 'every now and then' } }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('PUT', '/system/gc/schedule', { schedule: { type: 'Custom' } }), 400, 'BAD_REQUEST');
  const monthly = await f.admin.call('PUT', '/system/gc/schedule', { schedule: { type: 'Monthly' } });
  expectApi(monthly, 400, 'BAD_REQUEST');
  // Issue #12: an invalid type is a 400 (not 403) whose message names the field.
  assert.match(monthly.json().errors[0].message, /schedule\/type must be equal to one of the allowed values/);
  // Harbor's ScheduleObj lists 'Schedule' too: it stores the given cron like Custom.
  expectApi(await f.admin.call('PUT', '/system/gc/schedule', { schedule: { type: 'Schedule', cron: '0 15 3 * * 2' } }), 200);
  assert.equal((await f.admin.call('GET', '/system/gc/schedule')).json().schedule.cron, '0 15 3 * * 2');
  expectApi(await f.admin.call('PUT', '/system/gc/schedule', { schedule: { type: 'Custom', cron: '0 30 2 * * 1' } }), 200);
  expectApi(await f.admin.call('POST', '/system/gc/schedule', { schedule: { type: 'Manual' }, parameters: { workers: 11 } }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('POST', '/system/gc/schedule', { schedule: { type: 'Manual' }, parameters: { dry_run: 'yes' } }), 400, 'BAD_REQUEST');
  assert.equal((await f.admin.call('GET', '/system/gc/schedule')).json().schedule.cron, '0 30 2 * * 1', 'refused updates changed nothing');

  expectApi(await f.admin.call('PUT', '/system/gc/schedule', { schedule: { type: 'None' } }), 200);
  assert.deepEqual((await f.admin.call('GET', '/system/gc/schedule')).json(), {});

  expectApi(await f.admin.call('PUT', '/system/gc/999999'), 404, 'NOT_FOUND');
  expectApi(await f.admin.call('GET', '/system/gc/999999'), 404, 'NOT_FOUND');
  expectApi(await f.admin.call('GET', '/system/gc/999999/log'), 404, 'NOT_FOUND');
  expectApi(await f.admin.call('GET', '/system/gc/abc'), 400, 'BAD_REQUEST');
});
