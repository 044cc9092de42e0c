// ldap_auth mode against a real slapd: logins through the API (Basic), the token service and /v2, the user created
// locally at the first login, nested groups granting project roles (podman login + skopeo push as an LDAP user),
// the group admin DN, wrong/empty passwords, filter injection in the username, and the local admin.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createServer, type Socket } from 'node:net';
import { useApi, expectApi, auditRows } from '../api/fixture.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { buildOciImage, createContainersEnv, makeTempDir, removeDir } from '../helpers/clients.ts';
import { useDirectory, configureLdap, groupDn, pw, until } from './directory.ts';

const dir = useDirectory();
const f = useApi();

before(async () => {
  await configureLdap(await until(() => f.admin), await until(() => dir.slapd));
});

const as = (u: string, p = pw(u)) => f.admin.as(u, p);
const token = (user: string, password: string, scope: string) =>
  new RegistryClient({ baseUrl: f.berth.url, username: user, password }).tokenResponse([scope]);
const tokenActions = async (user: string, password: string, scope: string): Promise<string[]> => {
  const r = await token(user, password, scope);
  assert.equal(r.status, 200, r.text());
  const jwt = r.json().token as string;
  const claims = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
  return [...(claims.access[0]?.actions ?? [])].sort();
};
const userNames = async () => ((await f.admin.call('GET', '/users?page_size=100')).json() as { username: string }[]).map((u) => u.username).sort();

test('first login through the API creates the local user (email and realname from LDAP, no local password)', async () => {
  const r = await as('alice').call('GET', '/users/current');
  expectApi(r, 200);
  const me = r.json();
  assert.equal(me.username, 'alice');
  assert.equal(me.email, 'alice@example.test');
  assert.equal(me.realname, 'Alice Example');
  assert.equal(me.sysadmin_flag, false);
  // a user without mail in the directory
  const dave = (await as('dave').call('GET', '/users/current')).json();
  assert.equal(dave.username, 'dave');
  // the account has no usable local password: switching back to db_auth does not let anyone in as alice
  assert.ok((await userNames()).includes('alice'));
  // and its password is the directory's business
  expectApi(await as('alice').call('PUT', `/users/${me.user_id}/password`, { old_password: pw('alice'), new_password: 'Another-Passw0rd' }), 403, 'FORBIDDEN');
  // local users cannot be created in ldap_auth mode
  expectApi(await f.admin.call('POST', '/users', { username: 'localguy', password: 'Passw0rd!x', email: 'l@example.com' }), 403, 'FORBIDDEN');
  // and the mode cannot be switched back now that users exist
  expectApi(await f.admin.call('PUT', '/configurations', { auth_mode: 'db_auth' }), 403, 'FORBIDDEN');
  const rows = await auditRows(f.berth);
  assert.ok(rows.some((x) => x.operation === 'login' && x.username === 'alice'));
});

test('wrong, empty and missing passwords are refused on the API, the token service and /v2', async () => {
  expectApi(await as('alice', 'wrong-password').call('GET', '/users/current'), 401, 'UNAUTHORIZED');
  expectApi(await as('alice', '').call('GET', '/users/current'), 401, 'UNAUTHORIZED');
  expectApi(await as('nosuchuser', 'whatever').call('GET', '/users/current'), 401, 'UNAUTHORIZED');
  assert.equal((await token('alice', 'wrong-password', 'repository:library/x:pull')).status, 401);
  assert.equal((await token('alice', '', 'repository:library/x:pull')).status, 401);
  const v2 = new RegistryClient({ baseUrl: f.berth.url, username: 'alice', password: '', auth: 'basic' });
  assert.equal((await v2.request('GET', '/v2/')).status, 401);
  // a user that exists in the directory but whose entry has no matching password: carol with alice's
  expectApi(await as('carol', pw('alice')).call('GET', '/users/current'), 401, 'UNAUTHORIZED');
});

