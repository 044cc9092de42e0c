// User groups and the LDAP endpoints against a real slapd: /usergroups CRUD and search, groups as project members
// (by id, by DN created on the fly, HTTP groups by name), the union of user and group roles, entity_type "g" in
// member lists, /ldap/ping (stored password only for the stored server), /ldap/users/search and import,
// /ldap/groups/search, and secrets never returned.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { useApi, expectApi, auditRows } from '../api/fixture.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { useDirectory, configureLdap, groupDn, pw, until, GROUPS } from './directory.ts';

const dir = useDirectory();
const f = useApi();

before(async () => {
  await configureLdap(await until(() => f.admin), await until(() => dir.slapd));
});

const as = (u: string, p = pw(u)) => f.admin.as(u, p);
const loc = (r: { headers: Headers }) => Number(r.headers.get('location')!.split('/').pop());
const tokenActions = async (user: string, scope: string): Promise<string[]> => {
  const r = await new RegistryClient({ baseUrl: f.berth.url, username: user, password: pw(user) }).tokenResponse([scope]);
  assert.equal(r.status, 200, r.text());
  const claims = JSON.parse(Buffer.from(r.json().token.split('.')[1], 'base64url').toString('utf8'));
  return [...(claims.access[0]?.actions ?? [])].sort();
};

