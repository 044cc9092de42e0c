// System endpoints against a real Berth: /ping, /health (a storage directory that cannot be written makes the
// storage component and the whole status unhealthy, and it recovers), /systeminfo (anonymous vs authenticated
// views, no secrets), /systeminfo/volumes (sysadmin), /statistics as different users, /search visibility, and
// /api/version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryClient } from '../helpers/registry-client.ts';
import { ROOT } from '../helpers/berth.ts';
import { expectApi, useApi } from './fixture.ts';

const f = useApi();
const PW = 'Passw0rd!x';

let ready: Promise<void> | null = null;
const setup = () => (ready ??= seed());
async function seed(): Promise<void> {
  await f.admin.createUser('sy-member');
  await f.admin.createUser('sy-outsider');
  await f.admin.createProject('sy-pub', true);
  await f.admin.createProject('sy-priv1', false);
  await f.admin.createProject('sy-priv2', false);
  await f.admin.addMember('sy-priv1', 'sy-member', 3);
  const reg = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
  await reg.pushImage('sy-pub/app', 'v1');
  await reg.pushImage('sy-priv1/one', 'v1');
  await reg.pushImage('sy-priv1/two', 'v1');
  const v2 = await reg.pushImage('sy-priv1/two', 'v2');
  // A cosign signature (tag convention): an accessory of v2, not an artifact of its own.
  await reg.pushImage('sy-priv1/two', `${v2.digest.replace(':', '-')}.sig`);
  await reg.pushImage('sy-priv2/hidden', 'v1');
}

