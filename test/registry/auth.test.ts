// GET /v2/, the token service (GET with Basic, POST password grant) and what tokens allow on /v2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectStatus, repoName, useBerth } from './fixture.ts';
import { MediaTypes } from '../helpers/registry-client.ts';

const f = useBerth();

test('GET /v2/ anonymously: 401 with a Bearer challenge and the API version header', async () => {
  const r = await f.anon.request('GET', '/v2/', { auth: false });
  expectStatus(r, 401, 'UNAUTHORIZED');
  assert.equal(r.header('docker-distribution-api-version'), 'registry/2.0');
  const c = r.challenge()!;
  assert.equal(c.scheme, 'bearer');
  assert.equal(c.params.realm, `${f.berth.url}/service/token`);
  assert.equal(c.params.service, 'harbor-registry');
  assert.match(r.header('content-type') ?? '', /^application\/json/);
});

test('GET /v2/ with a token and with Basic: 200 and the API version header', async () => {
  for (const c of [f.admin, f.basic]) {
    const r = await c.request('GET', '/v2/');
    expectStatus(r, 200);
    assert.equal(r.header('docker-distribution-api-version'), 'registry/2.0');
    assert.deepEqual(r.json(), {});
  }
  const head = await f.basic.request('HEAD', '/v2/');
  expectStatus(head, 200);
  assert.equal(head.header('docker-distribution-api-version'), 'registry/2.0');
});

test('GET /v2/ with a wrong Basic password: 401, and an anonymous token is still not a login', async () => {
  const r = await f.admin.request('GET', '/v2/', { headers: { authorization: f.admin.basicHeader('admin', 'wrong') } });
  expectStatus(r, 401, 'UNAUTHORIZED');
  const t = await f.anon.token(['repository:library/x:pull']);
  const r2 = await f.anon.request('GET', '/v2/', { headers: { authorization: `Bearer ${t}` } });
  expectStatus(r2, 401, 'UNAUTHORIZED');
});

test('token GET with Basic: token, access_token, expires_in, issued_at', async () => {
  const r = await f.admin.tokenResponse(['repository:library/a:pull,push']);
  expectStatus(r, 200);
  assert.equal(r.header('cache-control'), 'no-store');
  const j = r.json();
  assert.equal(typeof j.token, 'string');
  assert.equal(j.access_token, j.token);
  assert.equal(j.expires_in, 30 * 60);
  assert.ok(Math.abs(Date.parse(j.issued_at) - Date.now()) < 60_000, j.issued_at);
  const claims = JSON.parse(Buffer.from(j.token.split('.')[1], 'base64url').toString());
  assert.equal(claims.sub, 'admin');
  assert.equal(claims.aud, 'harbor-registry');
  assert.deepEqual(claims.access, [{ type: 'repository', name: 'library/a', actions: ['pull', 'push', 'delete'] }]);
  // docker's extra parameters are ignored
  const u = new URL(`${f.berth.url}/service/token?service=harbor-registry&scope=repository:library/a:pull&client_id=docker&offline_token=true&account=admin`);
  expectStatus(await f.admin.send('GET', u, { headers: { authorization: f.admin.basicHeader() } }), 200);
});

test('token POST with the password grant (containerd) works; multiple scopes in one parameter', async () => {
  const r = await f.admin.tokenPasswordGrant(['repository:library/a:pull,push', 'repository:library/b:pull']);
  expectStatus(r, 200);
  const j = r.json();
  assert.equal(j.access_token, j.token);
  const claims = JSON.parse(Buffer.from(j.token.split('.')[1], 'base64url').toString());
  assert.deepEqual(
    claims.access.map((a: { name: string }) => a.name),
    ['library/a', 'library/b'],
  );
  // the token works on /v2
  const repo = 'library/a';
  const up = await f.admin.request('POST', `/v2/${repo}/blobs/uploads/`, { headers: { authorization: `Bearer ${j.token}` } });
  expectStatus(up, 202);
  expectStatus(await f.admin.request('DELETE', up.header('location')!, { headers: { authorization: `Bearer ${j.token}` } }), 204);
});

