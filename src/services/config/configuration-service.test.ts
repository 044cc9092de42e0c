import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteDb } from '../../db/sqlite.ts';
import { migrate } from '../../db/migrations.ts';
import { loadConfig } from '../../config/config.ts';
import { ConfigurationRepository } from '../../repositories/configuration-repository.ts';
import type { AuditEvent } from '../audit/audit.ts';
import { ApiError } from '../../errors.ts';
import { CONFIG_KEY_NAMES, ConfigurationService, SECRET_CONFIG_KEYS } from './configuration-service.ts';

let db: SqliteDb;
const events: AuditEvent[] = [];
let users = false;
const make = (env: Record<string, string> = {}) =>
  new ConfigurationService({
    db,
    repo: new ConfigurationRepository(db),
    config: loadConfig({ env, skipFsChecks: true }),
    audit: { record: async (e) => void events.push(e) },
    hasNonAdminUsers: async () => users,
  });

before(async () => {
  db = new SqliteDb(':memory:');
  await migrate(db);
});
after(() => db.close());

const status = (e: unknown) => (e instanceof ApiError ? e.status : 0);

test('defaults come from the config; the secrets (LDAP search password, UAA and OIDC client secrets) are left out of the public view', async () => {
  const c = make({ BERTH_AUTH_SELF_REGISTRATION: 'true', BERTH_AUTH_TOKEN_EXPIRATION: '12' });
  assert.equal(await c.get('self_registration'), true);
  assert.equal(await c.get('token_expiration'), 12);
  assert.equal(await c.get('auth_mode'), 'db_auth');
  assert.deepEqual([...SECRET_CONFIG_KEYS].sort(), ['ldap_search_password', 'oidc_client_secret', 'uaa_client_secret']);
  const view = await c.publicView();
  // Harbor's ConfigurationsResponse lists uaa_client_secret, always with an empty value; the other secrets are left out.
  assert.deepEqual(Object.keys(view).sort(), [...CONFIG_KEY_NAMES.filter((k) => !SECRET_CONFIG_KEYS.includes(k)), 'uaa_client_secret', 'scan_all_policy'].sort());
  assert.equal(view.uaa_client_secret!.value, '');
  assert.equal(c.peek('token_expiration'), 12);
});

test('update: all-or-nothing validation, stored values override defaults for every instance, audit by key name', async () => {
  const a = make();
  const b = make({ BERTH_PROJECT_CREATION_RESTRICTION: 'adminonly' });
  for (const bad of [{ read_only: true, nope: 1 }, { read_only: 'true' }, { ldap_scope: -1 }, { ldap_timeout: 301 }, { robot_name_prefix: 'a b' }, { ldap_url: 'ftp://x' }, { hasOwnProperty: 1 }, { ['__proto__']: 1 }])
    await assert.rejects(a.update('admin', JSON.parse(JSON.stringify(bad))), (e) => status(e) === 400, JSON.stringify(bad));
  assert.equal(await a.get('read_only'), false);
  const changed = await a.update('admin', { read_only: true, ldap_search_password: 'pw-secret', project_creation_restriction: 'everyone' });
  // project_creation_restriction equals a's default: stored all the same, not reported as a change
  assert.deepEqual(changed.sort(), ['ldap_search_password', 'read_only']);
  assert.equal(await a.get('read_only'), true);
  assert.equal(await a.get('ldap_search_password'), 'pw-secret');
  // another instance (another process) on the same database: the stored value beats its own default
  assert.equal(await b.get('project_creation_restriction'), 'everyone');
  assert.equal(await b.get('read_only'), true);
  const e = events.at(-1)!;
  assert.equal(e.resourceType, 'configuration');
  assert.ok(!JSON.stringify(events).includes('pw-secret'));
  // unchanged values are not reported as changes
  assert.deepEqual(await a.update('admin', { read_only: true }), []);
});

test('auth_mode: refused once users other than admin exist, unless unchanged; listeners see changed keys', async () => {
  const c = make();
  const seen: string[][] = [];
  c.onChange((k) => seen.push([...k]));
  users = true;
  await assert.rejects(c.update('admin', { auth_mode: 'ldap_auth' }), (e) => status(e) === 403);
  await c.update('admin', { auth_mode: 'db_auth' });
  users = false;
  await c.update('admin', { auth_mode: 'ldap_auth', ldap_uid: 'uid' });
  assert.deepEqual(seen.at(-1)!.sort(), ['auth_mode', 'ldap_uid']);
  // skip_audit_log_database needs an endpoint
  await assert.rejects(c.update('admin', { skip_audit_log_database: true }), (e) => status(e) === 400);
  await c.update('admin', { skip_audit_log_database: true, audit_log_forward_endpoint: 'log.example:514' });
  await c.update('admin', { auth_mode: 'db_auth' });
});

test('configurations.overwrite_json pins values (not editable, over stored ones); bad content stops the start', async () => {
  const c = make({ BERTH_CONFIGURATIONS_OVERWRITE_JSON: JSON.stringify({ read_only: false, ldap_url: 'ldap://dir.example:389', ldap_search_password: 'pinned-secret' }) });
  // read_only: true is stored by an earlier test; the pin wins
  assert.equal(await c.get('read_only'), false);
  assert.equal(await c.get('ldap_search_password'), 'pinned-secret');
  const view = await c.publicView();
  assert.deepEqual(view.ldap_url, { value: 'ldap://dir.example:389', editable: false });
  assert.equal(view.self_registration.editable, true);
  assert.equal(view.ldap_search_password, undefined);
  await assert.rejects(c.update('admin', { ldap_url: 'ldap://other:389' }), (e) => status(e) === 403);
  await assert.rejects(c.update('admin', { ldap_search_password: 'x', self_registration: true }), (e) => status(e) === 403);
  await c.update('admin', { self_registration: true });
  for (const bad of ['{', '[]', '"x"', '{"nope":1}', '{"read_only":"yes"}', '{"ldap_scope":7}'])
    assert.throws(() => make({ BERTH_CONFIGURATIONS_OVERWRITE_JSON: bad }), (e: Error) => e.name === 'ConfigError', bad);
});
