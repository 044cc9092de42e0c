// GET /system/gc and GET /system/purgeaudit with Harbor's q and sort, against a real Berth: filters on id (exact,
// fuzzy as Harbor's portal sends it, list, range), status/job_status, trigger/job_kind and time ranges; sorting by
// the execution columns; X-Total-Count follows the filter; unknown keys, unknown sorts and bad values → 400.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiClient } from '../helpers/api-client.ts';
import { expectApi, useApi } from './fixture.ts';

const f = useApi();

async function run(admin: ApiClient, base: string, parameters: Record<string, unknown>): Promise<number> {
  const r = await admin.call('POST', `${base}/schedule`, { schedule: { type: 'Manual' }, parameters });
  expectApi(r, 201);
  const id = Number((r.headers.get('location') ?? '').split('/').pop());
  for (let i = 0; i < 300; i++) {
    const g = await admin.call('GET', `${base}/${id}`);
    expectApi(g, 200);
    if (!['Pending', 'Running'].includes(g.json().job_status)) return id;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`${base} ${id} did not finish`);
}

const ids = async (admin: ApiClient, path: string): Promise<number[]> => {
  const r = await admin.call('GET', path);
  expectApi(r, 200);
  return r.json().map((h: { id: number }) => h.id);
};

for (const [base, parameters] of [
  ['/system/gc', { dry_run: true }],
  ['/system/purgeaudit', { audit_retention_hour: 1, dry_run: true }],
] as const) {
  test(`${base}: q and sort as Harbor's`, async () => {
    const started = new Date(Date.now() - 2000);
    const a = await run(f.admin, base, parameters);
    const b = await run(f.admin, base, parameters);
    const c = await run(f.admin, base, parameters);
    const all = await ids(f.admin, base);
    assert.deepEqual(all.filter((i) => [a, b, c].includes(i)), [c, b, a], 'default: newest first');
    const enc = encodeURIComponent;

    assert.deepEqual(await ids(f.admin, `${base}?q=${enc(`id=${b}`)}`), [b]);
    assert.deepEqual(await ids(f.admin, `${base}?q=${enc(`id={${a} ${c}}`)}`), [c, a]);
    assert.deepEqual(await ids(f.admin, `${base}?q=${enc(`id=[${b}~${c}]`)}`), [c, b]);
    // Harbor's portal filters its history grid with id=~N (a text match on the id).
    const fuzzy = await ids(f.admin, `${base}?q=${enc(`id=~${c}`)}`);
    assert.ok(fuzzy.includes(c) && fuzzy.every((i) => String(i).includes(String(c))), String(fuzzy));

    assert.deepEqual((await ids(f.admin, `${base}?q=${enc('job_status=Success')}`)).filter((i) => [a, b, c].includes(i)), [c, b, a]);
    assert.deepEqual(await ids(f.admin, `${base}?q=${enc('status=Error')}`), []);
    assert.deepEqual(await ids(f.admin, `${base}?q=${enc('job_status={Error Stopped}')}`), []);
    assert.deepEqual((await ids(f.admin, `${base}?q=${enc('job_kind=MANUAL')}`)).filter((i) => [a, b, c].includes(i)), [c, b, a]);
    assert.deepEqual(await ids(f.admin, `${base}?q=${enc('trigger=SCHEDULE')}`), []);

    const from = started.toISOString().replace(/\.\d{3}Z$/, 'Z');
    assert.deepEqual(await ids(f.admin, `${base}?q=${enc(`creation_time=[${from}~]`)}`), [c, b, a]);
    assert.deepEqual(await ids(f.admin, `${base}?q=${enc(`start_time=[~${from}]`)}`), all.filter((i) => ![a, b, c].includes(i)));
    assert.deepEqual(await ids(f.admin, `${base}?q=${enc('update_time=[2000-01-01 00:00:00~2000-01-02 00:00:00]')}`), []);
    assert.deepEqual(await ids(f.admin, `${base}?q=${enc(`creation_time=[${from}~],job_status=Success`)}`), [c, b, a]);

    assert.deepEqual(await ids(f.admin, `${base}?q=${enc(`creation_time=[${from}~]`)}&sort=id`), [a, b, c]);
    assert.deepEqual(await ids(f.admin, `${base}?q=${enc(`creation_time=[${from}~]`)}&sort=-creation_time`), [c, b, a]);
    assert.deepEqual(await ids(f.admin, `${base}?q=${enc(`creation_time=[${from}~]`)}&sort=update_time`), [a, b, c]);

    // The count and paging follow the filter.
    const page = await f.admin.call('GET', `${base}?q=${enc(`creation_time=[${from}~]`)}&sort=id&page=2&page_size=2`);
    expectApi(page, 200);
    assert.equal(page.headers.get('x-total-count'), '3');
    assert.deepEqual(page.json().map((h: { id: number }) => h.id), [c]);

    for (const bad of ['id=abc', 'id=~x', 'creation_time=yesterday', 'status=~Succ', 'job_status', 'id=1,id=2']) {
      expectApi(await f.admin.call('GET', `${base}?q=${enc(bad)}`), 400, 'BAD_REQUEST');
    }
    // Keys and sorts that are not fields of the history are ignored, as Harbor's ORM does.
    const everything = (await f.admin.call('GET', base)).json().map((h: { id: number }) => h.id);
    for (const qs of ['name=gc', 'vendor_type=GARBAGE_COLLECTION'].map((q) => `q=${enc(q)}`).concat(['name', '-job_parameters', 'vendor_type'].map((s) => `sort=${enc(s)}`))) {
      const r = await f.admin.call('GET', `${base}?${qs}`);
      expectApi(r, 200);
      assert.deepEqual(r.json().map((h: { id: number }) => h.id), everything, qs);
    }
    expectApi(await f.anon.call('GET', `${base}?q=${enc('job_status=Success')}`), 401, 'UNAUTHORIZED');
  });
}

test('each history lists only its own job type under any filter', async () => {
  const gc = await ids(f.admin, `/system/gc?q=${encodeURIComponent('job_status=Success')}&page_size=0`);
  const purge = await ids(f.admin, `/system/purgeaudit?q=${encodeURIComponent('job_status=Success')}&page_size=0`);
  assert.ok(gc.length >= 3 && purge.length >= 3);
  assert.deepEqual(gc.filter((i) => purge.includes(i)), []);
});