test('token: bad password → 401 (GET and POST), never an anonymous token', async () => {
  const g = await f.admin.tokenResponse(['repository:library/a:pull'], { basic: f.admin.basicHeader('admin', 'nope') });
  expectStatus(g, 401, 'UNAUTHORIZED');
  assert.match(g.header('www-authenticate') ?? '', /^Basic /);
  const g2 = await f.admin.tokenResponse(['repository:library/a:pull'], { basic: f.admin.basicHeader('nosuchuser', 'x') });
  expectStatus(g2, 401, 'UNAUTHORIZED');
  const p = await f.admin.tokenPasswordGrant(['repository:library/a:pull'], 'admin', 'nope');
  expectStatus(p, 401, 'UNAUTHORIZED');
  const p2 = await f.admin.tokenPasswordGrant(['repository:library/a:pull'], 'admin', '');
  expectStatus(p2, 401, 'UNAUTHORIZED');
  const garbage = await f.admin.tokenResponse(['repository:library/a:pull'], { basic: 'Basic !!!notbase64' });
  expectStatus(garbage, 401);
});

test('token: anonymous without a scope → 401 (docker login with no credentials must fail)', async () => {
  const r = await f.anon.tokenResponse([], { basic: null });
  expectStatus(r, 401, 'UNAUTHORIZED');
  const p = await f.anon.send('POST', `${f.berth.url}/service/token`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'service=harbor-registry',
  });
  expectStatus(p, 401, 'UNAUTHORIZED');
});

test('token: wrong service → 400', async () => {
  const r = await f.admin.tokenResponse(['repository:library/a:pull'], { service: 'other-registry' });
  expectStatus(r, 400);
  const p = await f.admin.tokenPasswordGrant(['repository:library/a:pull'], 'admin', f.berth.adminPassword, 'other-registry');
  expectStatus(p, 400);
  const g = await f.admin.send('POST', `${f.berth.url}/service/token`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&service=harbor-registry',
  });
  expectStatus(g, 400);
});

test('anonymous pull from the public library project works after the token dance', async () => {
  const repo = repoName('anon');
  const img = await f.admin.pushImage(repo, 'v1');
  // the first attempt is challenged with the exact scope
  const first = await f.anon.request('GET', `/v2/${repo}/manifests/v1`, { auth: false });
  expectStatus(first, 401, 'UNAUTHORIZED');
  const c = first.challenge()!;
  assert.equal(c.params.scope, `repository:${repo}:pull`);
  assert.equal(c.params.realm, `${f.berth.url}/service/token`);
  // anonymous token for that scope: only pull
  const t = await f.anon.tokenResponse([c.params.scope], { basic: null });
  expectStatus(t, 200);
  const claims = JSON.parse(Buffer.from(t.json().token.split('.')[1], 'base64url').toString());
  assert.equal(claims.sub, '');
  assert.deepEqual(claims.access, [{ type: 'repository', name: repo, actions: ['pull'] }]);
  const m = await f.anon.getManifest(repo, 'v1');
  expectStatus(m, 200);
  assert.deepEqual(m.body, img.bytes);
  const b = await f.anon.getBlob(repo, img.layers[0].digest);
  expectStatus(b, 200);
  const tags = await f.anon.request('GET', `/v2/${repo}/tags/list`);
  expectStatus(tags, 200);
  assert.deepEqual(tags.json(), { name: repo, tags: ['v1'] });
});

test('anonymous push is refused: 401 with insufficient_scope', async () => {
  const repo = repoName('anonpush');
  const r = await f.anon.startUpload(repo);
  expectStatus(r, 401, 'UNAUTHORIZED');
  const c = r.challenge()!;
  assert.equal(c.params.error, 'insufficient_scope');
  assert.equal(c.params.scope, `repository:${repo}:pull,push`);
  const m = await f.anon.putManifest(repo, 'v1', { schemaVersion: 2, mediaType: MediaTypes.OciIndex, manifests: [] });
  expectStatus(m, 401, 'UNAUTHORIZED');
  // without any token: a plain challenge for pull,push
  const plain = await f.anon.startUpload(repo, {}, { auth: false });
  expectStatus(plain, 401, 'UNAUTHORIZED');
  assert.equal(plain.challenge()!.params.scope, `repository:${repo}:pull,push`);
  assert.equal(plain.challenge()!.params.error, undefined);
  // nothing was created
  expectStatus(await f.admin.request('GET', `/v2/${repo}/tags/list`), 404, 'NAME_UNKNOWN');
});

