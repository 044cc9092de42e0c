// Read-only mode against a real Berth, switched at runtime through PUT /configurations: pushes and deletes on
// /v2 are refused with 403 DENIED (Harbor's message, OCI error body), API writes with 403 DENIED in Harbor's
// envelope; pulls, tokens, logins and every GET keep working; the configurations endpoint itself stays writable
// so an admin can switch the mode off, after which pushes work again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryClient } from '../helpers/registry-client.ts';
import { expectApi, useApi } from './fixture.ts';

const f = useApi();
const MESSAGE = 'The system is in read only mode. Any modification is prohibited.';

function expectDenied(r: { status: number; body: Buffer }, what: string): void {
  const text = r.body.toString('utf8');
  assert.equal(r.status, 403, `${what}: ${r.status} ${text}`);
  const body = JSON.parse(text);
  assert.equal(body.errors.length, 1, what);
  assert.equal(body.errors[0].code, 'DENIED', what);
  assert.equal(body.errors[0].message, MESSAGE, what);
}

test('read-only mode refuses writes with DENIED, keeps reads working, and can be switched off', async () => {
  await f.admin.createUser('ro-user');
  const reg = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
  const img = await reg.pushImage('library/ro-app', 'v1');

  expectApi(await f.admin.call('PUT', '/configurations', { read_only: true }), 200);
  assert.equal((await f.admin.call('GET', '/systeminfo')).json().read_only, true);

  // /v2 writes: upload start, monolithic upload, manifest PUT, manifest and blob DELETE.
  const fresh = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
  expectDenied(await fresh.request('POST', '/v2/library/ro-app/blobs/uploads/'), 'upload start');
  expectDenied(await fresh.request('POST', `/v2/library/ro-app/blobs/uploads/?digest=${img.config.digest}`, { body: Buffer.from('x') }), 'monolithic upload');
  const put = await fresh.putManifest('library/ro-app', 'v2', img.bytes, img.manifest.mediaType as string);
  expectDenied(put, 'manifest PUT');
  assert.equal(put.header('docker-distribution-api-version'), 'registry/2.0');
  expectDenied(await fresh.request('DELETE', `/v2/library/ro-app/manifests/${img.digest}`), 'manifest DELETE');
  expectDenied(await fresh.request('DELETE', `/v2/library/ro-app/blobs/${img.layers[0].digest}`), 'blob DELETE');
  // Anonymous writes are refused the same way (before authentication, as Harbor does).
  expectDenied(await fresh.with({ username: undefined, auth: 'none' }).request('POST', '/v2/library/ro-app/blobs/uploads/'), 'anonymous upload');

  // Pulls keep working (tokens included).
  const pull = await fresh.getManifest('library/ro-app', 'v1');
  assert.equal(pull.status, 200);
  assert.equal((await fresh.request('GET', `/v2/library/ro-app/blobs/${img.layers[0].digest}`)).status, 200);
  assert.equal((await fresh.request('GET', '/v2/library/ro-app/tags/list')).status, 200);

  // API writes: Harbor's envelope, 403 DENIED; reads work.
  const denied = [
    await f.admin.call('POST', '/projects', { project_name: 'ro-new', metadata: { public: 'false' } }),
    await f.admin.call('POST', '/users', { username: 'ro-new', password: 'Passw0rd!x', email: 'ro-new@example.com', realname: 'x' }),
    await f.admin.call('DELETE', '/projects/library'),
    await f.anon.call('POST', '/users', { username: 'ro-anon', password: 'Passw0rd!x', email: 'ro-anon@example.com', realname: 'x' }),
  ];
  for (const r of denied) {
    expectApi(r, 403, 'DENIED');
    assert.equal(r.json().errors[0].message, MESSAGE);
  }
  expectApi(await f.admin.call('GET', '/projects'), 200);
  expectApi(await f.admin.call('GET', '/projects?name=ro-new'), 200);
  assert.deepEqual((await f.admin.call('GET', '/projects?name=ro-new')).json(), []);

  // Logging in still works (a session is not a modification of the system).
  const login = await fetch(`${f.berth.url}/c/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ principal: 'ro-user', password: 'Passw0rd!x' }),
  });
  assert.equal(login.status, 200, await login.text());

  // Only admins may switch it off (the exemption is from read-only, not from authorization).
  expectApi(await f.admin.as('ro-user', 'Passw0rd!x').call('PUT', '/configurations', { read_only: false }), 403, 'FORBIDDEN');
  expectApi(await f.admin.call('PUT', '/configurations', { read_only: false }), 200);
  assert.equal((await f.admin.call('GET', '/systeminfo')).json().read_only, false);
  await reg.pushImage('library/ro-app', 'v2');
  expectApi(await f.admin.call('POST', '/projects', { project_name: 'ro-new', metadata: { public: 'false' } }), 201);
  const del = await reg.request('DELETE', `/v2/library/ro-app/manifests/${img.digest}`);
  assert.equal(del.status, 202);
});