test('LDAP filter injection in the username never authenticates anyone (RFC 4515 escaping)', async () => {
  const before = await userNames();
  const names = ['*', ')(uid=*', '\\00', 'admin)(|(uid=*', 'al*', '*)(uid=alice', 'alice)(uid=*', 'alice)(|(objectClass=*)', '(uid=alice)', 'a\\2a', 'alice\\', '*alice*', 'ALICE*'];
  for (const n of names) {
    for (const p of [pw('alice'), pw('bob'), pw('admin'), 'x']) {
      const r = await as(n, p).call('GET', '/users/current');
      expectApi(r, 401, 'UNAUTHORIZED');
    }
    assert.equal((await token(n, pw('alice'), 'repository:library/x:pull')).status, 401, `token for ${n}`);
  }
  // one account, one spelling: the directory's case-insensitive match does not make ALICE another name for alice
  expectApi(await as('ALICE', pw('alice')).call('GET', '/users/current'), 401, 'UNAUTHORIZED');
  assert.deepEqual(await userNames(), before, 'no account was created by the attempts');
  // the real user is still fine (and not locked by the attempts under other names)
  expectApi(await as('alice').call('GET', '/users/current'), 200);
});

test('portal login (POST /c/login) as an LDAP user gives a session for that user; a wrong password does not', async () => {
  const login = (principal: string, password: string) =>
    fetch(`${f.berth.url}/c/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ principal, password }).toString() });
  const ok = await login('alice', pw('alice'));
  assert.equal(ok.status, 200);
  const sid = ok.headers.getSetCookie().find((c) => c.startsWith('sid='))!.split(';')[0];
  const me = await fetch(`${f.berth.url}/api/v2.0/users/current`, { headers: { cookie: sid } });
  assert.equal(me.status, 200);
  assert.equal(((await me.json()) as { username: string }).username, 'alice');
  assert.equal((await login('alice', 'wrong')).status, 401);
  assert.equal((await login('alice', '')).status, 401);
  assert.equal((await login('*', pw('alice'))).status, 401);
});

test('the local admin logs in with its database password; the LDAP entry named admin does not', async () => {
  expectApi(await f.admin.call('GET', '/users'), 200);
  expectApi(await as('admin', pw('admin')).call('GET', '/users/current'), 401, 'UNAUTHORIZED');
});

test('ldap_group_admin_dn makes sysadmins, directly and through a nested group; others are not', async () => {
  const carol = await as('carol').call('GET', '/users/current');
  expectApi(carol, 200);
  assert.equal(carol.json().admin_role_in_auth, true);
  expectApi(await as('carol').call('GET', '/users'), 200);
  expectApi(await as('erin').call('GET', '/users'), 200);
  expectApi(await as('alice').call('GET', '/users'), 403, 'FORBIDDEN');
  expectApi(await as('bob').call('GET', '/configurations'), 403, 'FORBIDDEN');
  // catalog is sysadmin only: the nested admin gets it in a token
  const r = await new RegistryClient({ baseUrl: f.berth.url, username: 'erin', password: pw('erin') }).tokenResponse(['registry:catalog:*']);
  const claims = JSON.parse(Buffer.from(r.json().token.split('.')[1], 'base64url').toString('utf8'));
  assert.deepEqual(claims.access[0].actions, ['*']);
  // a new admin group applies at once (the process drops its cached logins when directory settings change)
  expectApi(await f.admin.call('PUT', '/configurations', { ldap_group_admin_dn: groupDn('devs') }), 200);
  expectApi(await as('carol').call('GET', '/users'), 403, 'FORBIDDEN');
  expectApi(await as('alice').call('GET', '/users'), 200);
  expectApi(await f.admin.call('PUT', '/configurations', { ldap_group_admin_dn: groupDn('berth-admins') }), 200);
  expectApi(await as('alice').call('GET', '/users'), 403, 'FORBIDDEN');
  expectApi(await as('carol').call('GET', '/users'), 200);
});

test('a nested LDAP group member of a project: token scopes, /v2 push with a token and with Basic', async () => {
  await f.admin.createProject('nested', false);
  // team-top only contains team-mid, which contains team-leaf, which contains bob
  expectApi(await f.admin.call('POST', '/projects/nested/members', { role_id: 2, member_group: { group_type: 1, ldap_group_dn: groupDn('team-top') } }), 201);
  // alice is not in the chain; bob is, three levels down
  assert.deepEqual(await tokenActions('alice', pw('alice'), 'repository:nested/app:pull,push'), []);
  assert.deepEqual(await tokenActions('bob', pw('bob'), 'repository:nested/app:pull,push'), ['pull', 'push']);
  const bob = new RegistryClient({ baseUrl: f.berth.url, username: 'bob', password: pw('bob') });
  await bob.pushImage('nested/app', 'v1');
  const basic = bob.with({ auth: 'basic' });
  await basic.pushImage('nested/app', 'v2');
  const alice = new RegistryClient({ baseUrl: f.berth.url, username: 'alice', password: pw('alice'), auth: 'basic' });
  const pull = await alice.request('GET', '/v2/nested/app/manifests/v1', { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.ok(pull.status === 401 || pull.status === 403 || pull.status === 404, `alice must not pull: ${pull.status}`);
  // the project is listed for bob through his groups
  const projects = (await as('bob').call('GET', '/projects')).json() as { name: string; current_user_role_id: number }[];
  assert.ok(projects.some((p) => p.name === 'nested'));
  // a membership cycle terminates, and frank gets both groups
  expectApi(await as('frank').call('GET', '/users/current'), 200);
  const groups = ((await f.admin.call('GET', '/usergroups?page_size=100')).json() as { group_name: string }[]).map((g) => g.group_name);
  for (const g of ['team-leaf', 'team-mid', 'team-top', 'cycle-a', 'cycle-b', 'devs']) assert.ok(groups.includes(g), `${g} onboarded: ${groups}`);
});

test('real clients: podman login and skopeo push as an LDAP user whose nested group is a developer', { timeout: 180_000 }, async () => {
  const work = makeTempDir('ldap-clients');
  const cenv = await createContainersEnv({ insecureRegistries: [f.berth.host] });
  try {
    const img = await buildOciImage(join(work, 'src'), { tag: 'v1' });
    const login = await cenv.podman(['login', '--tls-verify=false', '--username', 'bob', '--password-stdin', f.berth.host], { input: pw('bob') });
    assert.match(login.stdout, /Login Succeeded/);
    await cenv.skopeo(['copy', '--dest-tls-verify=false', img.ref, `docker://${f.berth.host}/nested/client:v1`]);
    const r = await new RegistryClient({ baseUrl: f.berth.url, username: 'bob', password: pw('bob') }).request('GET', '/v2/nested/client/manifests/v1', {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      scopes: ['repository:nested/client:pull'],
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('docker-content-digest'), img.manifestDigest);
    const bad = await cenv.podman(['login', '--tls-verify=false', '--username', 'bob', '--password-stdin', f.berth.host], { input: 'wrong', allowFail: true });
    assert.notEqual(bad.code, 0);
    const dave = await cenv.skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `dave:${pw('dave')}`, img.ref, `docker://${f.berth.host}/nested/client:dave`], { allowFail: true });
    assert.notEqual(dave.code, 0, 'dave is in no group of the project');
  } finally {
    await cenv.stop();
    removeDir(work);
  }
});

