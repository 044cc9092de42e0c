// /api/v2.0/projects, metadata and members: creation, visibility, Harbor's role rules for metadata and
// member management (CVE-2024-22278), the cross-project id sweep (Harbor's 2022 IDOR batch), deletion rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { RegistryClient } from '../helpers/registry-client.ts';
import { startBerth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { auditRows, expectApi, useApi } from './fixture.ts';

const f = useApi();
const PW = 'Passw0rd!x';
const uniq = (p: string) => `${p}-${randomBytes(3).toString('hex')}`;
const ROLES = { projectAdmin: 1, maintainer: 4, developer: 2, guest: 3, limitedGuest: 5 } as const;

/** A private and a public project with one user per role in each, plus a non-member. */
async function world() {
  const priv = uniq('priv');
  const pub = uniq('pub');
  const privId = await f.admin.createProject(priv, false);
  const pubId = await f.admin.createProject(pub, true);
  const users: Record<string, ApiClient> = {};
  for (const [role, id] of Object.entries(ROLES)) {
    const name = uniq(role.toLowerCase());
    await f.admin.createUser(name, PW);
    await f.admin.addMember(privId, name, id);
    await f.admin.addMember(pubId, name, id);
    users[role] = f.admin.as(name, PW);
  }
  const outsider = uniq('outsider');
  await f.admin.createUser(outsider, PW);
  users.nonMember = f.admin.as(outsider, PW);
  users.anonymous = f.anon;
  return { priv, pub, privId, pubId, users };
}

test('POST /projects: 201 + Location (id or name), creator is ProjectAdmin, Harbor-shaped GET', async () => {
  const name = uniq('created');
  const r = await f.admin.call('POST', '/projects', { project_name: name, metadata: { public: 'true', auto_scan: 'false' }, storage_limit: -1 });
  expectApi(r, 201);
  const loc = r.headers.get('location')!;
  assert.match(loc, /^\/api\/v2\.0\/projects\/\d+$/);
  const id = Number(loc.split('/').pop());
  const p = (await f.admin.call('GET', `/projects/${id}`)).json();
  assert.equal(p.project_id, id);
  assert.equal(p.name, name);
  assert.equal(p.owner_name, 'admin');
  assert.deepEqual(p.metadata, { auto_scan: 'false', public: 'true' });
  assert.equal(p.current_user_role_id, 1);
  assert.deepEqual(p.current_user_role_ids, [1]);
  assert.equal(p.repo_count, 0);
  for (const k of ['owner_id', 'creation_time', 'update_time', 'deleted', 'togglable']) assert.ok(k in p, k);
  const byName = await f.admin.call('GET', `/projects/${name}`);
  assert.equal(byName.json().project_id, id);
  const named = await f.admin.call('POST', '/projects', { project_name: uniq('named') }, { 'X-Resource-Name-In-Location': 'true' });
  assert.match(named.headers.get('location')!, /^\/api\/v2\.0\/projects\/named-[0-9a-f]+$/);
  expectApi(await f.admin.call('POST', '/projects', { project_name: name }), 409, 'CONFLICT');
  for (const project_name of ['UPPER', 'a/b', '-lead', 'x'.repeat(256), '', 'sp ace', 42])
    expectApi(await f.admin.call('POST', '/projects', { project_name }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('POST', '/projects', { project_name: uniq('badmeta'), metadata: { public: 'maybe' } }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('POST', '/projects', { project_name: uniq('badmeta'), metadata: { password: 'x' } }), 400, 'BAD_REQUEST');
  expectApi(await f.anon.call('POST', '/projects', { project_name: uniq('anon') }), 401, 'UNAUTHORIZED');
});

test('a numeric project name: an id unless X-Is-Resource-Name: true', async () => {
  const numeric = String(900000 + Math.floor(Math.random() * 99999));
  const id = await f.admin.createProject(numeric, false);
  expectApi(await f.admin.call('GET', `/projects/${numeric}`), 404, 'NOT_FOUND');
  const r = await f.admin.call('GET', `/projects/${numeric}`, undefined, { 'X-Is-Resource-Name': 'true' });
  expectApi(r, 200);
  assert.equal(r.json().project_id, id);
});

test('HEAD /projects?project_name=: 200 when it exists, 404 when not', async () => {
  const name = uniq('head');
  await f.admin.createProject(name, false);
  assert.equal((await f.admin.call('HEAD', `/projects?project_name=${name}`)).status, 200);
  assert.equal((await f.admin.call('HEAD', `/projects?project_name=${name}x`)).status, 404);
  assert.equal((await f.anon.call('HEAD', `/projects?project_name=${name}`)).status, 401);
});

test('GET /projects: public ones and the member-of ones; sysadmin sees all; anonymous only public', async () => {
  const w = await world();
  const other = uniq('hidden');
  await f.admin.createProject(other, false);
  const names = async (c: ApiClient) => {
    const out: string[] = [];
    for (let page = 1; ; page++) {
      const r = await c.call('GET', `/projects?page=${page}&page_size=100`);
      expectApi(r, 200);
      out.push(...r.json().map((p: { name: string }) => p.name));
      if (!r.headers.get('link')?.includes('rel="next"')) return out;
    }
  };
  const admin = await names(f.admin);
  assert.ok([w.priv, w.pub, other].every((n) => admin.includes(n)));
  const guest = await names(w.users.guest);
  assert.ok(guest.includes(w.priv) && guest.includes(w.pub) && !guest.includes(other));
  const outsider = await names(w.users.nonMember);
  assert.ok(!outsider.includes(w.priv) && outsider.includes(w.pub) && !outsider.includes(other));
  const anon = await names(f.anon);
  assert.ok(!anon.includes(w.priv) && anon.includes(w.pub) && anon.includes('library'));
  // filters
  const byName = (await w.users.guest.call('GET', `/projects?name=${w.priv}`)).json();
  assert.deepEqual(byName.map((p: { name: string }) => p.name), [w.priv]);
  assert.equal(byName[0].current_user_role_id, 3);
  const pubOnly = (await f.admin.call('GET', '/projects?public=true&page_size=100')).json();
  assert.ok(pubOnly.every((p: { metadata: { public: string } }) => p.metadata.public === 'true'));
  const q = await f.admin.call('GET', `/projects?q=${encodeURIComponent(`name=~${w.priv.slice(0, 9)}`)}&sort=-name`);
  assert.deepEqual(q.json().map((p: { name: string }) => p.name), [w.priv]);
  assert.equal(q.headers.get('x-total-count'), '1');
  for (const bad of ['q=public%3D~t', 'page_size=1000']) expectApi(await f.admin.call('GET', `/projects?${bad}`), 400, 'BAD_REQUEST');
  // Keys and sorts that are not filterable/sortable are ignored, as Harbor's ORM does.
  const everything = (await f.admin.call('GET', '/projects?page_size=100')).json().map((p: { name: string }) => p.name);
  for (const qs of ['q=owner_name%3Dadmin', 'q=deleted%3D1', 'sort=owner_id;'])
    assert.deepEqual((await f.admin.call('GET', `/projects?page_size=100&${qs}`)).json().map((p: { name: string }) => p.name), everything, qs);
});

test('a private project answers like a missing one: anonymous 401, non-members 404 (no enumeration)', async () => {
  const w = await world();
  const missing = uniq('missing');
  for (const path of ['', '/members', '/metadatas', '/members/1', '/metadatas/public']) {
    const a = await f.anon.call('GET', `/projects/${w.priv}${path}`, undefined, { 'X-Is-Resource-Name': 'true' });
    const b = await f.anon.call('GET', `/projects/${missing}${path}`, undefined, { 'X-Is-Resource-Name': 'true' });
    expectApi(a, 401, 'UNAUTHORIZED');
    assert.equal(a.text, b.text);
    const c = await w.users.nonMember.call('GET', `/projects/${w.privId}${path}`);
    const d = await w.users.nonMember.call('GET', `/projects/99999999${path}`);
    expectApi(c, 404, 'NOT_FOUND');
    assert.equal(d.status, 404);
  }
  // a public project is readable by anyone
  expectApi(await f.anon.call('GET', `/projects/${w.pubId}`), 200);
  expectApi(await w.users.nonMember.call('GET', `/projects/${w.pubId}`), 200);
});

test('metadata and project updates: ProjectAdmin only (maintainer → 403, CVE-2024-22278); reads for PA and maintainer', async () => {
  const w = await world();
  const expected: Record<string, { read: number; write: number }> = {
    projectAdmin: { read: 200, write: 200 },
    maintainer: { read: 200, write: 403 },
    developer: { read: 403, write: 403 },
    guest: { read: 403, write: 403 },
    limitedGuest: { read: 403, write: 403 },
    nonMember: { read: 404, write: 404 },
    anonymous: { read: 401, write: 401 },
  };
  for (const [who, want] of Object.entries(expected)) {
    const c = w.users[who];
    const read = await c.call('GET', `/projects/${w.privId}/metadatas`);
    assert.equal(read.status, want.read, `${who} read: ${read.text}`);
    if (want.read === 200) assert.deepEqual(read.json(), { public: 'false' });
    for (const [method, path, body] of [
      ['PUT', `/projects/${w.privId}`, { metadata: { public: 'true' } }],
      ['POST', `/projects/${w.privId}/metadatas`, { auto_scan: 'true' }],
      ['PUT', `/projects/${w.privId}/metadatas/severity`, { severity: 'high' }],
      ['DELETE', `/projects/${w.privId}/metadatas/severity`, undefined],
    ] as const) {
      if (who === 'projectAdmin') continue;
      const r = await c.call(method, path, body);
      assert.equal(r.status, want.write, `${who} ${method} ${path}: ${r.text}`);
    }
    // nothing changed for anyone but the admin
    assert.deepEqual((await f.admin.call('GET', `/projects/${w.privId}/metadatas`)).json(), { public: 'false' });
  }
  const pa = w.users.projectAdmin;
  expectApi(await pa.call('POST', `/projects/${w.privId}/metadatas`, { auto_scan: 'true' }), 200);
  expectApi(await pa.call('PUT', `/projects/${w.privId}/metadatas/severity`, { severity: 'high' }), 200);
  expectApi(await pa.call('PUT', `/projects/${w.privId}/metadatas/severity`, { auto_scan: 'false' }), 400, 'BAD_REQUEST');
  assert.deepEqual((await pa.call('GET', `/projects/${w.privId}/metadatas/severity`)).json(), { severity: 'high' });
  expectApi(await pa.call('DELETE', `/projects/${w.privId}/metadatas/severity`), 200);
  expectApi(await pa.call('GET', `/projects/${w.privId}/metadatas/severity`), 404, 'NOT_FOUND');
  expectApi(await pa.call('PUT', `/projects/${w.privId}`, { metadata: { public: 'true' }, project_name: 'renamed', owner_id: 99 }), 200);
  const p = (await f.admin.call('GET', `/projects/${w.privId}`)).json();
  assert.deepEqual(p.metadata, { auto_scan: 'true', public: 'true' });
  assert.equal(p.name, w.priv);
  assert.equal(p.owner_name, 'admin');
  // now public: anonymous pulls are granted by the token service
  const anonToken = await new RegistryClient({ baseUrl: f.berth.url }).tokenResponse([`repository:${w.priv}/x:pull`], { basic: null });
  assert.deepEqual(JSON.parse(Buffer.from(anonToken.json().token.split('.')[1], 'base64url').toString()).access[0].actions, ['pull']);
});

test('members: list/get for PA, M, D, G; add/update/remove for ProjectAdmin only', async () => {
  const w = await world();
  const target = uniq('target');
  await f.admin.createUser(target, PW);
  const list = await w.users.guest.call('GET', `/projects/${w.privId}/members?page_size=2`);
  expectApi(list, 200);
  assert.equal(list.headers.get('x-total-count'), '6'); // admin (creator) + five roles
  assert.ok(list.headers.get('link')?.endsWith('rel="next"'));
  const m = list.json()[0];
  assert.deepEqual(Object.keys(m).sort(), ['entity_id', 'entity_name', 'entity_type', 'id', 'project_id', 'role_id', 'role_name']);
  assert.equal(m.entity_name, 'admin');
  assert.equal(m.role_name, 'projectAdmin');
  const filtered = (await w.users.developer.call('GET', `/projects/${w.privId}/members?entityname=maintainer`)).json();
  assert.equal(filtered.length, 1);
  assert.equal(filtered[0].role_id, 4);
  expectApi(await w.users.limitedGuest.call('GET', `/projects/${w.privId}/members`), 403, 'FORBIDDEN');
  for (const who of ['maintainer', 'developer', 'guest', 'limitedGuest'])
    expectApi(await w.users[who].call('POST', `/projects/${w.privId}/members`, { role_id: 1, member_user: { username: target } }), 403, 'FORBIDDEN');
  expectApi(await w.users.nonMember.call('POST', `/projects/${w.privId}/members`, { role_id: 1, member_user: { username: target } }), 404, 'NOT_FOUND');
  const pa = w.users.projectAdmin;
  for (const bad of [{ role_id: 9, member_user: { username: target } }, { role_id: '1', member_user: { username: target } }, { role_id: 2 }])
    expectApi(await pa.call('POST', `/projects/${w.privId}/members`, bad), 400, 'BAD_REQUEST');
  expectApi(await pa.call('POST', `/projects/${w.privId}/members`, { role_id: 2, member_user: { username: 'nobody-here' } }), 404, 'NOT_FOUND');
  const add = await pa.call('POST', `/projects/${w.privId}/members`, { role_id: 3, member_user: { username: target } });
  expectApi(add, 201);
  const mid = Number(add.headers.get('location')!.split('/').pop());
  assert.equal(add.headers.get('location'), `/api/v2.0/projects/${w.privId}/members/${mid}`);
  expectApi(await pa.call('POST', `/projects/${w.privId}/members`, { role_id: 2, member_user: { username: target } }), 409, 'CONFLICT');
  expectApi(await w.users.maintainer.call('PUT', `/projects/${w.privId}/members/${mid}`, { role_id: 1 }), 403, 'FORBIDDEN');
  expectApi(await pa.call('PUT', `/projects/${w.privId}/members/${mid}`, { role_id: 7 }), 400, 'BAD_REQUEST');
  expectApi(await pa.call('PUT', `/projects/${w.privId}/members/${mid}`, { role_id: 4 }), 200);
  const got = (await w.users.guest.call('GET', `/projects/${w.privId}/members/${mid}`)).json();
  assert.deepEqual([got.role_id, got.role_name, got.entity_name, got.entity_type], [4, 'maintainer', target, 'u']);
  expectApi(await w.users.developer.call('DELETE', `/projects/${w.privId}/members/${mid}`), 403, 'FORBIDDEN');
  expectApi(await pa.call('DELETE', `/projects/${w.privId}/members/${mid}`), 200);
  expectApi(await pa.call('GET', `/projects/${w.privId}/members/${mid}`), 404, 'NOT_FOUND');
  expectApi(await pa.call('GET', `/projects/${w.privId}/members/abc`), 400, 'BAD_REQUEST');
  const rows = await auditRows(f.berth, (all) => all.some((r) => r.operation === 'create' && r.resource_type === 'project' && r.resource === w.priv));
  assert.ok(rows.some((r) => r.operation === 'create' && r.resource_type === 'member' && r.resource === target));
  assert.ok(rows.some((r) => r.operation === 'delete' && r.resource_type === 'member' && r.resource === target));
  assert.ok(rows.some((r) => r.operation === 'create' && r.resource_type === 'project' && r.resource === w.priv));
});

test('GET /projects/{p}/summary: repository count and members per role', async () => {
  const w = await world();
  const { quota, ...s } = (await w.users.guest.call('GET', `/projects/${w.privId}/summary`)).json();
  assert.deepEqual(quota, { hard: { storage: quota.hard.storage }, used: { storage: 0 } }, 'a guest may read the quota (Harbor)');
  assert.deepEqual(s, { repo_count: 0, project_admin_count: 2, maintainer_count: 1, developer_count: 1, guest_count: 1, limited_guest_count: 1 });
  expectApi(await w.users.nonMember.call('GET', `/projects/${w.privId}/summary`), 404, 'NOT_FOUND');
});

test('cross-project id sweep: a member id of project B under project A → 404, nothing changes', async () => {
  const a = await world(); // the caller is ProjectAdmin of A's projects
  const bName = uniq('victim');
  const bId = await f.admin.createProject(bName, false);
  const victim = uniq('victimuser');
  await f.admin.createUser(victim, PW);
  const bMember = await f.admin.addMember(bId, victim, 3);
  const before = (await f.admin.call('GET', `/projects/${bId}/members`)).json();
  const pa = a.users.projectAdmin;
  for (const [method, body] of [['GET', undefined], ['PUT', { role_id: 1 }], ['DELETE', undefined]] as const) {
    for (const proj of [a.privId, a.pubId]) {
      const r = await pa.call(method, `/projects/${proj}/members/${bMember}`, body);
      expectApi(r, 404, 'NOT_FOUND');
    }
    // and B's own URL is not reachable for A's admin
    const direct = await pa.call(method, `/projects/${bId}/members/${bMember}`, body);
    expectApi(direct, 404, 'NOT_FOUND');
  }
  for (const [method, path, body] of [
    ['PUT', `/projects/${bId}`, { metadata: { public: 'true' } }],
    ['DELETE', `/projects/${bId}`, undefined],
    ['POST', `/projects/${bId}/members`, { role_id: 1, member_user: { username: victim } }],
    ['GET', `/projects/${bId}/metadatas`, undefined],
  ] as const)
    expectApi(await pa.call(method, path, body), 404, 'NOT_FOUND');
  assert.deepEqual((await f.admin.call('GET', `/projects/${bId}/members`)).json(), before);
  assert.equal((await f.admin.call('GET', `/projects/${bId}`)).json().metadata.public, 'false');
});

test('DELETE /projects: ProjectAdmin only; 412 while it has repositories; a token from before re-creation is void', async () => {
  const w = await world();
  expectApi(await w.users.maintainer.call('DELETE', `/projects/${w.privId}`), 403, 'FORBIDDEN');
  // push an image as the project's developer, so the project is not empty
  const dev = new RegistryClient({ baseUrl: f.berth.url, username: w.users.developer.username!, password: PW });
  await dev.pushImage(`${w.priv}/app`, 'v1');
  const deletable = (await w.users.projectAdmin.call('GET', `/projects/${w.privId}/_deletable`)).json();
  assert.equal(deletable.deletable, false);
  expectApi(await w.users.projectAdmin.call('DELETE', `/projects/${w.privId}`), 412, 'PRECONDITION');
  expectApi(await f.admin.call('GET', `/projects/${w.privId}`), 200);
  assert.equal((await f.admin.call('GET', `/projects/${w.privId}`)).json().repo_count, 1);
  // an empty one goes, with its members; the name can be used again
  const token = await dev.token([`repository:${w.pub}/app:pull,push`]);
  expectApi(await w.users.projectAdmin.call('DELETE', `/projects/${w.pubId}`), 200);
  expectApi(await f.admin.call('GET', `/projects/${w.pubId}`), 404, 'NOT_FOUND');
  await new Promise((r) => setTimeout(r, 1100)); // iat has second resolution
  await f.admin.createProject(w.pub, false);
  const r = await dev.request('POST', `/v2/${w.pub}/blobs/uploads/`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 401, String(r));
  // the old members are gone with the old project
  const fresh = (await f.admin.call('GET', `/projects/${w.pub}/members`, undefined, { 'X-Is-Resource-Name': 'true' })).json();
  assert.deepEqual(fresh.map((m: { entity_name: string }) => m.entity_name), ['admin']);
  // The deletion is in the audit log once (DELETE_PROJECT event), by the project admin; the refused one is not.
  const isDelete = (r: { operation: string; resource_type: string; resource: string }) => r.operation === 'delete' && r.resource_type === 'project';
  const deletes = (await auditRows(f.berth, (rows) => rows.some((r) => isDelete(r) && r.resource === w.pub))).filter(isDelete);
  assert.deepEqual(
    deletes.filter((r) => r.resource === w.pub || r.resource === w.priv).map((r) => [r.resource, r.username]),
    [[w.pub, w.users.projectAdmin.username]],
  );
});

test('project.creation_restriction=adminonly: only sysadmins create projects', async () => {
  const b = await startBerth({ env: { BERTH_PROJECT_CREATION_RESTRICTION: 'adminonly' } });
  try {
    const admin = new ApiClient(b.url, 'admin', b.adminPassword);
    await admin.createUser('plain', PW);
    expectApi(await admin.as('plain', PW).call('POST', '/projects', { project_name: 'nope' }), 403, 'FORBIDDEN');
    expectApi(await admin.call('POST', '/projects', { project_name: 'yes' }), 201);
    const perms = (await admin.as('plain', PW).call('GET', '/users/current/permissions')).json();
    assert.deepEqual(perms, []);
  } finally {
    await b.stop();
  }
  // by default everyone may
  const plainId = await f.admin.createUser(uniq('creator'), PW);
  const creator = (await f.admin.call('GET', `/users/${plainId}`)).json().username;
  expectApi(await f.admin.as(creator, PW).call('POST', '/projects', { project_name: uniq('mine') }), 201);
});

test('NUL anywhere in names, filters or metadata → 400, never a 5xx (PostgreSQL refuses NUL in text)', async () => {
  for (const path of ['/projects/a%00b', '/projects?name=a%00', '/projects?owner=a%00', '/users?username=%00', '/projects/1/members?entityname=%00', '/users?q=username%3D~a%00'])
    expectApi(await f.admin.call('GET', path), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('HEAD', '/projects?project_name=a%00'), 400);
  const id = await f.admin.createProject(uniq('nul'), false);
  expectApi(await f.admin.call('POST', `/projects/${id}/metadatas`, { retention_id: 'a\u0000b' }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('POST', `/projects/${id}/members`, { role_id: 2, member_user: { username: 'a\u0000b' } }), 404, 'NOT_FOUND');
});
