// GET/PUT /api/v2.0/configurations: sysadmin only, secrets never returned, allow-listed keys with strict types,
// values stored in the database (seen after a restart), config-file values as defaults, audit without secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useApi, expectApi, auditRows } from './fixture.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { startBerth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

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
  // Harbor: auth_mode is not editable once a user other than admin exists ('plain' above)
  assert.deepEqual(c.auth_mode, { value: 'db_auth', editable: false });
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
  // Filters without their outer parentheses are accepted, as Harbor does (wrapped when searching), and kept as given.
  expectApi(await f.admin.call('PUT', '/configurations', { ldap_filter: 'objectClass=person', ldap_group_search_filter: 'objectClass=groupOfNames' }), 200);
  const filters = (await f.admin.call('GET', '/configurations')).json();
  assert.equal(filters.ldap_filter.value, 'objectClass=person');
  assert.equal(filters.ldap_group_search_filter.value, 'objectClass=groupOfNames');
  expectApi(await f.admin.call('PUT', '/configurations', { ldap_filter: '(objectClass=person)' }), 200);
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

// Harbor's swagger: Configurations (the PUT body, 57 keys) and ConfigurationsResponse (what GET answers, what
// harbor-cli `config view` reads).
const swagger = parseYaml(readFileSync(new URL('../contract/fixtures/harbor-swagger.yaml', import.meta.url), 'utf8')) as {
  definitions: Record<string, { properties: Record<string, { type?: string; $ref?: string }> }>;
};
const putKeys = swagger.definitions.Configurations.properties;
const getKeys = swagger.definitions.ConfigurationsResponse.properties;
const SECRETS = ['ldap_search_password', 'oidc_client_secret', 'uaa_client_secret'];
const refType = (ref: string) => ({ '#/definitions/StringConfigItem': 'string', '#/definitions/BoolConfigItem': 'boolean', '#/definitions/IntegerConfigItem': 'number' })[ref];

test("GET: every key of Harbor's ConfigurationsResponse with its type and editable; /internalconfig flat, sysadmin only", async () => {
  assert.equal(Object.keys(putKeys).length, 57);
  const r = await f.admin.call('GET', '/configurations');
  expectApi(r, 200);
  const c = r.json();
  for (const [k, spec] of Object.entries(getKeys)) {
    assert.ok(k in c, `${k} present`);
    if (k === 'scan_all_policy') {
      assert.deepEqual(c[k], { type: 'none' });
      continue;
    }
    assert.equal(typeof c[k].value, refType(spec.$ref!), `${k} type`);
    if (spec.$ref === '#/definitions/IntegerConfigItem') assert.ok(Number.isInteger(c[k].value), k);
    assert.equal(typeof c[k].editable, 'boolean', `${k} editable`);
  }
  // every PUT key is in GET, except the two passwords Harbor never returns
  for (const k of Object.keys(putKeys)) assert.equal(k in c, k !== 'ldap_search_password' && k !== 'oidc_client_secret', k);
  assert.deepEqual(c.banner_message, { value: '', editable: true });
  assert.deepEqual(c.storage_per_project, { value: -1, editable: true });
  assert.deepEqual(c.session_timeout, { value: 60, editable: true });
  assert.deepEqual(c.oidc_extra_redirect_parms, { value: '{}', editable: true });

  expectApi(await f.anon.call('GET', '/internalconfig'), 401, 'UNAUTHORIZED');
  expectApi(await f.admin.as('plain', PW).call('GET', '/internalconfig'), 403, 'FORBIDDEN');
  const i = await f.admin.call('GET', '/internalconfig');
  expectApi(i, 200);
  const ic = i.json();
  for (const k of Object.keys(putKeys)) {
    if (SECRETS.includes(k)) assert.equal(ic[k], undefined, k);
    else assert.deepEqual(ic[k], c[k], k);
  }
  assert.ok(!i.text.includes(SECRET));
});