test('ldaps: the certificate is verified unless ldap_verify_cert is false', async () => {
  const s = dir.slapd;
  assert.ok(s.ldapsUrl);
  expectApi(await f.admin.call('PUT', '/configurations', { ldap_url: s.ldapsUrl, ldap_verify_cert: true }), 200);
  const ping = (await f.admin.call('POST', '/ldap/ping', {})).json();
  assert.equal(ping.success, false, 'a self-signed certificate must not be accepted');
  expectApi(await as('grace').call('GET', '/users/current'), 401, 'UNAUTHORIZED');
  expectApi(await f.admin.call('PUT', '/configurations', { ldap_verify_cert: false }), 200);
  assert.deepEqual((await f.admin.call('POST', '/ldap/ping', {})).json(), { success: true, message: 'success' });
  expectApi(await as('grace').call('GET', '/users/current'), 200);
  expectApi(await f.admin.call('PUT', '/configurations', { ldap_url: s.url, ldap_verify_cert: true }), 200);
});

test('a directory that is down or silent: LDAP logins get 401 within the timeout, the local admin still works', async () => {
  const sockets: Socket[] = [];
  const silent = createServer((c) => sockets.push(c));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const silentUrl = `ldap://127.0.0.1:${(silent.address() as { port: number }).port}`;
  try {
    expectApi(await f.admin.call('PUT', '/configurations', { ldap_url: 'ldap://127.0.0.1:1' }), 200);
    expectApi(await as('heidi').call('GET', '/users/current'), 401, 'UNAUTHORIZED');
    expectApi(await f.admin.call('GET', '/users/current'), 200);
    expectApi(await f.admin.call('PUT', '/configurations', { ldap_url: silentUrl, ldap_timeout: 1 }), 200);
    const t0 = Date.now();
    expectApi(await as('ivan').call('GET', '/users/current'), 401, 'UNAUTHORIZED');
    assert.ok(Date.now() - t0 < 5000, `the login waited ${Date.now() - t0} ms for a silent server`);
    const p0 = Date.now();
    assert.equal((await f.admin.call('POST', '/ldap/ping', {})).json().success, false);
    assert.ok(Date.now() - p0 < 5000);
  } finally {
    for (const c of sockets) c.destroy();
    await new Promise((r) => silent.close(r));
    expectApi(await f.admin.call('PUT', '/configurations', { ldap_url: dir.slapd.url, ldap_timeout: 5 }), 200);
  }
  expectApi(await as('heidi').call('GET', '/users/current'), 200);
});

