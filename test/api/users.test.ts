// /api/v2.0/users: creation rules, profile, password, sysadmin flag, deletion, mass assignment
// (CVE-2019-16097), list pagination/q/sort with injection attempts, X-Request-Id and the error envelope.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryClient } from '../helpers/registry-client.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { twoProcesses } from '../durability/lib.ts';
import { auditRows, expectApi, useApi } from './fixture.ts';

const f = useApi();
const PW = 'Passw0rd!x';

test('POST /users: 201 + Location; the new user can log in to the registry; duplicates → 409', async () => {
  const r = await f.admin.call('POST', '/users', { username: 'alice', password: PW, email: 'alice@example.com', realname: 'Alice', comment: 'hi' });
  expectApi(r, 201);
  const loc = r.headers.get('location')!;
  assert.match(loc, /^\/api\/v2\.0\/users\/\d+$/);
  const u = (await f.admin.call('GET', loc.replace('/api/v2.0', ''))).json();
  assert.deepEqual(
    { username: u.username, email: u.email, realname: u.realname, comment: u.comment, sysadmin_flag: u.sysadmin_flag },
    { username: 'alice', email: 'alice@example.com', realname: 'Alice', comment: 'hi', sysadmin_flag: false },
  );
  assert.equal(u.password, undefined);
  assert.ok(!/argon2/.test(JSON.stringify(u)));
  for (const k of ['user_id', 'creation_time', 'update_time', 'admin_role_in_auth']) assert.ok(k in u, k);
  const reg = new RegistryClient({ baseUrl: f.berth.url, username: 'alice', password: PW });
  assert.equal((await reg.tokenResponse(['repository:library/x:pull'])).status, 200);
  expectApi(await f.admin.call('POST', '/users', { username: 'alice', password: PW, email: 'other@example.com' }), 409, 'CONFLICT');
  expectApi(await f.admin.call('POST', '/users', { username: 'alice2', password: PW, email: 'alice@example.com' }), 409, 'CONFLICT');
});

