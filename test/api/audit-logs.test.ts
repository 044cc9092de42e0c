// Audit logs against a real Berth: real pushes, pulls and deletes over /v2 (token auth) show up in
// /audit-logs and /auditlog-exts with the caller's username, operation and `project/repo:tag` / `@digest`
// resource; Harbor's q filters (operation, resource fuzzy, resource_type, username, op_time ranges), sort and
// paging; injection attempts in q/sort are 400; project admins see their own projects only, other users see
// nothing, anonymous callers get 401; 200 parallel pulls all succeed and all land in the log after the flush;
// buffered pulls are written on shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryClient } from '../helpers/registry-client.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { expectApi, useApi } from './fixture.ts';

const f = useApi();
const PW = 'Passw0rd!x';
const reg = (username: string, password = PW) => new RegistryClient({ baseUrl: f.berth.url, username, password });

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let pushed: { digest: string };

// Shared data, made once by the first test that runs (after the fixture started Berth).
let ready: Promise<void> | null = null;
const setup = () => (ready ??= seed());

async function seed(): Promise<void> {
  await f.admin.createUser('al-alice');
  await f.admin.createUser('al-bob');
  await f.admin.createUser('al-carol');
  await f.admin.createProject('al-proj', false);
  await f.admin.createProject('al-other', false);
  await f.admin.addMember('al-proj', 'al-alice', 1); // project admin
  await f.admin.addMember('al-proj', 'al-bob', 2); // developer
  await f.admin.addMember('al-other', 'al-carol', 1);

  pushed = await reg('al-alice').pushImage('al-proj/app', 'v1');
  const pull = await reg('al-bob').getManifest('al-proj/app', 'v1');
  assert.equal(pull.status, 200, String(pull));
  // A second artifact, pushed by digest only and deleted by digest.
  const other = await reg('al-alice').pushImage('al-proj/app', 'tmp');
  const del = await reg('al-alice').request('DELETE', `/v2/al-proj/app/manifests/${other.digest}`);
  assert.equal(del.status, 202, String(del));
  await reg('al-carol').pushImage('al-other/svc', 'v1');
}