test('anonymous delete is refused', async () => {
  const repo = repoName('anondel');
  const img = await f.admin.pushImage(repo, 'v1');
  expectStatus(await f.anon.request('DELETE', `/v2/${repo}/manifests/${img.digest}`), 401, 'UNAUTHORIZED');
  expectStatus(await f.anon.request('DELETE', `/v2/${repo}/blobs/${img.layers[0].digest}`), 401, 'UNAUTHORIZED');
  expectStatus(await f.admin.headManifest(repo, img.digest), 200);
});

test('push to a project that does not exist is refused (token: 401 insufficient_scope; Basic: 403 DENIED)', async () => {
  const repo = 'nosuchproject/app';
  const t = await f.admin.startUpload(repo);
  expectStatus(t, 401, 'UNAUTHORIZED');
  assert.equal(t.challenge()!.params.error, 'insufficient_scope');
  const b = await f.basic.startUpload(repo);
  expectStatus(b, 403, 'DENIED');
  // a name without a project component has no project either
  expectStatus(await f.basic.startUpload('toplevel'), 403, 'DENIED');
  expectStatus(await f.basic.putManifest(repo, 'v1', { schemaVersion: 2, mediaType: MediaTypes.OciIndex, manifests: [] }), 403, 'DENIED');
});

test('catalog is for system administrators only', async () => {
  const repo = repoName('cat');
  await f.admin.pushImage(repo, 'v1');
  const ok = await f.admin.request('GET', '/v2/_catalog?n=1000');
  expectStatus(ok, 200);
  assert.ok(ok.json().repositories.includes(repo));
  expectStatus(await f.basic.request('GET', '/v2/_catalog'), 200);
  // anonymous: challenged with the catalog scope
  const a = await f.anon.request('GET', '/v2/_catalog', { auth: false });
  expectStatus(a, 401, 'UNAUTHORIZED');
  assert.equal(a.challenge()!.params.scope, 'registry:catalog:*');
  // an anonymous token asking for the catalog scope gets no actions: insufficient_scope
  const at = await f.anon.request('GET', '/v2/_catalog');
  expectStatus(at, 401, 'UNAUTHORIZED');
  assert.equal(at.challenge()!.params.error, 'insufficient_scope');
  // an admin token without the catalog scope is not enough either
  const noScope = await f.admin.request('GET', '/v2/_catalog', { scopes: [`repository:${repo}:pull`] });
  expectStatus(noScope, 401, 'UNAUTHORIZED');
});

test('a token for one repository does not work on another; a pull-only token cannot push', async () => {
  const a = repoName('ta');
  const b = repoName('tb');
  const img = await f.admin.pushImage(a, 'v1');
  await f.admin.pushImage(b, 'v1');
  const tokenA = await f.admin.token([`repository:${a}:pull,push`]);
  const onB = await f.admin.request('GET', `/v2/${b}/manifests/v1`, { headers: { authorization: `Bearer ${tokenA}` } });
  expectStatus(onB, 401, 'UNAUTHORIZED');
  assert.equal(onB.challenge()!.params.error, 'insufficient_scope');
  assert.equal(onB.challenge()!.params.scope, `repository:${b}:pull`);
  const pushB = await f.admin.request('POST', `/v2/${b}/blobs/uploads/`, { headers: { authorization: `Bearer ${tokenA}` } });
  expectStatus(pushB, 401, 'UNAUTHORIZED');
  // the anonymous token on a public repository grants pull only
  const pullOnly = await f.anon.token([`repository:${a}:pull,push`]);
  const push = await f.anon.request('PUT', `/v2/${a}/manifests/v2`, {
    headers: { authorization: `Bearer ${pullOnly}`, 'content-type': MediaTypes.OciManifest },
    body: img.bytes,
  });
  expectStatus(push, 401, 'UNAUTHORIZED');
  assert.equal(push.challenge()!.params.error, 'insufficient_scope');
  expectStatus(await f.admin.getManifest(a, 'v2'), 404, 'MANIFEST_UNKNOWN');
});

