// Issue 12, the project side of Harbor's API that Berth answers before its features land: CVE allowlists
// (stored and returned), registry_id (must name an existing registry; proxy caching itself: test/proxy-cache/), GET /registries,
// the project scanner endpoints (the built-in scanner until another is chosen), HEAD /projects in the OpenAPI document, DELETE by
// name (X-Is-Resource-Name) and the summary's quota. Each call as a Harbor client makes it, each answer
// checked against Harbor's shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { expectApi, useApi } from './fixture.ts';

const f = useApi();
const PW = 'Passw0rd!x';
const uniq = (p: string) => `${p}-${randomBytes(3).toString('hex')}`;
const ZERO = '0001-01-01T00:00:00.000Z';

test('OpenAPI: the project, registry-list and artifact operations of issue 12 are documented with Harbor\'s ids', async () => {
  const doc = (await (await fetch(`${f.berth.url}/api/v2.0/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId?: string }>> };
  const ids = new Map<string, string>();
  for (const [p, ops] of Object.entries<Record<string, { operationId?: string }>>(doc.paths)) for (const [m, o] of Object.entries(ops)) if (o.operationId) ids.set(o.operationId, `${m.toUpperCase()} ${p}`);
  const want: Record<string, string> = {
    headProject: 'HEAD /projects',
    getScannerOfProject: 'GET /projects/{project_name_or_id}/scanner',
    setScannerOfProject: 'PUT /projects/{project_name_or_id}/scanner',
    listScannerCandidatesOfProject: 'GET /projects/{project_name_or_id}/scanner/candidates',
    listArtifactsOfProject: 'GET /projects/{project_name_or_id}/artifacts',
    getVulnerabilitiesAddition: 'GET /projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/additions/vulnerabilities',
    listRegistries: 'GET /registries',
  };
  for (const [id, route] of Object.entries(want)) assert.equal(ids.get(id), route, id);
});

test('cve_allowlist: an empty one by default, stored on create and update, replaced as a whole, validated as Harbor', async () => {
  const plain = uniq('cve-plain');
  const plainId = await f.admin.createProject(plain, false);
  const p0 = (await f.admin.call('GET', `/projects/${plainId}`)).json();
  assert.deepEqual(p0.cve_allowlist, { id: 0, project_id: plainId, items: [], creation_time: ZERO, update_time: ZERO });
  assert.equal('registry_id' in p0, false, 'not a proxy cache project: Harbor omits registry_id');

  const name = uniq('cve');
  const created = await f.admin.call('POST', '/projects', { project_name: name, metadata: { public: 'false' }, cve_allowlist: { items: [{ cve_id: 'CVE-2019-10164' }], expires_at: 4102444800 } });
  expectApi(created, 201);
  const id = Number(created.headers.get('location')!.split('/').pop());
  const p1 = (await f.admin.call('GET', `/projects/${id}`)).json();
  assert.equal(p1.cve_allowlist.project_id, id);
  assert.ok(p1.cve_allowlist.id > 0);
  assert.equal(p1.cve_allowlist.expires_at, 4102444800);
  assert.deepEqual(p1.cve_allowlist.items, [{ cve_id: 'CVE-2019-10164' }]);
  assert.ok(Date.parse(p1.cve_allowlist.creation_time) > Date.parse('2020-01-01'));

  // PUT replaces it (project_id 0 means this project); no expires_at = never expires (omitted, as Harbor)
  expectApi(await f.admin.call('PUT', `/projects/${id}`, { cve_allowlist: { project_id: 0, items: [{ cve_id: 'CVE-2021-44228' }, { cve_id: 'CVE-2022-0001' }] } }), 200);
  const p2 = (await f.admin.call('GET', `/projects/${name}`, undefined, { 'X-Is-Resource-Name': 'true' })).json();
  assert.deepEqual(p2.cve_allowlist.items, [{ cve_id: 'CVE-2021-44228' }, { cve_id: 'CVE-2022-0001' }]);
  assert.equal('expires_at' in p2.cve_allowlist, false);
  assert.equal(p2.cve_allowlist.id, p1.cve_allowlist.id);
  // in the list too
  const listed = (await f.admin.call('GET', `/projects?name=${name}`)).json();
  assert.deepEqual(listed[0].cve_allowlist.items, p2.cve_allowlist.items);
  // a metadata-only update leaves it alone
  expectApi(await f.admin.call('PUT', `/projects/${id}`, { metadata: { auto_scan: 'true' } }), 200);
  assert.deepEqual((await f.admin.call('GET', `/projects/${id}`)).json().cve_allowlist.items, p2.cve_allowlist.items);

  // Harbor's validation: duplicates, empty ids, another project's id → 400, nothing changes
  expectApi(await f.admin.call('PUT', `/projects/${id}`, { cve_allowlist: { items: [{ cve_id: 'CVE-1' }, { cve_id: 'CVE-1' }] } }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('PUT', `/projects/${id}`, { cve_allowlist: { items: [{ cve_id: '  ' }] } }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('PUT', `/projects/${id}`, { cve_allowlist: { project_id: plainId, items: [] } }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('POST', '/projects', { project_name: uniq('cve-bad'), cve_allowlist: { items: [{ cve_id: '' }] } }), 400, 'BAD_REQUEST');
  assert.deepEqual((await f.admin.call('GET', `/projects/${id}`)).json().cve_allowlist.items, p2.cve_allowlist.items);
  // the plain project's list was never touched
  assert.deepEqual((await f.admin.call('GET', `/projects/${plainId}`)).json().cve_allowlist.items, []);
});

test('registry_id: sysadmin only (403), > 0 (400), and must name a registry — none exists here (404); nothing is created', async () => {
  const user = uniq('reguser');
  await f.admin.createUser(user, PW);
  const u = f.admin.as(user, PW);
  const names = [uniq('proxy-a'), uniq('proxy-b'), uniq('proxy-c')];
  expectApi(await u.call('POST', '/projects', { project_name: names[0], registry_id: 1 }), 403, 'FORBIDDEN');
  expectApi(await f.admin.call('POST', '/projects', { project_name: names[1], registry_id: 0 }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('POST', '/projects', { project_name: names[2], registry_id: 7 }), 404, 'NOT_FOUND');
  for (const n of names) expectApi(await f.admin.call('HEAD', `/projects?project_name=${n}`), 404);
  // null is "not a proxy cache project"
  const ok = uniq('proxy-null');
  expectApi(await f.admin.call('POST', '/projects', { project_name: ok, registry_id: null }), 201);
});

test('GET /registries: an empty list with X-Total-Count: 0 for a sysadmin (harbor-cli project create), 403 / 401 for others', async () => {
  const r = await f.admin.call('GET', '/registries?page=1&page_size=10');
  expectApi(r, 200);
  assert.deepEqual(r.json(), []);
  assert.equal(r.headers.get('x-total-count'), '0');
  expectApi(await f.admin.call('GET', '/registries?q=name%3D~abc&sort=-name'), 200);
  // Not a filterable field: ignored (Harbor), never an oracle on the stored credential.
  expectApi(await f.admin.call('GET', '/registries?q=password%3Dx'), 200);
  const user = uniq('reglist');
  await f.admin.createUser(user, PW);
  expectApi(await f.admin.as(user, PW).call('GET', '/registries'), 403, 'FORBIDDEN');
  expectApi(await f.anon.call('GET', '/registries'), 401, 'UNAUTHORIZED');
});

test('project scanner: the default (built-in) registration until the project picks one; candidates; Harbor\'s authorization', async () => {
  const name = uniq('scan');
  const id = await f.admin.createProject(name, true);
  const guest = uniq('scanguest');
  await f.admin.createUser(guest, PW);
  await f.admin.addMember(id, guest, 3);
  const g = f.admin.as(guest, PW);

  const got = await f.admin.call('GET', `/projects/${id}/scanner`);
  expectApi(got, 200);
  assert.equal(got.json().name, 'Berth');
  assert.equal(got.json().is_default, true);
  const builtin = got.json().uuid as string;
  expectApi(await g.call('GET', `/projects/${name}/scanner`, undefined, { 'X-Is-Resource-Name': 'true' }), 200);
  expectApi(await f.anon.call('GET', `/projects/${id}/scanner`), 401, 'UNAUTHORIZED');

  // an unknown registration is refused; the built-in one is accepted
  expectApi(await f.admin.call('PUT', `/projects/${id}/scanner`, { uuid: 'b9a5b5b8-1d0f-4f67-9d76-3f0c1f4b0a11' }), 404, 'NOT_FOUND');
  expectApi(await f.admin.call('PUT', `/projects/${id}/scanner`, { uuid: builtin }), 200);
  assert.equal((await f.admin.call('GET', `/projects/${id}/scanner`)).json().uuid, builtin);
  expectApi(await f.admin.call('PUT', `/projects/${id}/scanner`, {}), 400, 'BAD_REQUEST');
  expectApi(await g.call('PUT', `/projects/${id}/scanner`, { uuid: 'x' }), 403, 'FORBIDDEN');

  const c = await f.admin.call('GET', `/projects/${id}/scanner/candidates?page=1&page_size=10&sort=name`);
  expectApi(c, 200);
  assert.deepEqual(c.json().map((s: { name: string }) => s.name), ['Berth']);
  assert.equal(c.headers.get('x-total-count'), '1');
  expectApi(await g.call('GET', `/projects/${id}/scanner/candidates`), 403, 'FORBIDDEN');
  expectApi(await f.admin.call('GET', `/projects/999999/scanner/candidates`), 404, 'NOT_FOUND');
});

test('DELETE /projects/{name} with X-Is-Resource-Name: true deletes the project named by digits, not the one with that id', async () => {
  const byId = uniq('keep');
  const keepId = await f.admin.createProject(byId, false);
  const numeric = String(keepId + 100000);
  await f.admin.createProject(numeric, false);
  // by id: there is no project 10000x → 404; by name: deleted
  expectApi(await f.admin.call('DELETE', `/projects/${numeric}`), 404, 'NOT_FOUND');
  expectApi(await f.admin.call('DELETE', `/projects/${numeric}`, undefined, { 'X-Is-Resource-Name': 'true' }), 200);
  expectApi(await f.admin.call('HEAD', `/projects?project_name=${numeric}`), 404);
  expectApi(await f.admin.call('GET', `/projects/${keepId}`), 200);
});

test('summary: quota (hard/used storage) for callers who may read it, member counts for those who may list members', async () => {
  const name = uniq('sum');
  const id = await f.admin.createProject(name, false);
  const s = (await f.admin.call('GET', `/projects/${id}/summary`)).json();
  assert.equal(s.repo_count, 0);
  assert.equal(s.project_admin_count, 1);
  assert.deepEqual(Object.keys(s.quota).sort(), ['hard', 'used']);
  assert.equal(typeof s.quota.hard.storage, 'number');
  assert.equal(s.quota.used.storage, 0);
  const lg = uniq('limited');
  await f.admin.createUser(lg, PW);
  await f.admin.addMember(id, lg, 5);
  const l = (await f.admin.as(lg, PW).call('GET', `/projects/${id}/summary`)).json();
  assert.equal(l.repo_count, 0);
  assert.equal('project_admin_count' in l, false, 'a limited guest cannot list members');
});