test('push, pull and delete are recorded with the caller and the resource (legacy shape)', async () => {
  await setup();
  const rows = await waitFor('the pull row', async () => {
    const r = await f.admin.call('GET', '/audit-logs?q=resource%3D~al-proj/app&page_size=100');
    expectApi(r, 200);
    const body = r.json() as any[];
    return body.some((x) => x.operation === 'pull') ? body : null;
  });
  for (const x of rows) assert.deepEqual(Object.keys(x).sort(), ['id', 'op_time', 'operation', 'resource', 'resource_type', 'username']);
  const find = (op: string, resource: string) => rows.find((x) => x.operation === op && x.resource === resource);
  assert.equal(find('create', 'al-proj/app:v1')?.username, 'al-alice');
  assert.equal(find('create', 'al-proj/app:v1')?.resource_type, 'artifact');
  assert.equal(find('pull', 'al-proj/app:v1')?.username, 'al-bob');
  assert.ok(rows.some((x) => x.operation === 'delete' && x.username === 'al-alice' && /^al-proj\/app@sha256:[0-9a-f]{64}$/.test(x.resource)), JSON.stringify(rows));
  assert.match(find('pull', 'al-proj/app:v1')!.op_time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  // Newest first by default.
  const times = rows.map((x) => Date.parse(x.op_time));
  assert.deepEqual(times, [...times].sort((a, b) => b - a));
});

test('the extended shape, and the event types (sysadmin only)', async () => {
  await setup();
  const r = await f.admin.call('GET', '/auditlog-exts?q=resource%3D~al-proj/app,operation%3Dcreate&page_size=100');
  expectApi(r, 200);
  const rows = r.json() as any[];
  assert.ok(rows.length >= 2);
  for (const x of rows) {
    assert.deepEqual(Object.keys(x).sort(), ['id', 'op_time', 'operation', 'operation_description', 'operation_result', 'resource', 'resource_type', 'username']);
    assert.equal(x.operation, 'create');
    assert.equal(x.resource_type, 'artifact');
    assert.equal(x.operation_result, true);
    assert.equal(typeof x.operation_description, 'string');
  }
  const ev = await f.admin.call('GET', '/auditlog-exts/events');
  expectApi(ev, 200);
  const types = (ev.json() as { event_type: string }[]).map((e) => e.event_type);
  for (const t of ['create_artifact', 'delete_artifact', 'pull_artifact', 'login_user', 'update_configuration']) assert.ok(types.includes(t), t);
  expectApi(await f.admin.as('al-alice', PW).call('GET', '/auditlog-exts/events'), 403, 'FORBIDDEN');
  expectApi(await f.anon.call('GET', '/auditlog-exts/events'), 401, 'UNAUTHORIZED');
});

test('q filters: operation, union, username, resource_type, fuzzy resource, op_time ranges', async () => {
  await setup();
  const get = async (q: string) => {
    const r = await f.admin.call('GET', `/audit-logs?page_size=100&q=${encodeURIComponent(q)}`);
    expectApi(r, 200);
    return r.json() as any[];
  };
  const pulls = await get('operation=pull,resource=~al-proj/');
  assert.ok(pulls.length >= 1 && pulls.every((x) => x.operation === 'pull'));
  const cd = await get('operation={create delete},resource=~al-proj/');
  assert.deepEqual([...new Set(cd.map((x) => x.operation))].sort(), ['create', 'delete']);
  const bob = await get('username=al-bob');
  assert.ok(bob.length >= 1 && bob.every((x) => x.username === 'al-bob'));
  const art = await get('resource_type=artifact,resource=~al-other');
  assert.ok(art.length === 1 && art[0].resource === 'al-other/svc:v1', JSON.stringify(art));
  // Fuzzy matching is literal: % and _ are not wildcards.
  assert.equal((await get('resource=~al%proj')).length, 0);
  const fmt = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  const now = Date.now();
  const inRange = await get(`op_time=[${fmt(now - 3_600_000)}~${fmt(now + 3_600_000)}],resource=~al-proj/`);
  assert.equal(inRange.length, cd.length + pulls.length);
  assert.equal((await get(`op_time=[2000-01-01 00:00:00~2000-01-02 00:00:00],resource=~al-proj/`)).length, 0);
  assert.equal((await get(`op_time=["${fmt(now - 3_600_000)}"~],resource=~al-proj/`)).length, inRange.length);
  assert.equal((await get(`op_time=[~${fmt(now - 3_600_000)}],resource=~al-proj/`)).length, 0);
  // ISO times too.
  assert.equal((await get(`op_time=[${new Date(now - 3_600_000).toISOString()}~${new Date(now + 3_600_000).toISOString()}],resource=~al-proj/`)).length, inRange.length);
});

test('sort and paging: X-Total-Count and Harbor Link header', async () => {
  await setup();
  const r = await f.admin.call('GET', '/audit-logs?q=resource%3D~al-proj/&sort=op_time&page=1&page_size=1');
  expectApi(r, 200);
  const total = Number(r.headers.get('x-total-count'));
  assert.ok(total >= 3);
  assert.equal(r.json().length, 1);
  assert.match(r.headers.get('link') ?? '', /^<\/api\/v2\.0\/audit-logs\?page=2&page_size=1&q=resource%3D~al-proj%2F&sort=op_time>; rel="next"$/);
  const asc = await f.admin.call('GET', `/audit-logs?q=resource%3D~al-proj/&sort=op_time&page_size=100`);
  const times = (asc.json() as any[]).map((x) => Date.parse(x.op_time));
  assert.deepEqual(times, [...times].sort((a, b) => a - b));
  const byUser = await f.admin.call('GET', `/audit-logs?q=resource%3D~al-proj/&sort=-username,op_time&page_size=100`);
  const users = (byUser.json() as any[]).map((x) => x.username);
  assert.deepEqual(users, [...users].sort().reverse());
});

test('injection attempts in q/sort are 400; unknown fields and sorts are ignored (as Harbor)', async () => {
  await setup();
  for (const path of ['/audit-logs', '/auditlog-exts']) {
    const everything = (await f.admin.call('GET', path)).json().map((e: any) => e.id);
    for (const qs of [
      `q=${encodeURIComponent('project_id=1')}`,
      `q=${encodeURIComponent('detail=~x')}`,
      `sort=${encodeURIComponent('op_time;DROP TABLE audit_logs')}`,
      `sort=${encodeURIComponent('(SELECT 1)')}`,
      `sort=${encodeURIComponent('op_time desc')}`,
      `sort=detail`,
    ]) {
      const r = await f.admin.call('GET', `${path}?${qs}`);
      expectApi(r, 200);
      assert.deepEqual(r.json().map((e: any) => e.id), everything, `${path}?${qs}`);
    }
  }
  for (const qs of [
    `q=${encodeURIComponent("operation=pull' OR '1'='1")},op_time=[x~y]`,
    `q=${encodeURIComponent('op_time=[1 OR 1=1~2]')}`,
    `q=${encodeURIComponent('username__in=admin')}`,
    `q=${encodeURIComponent('operation=~pu')}`,
    `page_size=101`,
  ]) {
    expectApi(await f.admin.call('GET', `/audit-logs?${qs}`), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('GET', `/auditlog-exts?${qs}`), 400, 'BAD_REQUEST');
  }
  // A quote in a value is data, not SQL.
  const r = await f.admin.call('GET', `/audit-logs?q=${encodeURIComponent("username=x' OR '1'='1")}`);
  expectApi(r, 200);
  assert.deepEqual(r.json(), []);
  const rows = await f.admin.call('GET', '/audit-logs?page_size=1');
  assert.ok(Number(rows.headers.get('x-total-count')) > 0, 'the table is still there');
});

test('project admins see their own projects only; others see nothing; anonymous is 401', async () => {
  await setup();
  const alice = f.admin.as('al-alice', PW);
  const r = await alice.call('GET', '/audit-logs?page_size=100');
  expectApi(r, 200);
  const rows = r.json() as any[];
  // Rows of al-proj only (its artifacts, and its project/member events); nothing of al-other, nothing global.
  const ofOther = (x: any) => x.resource.startsWith('al-other') || x.username === 'al-carol' || x.resource_type === 'user';
  assert.ok(rows.some((x) => x.operation === 'create' && x.resource === 'al-proj/app:v1'));
  assert.ok(rows.some((x) => x.resource_type === 'member' && x.resource === 'al-bob'));
  assert.ok(!rows.some(ofOther), JSON.stringify(rows));
  const all = (await f.admin.call('GET', '/audit-logs?page_size=100')).json() as any[];
  assert.ok(all.some(ofOther), 'the sysadmin sees the other rows');
  const ext = await alice.call('GET', '/auditlog-exts?page_size=100');
  assert.equal((ext.json() as any[]).length, rows.length);
  assert.ok(!(ext.json() as any[]).some(ofOther));

  // Project views: alice (project admin) reads al-proj; the developer may not; a non-member does not see it.
  for (const path of ['/projects/al-proj/logs', '/projects/al-proj/auditlog-exts']) {
    const own = await alice.call('GET', `${path}?page_size=100`);
    expectApi(own, 200);
    assert.ok((own.json() as any[]).length >= 3);
    expectApi(await f.admin.as('al-bob', PW).call('GET', path), 403, 'FORBIDDEN');
    expectApi(await f.admin.as('al-carol', PW).call('GET', path), 404, 'NOT_FOUND');
    expectApi(await f.anon.call('GET', path), 401, 'UNAUTHORIZED');
  }
  expectApi(await alice.call('GET', '/projects/al-other/logs'), 404, 'NOT_FOUND');
  const carolOwn = await f.admin.as('al-carol', PW).call('GET', '/projects/al-other/logs');
  expectApi(carolOwn, 200);
  assert.ok((carolOwn.json() as any[]).some((x) => x.resource === 'al-other/svc:v1'));
  assert.ok(!(carolOwn.json() as any[]).some((x) => x.resource.startsWith('al-proj')));

  // A developer holds log:list nowhere: the global views are empty for them (Harbor filters, it does not 403).
  for (const path of ['/audit-logs', '/auditlog-exts']) {
    const bob = await f.admin.as('al-bob', PW).call('GET', path);
    expectApi(bob, 200);
    assert.deepEqual(bob.json(), []);
    assert.equal(bob.headers.get('x-total-count'), '0');
    expectApi(await f.anon.call('GET', path), 401, 'UNAUTHORIZED');
  }
  expectApi(await f.admin.as('al-alice', 'wrong-password').call('GET', '/audit-logs'), 401, 'UNAUTHORIZED');
});

test('project log views by role on a public project: only project admins and sysadmins (Harbor log:list)', async () => {
  await setup();
  await f.admin.createProject('al-pub', true);
  const want: [string, number | null, number][] = [
    ['al-pa', 1, 200],
    ['al-maint', 4, 403],
    ['al-dev', 2, 403],
    ['al-guest', 3, 403],
    ['al-lguest', 5, 403],
    ['al-nonmember', null, 403],
  ];
  for (const [user, role] of want) {
    await f.admin.createUser(user);
    if (role) await f.admin.addMember('al-pub', user, role);
  }
  for (const path of ['/projects/al-pub/logs', '/projects/al-pub/auditlog-exts']) {
    for (const [user, , status] of want) expectApi(await f.admin.as(user, PW).call('GET', path), status, status === 200 ? undefined : 'FORBIDDEN');
    expectApi(await f.admin.call('GET', path), 200);
    expectApi(await f.anon.call('GET', path), 401, 'UNAUTHORIZED');
  }
});

test('robot pushes and pulls are recorded under the robot name', async () => {
  await setup();
  const r = await f.admin.call('POST', '/robots', {
    name: 'al-ci',
    level: 'project',
    duration: -1,
    permissions: [{ kind: 'project', namespace: 'al-proj', access: [{ resource: 'repository', action: 'push' }, { resource: 'repository', action: 'pull' }] }],
  });
  expectApi(r, 201);
  const robot = r.json() as { name: string; secret: string };
  const c = new RegistryClient({ baseUrl: f.berth.url, username: robot.name, password: robot.secret });
  await c.pushImage('al-proj/robot', 'r1');
  assert.equal((await c.getManifest('al-proj/robot', 'r1')).status, 200);
  const rows = await waitFor('the robot rows', async () => {
    const l = await f.admin.call('GET', `/audit-logs?q=${encodeURIComponent('resource=al-proj/robot:r1')}`);
    const body = l.json() as any[];
    return body.length === 2 ? body : null;
  });
  assert.deepEqual(rows.map((x) => [x.operation, x.username]).sort(), [['create', robot.name], ['pull', robot.name]]);
  assert.match(robot.name, /^robot\$/);

  // A robot reads the audit log of the projects where it was granted log:list, and nothing else.
  const reader = await f.admin.call('POST', '/robots', {
    name: 'al-reader',
    level: 'system',
    duration: -1,
    permissions: [{ kind: 'project', namespace: 'al-proj', access: [{ resource: 'log', action: 'list' }] }],
  });
  expectApi(reader, 201);
  const rd = reader.json() as { name: string; secret: string };
  const asReader = f.admin.as(rd.name, rd.secret);
  const seen = (await asReader.call('GET', '/audit-logs?page_size=100')).json() as any[];
  assert.ok(seen.some((x) => x.resource === 'al-proj/robot:r1'));
  assert.ok(!seen.some((x) => x.resource.startsWith('al-other')));
  expectApi(await asReader.call('GET', '/projects/al-proj/logs'), 200);
  const asPusher = f.admin.as(robot.name, robot.secret);
  assert.deepEqual((await asPusher.call('GET', '/audit-logs')).json(), []);
  expectApi(await asPusher.call('GET', '/projects/al-proj/logs'), 403, 'FORBIDDEN');
  expectApi(await asPusher.call('GET', '/auditlog-exts/events'), 403, 'FORBIDDEN');
  // Robots see the public statistics.
  const st = await asPusher.call('GET', '/statistics');
  expectApi(st, 200);
  assert.equal(st.json().total_storage_consumption, 0);
});

test('200 parallel pulls all succeed and all land in the log after the flush', async () => {
  await setup();
  const bob = reg('al-bob');
  await bob.getManifest('al-proj/app', 'v1'); // token cached
  const results = await Promise.all(Array.from({ length: 200 }, () => bob.getManifest('al-proj/app', pushed.digest)));
  for (const r of results) assert.equal(r.status, 200);
  const q = encodeURIComponent(`operation=pull,username=al-bob,resource=al-proj/app@${pushed.digest}`);
  await waitFor('200 pull rows', async () => {
    const r = await f.admin.call('GET', `/audit-logs?q=${q}&page_size=1`);
    expectApi(r, 200);
    return Number(r.headers.get('x-total-count')) === 200;
  });
});

test('buffered pull events are written on shutdown (SIGTERM right after the pulls)', async () => {
  const b = await startBerth();
  let restarted: Berth | null = null;
  try {
    const c = new RegistryClient({ baseUrl: b.url, username: 'admin', password: b.adminPassword });
    const img = await c.pushImage('library/flush', 'v1');
    const pulls = await Promise.all(Array.from({ length: 20 }, () => c.getManifest('library/flush', img.digest)));
    for (const r of pulls) assert.equal(r.status, 200);
    await b.stop({ keepData: true });
    restarted = await b.restart();
    const admin = new ApiClient(restarted.url, 'admin', restarted.adminPassword);
    const r = await admin.call('GET', `/audit-logs?q=${encodeURIComponent(`operation=pull,resource=library/flush@${img.digest}`)}`);
    expectApi(r, 200);
    assert.equal(r.headers.get('x-total-count'), '20');
  } finally {
    await (restarted ?? b).stop();
  }
});
