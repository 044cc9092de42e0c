// GET/PUT /api/v2.0/configurations: sysadmin only, secrets never returned, allow-listed keys with strict types,
// values stored in the database (seen after a restart), config-file values as defaults, audit without secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useApi, expectApi, auditRows } from './fixture.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { startBerth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';

const PW = 'Passw0rd!x';
const SECRET = 'S3cret-bind-pw-do-not-leak';
/** expires_in of a registry token for admin, and exp - iat of the token itself (seconds). */
async function tokenLifetime(): Promise<[number, number]> {
  const r = await new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword }).tokenResponse(['repository:library/x:pull']);
  const body = r.json();
  const claims = JSON.parse(Buffer.from(body.token.split('.')[1], 'base64url').toString('utf8'));
  return [body.expires_in, claims.exp - claims.iat];
}

const f = useApi({ env: { BERTH_AUTH_SELF_REGISTRATION: 'true', BERTH_PROJECT_CREATION_RESTRICTION: 'adminonly', BERTH_AUTH_TOKEN_EXPIRATION: '45' } });

test('GET: sysadmin only; {value, editable} per key; config file values are the defaults; no secret keys', async () => {
  expectApi(await f.anon.call('GET', '/configurations'), 401, 'UNAUTHORIZED');
  await f.admin.createUser('plain', PW);
  expectApi(await f.admin.as('plain', PW).call('GET', '/configurations'), 403, 'FORBIDDEN');
  expectApi(await f.admin.as('plain', PW).call('PUT', '/configurations', { read_only: true }), 403, 'FORBIDDEN');
  const r = await f.admin.call('GET', '/configurations');
  expectApi(r, 200);
  const c = r.json();
  assert.deepEqual(c.self_registration, { value: true, editable: true });
  assert.deepEqual(c.project_creation_restriction, { value: 'adminonly', editable: true });
  assert.deepEqual(c.token_expiration, { value: 45, editable: true });
  assert.deepEqual(c.auth_mode, { value: 'db_auth', editable: true });
  assert.deepEqual(c.read_only, { value: false, editable: true });
  assert.deepEqual(c.ldap_scope, { value: 2, editable: true });
  assert.deepEqual(c.ldap_group_membership_attribute, { value: 'memberof', editable: true });
  for (const k of ['robot_token_duration', 'robot_name_prefix', 'audit_log_forward_endpoint', 'skip_audit_log_database', 'ldap_url', 'ldap_search_dn', 'ldap_base_dn', 'ldap_filter', 'ldap_uid', 'ldap_timeout', 'ldap_verify_cert', 'ldap_group_base_dn', 'ldap_group_search_filter', 'ldap_group_attribute_name', 'ldap_group_admin_dn', 'ldap_group_search_scope'])
    assert.ok(c[k] && 'value' in c[k], k);
  assert.equal(c.ldap_search_password, undefined);
  assert.deepEqual(await tokenLifetime(), [45 * 60, 45 * 60]);
});

test('PUT: unknown keys and wrong types are 400 and store nothing; valid values are stored and audited without secrets', async () => {
  const bad: Record<string, unknown>[] = [
    { no_such_key: 1 },
    { read_only: true, sysadmin_flag: true },
    { read_only: 'true' },
    { read_only: 1 },
    { token_expiration: '30' },
    { token_expiration: 0 },
    { token_expiration: 1.5 },
    { auth_mode: 'uaa_auth' },
    { auth_mode: true },
    { project_creation_restriction: 'nobody' },
    { ldap_scope: 3 },
    { ldap_url: 'http://example.com' },
    { ldap_uid: 'uid)(x=*' },
    { ldap_filter: 'objectClass=person' },
    { ldap_search_dn: 'cn=a\u0000b' },
    { ldap_search_password: 12 },
    { skip_audit_log_database: true },
    { __proto__: { read_only: true }, constructor: 1 } as Record<string, unknown>,
  ];
  for (const b of bad) expectApi(await f.admin.call('PUT', '/configurations', JSON.stringify(b)), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('PUT', '/configurations', '[1]'), 400, 'BAD_REQUEST');
  // nothing was stored by the refused bodies (one of them carried a valid read_only: true)
  assert.equal((await f.admin.call('GET', '/configurations')).json().read_only.value, false);

  expectApi(
    await f.admin.call('PUT', '/configurations', {
      read_only: true,
      token_expiration: 60,
      ldap_url: 'ldap://127.0.0.1:1',
      ldap_search_dn: 'cn=admin,dc=example,dc=test',
      ldap_search_password: SECRET,
      ldap_filter: '(objectClass=person)',
      audit_log_forward_endpoint: 'syslog.example:514',
      skip_audit_log_database: false,
    }),
    200,
  );
  const r = await f.admin.call('GET', '/configurations');
  const c = r.json();
  assert.equal(c.read_only.value, true);
  assert.equal(c.token_expiration.value, 60);
  // the token service follows the runtime value
  assert.deepEqual(await tokenLifetime(), [3600, 3600]);
  assert.equal(c.ldap_url.value, 'ldap://127.0.0.1:1');
  assert.equal(c.ldap_search_password, undefined);
  assert.ok(!r.text.includes(SECRET));
  const rows = await auditRows(f.berth);
  const row = rows.find((x) => x.resource_type === 'configuration');
  assert.ok(row, 'configuration update audited');
  assert.equal(row.operation, 'update');
  assert.equal(row.username, 'admin');
  assert.ok(!JSON.stringify(rows).includes(SECRET), 'the secret is not in the audit log');
  assert.ok(!f.berth.output().includes(SECRET), 'the secret is not in the server log');
  expectApi(await f.admin.call('PUT', '/configurations', { read_only: false }), 200);
});

