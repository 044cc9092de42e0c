// harborapi (the PyPI Harbor API client, pydantic models of Harbor's swagger) against Berth with a real slapd:
// configurations (typed items), LDAP ping with the stored and a given configuration, LDAP user and group search,
// the switch to ldap_auth, LDAP user import, user group CRUD and search, and an LDAP group as a project member
// added by DN (harborapi sends member_group {ldap_group_dn} without group_type). A model validation error in any
// step is a response shape Harbor clients cannot read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { useApi } from '../api/fixture.ts';
import { REPO_ROOT } from '../helpers/clients.ts';
import { useDirectory } from './directory.ts';

const PYTHON = join(REPO_ROOT, '.tools', 'pyvenv', 'bin', 'python');
const dir = useDirectory();
const f = useApi();

test('harborapi drives configurations, LDAP endpoints, user groups and group members', async () => {
  assert.ok(existsSync(PYTHON), `${PYTHON} is missing: run scripts/ci-deps.sh (it installs harborapi into .tools/pyvenv)`);
  const { stdout } = await promisify(execFile)(
    PYTHON,
    [join(import.meta.dirname, 'harborapi_ldap.py'), f.berth.url, f.berth.adminPassword, dir.slapd.url, dir.slapd.adminDn, dir.slapd.adminPassword, 'hapi-ldap'],
    { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' }, timeout: 120_000 },
  );
  const r = JSON.parse(stdout) as Record<string, { ok: boolean; detail?: any; error?: string; trace?: string }>;
  for (const [name, s] of Object.entries(r)) assert.ok(s.ok, `${name}: ${s.error}\n${s.trace}`);
  assert.deepEqual(r.configure.detail, { ldap_url: dir.slapd.url, ldap_scope: 2, ldap_verify_cert: true, auth_mode: 'db_auth', self_registration: false });
  assert.deepEqual(r.ping_stored.detail, { success: true });
  assert.deepEqual(r.ping_body.detail, { success: false });
  assert.deepEqual(r.users.detail, [{ username: 'alice', email: 'alice@example.test', realname: 'Alice Example' }]);
  assert.deepEqual(r.groups.detail, [{ group_name: 'devs', ldap_group_dn: 'cn=devs,ou=groups,dc=example,dc=test' }]);
  assert.deepEqual(r.switch.detail, { auth_mode: 'ldap_auth' });
  assert.equal(r.usergroups.detail.name, 'team-top');
  assert.equal(r.usergroups.detail.type, 1);
  assert.deepEqual(r.usergroups.detail.found, ['top-team']);
  assert.deepEqual(r.members.detail, [['g', 'devs', 2], ['u', 'admin', 1]]);
  const users = (await f.admin.call('GET', '/users?username=erin')).json() as { username: string }[];
  assert.deepEqual(users.map((u) => u.username), ['erin']);
});