test('/ping answers Pong as text to anyone; /api/version answers v2.0', async () => {
  const r = await fetch(`${f.berth.url}/api/v2.0/ping`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
  assert.equal(await r.text(), 'Pong');
  const v = await fetch(`${f.berth.url}/api/version`);
  assert.equal(v.status, 200);
  assert.deepEqual(await v.json(), { version: 'v2.0' });
});

test('/health reports Harbor\'s names sorted (core, database, jobservice, registry = the blob store); an unwritable storage directory is unhealthy, then recovers', async () => {
  const ok = await f.anon.call('GET', '/health');
  expectApi(ok, 200);
  const body = ok.json();
  assert.equal(body.status, 'healthy');
  const names = body.components.map((c: { name: string }) => c.name);
  assert.deepEqual(names, ['core', 'database', 'jobservice', 'registry']);
  for (const c of body.components) assert.deepEqual(c, { name: c.name, status: 'healthy' });

  // Replace the storage directory with a plain file: writes there fail (even as root).
  const storage = join(f.berth.dataDir, 'storage');
  renameSync(storage, storage + '.moved');
  writeFileSync(storage, 'not a directory');
  try {
    const bad = await f.anon.call('GET', '/health');
    expectApi(bad, 200);
    const b = bad.json();
    assert.equal(b.status, 'unhealthy');
    const st = b.components.find((c: { name: string }) => c.name === 'registry');
    assert.equal(st.status, 'unhealthy');
    assert.equal(typeof st.error, 'string');
    assert.ok(!st.error.includes(f.berth.dataDir), `no server paths in the error: ${st.error}`);
    assert.equal(b.components.find((c: { name: string }) => c.name === 'database').status, 'healthy');
  } finally {
    rmSync(storage);
    renameSync(storage + '.moved', storage);
  }
  const again = (await f.anon.call('GET', '/health')).json();
  assert.equal(again.status, 'healthy');
  // No probe files are left behind.
  assert.deepEqual(readdirSync(storage).filter((n) => n.startsWith('.health')), []);
});

test('/systeminfo: anonymous callers get the login-page fields only; users get the rest, no secrets', async () => {
  await setup();
  const anon = await f.anon.call('GET', '/systeminfo');
  expectApi(anon, 200);
  assert.deepEqual(Object.keys(anon.json()).sort(), ['auth_mode', 'banner_message', 'oidc_provider_name', 'primary_auth_mode', 'self_registration']);
  assert.equal(anon.json().auth_mode, 'db_auth');
  assert.equal(anon.json().self_registration, false);

  const me = await f.admin.as('sy-outsider', PW).call('GET', '/systeminfo');
  expectApi(me, 200);
  const info = me.json();
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  assert.equal(info.harbor_version, `v${version}`);
  assert.equal(info.external_url, f.berth.url);
  assert.equal(info.registry_url, f.berth.host);
  assert.equal(info.read_only, false);
  assert.equal(info.has_ca_root, false);
  assert.equal(info.registry_storage_provider_name, 'filesystem');
  assert.equal(info.project_creation_restriction, 'everyone');
  assert.ok(Math.abs(Date.parse(info.current_time) - Date.now()) < 60_000);
  for (const k of Object.keys(info)) assert.doesNotMatch(k, /password|secret|key|token/i);
  assert.ok(!me.text.includes(f.berth.adminPassword));
  assert.ok(!me.text.includes(f.berth.dataDir), 'no server paths');
  // A wrong password is 401, not the anonymous view.
  expectApi(await f.admin.as('sy-outsider', 'wrong').call('GET', '/systeminfo'), 401, 'UNAUTHORIZED');
});

test('/systeminfo/volumes: total and free bytes, sysadmin only', async () => {
  await setup();
  const r = await f.admin.call('GET', '/systeminfo/volumes');
  expectApi(r, 200);
  const { storage } = r.json();
  assert.equal(storage.length, 1);
  assert.ok(Number.isInteger(storage[0].total) && storage[0].total > 0);
  assert.ok(Number.isInteger(storage[0].free) && storage[0].free >= 0 && storage[0].free <= storage[0].total);
  expectApi(await f.admin.as('sy-member', PW).call('GET', '/systeminfo/volumes'), 403, 'FORBIDDEN');
  expectApi(await f.anon.call('GET', '/systeminfo/volumes'), 401, 'UNAUTHORIZED');
});

test('/statistics: what each caller can see; storage for sysadmins only; anonymous 401', async () => {
  await setup();
  // Projects: library (public, empty), sy-pub (public, 1 repo), sy-priv1 (private, 2 repos), sy-priv2 (private, 1 repo).
  const admin = await f.admin.call('GET', '/statistics');
  expectApi(admin, 200);
  const a = admin.json();
  assert.deepEqual(
    { ...a, total_storage_consumption: 0 },
    { private_project_count: 2, private_repo_count: 3, public_project_count: 2, public_repo_count: 1, total_project_count: 4, total_repo_count: 4, total_storage_consumption: 0 },
  );
  assert.ok(a.total_storage_consumption > 5 * 1024, `storage ${a.total_storage_consumption}`);
  // Harbor's figure: the sum of the projects' quota usage.
  const quotas = (await f.admin.call('GET', '/quotas?page_size=100')).json() as { used: { storage: number } }[];
  assert.equal(a.total_storage_consumption, quotas.reduce((n, q) => n + q.used.storage, 0));
  const member = (await f.admin.as('sy-member', PW).call('GET', '/statistics')).json();
  assert.deepEqual(member, {
    private_project_count: 1,
    private_repo_count: 2,
    public_project_count: 2,
    public_repo_count: 1,
    total_project_count: 3,
    total_repo_count: 3,
    total_storage_consumption: 0,
  });
  const outsider = (await f.admin.as('sy-outsider', PW).call('GET', '/statistics')).json();
  assert.deepEqual(outsider, {
    private_project_count: 0,
    private_repo_count: 0,
    public_project_count: 2,
    public_repo_count: 1,
    total_project_count: 2,
    total_repo_count: 1,
    total_storage_consumption: 0,
  });
  expectApi(await f.anon.call('GET', '/statistics'), 401, 'UNAUTHORIZED');
});

test('/search: projects and repositories the caller can see, fuzzy by name', async () => {
  await setup();
  const names = (r: any) => ({
    projects: (r.project as { name: string }[]).map((p) => p.name).sort(),
    repos: (r.repository as { repository_name: string }[]).map((p) => p.repository_name).sort(),
  });
  const anon = await f.anon.call('GET', '/search?q=sy-');
  expectApi(anon, 200);
  assert.deepEqual(names(anon.json()), { projects: ['sy-pub'], repos: ['sy-pub/app'] });
  const member = (await f.admin.as('sy-member', PW).call('GET', '/search?q=SY-')).json();
  assert.deepEqual(names(member), { projects: ['sy-priv1', 'sy-pub'], repos: ['sy-priv1/one', 'sy-priv1/two', 'sy-pub/app'] });
  const p1 = member.project.find((p: { name: string }) => p.name === 'sy-priv1');
  assert.equal(p1.current_user_role_id, 3);
  assert.equal(p1.repo_count, 2);
  assert.equal(p1.metadata.public, 'false');
  const two = member.repository.find((r: { repository_name: string }) => r.repository_name === 'sy-priv1/two');
  assert.deepEqual(Object.keys(two).sort(), ['artifact_count', 'project_id', 'project_name', 'project_public', 'pull_count', 'repository_name']);
  assert.equal(two.artifact_count, 2, 'the signature is not counted');
  const repoView = (await f.admin.call('GET', '/projects/sy-priv1/repositories/two')).json();
  assert.equal(two.artifact_count, repoView.artifact_count, 'the same count as the repository API');
  assert.equal(two.project_name, 'sy-priv1');
  assert.equal(two.project_public, false);
  const admin = (await f.admin.call('GET', '/search?q=sy-')).json();
  assert.deepEqual(names(admin), { projects: ['sy-priv1', 'sy-priv2', 'sy-pub'], repos: ['sy-priv1/one', 'sy-priv1/two', 'sy-priv2/hidden', 'sy-pub/app'] });
  assert.deepEqual(names((await f.admin.call('GET', '/search?q=hidd')).json()), { projects: [], repos: ['sy-priv2/hidden'] });
  assert.deepEqual(names((await f.admin.as('sy-outsider', PW).call('GET', '/search?q=hidd')).json()), { projects: [], repos: [] });
  // LIKE wildcards are literal.
  assert.deepEqual(names((await f.admin.call('GET', `/search?q=${encodeURIComponent('sy%')}`)).json()), { projects: [], repos: [] });
  assert.deepEqual(names((await f.admin.call('GET', `/search?q=${encodeURIComponent("' OR 1=1 --")}`)).json()), { projects: [], repos: [] });
  expectApi(await f.admin.call('GET', '/search'), 400, 'BAD_REQUEST');
});

test('/systeminfo/getcert: without http.ca_cert_file it is a 404 in Harbor envelope, for anonymous callers too', async () => {
  const r = await fetch(`${f.berth.url}/api/v2.0/systeminfo/getcert`);
  assert.equal(r.status, 404);
  const body = (await r.json()) as { errors: { code: string; message: string }[] };
  assert.equal(body.errors[0]?.code, 'NOT_FOUND');
  assert.match(body.errors[0]?.message ?? '', /cert not found/);
});