test('groups are refreshed at login: leaving a group in the directory removes the access it gave', async () => {
  assert.deepEqual(await tokenActions('bob', pw('bob'), 'repository:nested/app:pull,push'), ['pull', 'push']);
  await dir.slapd.add(`dn: ${groupDn('team-leaf')}
changetype: modify
delete: member
member: uid=bob,ou=people,dc=example,dc=test
-
add: member
member: uid=dave,ou=people,dc=example,dc=test
`);
  // the 60 s login cache is per process: a restarted process logs bob in again and re-reads his groups
  await f.berth.stop({ keepData: true });
  f.berth = await f.berth.restart();
  assert.deepEqual(await tokenActions('bob', pw('bob'), 'repository:nested/app:pull,push'), []);
  assert.deepEqual(await tokenActions('dave', pw('dave'), 'repository:nested/app:pull,push'), ['pull', 'push']);
});

test('nesting is followed 10 levels above the direct group, no further', async () => {
  await f.admin.createProject('deep', false);
  expectApi(await f.admin.call('POST', '/projects/deep/members', { role_id: 3, member_group: { group_type: 1, ldap_group_dn: groupDn('chain-11') } }), 201);
  await f.admin.createProject('deeper', false);
  expectApi(await f.admin.call('POST', '/projects/deeper/members', { role_id: 3, member_group: { group_type: 1, ldap_group_dn: groupDn('chain-12') } }), 201);
  assert.deepEqual(await tokenActions('judy', pw('judy'), 'repository:deep/x:pull'), ['pull']);
  assert.deepEqual(await tokenActions('judy', pw('judy'), 'repository:deeper/x:pull'), []);
});

test('with the directory gone: cached logins and issued tokens keep working, new logins fail, admin works', async () => {
  const bob = new RegistryClient({ baseUrl: f.berth.url, username: 'dave', password: pw('dave') });
  const before = await tokenActions('dave', pw('dave'), 'repository:nested/app:pull,push');
  assert.deepEqual(before, ['pull', 'push']);
  await bob.pushImage('nested/app', 'before-stop');
  await dir.slapd.stop();
  // the same credentials within the login cache: no directory round trip
  assert.deepEqual(await tokenActions('dave', pw('dave'), 'repository:nested/app:pull,push'), ['pull', 'push']);
  await bob.pushImage('nested/app', 'after-stop');
  expectApi(await as('dave').call('GET', '/users/current'), 200);
  // a login that is not cached needs the directory
  expectApi(await as('carol', 'not-her-password').call('GET', '/users/current'), 401, 'UNAUTHORIZED');
  expectApi(await f.admin.call('GET', '/users/current'), 200);
});