test('runtime values drive behaviour: self_registration and project_creation_restriction', async () => {
  // defaults from the environment: self-registration on, project creation admin only
  expectApi(await f.anon.call('POST', '/users', { username: 'selfreg1', password: PW, email: 'selfreg1@example.com' }), 201);
  expectApi(await f.admin.as('selfreg1', PW).call('POST', '/projects', { project_name: 'p-selfreg1' }), 403, 'FORBIDDEN');
  expectApi(await f.admin.call('PUT', '/configurations', { self_registration: false, project_creation_restriction: 'everyone' }), 200);
  expectApi(await f.anon.call('POST', '/users', { username: 'selfreg2', password: PW, email: 'selfreg2@example.com' }), 401, 'UNAUTHORIZED');
  expectApi(await f.admin.as('selfreg1', PW).call('POST', '/projects', { project_name: 'p-selfreg1' }), 201);
  const perms = (await f.admin.as('selfreg1', PW).call('GET', '/users/current/permissions?scope=/&relative=true')).json();
  assert.deepEqual(perms, [{ resource: 'project', action: 'create' }]);
});

test('auth_mode cannot change once users other than admin exist; stored values survive a restart', async () => {
  expectApi(await f.admin.call('PUT', '/configurations', { auth_mode: 'ldap_auth' }), 403, 'FORBIDDEN');
  // importing LDAP users is for ldap_auth mode only (they could not log in, and would pin the mode)
  expectApi(await f.admin.call('POST', '/ldap/users/import', { ldap_uid_list: ['someone'] }), 403, 'FORBIDDEN');
  // setting it to its current value is not a change
  expectApi(await f.admin.call('PUT', '/configurations', { auth_mode: 'db_auth', robot_name_prefix: 'bot$' }), 200);
  await f.berth.stop({ keepData: true });
  f.berth = await f.berth.restart();
  const c = (await f.admin.call('GET', '/configurations')).json();
  assert.equal(c.robot_name_prefix.value, 'bot$');
  assert.equal(c.self_registration.value, false);
  assert.equal(c.token_expiration.value, 60);
  assert.deepEqual(await tokenLifetime(), [3600, 3600]);
});

test('a second process on the same database sees a change within the cache lifetime (2 s)', async () => {
  const b = await startBerth({ dataDir: f.berth.dataDir, pgDatabase: f.berth.pgDatabase ?? undefined, env: { BERTH_AUTH_SELF_REGISTRATION: 'true' } });
  try {
    const anonB = new ApiClient(b.url);
    // the stored false (set above) wins over process B's environment default true
    expectApi(await anonB.call('POST', '/users', { username: 'mp-1', password: PW, email: 'mp-1@example.com' }), 401, 'UNAUTHORIZED');
    expectApi(await f.admin.call('PUT', '/configurations', { self_registration: true }), 200);
    const changedAt = Date.now();
    let status = 0;
    while (Date.now() - changedAt < 5000) {
      status = (await anonB.call('POST', '/users', { username: 'mp-2', password: PW, email: 'mp-2@example.com' })).status;
      if (status === 201) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 201);
    assert.ok(Date.now() - changedAt < 3000, `took ${Date.now() - changedAt} ms`);
    assert.equal((await new ApiClient(b.url, 'admin', f.berth.adminPassword).call('GET', '/configurations')).json().self_registration.value, true);
  } finally {
    await b.stop({ keepData: true });
  }
});

test('configurations.overwrite_json (BERTH_CONFIGURATIONS_OVERWRITE_JSON): pinned values shown not editable, PUT refused; bad content: exit 78', async () => {
  const pinned = { auth_mode: 'ldap_auth', ldap_url: 'ldap://127.0.0.1:1', ldap_search_dn: 'cn=x,dc=example,dc=test', ldap_search_password: 'Pinned-S3cret' };
  const b = await startBerth({ env: { BERTH_CONFIGURATIONS_OVERWRITE_JSON: JSON.stringify(pinned) } });
  try {
    const admin = new ApiClient(b.url, 'admin', b.adminPassword);
    const r = await admin.call('GET', '/configurations');
    const c = r.json();
    assert.deepEqual(c.auth_mode, { value: 'ldap_auth', editable: false });
    assert.deepEqual(c.ldap_url, { value: 'ldap://127.0.0.1:1', editable: false });
    assert.deepEqual(c.self_registration.editable, true);
    assert.ok(!r.text.includes('Pinned-S3cret'));
    expectApi(await admin.call('PUT', '/configurations', { ldap_url: 'ldap://127.0.0.1:2' }), 403, 'FORBIDDEN');
    expectApi(await admin.call('PUT', '/configurations', { auth_mode: 'db_auth' }), 403, 'FORBIDDEN');
    expectApi(await admin.call('PUT', '/configurations', { robot_token_duration: 7 }), 200);
    // ldap_auth from the start: the local admin still logs in with its password
    expectApi(await admin.call('GET', '/users/current'), 200);
    assert.ok(!b.output().includes('Pinned-S3cret'));
  } finally {
    await b.stop();
  }
  for (const bad of ['{"read_only":"yes"}', '{"no_such_key":1}', 'not json']) {
    await assert.rejects(startBerth({ env: { BERTH_CONFIGURATIONS_OVERWRITE_JSON: bad } }), /exited with 78/, bad);
  }
});