test('POST /users: password policy and field validation → 400', async () => {
  for (const password of ['short1A', 'alllowercase1', 'ALLUPPERCASE1', 'NoDigitsHere', 'A1' + 'a'.repeat(127), '', 12345678])
    expectApi(await f.admin.call('POST', '/users', { username: 'pwtest', password, email: 'pw@example.com' }), 400, 'BAD_REQUEST');
  for (const username of ['', 'has space', 'a,b', 'colon:name', 'robot$x', 'x'.repeat(256), 'nul\u0000'])
    expectApi(await f.admin.call('POST', '/users', { username, password: PW, email: 'n@example.com' }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('POST', '/users', { username: 'noemail', password: PW, email: 'not-an-email' }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('POST', '/users', '[1,2]'), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('POST', '/users', '{not json'), 400, 'BAD_REQUEST');
});

test('self-registration is off by default: anonymous → 401, a user → 403', async () => {
  await f.admin.createUser('bob', PW);
  expectApi(await f.anon.call('POST', '/users', { username: 'selfreg', password: PW, email: 's@example.com' }), 401, 'UNAUTHORIZED');
  expectApi(await f.admin.as('bob', PW).call('POST', '/users', { username: 'byBob', password: PW, email: 'bb@example.com' }), 403, 'FORBIDDEN');
});

test('mass assignment: sysadmin_flag and role fields in create/update bodies are ignored (CVE-2019-16097)', async () => {
  const evil = { sysadmin_flag: true, has_admin_role: true, admin_role_in_auth: true, role_id: 1, role_name: 'projectAdmin', user_id: 1 };
  const r = await f.admin.call('POST', '/users', { username: 'mallory', password: PW, email: 'm@example.com', ...evil });
  expectApi(r, 201);
  const id = Number(r.headers.get('location')!.split('/').pop());
  assert.notEqual(id, 1);
  const mallory = f.admin.as('mallory', PW);
  const put = await mallory.call('PUT', `/users/${id}`, { realname: 'M', ...evil });
  expectApi(put, 200);
  assert.equal(put.text, ''); // Harbor answers updates with an empty 200
  const me = (await mallory.call('GET', '/users/current')).json();
  assert.equal(me.sysadmin_flag, false);
  assert.equal(me.user_id, id);
  assert.equal(me.realname, 'M');
  expectApi(await mallory.call('PUT', `/users/${id}/sysadmin`, { sysadmin_flag: true }), 403, 'FORBIDDEN');
  expectApi(await mallory.call('GET', '/users'), 403, 'FORBIDDEN');
  // still no admin: the catalog stays closed and admin's profile stays untouched
  const reg = new RegistryClient({ baseUrl: f.berth.url, username: 'mallory', password: PW });
  const t = JSON.parse(Buffer.from((await reg.tokenResponse(['registry:catalog:*'])).json().token.split('.')[1], 'base64url').toString());
  assert.deepEqual(t.access[0].actions, []);
  expectApi(await mallory.call('PUT', '/users/1', { email: 'pwned@example.com' }), 403, 'FORBIDDEN');
  assert.equal((await f.admin.call('GET', '/users/1')).json().email, 'admin@example.com');
});

test('users see only themselves; sysadmin sees everyone; anonymous → 401', async () => {
  const carolId = await f.admin.createUser('carol', PW);
  const carol = f.admin.as('carol', PW);
  expectApi(await carol.call('GET', `/users/${carolId}`), 200);
  expectApi(await carol.call('GET', '/users/1'), 403, 'FORBIDDEN');
  expectApi(await carol.call('GET', '/users/999999'), 403, 'FORBIDDEN'); // same answer whether it exists or not
  expectApi(await f.anon.call('GET', '/users/current'), 401, 'UNAUTHORIZED');
  expectApi(await f.anon.call('GET', '/users'), 401, 'UNAUTHORIZED');
  expectApi(await f.admin.call('GET', '/users/999999'), 404, 'NOT_FOUND');
  expectApi(await f.admin.call('GET', '/users/abc'), 400, 'BAD_REQUEST');
  expectApi(await f.admin.as('carol', 'wrong-Passw0rd').call('GET', '/users/current'), 401, 'UNAUTHORIZED');
});

test('password change: old password required for yourself; a sysadmin resets others without it', async () => {
  const id = await f.admin.createUser('dave', PW);
  const dave = f.admin.as('dave', PW);
  expectApi(await dave.call('PUT', `/users/${id}/password`, { old_password: 'Wr0ngPassword', new_password: 'N3wPassword' }), 403, 'FORBIDDEN');
  expectApi(await dave.call('PUT', `/users/${id}/password`, { new_password: 'N3wPassword' }), 403, 'FORBIDDEN');
  expectApi(await dave.call('PUT', `/users/${id}/password`, { old_password: PW, new_password: 'weak' }), 400, 'BAD_REQUEST');
  expectApi(await dave.call('PUT', `/users/${id}/password`, { old_password: PW, new_password: 'N3wPassword' }), 200);
  // the old password stops working at once (no cached login survives the change)
  expectApi(await dave.call('GET', '/users/current'), 401, 'UNAUTHORIZED');
  expectApi(await f.admin.as('dave', 'N3wPassword').call('GET', '/users/current'), 200);
  expectApi(await f.admin.as('dave', 'N3wPassword').call('PUT', '/users/1/password', { new_password: 'Adm1nTaken!' }), 403, 'FORBIDDEN');
  expectApi(await f.admin.call('PUT', `/users/${id}/password`, { new_password: 'Res3tByAdmin' }), 200);
  expectApi(await f.admin.as('dave', 'Res3tByAdmin').call('GET', '/users/current'), 200);
  // the admin changing their own password needs the old one too
  expectApi(await f.admin.call('PUT', '/users/1/password', { new_password: 'An0therAdminPw' }), 403, 'FORBIDDEN');
});

test('sysadmin flag: set by a sysadmin, effective for the registry, not on yourself', async () => {
  const id = await f.admin.createUser('erin', PW);
  expectApi(await f.admin.call('PUT', `/users/${id}/sysadmin`, { sysadmin_flag: 'yes' }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('PUT', `/users/${id}/sysadmin`, { sysadmin_flag: true }), 200);
  const erin = f.admin.as('erin', PW);
  expectApi(await erin.call('GET', '/users'), 200);
  expectApi(await f.admin.call('PUT', '/users/1/sysadmin', { sysadmin_flag: false }), 403, 'FORBIDDEN');
  expectApi(await f.admin.call('PUT', `/users/${id}/sysadmin`, { sysadmin_flag: false }), 200);
  expectApi(await erin.call('GET', '/users'), 403, 'FORBIDDEN');
});

test('DELETE /users/{id}: sysadmin only, not yourself; the user can no longer log in', async () => {
  const id = await f.admin.createUser('frank', PW);
  const frank = f.admin.as('frank', PW);
  expectApi(await frank.call('GET', '/users/current'), 200);
  expectApi(await frank.call('DELETE', `/users/${id}`), 403, 'FORBIDDEN');
  expectApi(await f.admin.call('DELETE', '/users/1'), 403, 'FORBIDDEN');
  expectApi(await f.admin.call('DELETE', `/users/${id}`), 200);
  expectApi(await frank.call('GET', '/users/current'), 401, 'UNAUTHORIZED');
  expectApi(await f.admin.call('GET', `/users/${id}`), 404, 'NOT_FOUND');
  expectApi(await f.admin.call('DELETE', `/users/${id}`), 404, 'NOT_FOUND');
});

test('GET /users: X-Total-Count and Link exactly as Harbor formats them', async () => {
  for (let i = 0; i < 5; i++) await f.admin.createUser(`page${i}`, PW);
  const total = Number((await f.admin.call('GET', '/users?page_size=1')).headers.get('x-total-count'));
  assert.ok(total >= 6);
  const first = await f.admin.call('GET', '/users?q=username%3D~page&page=1&page_size=2');
  expectApi(first, 200);
  assert.equal(first.headers.get('x-total-count'), '5');
  assert.equal(first.headers.get('link'), '</api/v2.0/users?page=2&page_size=2&q=username%3D~page>; rel="next"');
  assert.deepEqual(first.json().map((u: { username: string }) => u.username), ['page0', 'page1']);
  const mid = await f.admin.call('GET', '/users?q=username%3D~page&page=2&page_size=2');
  assert.equal(
    mid.headers.get('link'),
    '</api/v2.0/users?page=1&page_size=2&q=username%3D~page>; rel="prev" , </api/v2.0/users?page=3&page_size=2&q=username%3D~page>; rel="next"',
  );
  const last = await f.admin.call('GET', '/users?q=username%3D~page&page=3&page_size=2');
  assert.equal(last.headers.get('link'), '</api/v2.0/users?page=2&page_size=2&q=username%3D~page>; rel="prev"');
  assert.equal(last.json().length, 1);
  const sorted = await f.admin.call('GET', '/users?q=username%3D~page&sort=-username&page_size=100');
  assert.deepEqual(sorted.json().map((u: { username: string }) => u.username), ['page4', 'page3', 'page2', 'page1', 'page0']);
  assert.equal(sorted.headers.get('link'), null);
});

test('q / sort / page injection → 400 or ignored (keys and sorts outside the allow-list, as Harbor); LIKE wildcards match literally', async () => {
  // Never an oracle on the password hash: those keys and sorts do not filter or order at all.
  const everything = (await f.admin.call('GET', '/users?page_size=100')).json().map((u: { user_id: number }) => u.user_id);
  for (const qs of ['q=password_hash%3D~a', 'q=password%3D~a', 'q=sysadmin%3D1', 'q=username__contains%3Dadmin', 'sort=password_hash', 'sort=username;DROP TABLE users', 'sort=username%20desc'])
    assert.deepEqual((await f.admin.call('GET', `/users?page_size=100&${qs}`)).json().map((u: { user_id: number }) => u.user_id), everything, qs);
  for (const q of [
    'q=username%3D%5Ba~z%5D',
    'q=user_id%3D~1',
    'q=email%3D(a%20b)',
    'q=username',
    'page=abc',
    'page_size=101',
    'page_size=1e3',
  ]) {
    const r = await f.admin.call('GET', `/users?${q}`);
    expectApi(r, 400, 'BAD_REQUEST');
  }
  await f.admin.createUser('lit_a', PW);
  await f.admin.createUser('litxa', PW);
  const r = await f.admin.call('GET', `/users?q=${encodeURIComponent('username=~lit_')}`);
  expectApi(r, 200);
  assert.deepEqual(r.json().map((u: { username: string }) => u.username), ['lit_a']);
  const pct = await f.admin.call('GET', `/users?q=${encodeURIComponent("username=~%' OR '1'='1")}`);
  expectApi(pct, 200);
  assert.deepEqual(pct.json(), []);
  const union = await f.admin.call('GET', `/users?q=${encodeURIComponent('user_id={1 999999}')}`);
  assert.deepEqual(union.json().map((u: { username: string }) => u.username), ['admin']);
});

test('X-Request-Id is echoed, or generated when absent', async () => {
  const r = await f.admin.call('GET', '/users/current', undefined, { 'X-Request-Id': 'req-123' });
  assert.equal(r.headers.get('x-request-id'), 'req-123');
  const g = await f.anon.call('GET', '/users/current');
  assert.match(g.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
});

test('GET /users/current/permissions: system scope for admin; nothing for anonymous', async () => {
  const admin = (await f.admin.call('GET', '/users/current/permissions?relative=true')).json() as { resource: string; action: string }[];
  assert.ok(admin.some((p) => p.resource === 'user' && p.action === 'create'));
  assert.ok(admin.some((p) => p.resource === 'catalog' && p.action === 'read'));
  expectApi(await f.anon.call('GET', '/users/current/permissions'), 200);
  assert.deepEqual((await f.anon.call('GET', '/users/current/permissions')).json(), []);
  expectApi(await f.admin.call('GET', '/users/current/permissions?scope=/etc/passwd'), 400, 'BAD_REQUEST');
});

test('user changes and logins are in the audit log', async () => {
  const rows = await auditRows(f.berth);
  const has = (op: string, type: string, resource: string) => rows.some((r) => r.operation === op && r.resource_type === type && r.resource === resource);
  assert.ok(has('create', 'user', 'alice'), JSON.stringify(rows.slice(0, 5)));
  assert.ok(has('delete', 'user', 'frank'));
  assert.ok(has('update', 'user', 'dave'));
  assert.ok(has('login', 'user', 'alice'));
  assert.ok(has('login_failed', 'user', 'carol'));
  assert.ok(!JSON.stringify(rows).includes(PW), 'no password in the audit log');
});

test('GET /users/search: partial username match for every user (as Harbor), only user_id and username (CVE-2019-3990)', async () => {
  await f.admin.createUser('search-target', PW);
  await f.admin.createUser('searcher', PW);
  const searcher = f.admin.as('searcher', PW);
  const exact = await searcher.call('GET', '/users/search?username=search-target');
  expectApi(exact, 200);
  assert.deepEqual(exact.json().map((u: object) => Object.keys(u).sort()), [['user_id', 'username']]);
  assert.equal(exact.json()[0].username, 'search-target');
  const partial = await searcher.call('GET', '/users/search?username=arch');
  expectApi(partial, 200);
  assert.deepEqual(partial.json().map((u: { username: string }) => u.username), ['search-target', 'searcher']);
  assert.equal(partial.headers.get('x-total-count'), '2');
  assert.ok(!JSON.stringify(partial.json()).includes('@'), 'no emails');
  // LIKE wildcards are literal
  assert.deepEqual((await searcher.call('GET', '/users/search?username=%25')).json(), []);
  const fuzzy = (await f.admin.call('GET', '/users/search?username=search')).json().map((u: { username: string }) => u.username);
  assert.deepEqual(fuzzy, ['search-target', 'searcher']);
  const paged = await f.admin.call('GET', '/users/search?username=search&page=2&page_size=1');
  assert.deepEqual(paged.json().map((u: { username: string }) => u.username), ['searcher']);
  expectApi(await f.anon.call('GET', '/users/search?username=admin'), 401, 'UNAUTHORIZED');
  expectApi(await searcher.call('GET', '/users/search'), 400, 'BAD_REQUEST');
});

test('GET /users/{id}: comment omitted when empty (Harbor omitempty), present when set', async () => {
  const id = await f.admin.createUser('no-comment', PW);
  const u = (await f.admin.call('GET', `/users/${id}`)).json();
  assert.equal(u.username, 'no-comment');
  assert.ok(!('comment' in u), JSON.stringify(u));
  expectApi(await f.admin.call('PUT', `/users/${id}`, { comment: 'now set' }), 200);
  assert.equal((await f.admin.call('GET', `/users/${id}`)).json().comment, 'now set');
});

test('PUT /users/{id}/cli_secret: 412 outside OIDC mode (as Harbor); 401/403/404 first', async () => {
  const id = await f.admin.createUser('cli-user', PW);
  const other = await f.admin.createUser('cli-other', PW);
  const me = f.admin.as('cli-user', PW);
  const r = await me.call('PUT', `/users/${id}/cli_secret`, { secret: 'Abcdefg1x' });
  expectApi(r, 412, 'PRECONDITION');
  assert.match(r.json().errors[0].message, /authmode: db_auth/);
  expectApi(await f.admin.call('PUT', `/users/${other}/cli_secret`, { secret: 'Abcdefg1x' }), 412, 'PRECONDITION');
  expectApi(await me.call('PUT', `/users/${other}/cli_secret`, { secret: 'Abcdefg1x' }), 403, 'FORBIDDEN');
  expectApi(await f.anon.call('PUT', `/users/${id}/cli_secret`, { secret: 'Abcdefg1x' }), 401, 'UNAUTHORIZED');
  expectApi(await f.admin.call('PUT', '/users/999999/cli_secret', { secret: 'Abcdefg1x' }), 404, 'NOT_FOUND');
});

test('PUT /users/{id}/sysadmin: promotion, demotion and deletion take effect on the next request of a cached login', async () => {
  const id = await f.admin.createUser('promoted', PW);
  const u = f.admin.as('promoted', PW);
  const cfg = { read_only: false };
  // The login is cached now (403 as a plain user).
  expectApi(await u.call('PUT', '/configurations', cfg), 403, 'FORBIDDEN');
  expectApi(await f.admin.call('PUT', `/users/${id}/sysadmin`, { sysadmin_flag: true }), 200);
  expectApi(await u.call('PUT', '/configurations', cfg), 200);
  assert.equal((await u.call('GET', '/users/current')).json().sysadmin_flag, true);
  expectApi(await f.admin.call('PUT', `/users/${id}/sysadmin`, { sysadmin_flag: false }), 200);
  expectApi(await u.call('PUT', '/configurations', cfg), 403, 'FORBIDDEN');
  expectApi(await f.admin.call('DELETE', `/users/${id}`), 200);
  expectApi(await u.call('GET', '/users/current'), 401, 'UNAUTHORIZED');
});

test('two processes on one database: a promotion, demotion or deletion made on A applies on B at the next request', async () => {
  await twoProcesses(async (a, b) => {
    const adminA = new ApiClient(a.url, 'admin', a.adminPassword);
    const id = await adminA.createUser('twoproc', PW);
    const onB = new ApiClient(b.url, 'twoproc', PW);
    const cfg = { read_only: false };
    // B has verified (and cached) the login of a plain user.
    expectApi(await onB.call('PUT', '/configurations', cfg), 403, 'FORBIDDEN');
    expectApi(await adminA.call('PUT', `/users/${id}/sysadmin`, { sysadmin_flag: true }), 200);
    expectApi(await onB.call('PUT', '/configurations', cfg), 200);
    expectApi(await onB.call('GET', '/users'), 200);
    expectApi(await adminA.call('PUT', `/users/${id}/sysadmin`, { sysadmin_flag: false }), 200);
    expectApi(await onB.call('PUT', '/configurations', cfg), 403, 'FORBIDDEN');
    // A password change on A ends the cached login on B.
    expectApi(await adminA.call('PUT', `/users/${id}/password`, { new_password: 'Changed0k!' }), 200);
    expectApi(await onB.call('GET', '/users/current'), 401, 'UNAUTHORIZED');
    const again = new ApiClient(b.url, 'twoproc', 'Changed0k!');
    expectApi(await again.call('GET', '/users/current'), 200);
    expectApi(await adminA.call('DELETE', `/users/${id}`), 200);
    expectApi(await again.call('GET', '/users/current'), 401, 'UNAUTHORIZED');
  });
});

test('GET /permissions: the robot permission catalog for system and project admins only', async () => {
  const all = await f.admin.call('GET', '/permissions');
  expectApi(all, 200);
  const body = all.json();
  // System admins also see the system scope (Harbor's robot system policies); project admins do not.
  const system = body.system.map((p: { resource: string; action: string }) => `${p.resource}:${p.action}`);
  for (const p of ['project:create', 'registry:list', 'audit-log:list', 'user:list']) assert.ok(system.includes(p), system.join(' '));
  const project = body.project.map((p: { resource: string; action: string }) => `${p.resource}:${p.action}`);
  assert.ok(project.includes('repository:pull') && project.includes('repository:push'), project.join(' '));
  assert.ok(!project.some((p: string) => /^(member|robot):/.test(p)), 'robots are never granted member or robot management');
  await f.admin.createUser('perm-pa', PW);
  await f.admin.createUser('perm-dev', PW);
  const pid = await f.admin.createProject('perm-proj', false);
  await f.admin.addMember(pid, 'perm-pa', 1);
  await f.admin.addMember(pid, 'perm-dev', 2);
  const pa = await f.admin.as('perm-pa', PW).call('GET', '/permissions');
  expectApi(pa, 200);
  assert.deepEqual(pa.json(), { ...body, system: [] });
  expectApi(await f.admin.as('perm-dev', PW).call('GET', '/permissions'), 403, 'FORBIDDEN');
  expectApi(await f.anon.call('GET', '/permissions'), 401, 'UNAUTHORIZED');
});