test('PUT: every one of the 57 keys is accepted with its type and read back; partial PUT; null means not given; banner_message round trip', async () => {
  const sample = (k: string, t: string | undefined): unknown => {
    const special: Record<string, unknown> = {
      auth_mode: 'db_auth', project_creation_restriction: 'everyone', ldap_url: 'ldaps://ldap.example.test', ldap_uid: 'uid', ldap_filter: '(objectClass=person)',
      ldap_group_search_filter: '(objectClass=group)', ldap_group_attribute_name: 'cn', ldap_group_membership_attribute: 'memberOf', ldap_scope: 1,
      ldap_group_search_scope: 1, ldap_timeout: 7, token_expiration: 40, robot_token_duration: 9, robot_name_prefix: 'robot$', audit_log_forward_endpoint: '',
      skip_audit_log_database: false, read_only: false, uaa_endpoint: 'https://uaa.example.test', http_authproxy_endpoint: 'https://proxy.example.test/auth',
      http_authproxy_tokenreview_endpoint: 'https://proxy.example.test/review', oidc_endpoint: 'https://idp.example.test', oidc_extra_redirect_parms: '{"prompt":"login"}',
      storage_per_project: 1073741824, session_timeout: 120, http_authproxy_server_certificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      self_registration: true,
    };
    if (k in special) return special[k];
    return t === 'boolean' ? true : t === 'integer' ? 3 : `v-${k}`;
  };
  const body = Object.fromEntries(Object.entries(putKeys).map(([k, s]) => [k, sample(k, s.type)]));
  expectApi(await f.admin.call('PUT', '/configurations', body), 200);
  const c = (await f.admin.call('GET', '/configurations')).json();
  for (const k of Object.keys(putKeys)) {
    if (SECRETS.includes(k)) continue;
    assert.deepEqual(c[k].value, body[k], k);
  }
  assert.equal(c.uaa_client_secret.value, '', 'the UAA secret is listed but never returned');
  assert.ok(!JSON.stringify(c).includes('v-oidc_client_secret'));

  // partial: one key changes, the others keep their values
  expectApi(await f.admin.call('PUT', '/configurations', { oidc_name: 'corp' }), 200);
  let c2 = (await f.admin.call('GET', '/configurations')).json();
  assert.equal(c2.oidc_name.value, 'corp');
  assert.equal(c2.oidc_scope.value, body.oidc_scope);
  assert.equal(c2.session_timeout.value, 120);

  // null = not given (Harbor's clients send the whole object)
  expectApi(await f.admin.call('PUT', '/configurations', { oidc_name: null, session_timeout: null, banner_message: null, ldap_timeout: 8 }), 200);
  c2 = (await f.admin.call('GET', '/configurations')).json();
  assert.equal(c2.oidc_name.value, 'corp');
  assert.equal(c2.session_timeout.value, 120);
  assert.equal(c2.ldap_timeout.value, 8);

  // banner_message: the portal's JSON document, stored verbatim
  const banner = JSON.stringify({ message: 'Maintenance at 22:00 UTC', type: 'warning', closable: true, fromDate: '', toDate: '' });
  expectApi(await f.admin.call('PUT', '/configurations', { banner_message: banner }), 200);
  assert.deepEqual((await f.admin.call('GET', '/configurations')).json().banner_message, { value: banner, editable: true });
  expectApi(await f.admin.call('PUT', '/configurations', { banner_message: '' }), 200);
  assert.equal((await f.admin.call('GET', '/configurations')).json().banner_message.value, '');

  for (const bad of [{ banner_message: 5 }, { storage_per_project: -2 }, { session_timeout: 0 }, { oidc_extra_redirect_parms: '{"a":1}' },
    { oidc_endpoint: 'ftp://x' }, { notification_enable: 'yes' }, { oidc_name: 'a\nb' }])
    expectApi(await f.admin.call('PUT', '/configurations', bad), 400, 'BAD_REQUEST');
  // restore what later tests rely on
  expectApi(await f.admin.call('PUT', '/configurations', { self_registration: true, project_creation_restriction: 'adminonly', read_only: false, token_expiration: 45, robot_name_prefix: 'robot$' }), 200);
});