test('Basic auth works on every /v2 endpoint', async () => {
  const repo = repoName('basic');
  const img = await f.basic.pushImage(repo, 'v1');
  expectStatus(await f.basic.getManifest(repo, 'v1'), 200);
  expectStatus(await f.basic.headBlob(repo, img.layers[0].digest), 200);
  const tags = await f.basic.request('GET', `/v2/${repo}/tags/list`);
  expectStatus(tags, 200);
  assert.deepEqual(tags.json().tags, ['v1']);
  expectStatus(await f.basic.request('DELETE', `/v2/${repo}/manifests/v1`), 202);
});

test('a token stops working at the next request once its user is deleted, removed from the project or lowered to guest', async () => {
  const { ApiClient } = await import('../helpers/api-client.ts');
  const { RegistryClient } = await import('../helpers/registry-client.ts');
  const api = new ApiClient(f.berth.url, 'admin', f.berth.adminPassword);
  const project = `revoke-${Date.now()}`;
  await api.createProject(project, false);
  const tokenOf = async (user: string, repo: string) =>
    new RegistryClient({ baseUrl: f.berth.url, username: user, password: 'Passw0rd!x' }).token([`repository:${project}/${repo}:pull,push`]);
  const startUpload = (token: string, repo: string) => f.anon.request('POST', `/v2/${project}/${repo}/blobs/uploads/`, { auth: false, headers: { authorization: `Bearer ${token}` } });
  const readTags = (token: string, repo: string) => f.anon.request('GET', `/v2/${project}/${repo}/tags/list`, { auth: false, headers: { authorization: `Bearer ${token}` } });
  await f.admin.pushImage(`${project}/app`, 'v1');

  // Removed member: the token that pushed a moment ago is refused, for pulls too (the project is private).
  const uid = await api.createUser('rv-member');
  const mid = await api.addMember(project, 'rv-member', 2);
  const t1 = await tokenOf('rv-member', 'app');
  expectStatus(await startUpload(t1, 'app'), 202);
  expectStatus(await readTags(t1, 'app'), 200);
  assert.equal((await api.call('DELETE', `/projects/${project}/members/${mid}`)).status, 200);
  expectStatus(await startUpload(t1, 'app'), 401, 'UNAUTHORIZED');
  expectStatus(await readTags(t1, 'app'), 401, 'UNAUTHORIZED');

  // Lowered to guest: pull still works, push no longer.
  const mid2 = await api.addMember(project, 'rv-member', 2);
  const t2 = await tokenOf('rv-member', 'app');
  expectStatus(await startUpload(t2, 'app'), 202);
  assert.equal((await api.call('PUT', `/projects/${project}/members/${mid2}`, { role_id: 3 })).status, 200);
  expectStatus(await startUpload(t2, 'app'), 401, 'UNAUTHORIZED');
  expectStatus(await readTags(t2, 'app'), 200);

  // Deleted user: nothing, and no audit entry without an actor.
  assert.equal((await api.call('PUT', `/projects/${project}/members/${mid2}`, { role_id: 2 })).status, 200);
  const t3 = await tokenOf('rv-member', 'app');
  expectStatus(await startUpload(t3, 'app'), 202);
  assert.equal((await api.call('DELETE', `/users/${uid}`)).status, 200);
  expectStatus(await startUpload(t3, 'app'), 401, 'UNAUTHORIZED');
  expectStatus(await readTags(t3, 'app'), 401, 'UNAUTHORIZED');
  const logs = (await api.call('GET', `/audit-logs?page_size=100&q=${encodeURIComponent(`resource=~${project}`)}`)).json() as { username: string }[];
  assert.ok(logs.length > 0 && logs.every((l) => l.username !== ''), JSON.stringify(logs));
});
