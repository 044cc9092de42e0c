// Harbor's exact error texts through real HTTP: 409 conflicts (project, user, label, robot), the 412 PRECONDITION
// of deleting a project that still has repositories (and its `_deletable` message), and the /v2 denial texts of
// Harbor's v2auth middleware for anonymous, Basic and Bearer callers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryClient } from '../helpers/registry-client.ts';
import type { ApiResponse } from '../helpers/api-client.ts';
import { expectApi, useApi } from './fixture.ts';

const f = useApi();

function expectError(r: ApiResponse, status: number, code: string, message: string): void {
  expectApi(r, status, code);
  assert.equal(r.json().errors[0].message, message);
}

test('409 CONFLICT texts are Harbor\'s: project, user (name or email), label, system and project robots', async () => {
  expectApi(await f.admin.call('POST', '/projects', { project_name: 'txt' }), 201);
  expectError(await f.admin.call('POST', '/projects', { project_name: 'txt' }), 409, 'CONFLICT', 'The project named txt already exists');

  await f.admin.createUser('tina', 'Passw0rd!x', 'tina@example.com');
  expectError(
    await f.admin.call('POST', '/users', { username: 'tina', password: 'Passw0rd!x', email: 'other@example.com', realname: 'T' }),
    409,
    'CONFLICT',
    'user tina or email other@example.com already exists',
  );
  expectError(
    await f.admin.call('POST', '/users', { username: 'tony', password: 'Passw0rd!x', email: 'tina@example.com', realname: 'T' }),
    409,
    'CONFLICT',
    'user tony or email tina@example.com already exists',
  );

  expectApi(await f.admin.call('POST', '/labels', { name: 'hot', scope: 'g' }), 201);
  expectError(await f.admin.call('POST', '/labels', { name: 'hot', scope: 'g' }), 409, 'CONFLICT', 'label hot already exists');

  const projectId = Number((await f.admin.call('GET', '/projects/txt', undefined, { 'X-Is-Resource-Name': 'true' })).json().project_id);
  const perms = [{ kind: 'project', namespace: 'txt', access: [{ resource: 'repository', action: 'pull' }] }];
  const sys = { name: 'bot', level: 'system', duration: -1, permissions: perms };
  expectApi(await f.admin.call('POST', '/robots', sys), 201);
  expectError(await f.admin.call('POST', '/robots', sys), 409, 'CONFLICT', 'robot account 0:bot already exists');
  const proj = { name: 'bot', level: 'project', duration: -1, permissions: perms };
  expectApi(await f.admin.call('POST', '/robots', proj), 201);
  expectError(await f.admin.call('POST', '/robots', proj), 409, 'CONFLICT', `robot account ${projectId}:txt+bot already exists`);
});

test('deleting a project with repositories: 412 PRECONDITION with Harbor\'s text, the same text from _deletable', async () => {
  expectApi(await f.admin.call('POST', '/projects', { project_name: 'full' }), 201);
  const reg = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
  await reg.pushImage('full/app', 'v1');
  const message = 'the project contains repositories, can not be deleted';
  expectError(await f.admin.call('DELETE', '/projects/full', undefined, { 'X-Is-Resource-Name': 'true' }), 412, 'PRECONDITION', message);
  const d = await f.admin.call('GET', '/projects/full/_deletable', undefined, { 'X-Is-Resource-Name': 'true' });
  expectApi(d, 200);
  assert.deepEqual(d.json(), { deletable: false, message });
});

test('/v2 denials carry Harbor\'s v2auth texts (anonymous, Basic, Bearer; catalog)', async () => {
  expectApi(await f.admin.call('POST', '/projects', { project_name: 'priv' }), 201);
  const admin = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
  await admin.pushImage('priv/app', 'v1');
  await f.admin.createUser('vic', 'Passw0rd!x');
  expectApi(await f.admin.call('POST', '/projects/priv/members', { role_id: 3, member_user: { username: 'vic' } }, { 'X-Is-Resource-Name': 'true' }), 201); // guest: pull only

  const oci = (r: { status: number; json(): { errors: { code: string; message: string }[] } }, status: number, code: string, message: string) => {
    assert.equal(r.status, status);
    assert.deepEqual(r.json().errors.map((e) => [e.code, e.message]), [[code, message]]);
  };
  const anon = admin.with({ username: undefined, password: undefined, auth: 'none' });
  oci(await anon.request('GET', '/v2/'), 401, 'UNAUTHORIZED', 'unauthorized');
  oci(await anon.request('GET', '/v2/priv/app/manifests/v1'), 401, 'UNAUTHORIZED', 'authorize header needed to send HEAD to repository');
  oci(await anon.request('POST', '/v2/priv/app/blobs/uploads/'), 401, 'UNAUTHORIZED', 'unauthorized to access repository: priv/app, action: push');

  const basic = admin.with({ username: 'vic', password: 'Passw0rd!x', auth: 'basic' });
  assert.equal((await basic.request('GET', '/v2/priv/app/manifests/v1')).status, 200);
  oci(await basic.request('POST', '/v2/priv/app/blobs/uploads/'), 403, 'DENIED', 'unauthorized to access repository: priv/app, action: push');
  oci(await basic.request('GET', '/v2/nope/app/manifests/v1'), 403, 'DENIED', 'project nope not found');
  oci(await basic.request('GET', '/v2/_catalog'), 403, 'DENIED', 'unauthorized to list catalog');

  const bearer = admin.with({ username: 'vic', password: 'Passw0rd!x', auth: 'token' });
  const r = await bearer.request('POST', '/v2/priv/app/blobs/uploads/');
  oci(r, 401, 'UNAUTHORIZED', 'unauthorized to access repository: priv/app, action: push');
  assert.match(r.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
});