test('usergroups CRUD: LDAP DNs checked in the directory, duplicates 409, types validated, rename only', async () => {
  const r = await f.admin.call('POST', '/usergroups', { group_type: 1, ldap_group_dn: groupDn('devs') });
  expectApi(r, 201);
  const id = loc(r);
  assert.match(r.headers.get('location')!, /^\/api\/v2\.0\/usergroups\/\d+$/);
  const g = (await f.admin.call('GET', `/usergroups/${id}`)).json();
  assert.deepEqual(g, { id, group_name: 'devs', group_type: 1, ldap_group_dn: groupDn('devs') });
  // same DN spelled differently is the same group
  expectApi(await f.admin.call('POST', '/usergroups', { group_type: 1, ldap_group_dn: groupDn('devs').toUpperCase().replace(/,/g, ', ') }), 409, 'CONFLICT');
  expectApi(await f.admin.call('POST', '/usergroups', { group_type: 1, ldap_group_dn: `cn=ghost,${GROUPS}` }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('POST', '/usergroups', { group_type: 1, ldap_group_dn: 'not a dn' }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('POST', '/usergroups', { group_type: 9, group_name: 'x' }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('POST', '/usergroups', { group_type: 2 }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('POST', '/usergroups', { group_type: 2, group_name: 'ops\u0000' }), 400, 'BAD_REQUEST');
  // a name with SQL metacharacters is stored and found literally (CVE-2019-19029)
  const sqlName = `o'ps"; DROP TABLE users;--`;
  const h = await f.admin.call('POST', '/usergroups', { group_type: 2, group_name: sqlName });
  expectApi(h, 201);
  const hid = loc(h);
  expectApi(await f.admin.call('POST', '/usergroups', { group_type: 2, group_name: sqlName }), 409, 'CONFLICT');
  const found = (await f.admin.call('GET', `/usergroups?group_name=${encodeURIComponent("o'ps")}`)).json();
  assert.deepEqual(found.map((x: { id: number }) => x.id), [hid]);
  // list: paging headers, q filter, sort allow-list
  const list = await f.admin.call('GET', '/usergroups?page=1&page_size=1');
  expectApi(list, 200);
  assert.equal(list.json().length, 1);
  assert.ok(Number(list.headers.get('x-total-count')) >= 2);
  assert.match(list.headers.get('link') ?? '', /rel="next"/);
  assert.deepEqual((await f.admin.call('GET', '/usergroups?q=group_type%3D1')).json().map((x: { id: number }) => x.id), [id]);
  // Not filterable / sortable: ignored (Harbor), the unfiltered list.
  const everything = (await f.admin.call('GET', '/usergroups')).json().map((x: { id: number }) => x.id);
  for (const qs of ['q=lookup_key%3Dx', 'sort=lookup_key']) assert.deepEqual((await f.admin.call('GET', `/usergroups?${qs}`)).json().map((x: { id: number }) => x.id), everything, qs);
  // rename; type and DN are not changed by a PUT (mass assignment)
  expectApi(await f.admin.call('PUT', `/usergroups/${id}`, { group_name: 'developers', group_type: 2, ldap_group_dn: groupDn('berth-admins'), id: 999 }), 200);
  assert.deepEqual((await f.admin.call('GET', `/usergroups/${id}`)).json(), { id, group_name: 'developers', group_type: 1, ldap_group_dn: groupDn('devs') });
  expectApi(await f.admin.call('PUT', `/usergroups/${hid}`, { group_name: 'developers' }), 200); // other type: no clash
  expectApi(await f.admin.call('PUT', `/usergroups/${hid}`, { group_name: '' }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('GET', '/usergroups/999999'), 404, 'NOT_FOUND');
  expectApi(await f.admin.call('GET', '/usergroups/abc'), 400, 'BAD_REQUEST');
  // only sysadmins manage groups; any logged-in user may search them (member picker)
  expectApi(await as('alice').call('GET', '/usergroups'), 403, 'FORBIDDEN');
  expectApi(await as('alice').call('POST', '/usergroups', { group_type: 2, group_name: 'mine' }), 403, 'FORBIDDEN');
  expectApi(await as('alice').call('DELETE', `/usergroups/${id}`), 403, 'FORBIDDEN');
  expectApi(await f.anon.call('GET', '/usergroups/search?groupname=dev'), 401, 'UNAUTHORIZED');
  const s = await as('alice').call('GET', '/usergroups/search?groupname=develop');
  expectApi(s, 200);
  assert.deepEqual(
    s.json().map((x: { group_type: number }) => x.group_type).sort(),
    [1, 2],
  );
  assert.deepEqual(Object.keys(s.json()[0]).sort(), ['group_name', 'group_type', 'id']);
  expectApi(await as('alice').call('GET', '/usergroups/search'), 400, 'BAD_REQUEST');
  // delete
  expectApi(await f.admin.call('DELETE', `/usergroups/${hid}`), 200);
  expectApi(await f.admin.call('GET', `/usergroups/${hid}`), 404, 'NOT_FOUND');
  const rows = await auditRows(f.berth);
  assert.ok(rows.some((x) => x.resource_type === 'user_group' && x.operation === 'delete'));
});

test('groups as project members: by id, by DN created on the fly, HTTP by name; union of roles; entity_type g', async () => {
  const pid = await f.admin.createProject('grp', false);
  // alice: guest directly, developer through devs (her LDAP group) -> the union lets her push
  expectApi(await as('alice').call('GET', '/users/current'), 200);
  await f.admin.addMember('grp', 'alice', 3);
  assert.deepEqual(await tokenActions('alice', 'repository:grp/app:pull,push'), ['pull']);
  const devs = ((await f.admin.call('GET', `/usergroups?ldap_group_dn=${encodeURIComponent(groupDn('devs'))}`)).json() as { id: number }[])[0];
  assert.ok(devs, 'devs exists (created by the previous test or at alice\u2019s login)');
  const m = await f.admin.call('POST', '/projects/grp/members', { role_id: 2, member_group: { id: devs.id } });
  expectApi(m, 201);
  const mid = loc(m);
  assert.deepEqual(await tokenActions('alice', 'repository:grp/app:pull,push'), ['pull', 'push']);
  await new RegistryClient({ baseUrl: f.berth.url, username: 'alice', password: pw('alice') }).pushImage('grp/app', 'v1');
  const me = (await as('alice').call('GET', '/projects/grp')).json();
  assert.deepEqual(me.current_user_role_ids, [2, 3]);
  // the same group twice: 409; both user and group: 400; unknown id: 404
  expectApi(await f.admin.call('POST', '/projects/grp/members', { role_id: 2, member_group: { id: devs.id } }), 409, 'CONFLICT');
  expectApi(await f.admin.call('POST', '/projects/grp/members', { role_id: 2, member_group: { id: devs.id }, member_user: { username: 'dave' } }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('POST', '/projects/grp/members', { role_id: 2, member_group: { id: 999999 } }), 404, 'NOT_FOUND');
  expectApi(await f.admin.call('POST', '/projects/grp/members', { role_id: 2, member_group: { group_type: 1, ldap_group_dn: `cn=ghost,${GROUPS}` } }), 400, 'BAD_REQUEST');
  // an LDAP group by DN, created on the fly (checked in the directory)
  expectApi(await f.admin.call('POST', '/projects/grp/members', { role_id: 4, member_group: { group_type: 1, ldap_group_dn: groupDn('cycle-b') } }), 201);
  // an HTTP group by name, created on the fly
  expectApi(await f.admin.call('POST', '/projects/grp/members', { role_id: 3, member_group: { group_type: 2, group_name: 'http-team' } }), 201);
  const members = (await f.admin.call('GET', '/projects/grp/members?page_size=100')).json() as { entity_type: string; entity_name: string; role_id: number; id: number; entity_id: number }[];
  const groupRows = members.filter((x) => x.entity_type === 'g').map((x) => [x.entity_name, x.role_id]).sort();
  assert.deepEqual(groupRows, [['cycle-b', 4], ['developers', 2], ['http-team', 3]].sort());
  const g = members.find((x) => x.id === mid)!;
  assert.equal(g.entity_id, devs.id);
  // entityname filter finds groups too
  const filtered = (await f.admin.call('GET', '/projects/grp/members?entityname=cycle')).json();
  assert.deepEqual(filtered.map((x: { entity_name: string }) => x.entity_name), ['cycle-b']);
  // frank is in cycle-b through cycle-a (a cycle): maintainer after his login
  expectApi(await as('frank').call('GET', '/users/current'), 200);
  assert.deepEqual(await tokenActions('frank', 'repository:grp/app:pull,push,delete'), ['delete', 'pull', 'push']);
  // a member id of another project is 404 there (cross-project sweep), nothing changes
  const other = await f.admin.createProject('grp-other', false);
  assert.ok(other > pid);
  expectApi(await f.admin.call('PUT', `/projects/grp-other/members/${mid}`, { role_id: 1 }), 404, 'NOT_FOUND');
  expectApi(await f.admin.call('DELETE', `/projects/grp-other/members/${mid}`), 404, 'NOT_FOUND');
  // changing the group's role, then removing the group membership takes the access away
  expectApi(await f.admin.call('PUT', `/projects/grp/members/${mid}`, { role_id: 3 }), 200);
  assert.deepEqual(await tokenActions('alice', 'repository:grp/app:pull,push'), ['pull']);
  expectApi(await f.admin.call('DELETE', `/projects/grp/members/${mid}`), 200);
  expectApi(await f.admin.call('PUT', `/projects/grp/members/${mid}`, { role_id: 2 }), 404, 'NOT_FOUND');
  // deleting a group removes its memberships
  const cyc = members.find((x) => x.entity_name === 'cycle-b')!;
  expectApi(await f.admin.call('DELETE', `/usergroups/${cyc.entity_id}`), 200);
  assert.deepEqual(await tokenActions('frank', 'repository:grp/app:pull'), []);
  // a project admin can add groups to their project, not to others
  expectApi(await as('dave').call('GET', '/users/current'), 200);
  await f.admin.addMember('grp', 'dave', 1);
  expectApi(await as('dave').call('POST', '/projects/grp/members', { role_id: 3, member_group: { group_type: 2, group_name: 'by-dave' } }), 201);
  expectApi(await as('dave').call('POST', '/projects/grp-other/members', { role_id: 3, member_group: { group_type: 2, group_name: 'by-dave' } }), 404, 'NOT_FOUND');
});

test('ldap/ping: stored settings, body settings, and the stored password is never sent to another server', async () => {
  expectApi(await as('alice').call('POST', '/ldap/ping', {}), 403, 'FORBIDDEN');
  expectApi(await f.anon.call('POST', '/ldap/ping', {}), 401, 'UNAUTHORIZED');
  assert.deepEqual((await f.admin.call('POST', '/ldap/ping', {})).json(), { success: true, message: 'success' });
  // the body's URL and DN with the stored password (same server and DN): fine
  const s = dir.slapd;
  assert.equal((await f.admin.call('POST', '/ldap/ping', { ldap_url: s.url, ldap_search_dn: s.adminDn })).json().success, true);
  const bad = (await f.admin.call('POST', '/ldap/ping', { ldap_url: s.url, ldap_search_dn: s.adminDn, ldap_search_password: 'wrong' })).json();
  assert.equal(bad.success, false);
  assert.ok(!JSON.stringify(bad).includes('wrong'));
  assert.equal((await f.admin.call('POST', '/ldap/ping', { ldap_base_dn: 'dc=nowhere,dc=test' })).json().success, false);
  const down = (await f.admin.call('POST', '/ldap/ping', { ldap_url: 'ldap://127.0.0.1:1', ldap_search_dn: s.adminDn, ldap_search_password: 'x', ldap_connection_timeout: 2 })).json();
  assert.equal(down.success, false);
  // Nothing to bind or search with: the ping still has to reach the server (an unreachable one is not a success).
  const bare = { ldap_url: 'ldap://127.0.0.1:1', ldap_search_dn: '', ldap_base_dn: '', ldap_connection_timeout: 2 };
  assert.equal((await f.admin.call('POST', '/ldap/ping', bare)).json().success, false);
  assert.equal((await f.admin.call('POST', '/ldap/ping', { ...bare, ldap_url: s.url })).json().success, true);
  expectApi(await f.admin.call('POST', '/ldap/ping', { ldap_scope: 'sub' }), 400, 'BAD_REQUEST');
  // another server with no password in the body: the stored secret must not be sent there
  const received: Buffer[] = [];
  const sockets: Socket[] = [];
  const spy = createServer((c) => {
    sockets.push(c);
    c.on('data', (d) => received.push(d));
  });
  await new Promise<void>((r) => spy.listen(0, '127.0.0.1', () => r()));
  const port = (spy.address() as { port: number }).port;
  try {
    const r = (await f.admin.call('POST', '/ldap/ping', { ldap_url: `ldap://127.0.0.1:${port}`, ldap_connection_timeout: 2 })).json();
    assert.equal(r.success, false);
    const r2 = (await f.admin.call('POST', '/ldap/ping', { ldap_url: `ldap://127.0.0.1:${port}`, ldap_search_dn: s.adminDn, ldap_connection_timeout: 2 })).json();
    assert.equal(r2.success, false);
  } finally {
    for (const c of sockets) c.destroy();
    await new Promise((r) => spy.close(r));
  }
  assert.ok(!Buffer.concat(received).includes(Buffer.from(s.adminPassword)), 'the stored search password went to another server');
});

test('ldap/users/search and import (404 listing failures); ldap/groups/search; secrets never returned', async () => {
  expectApi(await as('alice').call('GET', '/ldap/users/search?username=alice'), 403, 'FORBIDDEN');
  const r = await f.admin.call('GET', '/ldap/users/search?username=bob');
  expectApi(r, 200);
  assert.deepEqual(r.json(), [{ username: 'bob', realname: 'Bob Example', email: 'bob@example.test' }]);
  // wildcards are literal
  assert.deepEqual((await f.admin.call('GET', '/ldap/users/search?username=*')).json(), []);
  assert.deepEqual((await f.admin.call('GET', `/ldap/users/search?username=${encodeURIComponent('b*)(uid=*')}`)).json(), []);
  // empty: everyone of the filter
  const all = (await f.admin.call('GET', '/ldap/users/search')).json().map((u: { username: string }) => u.username);
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) assert.ok(all.includes(u), u);

  // import: erin is new, nobody is not in LDAP, alice already exists (she logged in before)
  expectApi(await as('alice').call('GET', '/users/current'), 200);
  expectApi(await as('alice').call('POST', '/ldap/users/import', { ldap_uid_list: ['erin'] }), 403, 'FORBIDDEN');
  const imp = await f.admin.call('POST', '/ldap/users/import', { ldap_uid_list: ['erin', 'nobody', 'alice', '*'] });
  assert.equal(imp.status, 404, imp.text);
  const failed = imp.json() as { uid: string; error: string }[];
  assert.deepEqual(failed.map((x) => x.uid).sort(), ['*', 'alice', 'nobody']);
  const erin = (await f.admin.call('GET', '/users?username=erin')).json();
  assert.equal(erin.length, 1);
  assert.equal(erin[0].username, 'erin');
  expectApi(await f.admin.call('POST', '/ldap/users/import', { ldap_uid_list: ['carol'] }), 200);
  expectApi(await f.admin.call('POST', '/ldap/users/import', { ldap_uid_list: 'carol' }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('POST', '/ldap/users/import', {}), 400, 'BAD_REQUEST');

  const g = await f.admin.call('GET', '/ldap/groups/search?groupname=team-mid');
  expectApi(g, 200);
  assert.deepEqual(g.json(), [{ group_name: 'team-mid', group_type: 1, ldap_group_dn: groupDn('team-mid') }]);
  assert.deepEqual((await f.admin.call('GET', `/ldap/groups/search?groupdn=${encodeURIComponent(groupDn('devs'))}`)).json(), [{ group_name: 'devs', group_type: 1, ldap_group_dn: groupDn('devs') }]);
  assert.deepEqual((await f.admin.call('GET', '/ldap/groups/search?groupname=*')).json(), []);
  assert.deepEqual((await f.admin.call('GET', `/ldap/groups/search?groupdn=${encodeURIComponent(`cn=ghost,${GROUPS}`)}`)).json(), []);
  expectApi(await f.admin.call('GET', '/ldap/groups/search'), 400, 'BAD_REQUEST');
  expectApi(await as('alice').call('GET', '/ldap/groups/search?groupname=devs'), 403, 'FORBIDDEN');

  // the bind password is nowhere: configurations, audit log, server output
  const cfg = await f.admin.call('GET', '/configurations');
  assert.equal(cfg.json().ldap_search_password, undefined);
  assert.ok(!cfg.text.includes(dir.slapd.adminPassword));
  assert.ok(!JSON.stringify(await auditRows(f.berth)).includes(dir.slapd.adminPassword));
  assert.ok(!f.berth.output().includes(dir.slapd.adminPassword));
});
